"""The build's speed-ups give the same results as the plain methods they replaced (issue 7).

Each test runs the faster code and, independently, the straightforward computation it
stands for (full distances, every vertex located, every face repaired, the coverage
checked again), and requires identical geometry and identical tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops
from shapely.geometry import LineString, Polygon

import geo.merge.coverage
import geo.overlay.ops as merge_geometry
import geo.merge.snap as merge_snap
import geo.render as render
from geo.layers import load_layers
from geo.merge import (
    GAP_WIDTH_M,
    SNAP_TOLERANCE_M,
    check_coverage,
    clip_to_land,
    combine_parks,
    merge_parks,
    snap_to_border,
)
from tests.common import parallel_box
from tests.conftest import ROOT

# --------------------------------------------------------------------------- the plain methods


def _plain_snap_ring(coords, line, near, slack):
    """The snap of one ring as it was: every vertex located on the line."""
    closed = coords[:-1]
    near = near[:-1]
    if not near.any() or near.all():
        return coords
    position = shapely.line_locate_point(line, shapely.points(closed))
    return merge_snap._walk_runs(closed, near, position, line, slack)  # the same walk, every vertex located


def _plain_snap_polygon(geom, _vertices, line, line_m, land_edge, tolerance_m, slack, to_metric=None):
    """The snap of one park as it was: ring by ring, full (unindexed) distances to every vertex."""
    polys, moved = [], False
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        rings = []
        for ring in [poly.exterior, *poly.interiors]:
            coords = np.asarray(ring.coords)[:, :2]
            x, y = to_metric.transform(coords[:, 0], coords[:, 1])
            near = shapely.distance(shapely.points(x, y), line_m) <= tolerance_m
            near &= ~(shapely.distance(shapely.points(coords), land_edge) <= 1e-9)
            new = _plain_snap_ring(coords, line, near, slack) if near.any() else coords
            moved |= new is not coords
            rings.append(new)
        polys.append(Polygon(rings[0], rings[1:]))
    if not moved:
        return geom
    return merge_geometry._polygonal([shapely.union_all(merge_geometry._polygonal(polys))])[0]


# --------------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def bundled(layers_dir):
    layers = load_layers(layers_dir)
    clipped, _ = clip_to_land(combine_parks(layers["parks_rus"], layers["parks_chn"]), layers["countries"])
    return layers, clipped


def _synthetic():
    """A park with a hole and a second part, each stopping 300-400 m short of a straight border at 131E."""
    import geopandas as gpd

    countries = gpd.GeoDataFrame(
        {"country_iso3": ["CHN", "RUS"]},
        geometry=[shapely.box(130.0, 42.0, 131.0, 44.0), shapely.box(131.0, 42.0, 132.0, 44.0)],
        crs="EPSG:4326",
    )
    border = gpd.GeoDataFrame(
        {"id": ["RUS-CHN"], "left_iso3": ["RUS"], "right_iso3": ["CHN"]},
        # two parts (the border is broken where it runs in water): a park can snap to both in turn
        geometry=[shapely.MultiLineString([[(131.0, 42.0), (131.0, 43.1)], [(131.0, 43.12), (131.0, 44.0)]])],
        crs="EPSG:4326",
    )
    short = 0.0037  # about 300 m of longitude at 43N
    shell = parallel_box(130.6, 43.0, 0.4 - short, 0.2, n=200)
    hole = parallel_box(130.99, 43.05, 0.005, 0.05, n=20).exterior  # its east edge ~400 m from the border
    second = parallel_box(130.8, 43.3, 0.2 - short, 0.1, n=100)
    park = shapely.MultiPolygon([Polygon(shell.exterior, [hole]), second])
    rus = parallel_box(131.0 + short, 43.0, 0.3, 0.2, n=200)
    parks = gpd.GeoDataFrame(
        {"id": ["C", "R"], "country_iso3": ["CHN", "RUS"], "iucn_cat": ["II", "II"], "status_year": [2017, 2012]},
        geometry=[park, rus],
        crs="EPSG:4326",
    )
    return parks, border, countries


def _same_geometries(a, b) -> bool:
    return bool(np.all(shapely.equals_identical(np.asarray(a.geometry.array), np.asarray(b.geometry.array))))


# --------------------------------------------------------------------------- tests


def test_indexed_distance_test_equals_the_full_distance():
    rng = np.random.default_rng(7)
    line = LineString(np.column_stack([np.linspace(0, 10_000, 400), 300 * np.sin(np.linspace(0, 9, 400))]))
    points = shapely.points(rng.uniform(-1_000, 11_000, 5_000), rng.uniform(-1_500, 1_500, 5_000))
    for distance in (0.0, 1e-9, 50.0, 500.0):
        expected = shapely.distance(points, line) <= distance
        assert np.array_equal(merge_snap._within(points, merge_snap._indexed(line), distance), expected)
    assert not merge_snap._within(points, merge_snap._indexed(LineString()), 500.0).any()


@pytest.mark.parametrize("case", ["bundled", "synthetic"])
def test_snap_equals_the_plain_vertex_by_vertex_snap(case, bundled, monkeypatch):
    if case == "bundled":
        layers, parks = bundled
        border, countries = layers["border"], layers["countries"]
    else:
        parks, border, countries = _synthetic()
    fast, fast_report = snap_to_border(parks, border, countries, tolerance_m=SNAP_TOLERANCE_M)
    from functools import partial

    from pyproj import Transformer

    to_metric = Transformer.from_crs(parks.crs, merge_geometry._local_metric_crs(parks), always_xy=True)
    monkeypatch.setattr(merge_snap, "_snap_polygon", partial(_plain_snap_polygon, to_metric=to_metric))
    plain, plain_report = snap_to_border(parks, border, countries, tolerance_m=SNAP_TOLERANCE_M)
    assert _same_geometries(fast, plain)
    pd.testing.assert_frame_equal(fast_report, plain_report, check_exact=True)
    # the comparison means something: the snap moved ground in both cases
    assert (fast_report["gained_ha"] > 0).any()


def _assert_coverage_equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] is not b[name]  # copies, not shared tables
        left, right = a[name], b[name]
        if "geometry" in left:
            assert _same_geometries(left, right)
            left, right = left.drop(columns="geometry"), right.drop(columns="geometry")
        pd.testing.assert_frame_equal(pd.DataFrame(left), pd.DataFrame(right), check_exact=True)


def test_coverage_after_is_reused_only_when_no_geometry_changed(bundled):
    layers, parks = bundled
    combined = combine_parks(layers["parks_rus"], layers["parks_chn"])
    # the bundled reserves nested in their national park overlap it; without them nothing overlaps
    geoms = list(combined.geometry)
    nested = [any(i != j and g.intersection(o).area > 0.5 * g.area for j, o in enumerate(geoms)) for i, g in enumerate(geoms)]
    apart = combined[~np.array(nested)]
    assert 0 < len(apart) < len(combined)
    result = merge_parks(apart, layers["countries"], layers["border"], tolerance_m=SNAP_TOLERANCE_M, gap_width_m=GAP_WIDTH_M)
    assert len(result.overlaps_resolved) == 0  # these parks do not overlap: the reuse applies
    _assert_coverage_equal(result.coverage_after, check_coverage(result.parks, gap_width_m=GAP_WIDTH_M))
    _assert_coverage_equal(result.coverage_after, result.coverage_before)


def test_coverage_after_is_checked_again_when_overlaps_were_resolved():
    parks, border, countries = _synthetic()
    # a third Chinese park overlapping the first: resolving the overlap changes a geometry
    overlapping = parks.iloc[[0]].assign(id="C2", iucn_cat="Ia", geometry=[parallel_box(130.5, 43.1, 0.2, 0.05, n=50)])
    parks = pd.concat([parks, overlapping], ignore_index=True).set_geometry("geometry")
    result = merge_parks(parks, countries, border, tolerance_m=SNAP_TOLERANCE_M, gap_width_m=GAP_WIDTH_M)
    assert len(result.coverage_before["overlaps"]) == 1
    assert len(result.coverage_after["overlaps"]) == 0
    _assert_coverage_equal(result.coverage_after, check_coverage(result.parks, gap_width_m=GAP_WIDTH_M))


class _Cycle:
    """An object that refers to itself: only the cycle collector can free it."""

    def __init__(self) -> None:
        self.me = self


def test_a_command_leaves_what_survives_it_frozen_and_gives_it_back(tmp_path):
    import gc
    import weakref

    from geo.cli import main

    argv = ["build", "--layers", str(tmp_path / "no-such-store"), "--out", str(tmp_path / "out")]
    enabled = gc.isenabled()
    gc.disable()  # no automatic collection between the steps below
    try:
        garbage = _Cycle()
        ref = weakref.ref(garbage)
        del garbage
        assert main(argv) == 2
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert ref() is not None  # frozen: interpreter shutdown will not scan it either
        gc.unfreeze()
        gc.collect()
        assert ref() is None  # handed back, it is collected as usual
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def test_geodesic_length_equals_pyproj_geometry_length_bit_for_bit(layers_dir):
    import geopandas as gpd
    from pyproj import Geod

    from geo.measure import geodesic_length_m

    layers = load_layers(layers_dir)
    rng = np.random.default_rng(3)
    lines = [
        shapely.linestrings(np.column_stack([rng.uniform(130, 131, 6), rng.uniform(42, 44, 6)])) for _ in range(40)
    ]
    geoms = [
        *layers["border"].geometry,  # hundreds of parts: the border has gaps where it runs in water
        *layers["stretch"].geometry,
        lines[0],
        shapely.MultiLineString(lines),
        parallel_box(130.0, 42.0, 0.5, 0.5, n=50),  # a polygon goes to pyproj as it is
        LineString(),
        None,
    ]
    got = geodesic_length_m(gpd.GeoSeries(geoms, crs="EPSG:4326"))
    geod = Geod(ellps="WGS84")
    expected = [np.nan if g is None else geod.geometry_length(g) for g in geoms]  # empty: 0, as pyproj
    np.testing.assert_array_equal(got, np.array(expected))


def _plain_between_parks(candidates, parks_m, union_m, *, touch_m=1.0):
    """The gap filter as it was: an unprepared covered_by per piece."""
    if not candidates:
        return []
    pieces = np.asarray(candidates, dtype=object)
    piece_idx, park_idx = shapely.STRtree(parks_m).query(pieces, predicate="dwithin", distance=touch_m)
    touching = np.bincount(piece_idx, minlength=len(pieces)) if len(piece_idx) else np.zeros(len(pieces), int)
    distinct = (
        np.array([len(set(park_idx[piece_idx == i])) for i in range(len(pieces))]) if len(piece_idx) else touching
    )
    filled = shapely.union_all([Polygon(shapely.get_exterior_ring(p)) for p in shapely.get_parts(union_m)])
    enclosed = shapely.covered_by(pieces, shapely.buffer(filled, touch_m))
    return list(pieces[(distinct >= 2) | enclosed])


@pytest.mark.parametrize("case", ["bundled", "synthetic"])
def test_coverage_gaps_equal_the_plain_unprepared_filter(case, bundled, monkeypatch):
    if case == "bundled":
        layers, parks = bundled
        parks, _ = snap_to_border(parks, layers["border"], layers["countries"], tolerance_m=SNAP_TOLERANCE_M)
    else:  # two parks 300-400 m apart and a hole: gaps between parks and an enclosed one
        parks, _, _ = _synthetic()
    fast = check_coverage(parks, gap_width_m=GAP_WIDTH_M)
    monkeypatch.setattr(geo.merge.coverage, "_between_parks", _plain_between_parks)
    plain = check_coverage(parks, gap_width_m=GAP_WIDTH_M)
    assert len(fast["gaps"]) > 0
    assert _same_geometries(fast["gaps"], plain["gaps"])
    pd.testing.assert_frame_equal(fast["gaps"].drop(columns="geometry"), plain["gaps"].drop(columns="geometry"))


def _page_ids_numbered(text: str) -> str:
    import re

    ids: dict[str, str] = {}
    return re.sub(r"_[0-9a-f]{32}", lambda m: ids.setdefault(m.group(0), f"_id{len(ids)}"), text)


def test_map_controls_render_as_folium_plugins_do():
    import folium
    from folium import plugins

    from geo.render.leaflet import _control

    def page(controls) -> str:
        fmap = folium.Map(location=[43.0, 131.0], zoom_start=7, tiles=None)
        for element in controls:
            element.add_to(fmap)
        return _page_ids_numbered(fmap.get_root().render())

    theirs = [
        plugins.Fullscreen(position="topleft"),
        plugins.MeasureControl(position="topleft", primary_length_unit="kilometers", primary_area_unit="hectares"),
        plugins.MousePosition(position="bottomright", separator=" | ", num_digits=4, prefix="WGS84:",
                              empty_string="WGS84: point at the map"),
    ]
    for element, key in zip(theirs, ("fullscreen", "measure", "mouse"), strict=True):
        element.default_js = [(f"{key}_js", render.ASSETS[f"{key}_js"][0])]
        element.default_css = [(f"{key}_css", render.ASSETS[f"{key}_css"][0])]
    ours = [
        _control("Fullscreen", position="topleft", title="Full Screen", title_cancel="Exit Full Screen",
                 force_separate_button=False),
        _control("MeasureControl", position="topleft", primary_length_unit="kilometers",
                 secondary_length_unit="miles", primary_area_unit="hectares", secondary_area_unit="acres"),
        _control("MousePosition", position="bottomright", separator=" | ",
                 empty_string="WGS84: point at the map", lng_first=False, num_digits=4, prefix="WGS84:"),
    ]
    expected = page(theirs)
    assert "L.Control.Measure.include" in expected and "L.Control.MousePosition" in expected
    assert page(ours) == expected


def test_a_build_does_not_import_every_folium_plugin(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from geo.cli import main\n"
        f"assert main(['build', '--layers', {str(ROOT / 'layers')!r}, '--out', {str(tmp_path)!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('folium.plugins')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "[]"
