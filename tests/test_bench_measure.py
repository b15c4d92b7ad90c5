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
