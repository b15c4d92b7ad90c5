"""The import benchmark runs and returns its records (no timing assertions: speed lives in benchmarks)."""

from __future__ import annotations

import pytest

from benchmarks.bench_import import BUDGET, run


def test_run_returns_records(tmp_path):
    records = run(sizes=(60,), workdir=tmp_path)
    assert len(records) == 1
    rec = records[0]
    assert {"stage", "size", "seconds", "reference", "reference_seconds", "ratio", "budget", "peak_mb"} <= set(rec)
    assert rec["size"] == 60 and rec["budget"] == BUDGET == 3.0
    assert rec["reference"] == "pyogrio.read_dataframe"
    assert rec["ratio"] == pytest.approx(rec["seconds"] / rec["reference_seconds"])
    assert rec["peak_mb"] > 0
    assert (tmp_path / "wdpa_60.gpkg").is_file()
