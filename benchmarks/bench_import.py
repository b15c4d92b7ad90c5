"""Benchmark: `bigcats import` (read + validate + normalise) against reading alone.

The reference is :func:`pyogrio.read_dataframe` on the same GeoPackage, timed in
the same run; the budget is 3x (issue 3). Run ``python -m benchmarks.bench_import``.
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

import pyogrio

from benchmarks.datagen import wdpa_like, write_gpkg_sample

__all__ = ["BUDGET", "run"]

BUDGET = 3.0


def _seconds(fn, repeat: int = 3) -> tuple[float, object]:
    """Best of ``repeat`` wall-clock times (the machine is shared; the minimum is the least disturbed)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _peak_mb(fn) -> float:
    """Peak Python-heap allocation of one call, MiB (a separate run: tracemalloc slows the code it traces)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(sizes=(1_000, 10_000, 100_000), *, workdir: str | Path) -> list[dict]:
    """Time the import of WDPA-like GeoPackages of ``sizes`` polygons.

    Parameters
    ----------
    sizes : sequence of int
        Numbers of polygons (64 vertices each; 1% invalid bow ties).
    workdir : str or Path
        Where the generated GeoPackages are written (reused when present).

    Returns
    -------
    list of dict
        One record per size: ``stage``, ``size``, ``seconds``, ``reference``,
        ``reference_seconds``, ``ratio`` (seconds / reference_seconds),
        ``budget`` and ``peak_mb`` (peak Python heap of the import, MiB).
    """
    from geo.normalise import prepare_layer

    workdir = Path(workdir)
    records = []
    for n in sizes:
        path = write_gpkg_sample(wdpa_like(n), workdir / f"wdpa_{n}.gpkg")
        repeat = 3 if n <= 10_000 else 1
        prepare_layer(path, role="parks_chn", accept_repairs=True) if n <= 10_000 else pyogrio.read_dataframe(
            path
        )  # warm up
        ref_s, _ = _seconds(lambda p=path: pyogrio.read_dataframe(p), repeat)
        imp_s, result = _seconds(lambda p=path: prepare_layer(p, role="parks_chn", accept_repairs=True), repeat)
        peak = _peak_mb(lambda p=path: prepare_layer(p, role="parks_chn", accept_repairs=True))
        records.append(
            {
                "stage": "import (read + validate + normalise)",
                "size": n,
                "seconds": imp_s,
                "reference": "pyogrio.read_dataframe",
                "reference_seconds": ref_s,
                "ratio": imp_s / ref_s,
                "budget": BUDGET,
                "peak_mb": peak,
                "problems": len(result.report.problems),
            }
        )
    return records


if __name__ == "__main__":  # pragma: no cover
    sizes = tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000, 100_000)
    for record in run(sizes, workdir=Path("output") / "bench"):
        print(json.dumps(record))
