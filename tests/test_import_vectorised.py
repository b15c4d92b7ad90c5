"""The vectorised geometry check gives the same report and the same layer as a plain per-feature loop.

``geo.validate.check_geometries`` runs over arrays (validity in threaded chunks,
reasons, repairs and areas only for the invalid geometries, silent fixes only
rebuilding what changes) to meet the import's speed budget. Here it is held
equal, problem for problem and vertex for vertex, to the straightforward loop
below on small layers holding every kind of problem, and on a benchmark layer.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
import shapely

import geo.validate.scan as validate_scan
from benchmarks.datagen import wdpa_like
from geo.measure import geodesic_area_m2
from geo.validate import MAX_REPAIR_AREA_CHANGE, Problem, check_geometries

_ALLOWED = {"polygon": {"Polygon", "MultiPolygon"}, "line": {"LineString", "MultiLineString"}, "point": {"Point", "MultiPoint"}}


def _area(geom) -> float:
    return float(geodesic_area_m2(gpd.GeoSeries([geom], crs="EPSG:4326"))[0])


def _per_feature(gdf, *, ids, kind, layer, accept_repairs=False):
    """The plain loop: one geometry at a time, every step spelled out."""
    problems, repairs, out = [], [], []
    allowed = _ALLOWED[kind]
    present = sorted({g.geom_type for g in gdf.geometry if g is not None and not g.is_empty})
    if len(present) > 1:
        level = "warning" if set(present) <= allowed else "error"
        problems.append(Problem(layer, "*", f"mixed geometry types: {', '.join(present)}", f"a layer holds one kind ({kind}s); split the file", level))
    for fid, geom in zip(ids, gdf.geometry, strict=True):
        if geom is None or geom.is_empty:
            problems.append(Problem(layer, fid, f"no geometry (null or empty) where the role needs {kind}s", "give the feature a geometry or remove it"))
            out.append(geom)
            continue
        if geom.geom_type not in allowed:
            what = "a multi-part GeometryCollection" if geom.geom_type == "GeometryCollection" else f"a {geom.geom_type}"
            problems.append(Problem(layer, fid, f"geometry type does not suit the role: {what} where the role needs {kind}s", f"import a layer of {kind}s for this role, or split the collection"))
            out.append(geom)
            continue
        if geom.is_valid:
            out.append(shapely.remove_repeated_points(shapely.orient_polygons(geom), tolerance=0.0))
            continue
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        if kind == "polygon":
            if not fixed.is_empty and fixed.geom_type not in ("Polygon", "MultiPolygon"):
                parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(parts) if parts else shapely.Polygon()
            before = _area(geom)
            after = 0.0 if fixed.is_empty else _area(fixed)
            change = abs(after - before) / before if before > 0 else (0.0 if after == 0 else math.inf)
        else:
            before = after = change = 0.0
        repairs.append({"feature": fid, "reason": reason, "area_before_m2": before, "area_after_m2": after, "area_change_pct": 100 * change})
        text = f"invalid geometry: {reason}; make_valid repair changes its area by {100 * change:.4g}% ({before / 1e4:,.2f} ha -> {after / 1e4:,.2f} ha)"
        if change > MAX_REPAIR_AREA_CHANGE and not accept_repairs:
            problems.append(Problem(layer, fid, text + ", more than 0.1%", "check the boundary, fix it at the source, or pass --accept-repairs"))
        else:
            problems.append(Problem(layer, fid, text + " (repaired)", "none needed; check the repaired boundary", "warning"))
        out.append(shapely.remove_repeated_points(shapely.orient_polygons(fixed), tolerance=0.0))
    return out, problems, repairs


def _same_layer(got: gpd.GeoDataFrame, want: list) -> None:
    got_geoms = list(got.geometry)
    assert len(got_geoms) == len(want)
    for i, (a, b) in enumerate(zip(got_geoms, want, strict=True)):
        if b is None:
            assert a is None, i
        else:
            assert shapely.equals_identical(a, b), (i, a.wkt[:200], b.wkt[:200])


SQUARE = shapely.box(131.0, 43.0, 131.2, 43.1)
CLOCKWISE = shapely.Polygon([(131.0, 43.0), (131.0, 43.1), (131.0, 43.1), (131.2, 43.1), (131.2, 43.0), (131.0, 43.0)])
HOLE_WRONG_WAY = shapely.Polygon(
    shapely.box(131.3, 43.0, 131.5, 43.2).exterior.coords[::-1],
    [shapely.box(131.35, 43.05, 131.4, 43.1).exterior.coords],
)
MULTI = shapely.MultiPolygon([shapely.box(131.6, 43.0, 131.7, 43.1), shapely.box(131.8, 43.0, 131.9, 43.1)])
REPEATED_IN_HOLE = shapely.Polygon(
    [(132.0, 43.0), (132.2, 43.0), (132.2, 43.2), (132.0, 43.2)],
    [[(132.05, 43.05), (132.05, 43.1), (132.05, 43.1), (132.1, 43.1), (132.1, 43.05)]],
)
BOWTIE = shapely.Polygon([(131.0, 43.0), (131.2, 43.1), (131.2, 43.0), (131.0, 43.1)])
SPIKE = shapely.Polygon(
    [(131.0, 43.0), (131.2, 43.0), (131.2, 43.1), (131.1, 43.1), (131.1001, 43.1000001), (131.1, 43.09999), (131.0, 43.1)]
)
COLLAPSED = shapely.Polygon([(131.0, 43.0), (131.1, 43.0), (131.2, 43.0), (131.0, 43.0)])  # a ring of zero area
TWO_BOWTIES = shapely.MultiPolygon([BOWTIE, shapely.affinity.translate(BOWTIE, 0.5, 0.0)])
HOLE_OUTSIDE = shapely.Polygon(SQUARE.exterior.coords, [shapely.box(133.0, 43.0, 133.1, 43.1).exterior.coords])
POLYGON_CASES = [
    SQUARE,
    CLOCKWISE,
    HOLE_WRONG_WAY,
    MULTI,
    REPEATED_IN_HOLE,
    BOWTIE,
    SPIKE,
    COLLAPSED,
    TWO_BOWTIES,
    HOLE_OUTSIDE,
    None,
    shapely.Polygon(),
    shapely.Point(131.1, 43.05),
    shapely.GeometryCollection([SQUARE, shapely.Point(131.1, 43.05)]),
    shapely.LineString([(131, 43), (131.1, 43.1)]),
]


@pytest.mark.parametrize("accept_repairs", [False, True])
def test_every_problem_same_as_per_feature(accept_repairs):
    gdf = gpd.GeoDataFrame({"id": [f"F-{i}" for i in range(len(POLYGON_CASES))]}, geometry=POLYGON_CASES, crs="EPSG:4326")
    ids = list(gdf["id"])
    got, problems, repairs = check_geometries(gdf, ids=ids, kind="polygon", layer="parks_rus", accept_repairs=accept_repairs)
    want, want_problems, want_repairs = _per_feature(gdf, ids=ids, kind="polygon", layer="parks_rus", accept_repairs=accept_repairs)
    assert problems == want_problems
    assert repairs == want_repairs
    _same_layer(got, want)
    assert list(got["id"]) == ids and got.crs == gdf.crs
    # the kinds of problem are all there (the comparison above is not vacuous)
    text = " ".join(p.problem for p in problems)
    for words in ("mixed geometry types", "no geometry", "GeometryCollection", "a Point", "Self-intersection", "(repaired)"):
        assert words in text
    assert len(repairs) == 5
    # the silent fixes happened, and the input was not changed
    assert got.geometry[1].exterior.is_ccw and len(got.geometry[1].exterior.coords) == 5
    assert not gdf.geometry[1].exterior.is_ccw and len(gdf.geometry[1].exterior.coords) == 6


def test_unchanged_geometries_are_shared_not_copied():
    gdf = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[shapely.orient_polygons(SQUARE), CLOCKWISE], crs="EPSG:4326")
    got, problems, _ = check_geometries(gdf, ids=["a", "b"], kind="polygon", layer="x")
    assert problems == []
    assert got.geometry.array[0] is gdf.geometry.array[0]  # already right: the same object
    assert got.geometry.array[1] is not gdf.geometry.array[1]


def test_lines_same_as_per_feature():
    lines = [
        shapely.LineString([(131, 43), (131.1, 43.1), (131.1, 43.1), (131.2, 43.0)]),
        shapely.LineString([(131, 43), (131.1, 43.1)]),
        shapely.MultiLineString([[(131, 43), (131, 43), (131.1, 43.1)], [(132, 43), (132.1, 43.1)]]),
        SQUARE,
        None,
    ]
    gdf = gpd.GeoDataFrame({"id": list("abcde")}, geometry=lines, crs="EPSG:4326")
    got, problems, repairs = check_geometries(gdf, ids=list("abcde"), kind="line", layer="border")
    want, want_problems, want_repairs = _per_feature(gdf, ids=list("abcde"), kind="line", layer="border")
    assert (problems, repairs) == (want_problems, want_repairs)
    _same_layer(got, want)
    assert shapely.get_num_coordinates(got.geometry.array[0]) == 3


@pytest.mark.parametrize("invalid_every", [100, 2])
def test_benchmark_layer_same_as_per_feature(monkeypatch, invalid_every):
    # several chunks, so the threaded path and the chunk edges are exercised; with every second
    # polygon a bow tie, the repairs' areas are measured on two threads
    monkeypatch.setattr(validate_scan, "_CHUNK", 97)
    gdf = wdpa_like(600, invalid_every=invalid_every).rename(columns={"WDPAID": "id"})
    gdf["geometry"] = gpd.GeoSeries(
        [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in gdf.geometry], crs="EPSG:4326"
    )  # as a GeoPackage of WDPA stores them
    # winding and repeated vertices to fix silently on some
    geoms = np.asarray(gdf.geometry.array, dtype=object).copy()
    geoms[::7] = shapely.reverse(geoms[::7])
    geoms[3::11] = [shapely.MultiPolygon([shapely.Polygon(np.insert(np.asarray(p.exterior.coords), 5, p.exterior.coords[5], axis=0)) for p in g.geoms]) for g in geoms[3::11]]
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, crs="EPSG:4326"))
    ids = [str(v) for v in gdf["id"]]
    got, problems, repairs = check_geometries(gdf, ids=ids, kind="polygon", layer="parks_chn")
    want, want_problems, want_repairs = _per_feature(gdf, ids=ids, kind="polygon", layer="parks_chn")
    assert problems == want_problems and repairs == want_repairs
    assert len(repairs) == 600 // invalid_every
    _same_layer(got, want)


def test_repair_keeps_only_polygonal_parts_of_a_collection():
    """A make_valid result that is not polygonal (a collection) is cut down to its polygonal parts, unioned."""
    from geo.validate.scan import _repair

    collection = shapely.GeometryCollection([BOWTIE, shapely.Point(131.5, 43.5), shapely.box(131.2, 43.0, 131.3, 43.1)])
    fixed = _repair(np.array([collection, BOWTIE], dtype=object), kind="polygon")
    want = shapely.union_all([p for p in shapely.get_parts(shapely.make_valid(collection, method="structure")) if p.geom_type in ("Polygon", "MultiPolygon")])
    assert fixed[0].geom_type in ("Polygon", "MultiPolygon")
    assert shapely.equals(fixed[0], want) and fixed[0].area == pytest.approx(want.area)
    assert shapely.equals_identical(fixed[1], shapely.make_valid(BOWTIE, method="structure", keep_collapsed=False))


def test_validity_of_large_geometries_on_two_threads_same_as_shapely():
    """check_layers' threaded validity gives shapely's answer, in the layer's order."""
    from geo.validate.scan import _valid_in_parallel

    big = [shapely.Point(130 + k, 43).buffer(0.5, quad_segs=2_500 + 500 * k) for k in range(4)]  # 10,000+ vertices each
    bowtie = shapely.Polygon([(131.0, 43.0), (131.2, 43.1), (131.2, 43.0), (131.0, 43.1)])
    twisted = shapely.Polygon(np.roll(np.asarray(big[3].exterior.coords)[:-1], 1, axis=0)[[1, 0, *range(2, 12_000)]])
    geoms = np.array([big[0], bowtie, big[1], None, big[2], twisted, big[3]], dtype=object)
    assert shapely.get_num_coordinates(geoms).sum() >= 20_000  # the threaded path
    got = _valid_in_parallel(geoms)
    assert got.tolist() == shapely.is_valid(geoms).tolist() == [True, False, True, False, True, False, True]


