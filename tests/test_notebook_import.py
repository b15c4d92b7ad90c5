"""The import walkthrough notebook is executed, not just stored."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "import_walkthrough.ipynb"


@pytest.mark.slow
def test_import_walkthrough_runs():
    nbformat = pytest.importorskip("nbformat", reason="install the test extras: pip install -e '.[test]'")
    nbclient = pytest.importorskip("nbclient", reason="install the test extras: pip install -e '.[test]'")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "verdict: imported" in outputs
    assert "Земля леопарда" in outputs  # cp1251 text without .cpg decoded right
    assert "no CRS" in outputs and "exit code: 1" in outputs
    assert "'surveyed'" in outputs
