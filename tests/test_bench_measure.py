"""The benchmark runs and reports what it promises (no timing assertions)."""

from benchmarks.bench_measure import BUDGET, run


def test_bench_measure_records():
    records = run(sizes=(200,), coverage_size=None)
    (record,) = records
    assert {
        "stage",
        "size",
        "seconds",
        "reference",
        "reference_seconds",
        "ratio",
        "budget",
        "peak_mb",
        "max_rel_error",
    } <= set(record)
    assert record["size"] == 200 and record["budget"] == BUDGET
    assert record["ratio"] == record["seconds"] / record["reference_seconds"]
    assert record["max_rel_error"] <= 1e-6


def test_bench_coverage_stage_runs():
    records = run(sizes=(), coverage_size=300)
    (record,) = records
    assert record["stage"] == "coverage_check_merge_dissolve" and record["size"] == 300
    assert record["reference"] == "shapely.coverage_union_all" and record["seconds"] > 0
