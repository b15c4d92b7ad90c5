"""Run the benchmark suite and write output/bench.json and output/bench.md.

Every figure is a ratio against a reference measured in the same run on the
same machine, so drift of the machine cancels out. Usage::

    python -m benchmarks.run [--quick | --large] [--out output]

``--quick`` runs the smallest sizes only: a smoke test that the suite works
(``make test`` runs it), not a measurement. Every record carries its budget; a full run exits 1
when any record is over it (and names them), 0 when none is. ``--large`` adds the 1,000,000-polygon
totals of ``bench_scale`` (``make bench-large``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

RECORD_KEYS = ("stage", "size", "seconds", "reference", "reference_seconds", "ratio", "budget", "peak_mb")

#: (module, keyword arguments for a full run, for a quick run)
SUITES = (
    ("benchmarks.bench_import", {}, {"sizes": (1_000,)}),
    ("benchmarks.bench_measure", {}, {"sizes": (1_000,), "coverage_size": 1_000, "boundary_vertices": 100_000}),
    ("benchmarks.bench_map", {}, {}),
    ("benchmarks.bench_build", {}, {"repeats": 1}),
    ("benchmarks.bench_display", {}, {"size": 300, "repeats": 1}),
    ("benchmarks.bench_scale", {}, {"sizes": (2_000,)}),
    ("benchmarks.bench_context", {}, {"size": 300, "repeats": 1}),
)

#: What ``--large`` adds (``make bench-large``): the 1,000,000-polygon totals.
LARGE = {"benchmarks.bench_scale": {"sizes": (100_000, 1_000_000)}}


#: Budgets (issues 7 and 15) every record of these stages must carry: (stage, or stage prefix ending in "*") -> budget.
BUDGETS = {
    "import (read + validate + normalise)": 3.0,
    "import memory (peak RSS / resulting layer)": 3.0,
    "geodesic_area*": 1.5,
    "bigcats build (bundled layers)": 2.5,
    "map_html_bytes": 0.2,
    "display simplification*": 1.0,
    "coverage_check_merge_dissolve": 2.0,
    "navigation_to_map_drawn_s": 2.0,
    "bigcats build with context parks": 2.0,
    "navigation_to_context_map_drawn_s": 1.0,
}


def _budget_for(stage: str) -> float | None:
    for key, budget in BUDGETS.items():
        if stage == key or (key.endswith("*") and stage.startswith(key[:-1])):
            return budget
    return None


def check_record(record: dict) -> list[str]:
    """What is missing or wrong in one record (empty when it is complete)."""
    problems = [f"no {k!r}" for k in RECORD_KEYS if k not in record]
    if problems:
        return problems
    if not (isinstance(record["seconds"], (int, float)) and record["seconds"] > 0):
        problems.append(f"seconds is {record['seconds']!r}")
    if not (isinstance(record["ratio"], (int, float)) and record["ratio"] > 0):
        problems.append(f"ratio is {record['ratio']!r}")
    if not (isinstance(record["budget"], (int, float)) and record["budget"] > 0):
        problems.append(f"budget is {record['budget']!r}: every record carries the budget it is judged by")
    budget = _budget_for(record["stage"])
    if budget is not None and record["budget"] != budget:
        problems.append(f"budget is {record['budget']!r}, issue 7 says {budget}")
    if record["stage"].startswith("geodesic_area") and not isinstance(record.get("max_rel_error"), float):
        problems.append("no max_rel_error against pyproj.Geod")
    return problems


def _cell(value, fmt: str = "") -> str:
    if value is None:
        return "—"
    return format(value, fmt) if isinstance(value, (int, float)) else str(value)


def _within(record: dict) -> str:
    if record.get("budget") is None or record.get("ratio") is None:
        return "n/a"
    return "yes" if record["ratio"] <= record["budget"] else "**no**"


def _markdown(records: list[dict], total_seconds: float | None = None) -> str:
    lines = [
        "| stage | size | seconds | reference | reference s | ratio | budget | within | peak MB | max rel. error |",
        "|---|---|---:|---|---:|---:|---:|:---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r['stage']} | {_cell(r['size'])} | {_cell(r['seconds'], '.3f')} | {_cell(r['reference'])} "
            f"| {_cell(r['reference_seconds'], '.3f')} | {_cell(r['ratio'], '.2f')} | {_cell(r['budget'], '.2f')} "
            f"| {_within(r)} | {_cell(r['peak_mb'], '.0f')} | {_cell(r.get('max_rel_error'), '.1e')} |"
        )
    if total_seconds is not None:
        over = sum(_within(r) == "**no**" for r in records)
        lines += ["", f"Total runtime of the suite: {total_seconds:.0f} s; {len(records)} records, {over} over budget."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmark suite.")
    parser.add_argument("--quick", action="store_true", help="smallest sizes only (smoke test)")
    parser.add_argument("--out", default="output", help="folder for bench.json and bench.md")
    parser.add_argument("--only", action="append", default=[], help="run only suites whose module name contains this")
    parser.add_argument("--large", action="store_true", help="add the 1,000,000-polygon totals (several minutes)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    workdir = out / "bench-data"
    workdir.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    skipped: list[str] = []
    started = time.perf_counter()
    for module_name, full, quick in SUITES:
        if args.only and not any(key in module_name for key in args.only):
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            skipped.append(module_name)
            continue
        kwargs = dict(quick if args.quick else full)
        if args.large and not args.quick:
            kwargs.update(LARGE.get(module_name, {}))
        if "workdir" in module.run.__code__.co_varnames:
            kwargs["workdir"] = workdir
        print(f"running {module_name} ...", file=sys.stderr, flush=True)
        for record in module.run(**kwargs):
            problems = check_record(record)
            if problems:
                raise ValueError(f"{module_name} returned an incomplete record {record.get('stage')!r}: {problems}")
            records.append({"suite": module_name.rsplit(".", 1)[-1], **record})
    total_seconds = time.perf_counter() - started
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "quick": args.quick,
        "large": args.large,
        "total_seconds": total_seconds,
        "skipped_suites": skipped,
        "records": records,
    }
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (out / "bench.md").write_text(_markdown(records, total_seconds), encoding="utf-8")
    print(_markdown(records, total_seconds))
    over = [r for r in records if _within(r) == "**no**"]
    if skipped:
        print(f"suites not present yet: {', '.join(skipped)}", file=sys.stderr)
    print(f"{len(records)} records, {len(over)} over budget; wrote {out / 'bench.json'}", file=sys.stderr)
    if over and not args.quick:  # a quick run is a smoke test of the suite, not a measurement
        print("over budget: " + "; ".join(f"{r['stage']} at {r['size']}: {r['ratio']:.2f} > {r['budget']}"
                                          for r in over), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
