"""notebooks/proposal_map.ipynb runs and shows the map inline, in English then in Russian."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "proposal_map.ipynb"


@pytest.mark.slow
def test_proposal_map_notebook_executes_and_shows_both_maps():
    import nbclient
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    maps = [
        out["data"]["text/html"]
        for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if "text/html" in out.get("data", {})
    ]
    assert len(maps) == 2
    assert all("leaflet" in html.lower() for html in maps)
    english, russian = maps
    assert "Chinese parks" in english and "Chinese parks" not in russian
    # folium puts the page in an iframe's srcdoc (HTML-escaped); the Russian layer name is JSON-escaped in it
    assert "\\u041f\\u0430\\u0440\\u043a\\u0438" in russian or "Парки" in russian
