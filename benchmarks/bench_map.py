"""Map benchmarks: HTML size against plain folium, and time to the map being drawn in Chromium.

``run()`` returns one record per stage with the keys ``stage, size, seconds, reference,
reference_seconds, ratio, budget, peak_mb``. The reference is measured in the same run:
plain ``folium.GeoJson`` of the same layers at full resolution. No assertion on time here or
in the tests; the budgets are reported so a reader can compare. ``peak_mb`` is the Python heap
peak (tracemalloc) while building; ``seconds`` of the size stages include reading and measuring
the layers (ours) or reading them (reference).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"

#: HTML of the map against plain folium at full resolution (issue 5: at most a fifth).
SIZE_BUDGET = 0.2
#: Absolute cap on the self-contained offline file, bytes.
OFFLINE_CAP_BYTES = 1_500_000
#: Time from navigation to the first park drawn against the plain folium page of the same layers:
#: at most twice (ours also inlines its controls, labels and the built-in vector base map).
DRAWN_BUDGET = 2.0


def _plain_folium(*, offline: bool):
    """The reference map: plain folium.GeoJson of every layer at full resolution."""
    import folium

    from geo.layers import load_layers
    from geo.render import ASSETS

    fmap = folium.Map()
    if offline:  # same Leaflet as ours, inlined, so the browser can draw it with other hosts blocked
        fmap = folium.Map(tiles=None)
        fmap.default_js = [("leaflet", ASSETS["leaflet_js"][0])]
        fmap.default_css = [("leaflet_css", ASSETS["leaflet_css"][0])]
    for role, gdf in load_layers(LAYERS).items():
        folium.GeoJson(gdf.to_json(), name=role).add_to(fmap)
    return fmap


def _timed(fn):
    tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return value, seconds, peak_mb


def _ours(*, offline: bool) -> str:
    from geo.pipeline import area_report, measured_layers
    from geo.render import make_map, map_html

    layers, parks, proposed, by_country = measured_layers(LAYERS)
    report = area_report(layers, parks, proposed, by_country)
    return map_html(make_map(layers, parks, proposed, areas=report), offline=offline)


def _time_to_drawn(path: Path, repeats: int = 3) -> float:
    """Median seconds from navigation start to the first Leaflet vector path drawn (Performance API)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import chromium_context, file_url

    times = []
    with chromium_context() as context:
        for _ in range(repeats):
            page = context.new_page()
            page.goto(file_url(path))
            page.wait_for_function("document.querySelectorAll('path.leaflet-interactive').length > 0", polling="raf")
            times.append(page.evaluate("performance.now()") / 1000)
            page.close()
    return sorted(times)[len(times) // 2]


def run() -> list[dict]:
    """Measure the map; one record per stage (see the module docstring)."""
    from geo.render import map_html

    records = []
    ref_html, ref_seconds, _ = _timed(lambda: _plain_folium(offline=False).get_root().render())
    html, seconds, peak_mb = _timed(lambda: _ours(offline=False))
    records.append({
        "stage": "map_html_bytes", "size": len(html.encode()), "seconds": seconds,
        "reference": len(ref_html.encode()), "reference_seconds": ref_seconds,
        "ratio": len(html.encode()) / len(ref_html.encode()), "budget": SIZE_BUDGET, "peak_mb": peak_mb,
    })
    offline_html, off_seconds, off_peak = _timed(lambda: _ours(offline=True))
    records.append({
        "stage": "map_html_bytes_offline", "size": len(offline_html.encode()), "seconds": off_seconds,
        "reference": OFFLINE_CAP_BYTES, "reference_seconds": None,
        "ratio": len(offline_html.encode()) / OFFLINE_CAP_BYTES, "budget": 1.0, "peak_mb": off_peak,
    })
    with tempfile.TemporaryDirectory() as tmp:
        ours_path = Path(tmp) / "ours.html"
        ours_path.write_text(offline_html, encoding="utf-8")
        ref_path = Path(tmp) / "reference.html"
        ref_path.write_text(map_html(_plain_folium(offline=True), offline=True), encoding="utf-8")
        drawn = _time_to_drawn(ours_path)
        ref_drawn = _time_to_drawn(ref_path)
    records.append({
        "stage": "navigation_to_map_drawn_s", "size": len(offline_html.encode()), "seconds": drawn,
        "reference": "plain folium page (offline)", "reference_seconds": ref_drawn,
        "ratio": drawn / ref_drawn, "budget": DRAWN_BUDGET, "peak_mb": None,
    })
    return records


if __name__ == "__main__":
    for record in run():
        print(json.dumps(record))
