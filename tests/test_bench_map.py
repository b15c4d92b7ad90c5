"""The map benchmark runs and reports every field (its times are reported, never asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="run 'make test' (installs Debian's chromium)")
def test_bench_map_records():
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_map import run

    records = {r["stage"]: r for r in run()}
    keys = {"stage", "size", "seconds", "reference", "reference_seconds", "ratio", "budget", "peak_mb"}
    assert set(records) == {"map_html_bytes", "map_html_bytes_offline", "navigation_to_map_drawn_s"}
    assert all(set(r) == keys for r in records.values())
    size = records["map_html_bytes"]
    assert size["ratio"] == pytest.approx(size["size"] / size["reference"])
    assert size["ratio"] <= size["budget"]
    assert records["navigation_to_map_drawn_s"]["seconds"] > 0