def _star(cx, cy, radii, start, scale):
    """A star-shaped ring about (cx, cy): simple whatever the radii (angles strictly increase)."""
    n = len(radii)
    angles = [2 * math.pi * ((k + start) % n) / n for k in range(n)]
    pts = [(cx + scale * r * math.cos(a), cy + scale * r * math.sin(a)) for r, a in zip(radii, angles, strict=True)]
    return [*pts, pts[0]]


@st.composite
def _polygons(draw):
    """Valid polygons and multipolygons: stars, maybe with a hole, either winding, repeats, any start vertex."""
    scale = draw(st.sampled_from([1e-7, 1e-3, 1.0, 50.0]))
    cx = draw(st.floats(-179, 179)) if scale < 50 else 0.0
    cy = draw(st.floats(-89, 89)) if scale < 50 else 0.0
    parts = []
    for p in range(draw(st.integers(1, 2))):
        n = draw(st.integers(3, 40))
        radii = draw(st.lists(st.floats(2.0, 3.0), min_size=n, max_size=n))
        shell = _star(cx + 7 * scale * p, cy, radii, draw(st.integers(0, n - 1)), scale)
        if draw(st.booleans()):
            shell = shell[::-1]
        if draw(st.booleans()):  # a repeated vertex
            k = draw(st.integers(0, len(shell) - 1))
            shell = shell[: k + 1] + shell[k:]
        holes = []
        if draw(st.booleans()):
            m = draw(st.integers(3, 12))
            hole = _star(cx + 7 * scale * p, cy, [1.0] * m, draw(st.integers(0, m - 1)), scale)
            holes.append(hole[::-1] if draw(st.booleans()) else hole)
        parts.append(shapely.Polygon(shell, holes))
    return parts[0] if len(parts) == 1 and draw(st.booleans()) else shapely.MultiPolygon(parts)


