"""The context layer (role ``context_pa``, issue 15 item 2): imported, checked, drawn on a canvas, never measured.

The context parks are the benchmark generator's seeded WDPA-like polygons around the bundled
project (synthetic: they stand for a WDPA extract, no real coordinates are invented).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from benchmarks.datagen import wdpa_like
from geo.cli import main
from geo.measure import geodesic_area_m2
from geo.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
from browser import CHROMIUM, chromium_context, file_url, find_map_js  # noqa: E402

from tests.conftest import skip_or_fail  # noqa: E402
from tests.test_store import pg  # noqa: E402, F401 - the PostgreSQL server fixture (test_store's)

ROOT = Path(__file__).resolve().parents[1]
XSS_NAME = "<img src=x onerror=alert(1)>{{ 7*7 }}</script>"
N = 200


def _hostile_index(context: gpd.GeoDataFrame, layers: Path) -> int:
    """A context feature whose inner point lies under no other feature and well away from the project's layers."""
    from geo.layers import load_layers

    project = load_layers(layers)
    busy = shapely.union_all([
        shapely.buffer(shapely.union_all(project[role].geometry.values), 0.15)
        for role in ("parks_chn", "parks_rus", "border", "stretch", "places")
    ])
    geoms = np.asarray(context.geometry.values)
    tree = shapely.STRtree(geoms)
    for i, geom in enumerate(geoms):
        point = shapely.point_on_surface(geom)
        if shapely.intersects(point, busy):
            continue
        if set(tree.query(point, predicate="intersects").tolist()) == {i}:
            return i
    raise AssertionError("no context feature stands alone away from the project's layers")


@pytest.fixture(scope="module")
def context_file(tmp_path_factory) -> tuple[Path, gpd.GeoDataFrame, int]:
    """A WDPA-like file of N context parks (valid ones: a bow-tie is tested apart), one with a hostile name."""
    gdf = wdpa_like(N, seed=15, invalid_every=0)
    i = _hostile_index(gdf, ROOT / "layers")
    gdf.loc[i, "NAME"] = XSS_NAME
    path = tmp_path_factory.mktemp("ctx") / "wdpa_context.geojson"
    gdf.to_file(path, engine="pyogrio")
    return path, gdf, i


@pytest.fixture(scope="module")
def built(tmp_path_factory, context_file) -> tuple[Path, Path]:
    """A copy of the bundled folder with the context imported, and its build (offline)."""
    root = tmp_path_factory.mktemp("ctx-build")
    layers = root / "layers"
    shutil.copytree(ROOT / "layers", layers)
    assert main(["import", str(context_file[0]), "--role", "context_pa", "--layers", str(layers)]) == 0
    assert main(["build", "--layers", str(layers), "--out", str(root / "out")]) == 0
    return layers, root / "out"


def test_import_stores_the_context_and_build_leaves_the_totals_alone(built, context_file):
    from geo.pipeline import area_report_for

    layers, out = built
    stored = open_store(layers).read_layer("context_pa")
    assert len(stored) == N
    assert stored.loc[context_file[2], "name_en"] == XSS_NAME
    assert stored["id"].iloc[0] == "WDPA:900000000"  # WDPAID kept as the id
    report = json.loads((out / "areas.json").read_text(encoding="utf-8"))
    bundled = area_report_for(ROOT / "layers")
    assert report["totals"] == bundled["totals"]  # not a park of the project: not merged, not measured
    ids = {r.get("id") for r in report["checks"]["reconciliation"]["rows"]}
    assert not any(str(i).startswith("WDPA:9000") for i in ids)
    html = (out / "land_of_big_cats.html").read_text(encoding="utf-8")
    assert "bigcats-context" in html and "L.canvas(" in html
    assert XSS_NAME not in html and "<img src=x" not in html  # only escaped inside the script
    assert not re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"https?:", html)  # offline: nothing fetched


