"""The benchmark suite works (smoke test: no timing assertions)."""

from __future__ import annotations

import json

from benchmarks.run import RECORD_KEYS, main


def test_quick_suite_writes_complete_records(tmp_path):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert result["records"], "the suite produced no record"
    for record in result["records"]:
        assert set(RECORD_KEYS) <= set(record)
        assert record["seconds"] > 0
        assert record["ratio"] > 0
        assert record["budget"] is None or record["budget"] > 0
    assert (tmp_path / "bench.md").read_text(encoding="utf-8").startswith("| stage |")