@given(st.lists(_polygons(), min_size=1, max_size=8))
def test_winding_read_from_coordinates_same_as_geos(polys):
    """The winding of one-ring polygons is read from their coordinates: the result is GEOS's, vertex for vertex."""
    geoms = np.array([g for g in polys if g.is_valid], dtype=object)
    if len(geoms) == 0:
        return
    want = shapely.remove_repeated_points(shapely.orient_polygons(geoms), tolerance=0.0)
    got = validate_scan._silent_fixes(geoms)
    assert shapely.equals_identical(got, want).all()


def test_winding_of_a_hole_on_the_shells_first_vertex():
    """A hole touching the shell at the shell's first vertex is two rings, not one: GEOS turns it."""
    shell = [(0, 0), (0, 4), (4, 4), (4, 0), (0, 0)]  # clockwise
    hole = [(0, 0), (2, 1), (1, 2), (0, 0)]  # clockwise: a hole must turn clockwise, the shell not
    geom = shapely.Polygon(shell, [hole])
    assert geom.is_valid
    coords, counts = shapely.get_coordinates([geom]), shapely.get_num_coordinates([geom])
    assert validate_scan._single_ring_turns(coords, counts).tolist() == [0]  # left to GEOS
    got = validate_scan._silent_fixes(np.array([geom], dtype=object))[0]
    assert shapely.equals_identical(got, shapely.orient_polygons(geom))
    assert got.exterior.is_ccw and not got.interiors[0].is_ccw
    one = shapely.Polygon(shell)
    assert validate_scan._single_ring_turns(shapely.get_coordinates([one]), shapely.get_num_coordinates([one])).tolist() == [-1]
