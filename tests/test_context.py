"""The context layer (role ``context_pa``, issue 15 item 2): imported, checked, drawn on a canvas, never measured.

The context parks are the benchmark generator's seeded WDPA-like polygons around the bundled
project (synthetic: they stand for a WDPA extract, no real coordinates are invented).
"""

from __future__ import annotations

import base64
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
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _unpacked(text: str) -> tuple[list[dict], list[list[np.ndarray]]]:
    """The properties and each feature's rings (vertices in degrees, unclosed) of :func:`context_data`'s JSON."""
    from geo.render.context import GRID_DEG

    data = json.loads(text)
    xy = np.frombuffer(base64.b64decode(data["xy"]), dtype="<i4").reshape(-1, 2) * GRID_DEG
    ring_end = np.frombuffer(base64.b64decode(data["r"]), dtype="<u4")
    feature_end = np.frombuffer(base64.b64decode(data["f"]), dtype="<u4")
    ring_start = np.concatenate([[0], ring_end]).astype(int)[:-1]
    rings = [xy[a:b] for a, b in zip(ring_start, ring_end, strict=True)]
    starts = np.concatenate([[0], feature_end]).astype(int)[:-1]
    return data["p"], [rings[a:b] for a, b in zip(starts, feature_end, strict=True)]


def _rings(geom) -> list[np.ndarray]:
    """A (multi)polygon's rings in order (each part's shell, then its holes), without the closing vertex."""
    out = []
    for part in shapely.get_parts(geom):
        for ring in [part.exterior, *part.interiors]:
            out.append(shapely.get_coordinates(ring)[:-1])
    return out


def test_display_geometry_keeps_area_and_rounds(built, context_file):
    from geo.render.context import GRID_DEG, MAX_AREA_ERROR, context_data, context_geometries

    gdf = open_store(built[0]).read_layer("context_pa")
    shown = context_geometries(gdf)
    before, after = geodesic_area_m2(gdf), geodesic_area_m2(gpd.GeoSeries(shown, crs="EPSG:4326"))
    # the grid's rounding adds at most ~1 m along each edge on top of the simplification's bound
    assert np.max(np.abs(after - before) / before) <= MAX_AREA_ERROR + 1e-3
    coords = shapely.get_coordinates(shown)
    assert np.allclose(coords, np.round(coords / GRID_DEG) * GRID_DEG, atol=1e-9)
    props, features = _unpacked(context_data(gdf, "ru"))
    assert len(props) == len(features) == N
    for geom, rings in zip(shown, features, strict=True):  # the page's vertices are the display geometry's
        expected = _rings(geom)
        assert len(rings) == len(expected)
        for got, want in zip(rings, expected, strict=True):
            np.testing.assert_allclose(got, want, atol=1e-9)
    assert props[context_file[2]]["n"] == XSS_NAME and props[context_file[2]]["nl"] == "en"  # no Russian name
    assert props[context_file[2]]["id"] == f"WDPA:{900_000_000 + context_file[2]}"
    text = context_data(gdf, "en")
    assert "<" not in text and "{{" not in text and "%" not in text


_coord = st.integers(min_value=-1_000, max_value=1_000)


@st.composite
def _shapes(draw):
    """A polygon, possibly holed, a multipolygon, a collection holding polygons and a line, or nothing."""
    x, y = draw(_coord), draw(_coord)
    w, h = draw(st.integers(4, 400)), draw(st.integers(4, 400))
    shell = shapely.box(130 + x / 1000, 43 + y / 1000, 130 + (x + w) / 1000, 43 + (y + h) / 1000)
    holed = shell.difference(shapely.box(*shapely.centroid(shell).buffer(min(w, h) / 8000).bounds))
    far = shapely.affinity.translate(shell, 2.0, -1.0)
    kind = draw(st.sampled_from(["box", "holed", "multi", "collection", "none", "empty", "line"]))
    return {"box": shell, "holed": holed, "multi": shapely.MultiPolygon([holed, far]),
            "collection": shapely.GeometryCollection([shell.exterior, far]), "none": None,
            "empty": shapely.Polygon(), "line": shell.exterior}[kind]


@given(st.lists(_shapes(), min_size=0, max_size=12))
@settings(max_examples=60, deadline=None)
def test_packed_vertices_are_the_display_geometry(shapes):
    from geo.render.context import context_data, context_geometries

    gdf = gpd.GeoDataFrame({"name_en": [f"p{i}" for i in range(len(shapes))]},
                           geometry=gpd.GeoSeries(shapes, crs="EPSG:4326"))
    props, features = _unpacked(context_data(gdf, "en"))
    shown = context_geometries(gdf)
    # drawn: every feature with polygons (a collection's polygons), in order; the others left out
    drawn = [(i, shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]))
             for i, g in enumerate(shown) if g is not None and not g.is_empty
             and any(p.geom_type == "Polygon" for p in shapely.get_parts(g))]
    assert [p["n"] for p in props] == [f"p{i}" for i, _ in drawn]
    for (i, geom), rings in zip(drawn, features, strict=True):
        want = _rings(shown[i]) if shown[i].geom_type in ("Polygon", "MultiPolygon") else _rings(geom)
        assert len(rings) == len(want)
        for got, expected in zip(rings, want, strict=True):
            np.testing.assert_allclose(got, expected, atol=1e-9)


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


