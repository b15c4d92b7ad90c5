"""The benchmark suite works (smoke test: no timing assertions)."""

from __future__ import annotations

import json

from benchmarks.run import BUDGETS, RECORD_KEYS, SUITES, check_record, main


def test_quick_suite_runs_every_suite_with_complete_records(tmp_path):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert result["skipped_suites"] == []
    records = result["records"]
    suites = {module.rsplit(".", 1)[-1] for module, _, _ in SUITES}
    assert {r["suite"] for r in records} == suites, "a suite ran without a record"
    for record in records:
        assert set(RECORD_KEYS) <= set(record)
        assert check_record(record) == [], record
        assert isinstance(record["budget"], (int, float)) and record["budget"] > 0, record
    stages = [r["stage"] for r in records]
    for key, budget in BUDGETS.items():
        matching = [r for r in records if r["stage"] == key or (key.endswith("*") and r["stage"].startswith(key[:-1]))]
        assert matching, f"no record of the budgeted stage {key!r} in {stages}"
        assert all(r["budget"] == budget for r in matching)
    assert "geodesic_area (one long boundary)" in stages
    assert "coverage_check_merge_dissolve" in stages
    for r in records:
        if r["stage"].startswith("geodesic_area"):
            assert 0 <= r["max_rel_error"] <= 1e-6, r
    md = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert md.startswith("| stage |")
    assert "Total runtime of the suite:" in md
    assert result["total_seconds"] > 0


def test_check_record_names_what_is_missing():
    record = {"stage": "geodesic_area", "size": 10, "seconds": 1.0, "reference": "x", "reference_seconds": 1.0,
              "ratio": 1.0, "budget": 2.0, "peak_mb": 1.0}
    assert check_record(record) == ["budget is 2.0, issue 7 says 1.5", "no max_rel_error against pyproj.Geod"]
    assert check_record({"stage": "x"})[0] == "no 'size'"
    unbudgeted = {**record, "stage": "some new stage", "budget": None}
    assert check_record(unbudgeted) == ["budget is None: every record carries the budget it is judged by"]
