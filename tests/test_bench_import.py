"""The import benchmark runs and returns its records (no timing assertions: speed lives in benchmarks)."""

from __future__ import annotations

import pyogrio
import pytest
import shapely

from benchmarks.bench_import import BUDGET, MEMORY_BUDGET, MEMORY_STAGE, run


def test_run_returns_records(tmp_path):
    records = run(sizes=(60,), workdir=tmp_path)
    assert len(records) == 3
    *records, memory = records
    assert memory["stage"] == MEMORY_STAGE and memory["budget"] == MEMORY_BUDGET and memory["size"] == 60
    assert memory["ratio"] == records[1]["memory_ratio"] and memory["peak_mb"] == records[1]["peak_mb"]
    for rec in records:
        assert {"stage", "size", "seconds", "reference", "reference_seconds", "ratio", "budget", "peak_mb"} <= set(rec)
        assert rec["size"] == 60 and rec["budget"] == BUDGET == 3.0
        assert rec["reference"] == "pyogrio.read_dataframe"
        assert rec["ratio"] == pytest.approx(rec["seconds"] / rec["reference_seconds"])
        assert rec["ratio_vs_arrow_read"] == pytest.approx(rec["seconds"] / rec["arrow_read_seconds"])
    mixed, extract = records
    assert not mixed["imported"] and mixed["peak_mb"] is None  # features east of 131E are RUS: refused
    assert extract["imported"] and extract["memory_budget"] == MEMORY_BUDGET == 3.0
    assert extract["peak_mb"] > 0 and extract["reference_peak_mb"] > 0
    assert extract["memory_ratio"] == pytest.approx(extract["peak_mb"] / extract["gdf_mb"])
    # gdf_mb counts at least the geometries' WKB, computed here independently
    read = pyogrio.read_dataframe(tmp_path / "wdpa_chn_60.gpkg")
    wkb_mb = sum(len(b) for b in shapely.to_wkb(read.geometry.array)) / 2**20
    assert extract["gdf_mb"] > wkb_mb
    assert (tmp_path / "wdpa_60.gpkg").is_file() and (tmp_path / "wdpa_chn_60.gpkg").is_file()