@pytest.mark.browser
def test_click_finds_the_top_feature_holes_and_parts(tmp_path):
    """The canvas layer's own hit test, in Chromium: a hole is not its park, every part of a
    multipolygon is, the park drawn last wins where two overlap, and an outline counts within the
    click tolerance, at every zoom."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("Debian's chromium is not installed: run 'make test' (it installs it)")
    import folium

    from geo.render import ASSETS, map_html
    from geo.render.context import add_context

    a = shapely.box(131.0, 43.0, 131.2, 43.2).difference(shapely.box(131.05, 43.05, 131.15, 43.15))
    b = shapely.MultiPolygon([shapely.box(131.3, 43.0, 131.4, 43.1), shapely.box(131.5, 43.0, 131.6, 43.1)])
    c = shapely.box(131.17, 43.0, 131.25, 43.1)  # over A's eastern side, drawn after it
    gdf = gpd.GeoDataFrame({"name_en": ["holed", "two parts", "on top"], "id": ["a", "b", "c"]},
                           geometry=[a, b, c], crs="EPSG:4326")
    fmap = folium.Map(location=[43.1, 131.3], zoom_start=10, tiles=None)
    fmap.default_js = [("leaflet", ASSETS["leaflet_js"][0])]
    fmap.default_css = [("leaflet_css", ASSETS["leaflet_css"][0])]
    add_context(fmap, {"context_pa": gdf})
    page_path = tmp_path / "hits.html"
    page_path.write_text(map_html(fmap, offline=True), encoding="utf-8")
    points = {  # lat, lon: the feature expected (index), -1 for none
        "solid part": (43.02, 131.02, 0), "hole": (43.1, 131.1, -1), "second part": (43.05, 131.55, 1),
        "first part": (43.05, 131.35, 1), "overlap": (43.05, 131.18, 2), "outside": (43.3, 131.45, -1),
        "gap between parts": (43.05, 131.45, -1),
    }
    hit_js = ("([lat, lon]) => { const m = " + find_map_js() + "; let layer = null;"
              " m.eachLayer(l => { if (l.options && l.options.pane === 'bigcats-context' && l._containsPoint) layer = l; });"
              " return layer._containsPoint(m.latLngToLayerPoint([lat, lon])) ? layer._hit : -1; }")
    with chromium_context() as context:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(file_url(page_path))
        page.wait_for_function(f"{find_map_js()} !== null")
        page.wait_for_selector(".leaflet-bigcats-context-pane canvas", state="attached")
        for zoom in (8, 10, 13):
            page.evaluate(f"{find_map_js()}.setView([43.05, 131.3], {zoom}, {{animate: false}})")
            for where, (lat, lon, want) in points.items():
                if zoom == 8 and where in ("hole", "gap between parts"):
                    continue  # a few pixels across at zoom 8: within the outline's click tolerance
                assert page.evaluate(hit_js, [lat, lon]) == want, (where, zoom)
        # an outline counts within the tolerance (2 px and half the 1 px line): 2 px outside the hole's edge
        near = page.evaluate(f"(() => {{ const m = {find_map_js()}; const p = m.latLngToLayerPoint([43.1, 131.05]);"
                             " return m.layerPointToLatLng([p.x + 2, p.y]); })()")
        assert page.evaluate(hit_js, [near["lat"], near["lng"]]) == 0
        # a real click: the popup of the park under it, nothing in the hole
        page.evaluate(f"{find_map_js()}.setView([43.05, 131.3], 10, {{animate: false}})")
        box = page.locator(".folium-map").bounding_box()

        def click(lat, lon):
            xy = page.evaluate(f"(() => {{ const p = {find_map_js()}.latLngToContainerPoint([{lat}, {lon}]);"
                               " return [p.x, p.y]; })()")
            page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])

        click(43.05, 131.55)
        page.wait_for_selector(".leaflet-popup-content .context-popup")
        assert "two parts" in page.locator(".leaflet-popup-content").inner_text()
        page.evaluate(f"{find_map_js()}.closePopup()")
        click(43.1, 131.1)
        page.wait_for_timeout(300)
        assert page.locator(".leaflet-popup-content").count() == 0
        click(43.05, 131.18)
        page.wait_for_selector(".leaflet-popup-content .context-popup")
        assert "on top" in page.locator(".leaflet-popup-content").inner_text()
        assert not errors, errors