@pytest.mark.parametrize("kind", ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_context_in_sql_stores(kind, tmp_path, context_file, request):
    if kind == "gpkg":
        spec = str(tmp_path / "store.gpkg")
    else:
        spec = request.getfixturevalue("pg").create_database(f"t_{uuid.uuid4().hex[:12]}")
    assert main(["init", "--layers", spec, "--from", str(ROOT / "layers")]) == 0
    assert main(["import", str(context_file[0]), "--role", "context_pa", "--layers", spec]) == 0
    store = open_store(spec)
    stored = store.read_layer("context_pa")
    assert len(stored) == N
    assert list(store.history("context_pa")["version"]) == [1]
    if kind == "gpkg":  # a build from the GeoPackage draws it (one build: the folder's is above)
        out = tmp_path / "out"
        assert main(["build", "--layers", spec, "--out", str(out)]) == 0
        assert "bigcats-context" in (out / "land_of_big_cats.html").read_text(encoding="utf-8")


def test_invalid_context_is_reported_and_repaired_only_when_accepted(tmp_path, capsys):
    layers = tmp_path / "layers"
    shutil.copytree(ROOT / "layers", layers)
    gdf = wdpa_like(100, seed=3)  # every 100th feature a self-intersecting bow-tie
    path = tmp_path / "bowtie.geojson"
    gdf.to_file(path, engine="pyogrio")
    assert main(["import", str(path), "--role", "context_pa", "--layers", str(layers)]) == 1
    err = capsys.readouterr()
    assert "WDPA:900000099" in err.out + err.err and "--accept-repairs" in err.out + err.err
    assert not (layers / "context_pa.geojson").exists()
    assert main(["import", str(path), "--role", "context_pa", "--layers", str(layers), "--accept-repairs"]) == 0
    stored = open_store(layers).read_layer("context_pa")
    assert bool(stored.geometry.is_valid.all()) and len(stored) == 100
    # a file that cannot be read: exit 2 with the reason, no traceback
    bad = tmp_path / "broken.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["import", str(bad), "--role", "context_pa", "--layers", str(layers)]) in (1, 2)
    assert "Traceback" not in "".join(capsys.readouterr())
    # points are no context parks
    points = gdf.copy().set_geometry(gdf.geometry.representative_point())
    pts = tmp_path / "points.geojson"
    points.to_file(pts, engine="pyogrio")
    assert main(["import", str(pts), "--role", "context_pa", "--layers", str(layers)]) == 1


def test_display_geometry_keeps_area_and_rounds(built, context_file):
    from geo.render.context import GRID_DEG, MAX_AREA_ERROR, context_feature_collection, context_geometries

    gdf = open_store(built[0]).read_layer("context_pa")
    shown = context_geometries(gdf)
    before, after = geodesic_area_m2(gdf), geodesic_area_m2(gpd.GeoSeries(shown, crs="EPSG:4326"))
    # the grid's rounding adds at most ~1 m along each edge on top of the simplification's bound
    assert np.max(np.abs(after - before) / before) <= MAX_AREA_ERROR + 1e-3
    coords = shapely.get_coordinates(shown)
    assert np.allclose(coords, np.round(coords / GRID_DEG) * GRID_DEG, atol=1e-9)
    collection = json.loads(context_feature_collection(gdf, "ru"))
    assert len(collection["features"]) == N
    props = collection["features"][context_file[2]]["properties"]
    assert props["n"] == XSS_NAME and props["nl"] == "en"  # no Russian name: the English one, marked
    assert props["id"] == f"WDPA:{900_000_000 + context_file[2]}"
    text = context_feature_collection(gdf, "en")
    assert "<" not in text and "{{" not in text and "%" not in text


@pytest.mark.browser
def test_context_drawn_on_canvas_and_popup_escaped(built, context_file):
    if not Path(CHROMIUM).exists():
        skip_or_fail("Debian's chromium is not installed: run 'make test' (it installs it)")
    _layers, out = built
    gdf, i = context_file[1], context_file[2]
    point = shapely.point_on_surface(gdf.geometry.iloc[i])
    with chromium_context() as context:
        page = context.new_page()
        errors, requests, dialogs = [], [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(file_url(out / "land_of_big_cats.html"))
        page.wait_for_function(f"{find_map_js()} !== null")
        # drawn on a canvas in the context pane, under the project's parks (SVG in the overlay pane)
        page.wait_for_selector(".leaflet-bigcats-context-pane canvas", state="attached", timeout=10_000)
        assert page.evaluate("document.querySelectorAll('.leaflet-bigcats-context-pane path').length") == 0
        z = page.evaluate(
            "[+getComputedStyle(document.querySelector('.leaflet-bigcats-context-pane')).zIndex,"
            " +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
        )
        assert z[0] < z[1]
        # its own entry in the layer control and the legend
        assert page.locator(".leaflet-control-layers-overlays", has_text="Other protected areas").count() == 1
        assert page.locator("#bigcats-legend", has_text="Other protected areas").count() == 1
        # its source in the attribution, once
        assert page.locator(".leaflet-control-attribution").inner_text().count("wdpa_context.geojson") == 1
        # centre the view on the hostile-named park and click it
        lat, lon = point.y, point.x
        page.wait_for_function(
            f"([lat, lon]) => {{ const m = {find_map_js()}; const p = m.latLngToContainerPoint([lat, lon]);"
            " const h = m.getSize().divideBy(2);"
            " if (m.getZoom() === 10 && Math.abs(p.x - h.x) <= 1 && Math.abs(p.y - h.y) <= 1) return true;"
            " m.stop(); m.setView([lat, lon], 10, {animate: false}); return false; }",
            arg=[lat, lon], timeout=10_000,
        )
        xy = page.evaluate(f"(() => {{ const p = {find_map_js()}.latLngToContainerPoint([{lat}, {lon}]);"
                           " return [p.x, p.y]; })()")
        box = page.locator(".folium-map").bounding_box()
        x, y = box["x"] + xy[0], box["y"] + xy[1]
        # the canvas is what the click reaches there (nothing of the project's layers above it)
        page.wait_for_function(
            "([x, y]) => { const e = document.elementFromPoint(x, y); return !!e && e.tagName === 'CANVAS'"
            " && !!e.closest('.leaflet-bigcats-context-pane'); }", arg=[x, y], timeout=10_000,
        )
        page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content .context-popup", timeout=5_000)
        popup = page.locator(".leaflet-popup-content")
        assert XSS_NAME in popup.inner_text()  # shown as text
        assert popup.locator("img").count() == 0 and not dialogs
        assert "WDPA" in popup.inner_text() and str(900_000_000 + i) in popup.inner_text()
        assert not errors, errors
        assert all(u.startswith(("file:", "data:", "about:", "blob:")) for u in requests), requests
