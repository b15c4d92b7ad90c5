"""The display simplification's kernel: a coverage cut into arcs, each simplified once, within every area budget."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.datagen import coverage
from geo.measure import M2_PER_HA
from geo.render.arc_fit import fit_arcs
from geo.render.arcs import Arcs, ragged_excess, vw_significance
from geo.render.simplify import TOLERANCES_DEG, _display_geometries, _geodesic_ha
from geo.sphere import sphere_area_bound_m2
from tests.common import geod_ha


@pytest.fixture(scope="module")
def parks() -> np.ndarray:
    """A few hundred adjoining parks with winding shared edges (a valid coverage)."""
    geoms = np.asarray(coverage(300, edge_vertices=8).geometry.values, dtype=object)
    assert shapely.coverage_is_valid(geoms)
    return geoms


def _nested() -> np.ndarray:
    """Shapes unlike the benchmark's: a park inside another (a hole and its island: rings with no
    node), one touching its neighbour at a single point, a park of two parts, one with a lake."""
    shell = [(130, 42), (131, 42), (131, 43), (130.6, 43), (130.5, 43), (130, 43)]
    outer = shapely.Polygon(shell, [shapely.box(130.3, 42.3, 130.5, 42.5).exterior])
    inner = shapely.box(130.3, 42.3, 130.5, 42.5)
    east = shapely.Polygon([(131, 42), (132, 42), (132, 43), (131, 43)])
    corner = shapely.Polygon([(132, 43), (133, 43), (133, 44), (132, 44)])  # touches east at one point
    two = shapely.MultiPolygon([shapely.box(130, 43, 130.5, 43.5), shapely.box(130.6, 43, 131, 43.5)])
    lake = shapely.Polygon(shapely.box(133, 42, 134, 43).exterior, [shapely.box(133.4, 42.4, 133.6, 42.6).exterior])
    geoms = np.array([outer, inner, east, corner, two, lake], dtype=object)
    assert shapely.coverage_is_valid(geoms) and shapely.is_valid(geoms).all()
    return geoms


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 60), seed=st.integers(0, 10_000), wind=st.sampled_from([0, 3, 8]))
def test_arcs_rebuild_any_coverage_exactly(n, seed, wind):
    geoms = np.asarray(coverage(n, seed=seed, edge_vertices=wind).geometry.values, dtype=object)
    arcs = Arcs.from_polygons(geoms)
    rebuilt = arcs.rebuild(arcs.xy, arcs.arc_offsets)
    assert (shapely.normalize(rebuilt) == shapely.normalize(geoms)).all()
    # every shared edge is stored once: the rings use more arcs than there are (n > 1 parks share some)
    assert arcs.ring_arc_offsets[-1] > len(arcs.arc_offsets) - 1


def test_arcs_rebuild_nested_touching_and_multipart_parks():
    geoms = _nested()
    arcs = Arcs.from_polygons(geoms)
    rebuilt = arcs.rebuild(arcs.xy, arcs.arc_offsets)
    assert (shapely.normalize(rebuilt) == shapely.normalize(geoms)).all()
    # the hole of the outer park and the inner park are one ring, cut into the same two arcs
    assert arcs.ring_arc_offsets[-1] > len(shapely.get_rings(shapely.get_parts(geoms)))


def test_areas_summed_over_arcs_are_the_rings_areas_and_within_their_bound_of_the_geodesic(parks):
    geoms = np.concatenate([parks[:50], _nested()])
    arcs = Arcs.from_polygons(geoms)
    area, bound = arcs.areas_m2(*ragged_excess(arcs.xy, arcs.arc_offsets))
    direct, direct_bound = sphere_area_bound_m2(geoms)
    assert np.allclose(area, direct, rtol=1e-9)
    assert np.allclose(bound, direct_bound, rtol=1e-9)
    geodesic = np.array([geod_ha(g) for g in geoms]) * M2_PER_HA  # pyproj's GeographicLib, independently
    assert (np.abs(area - geodesic) <= bound + 1e-6 * geodesic).all()


@pytest.mark.parametrize("budget", [0.005, 0.001])
def test_display_of_a_coverage_keeps_every_guarantee(parks, budget):
    true_ha = _geodesic_ha(parks)
    tolerance, grid, geoms, error = _display_geometries(list(parks), true_ha, np.zeros(len(parks), int), budget)
    shown = np.asarray(geoms, dtype=object)
    assert tolerance in TOLERANCES_DEG and grid > 0
    assert shapely.is_valid(shown).all()
    assert shapely.coverage_is_valid(shown)
    measured = np.abs(np.array([geod_ha(g) for g in shown]) / np.array([geod_ha(g) for g in parks]) - 1)
    assert measured.max() <= budget
    assert measured.max() <= error <= budget  # the error reported is at its largest
    assert shapely.get_num_coordinates(shown).sum() < (0.7 if budget >= 0.005 else 0.9) * shapely.get_num_coordinates(
        parks
    ).sum()


def test_nested_touching_and_multipart_parks_keep_every_guarantee():
    geoms = _nested()
    true_ha = _geodesic_ha(geoms)
    tolerance, grid, shown, error = _display_geometries(list(geoms), true_ha, np.zeros(len(geoms), int), 0.005)
    shown = np.asarray(shown, dtype=object)
    assert shapely.is_valid(shown).all() and shapely.coverage_is_valid(shown)
    assert (np.abs(_geodesic_ha(shown) / true_ha - 1) <= 0.005).all()
    assert [len(shapely.get_parts(g)) for g in shown] == [len(shapely.get_parts(g)) for g in geoms]


@pytest.mark.parametrize("shapes", ["benchmark", "nested"])
def test_true_areas_given_late_give_what_they_give_at_once(parks, shapes):
    """``bigcats simplify`` measures the true areas on a thread while the arcs are cut, handing a
    call that waits for them: the display is the one the arrays give."""
    geoms = parks if shapes == "benchmark" else _nested()
    m2, bound_m2 = sphere_area_bound_m2(geoms)
    layer = np.zeros(len(geoms), int)
    calls = []

    def later():
        calls.append(1)
        return m2 / M2_PER_HA, bound_m2 / M2_PER_HA

    at_once = _display_geometries(list(geoms), m2 / M2_PER_HA, layer, 0.005, assume_coverage=True,
                                  true_bound_ha=bound_m2 / M2_PER_HA, prove_coverage=False)
    given_late = _display_geometries(list(geoms), later, layer, 0.005, assume_coverage=True, prove_coverage=False)
    assert at_once[0] == given_late[0] and at_once[1] == given_late[1] and at_once[3] == given_late[3]
    assert all(shapely.equals_identical(a, b) for a, b in zip(at_once[2], given_late[2], strict=True))
    assert 1 <= len(calls) <= 2  # fit_arcs, and the rings dropped where a park has small ones


def test_a_sliver_between_two_parks_does_not_collapse():
    """Two arcs between the same two nodes, a hair apart: simplified straight, the sliver would be a line.

    Along a meridian, where a great circle is straight in longitude and latitude (along a
    parallel, the chord's own bulge would be wider than such a sliver: turned inside out).
    """
    east_arc = [(130.0 + 0.0002 * np.sin(np.pi * k / 50), 42.0 + k / 50) for k in range(51)]
    west_arc = [(130.0 - 0.0001 * np.sin(np.pi * (y - 42.0)), y) for _, y in east_arc[1:-1]]
    top = east_arc
    sliver = shapely.Polygon([*east_arc, *west_arc[::-1]])
    north = shapely.Polygon([*east_arc, (131.0, 43.0), (131.0, 42.0)])  # the park to the east
    south = shapely.Polygon([east_arc[0], *west_arc, east_arc[-1], (129.0, 43.0), (129.0, 42.0)])  # and to the west
    geoms = np.array([north, sliver, south], dtype=object)
    assert shapely.coverage_is_valid(geoms) and shapely.is_valid(geoms).all()
    true_ha = _geodesic_ha(geoms)
    # one tolerance, wider than the sliver: its two arcs go straight, yet it is kept, a polygon, not a line
    assert (vw_significance(np.array(top), np.array([0, len(top)]))[1:-1] < 0.02**2).all()
    shown, level, errors, over = fit_arcs(geoms, true_ha, 50.0, (0.02,))  # any area: the level guessed is 0
    assert (level == 0).all()
    assert shapely.is_valid(shown).all() and shapely.coverage_is_valid(shown)
    assert shapely.area(shown[1]) > 0
    assert shapely.get_num_coordinates(shown[1]) == 4  # a triangle: one arc keeps its most significant vertex


def test_where_the_proof_fails_the_arcs_keep_their_vertices_there_only(parks, monkeypatch):
    """Where the simplified polygons are not a coverage, the arcs there get their vertices back; the rest stay."""
    true_ha = _geodesic_ha(parks)
    plain, *_ = fit_arcs(parks, true_ha, 0.005, TOLERANCES_DEG)
    target = shapely.boundary(plain[7])
    calls = []
    real = shapely.coverage_is_valid

    def once_not(geoms):  # the first proof fails along park 7's outline, as if an arc had crossed there
        calls.append(1)
        return len(calls) > 1 and real(geoms)

    monkeypatch.setattr(shapely, "coverage_is_valid", once_not)
    monkeypatch.setattr(shapely, "coverage_invalid_edges",
                        lambda geoms: np.array([target if i == 7 else shapely.LineString() for i in range(len(geoms))]))
    proved, *_ = fit_arcs(parks, true_ha, 0.005, TOLERANCES_DEG)
    assert len(calls) == 2
    assert shapely.get_num_coordinates(proved[7]) > shapely.get_num_coordinates(plain[7])
    far = np.flatnonzero(~shapely.intersects(parks, shapely.buffer(parks[7], 0.3)))
    assert len(far) > 200
    assert (shapely.normalize(proved[far]) == shapely.normalize(plain[far])).all()


def test_a_face_invalid_after_simplifying_is_repaired_where_it_broke():
    """An arc whose simplification would cut a lake off its park: the park's arcs there move finer."""
    dip = [(130.0, 42.0), (130.5, 41.9994), (131.0, 42.0)]
    lake = shapely.box(130.49, 41.9996, 130.51, 41.9998).exterior
    park = shapely.Polygon([*dip, (131.0, 43.0), (130.0, 43.0)], [lake])
    south = shapely.Polygon([(130.0, 42.0), (130.0, 41.0), (131.0, 41.0), (131.0, 42.0), *dip[::-1][1:]])
    geoms = np.array([park, south], dtype=object)
    assert shapely.coverage_is_valid(geoms) and shapely.is_valid(geoms).all()
    # the hazard: at the coarsest tolerance the dip goes straight, which leaves the lake outside the park
    assert vw_significance(np.array(dip), np.array([0, 3]))[1] < TOLERANCES_DEG[0] ** 2
    true_ha = _geodesic_ha(geoms)
    shown, level, errors, over = fit_arcs(geoms, true_ha, 0.9, TOLERANCES_DEG)  # any level would do by area
    assert shapely.is_valid(shown).all() and shapely.coverage_is_valid(shown)
    assert len(shown[0].interiors) == 1


def _one_by_one(xy: np.ndarray) -> np.ndarray:
    """Visvalingam-Whyatt the textbook way: the smallest triangle first, one vertex at a time (a heap)."""
    import heapq

    n = len(xy)
    coslat = np.cos(np.radians(xy[:, 1]))
    prev, nxt = list(range(-1, n - 1)), list(range(1, n + 1))

    def area(i: int) -> float:
        p, q = prev[i], nxt[i]
        d1, d2 = xy[i] - xy[p], xy[q] - xy[p]
        return 0.5 * abs(d1[0] * d2[1] - d2[0] * d1[1]) * coslat[i]

    significance = np.full(n, np.inf)
    current = {i: area(i) for i in range(1, n - 1)}
    heap = [(a, i) for i, a in current.items()]
    heapq.heapify(heap)
    largest = 0.0
    while heap:
        a, i = heapq.heappop(heap)
        if i not in current or current[i] != a:
            continue
        largest = max(largest, a)
        significance[i] = largest
        del current[i]
        p, q = prev[i], nxt[i]
        nxt[p], prev[q] = q, p
        for j in (p, q):
            if j in current:
                current[j] = area(j)
                heapq.heappush(heap, (current[j], j))
    return significance


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 400), rough=st.floats(0.001, 0.2))
def test_significance_in_rounds_keeps_about_what_one_by_one_keeps(seed, n, rough):
    rng = np.random.default_rng(seed)
    x = np.linspace(130.0, 131.0, n)
    y = 43.0 + np.cumsum(rng.normal(0, rough, n)) * 0.1
    xy = np.column_stack([x, y])
    rounds = vw_significance(xy, np.array([0, n]))
    textbook = _one_by_one(xy)
    assert np.isinf(rounds[[0, -1]]).all()  # the ends always stay
    for t in np.quantile(textbook[1:-1], [0.25, 0.5, 0.75, 0.95]) if n > 2 else []:
        kept, want = int((rounds >= t).sum()), int((textbook >= t).sum())
        assert abs(kept - want) <= max(2, 0.1 * want), (t, kept, want)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), lines=st.integers(2, 12), rough=st.floats(0.001, 0.2))
def test_significance_of_many_lines_in_two_halves_is_that_in_one_piece(seed, lines, rough, monkeypatch):
    """Lines cut in two halves worked on two threads: the same significance, bit for bit, as in one piece."""
    import geo.render.arcs as arcs_module

    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 80, lines)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    xy = np.column_stack([130 + rng.random(offsets[-1]), 43 + np.cumsum(rng.normal(0, rough, offsets[-1])) * 0.1])
    xy[rng.integers(0, len(xy), len(xy) // 4)] = xy[0]  # ties between triangles, broken by position
    monkeypatch.setattr(arcs_module, "PARALLEL_VERTICES", 0)
    monkeypatch.setattr(arcs_module, "two_cores", lambda: True)  # two cores, whatever runs this
    halves = vw_significance(xy, offsets)
    assert halves.tobytes() == arcs_module._vw_rounds(xy, offsets).tobytes()


def test_significance_on_the_bundled_country_outlines():
    import geopandas as gpd

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    kept, want = {0.02: 0, 0.005: 0}, {0.02: 0, 0.005: 0}
    for geom in gpd.read_file(root / "layers" / "countries.geojson").geometry:
        parts = shapely.get_parts(geom)
        xy = shapely.get_coordinates(parts[np.argmax(shapely.area(parts))].exterior)
        rounds, textbook = vw_significance(xy, np.array([0, len(xy)])), _one_by_one(xy)
        for t in kept:
            kept[t] += int((rounds >= t * t).sum())
            want[t] += int((textbook >= t * t).sum())
    for t in kept:  # all three outlines: within 2 % (the module says so)
        assert abs(kept[t] - want[t]) <= 0.02 * want[t], (t, kept[t], want[t])


@pytest.fixture(scope="module")
def many_parks() -> np.ndarray:
    """Enough adjoining parks for the proof to run in halves."""
    return np.asarray(coverage(2500, seed=3).geometry.values, dtype=object)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 2499), grow=st.sampled_from([0.0, 1e-4, -1e-4]))
def test_the_proof_in_halves_is_the_proof(many_parks, which, grow):
    """Whichever park swells into its neighbours (or shrinks: a gap, still a coverage), the halves agree with GEOS."""
    from geo.render.coverage_file import coverage_is_valid

    geoms = many_parks.copy()
    geoms[which] = shapely.buffer(geoms[which], grow, join_style="mitre") if grow else geoms[which]
    assert coverage_is_valid(geoms) == bool(shapely.coverage_is_valid(geoms))
    assert coverage_is_valid(geoms) == (grow <= 0)


def test_the_proof_in_halves_sees_an_overlap_across_its_cut(many_parks):
    """A park that starts west of the cut reaching into one that starts east of it: the east half holds both."""
    from geo.render.coverage_file import coverage_is_valid

    box = shapely.bounds(many_parks)
    cut = np.median(box[:, 0])
    tree = shapely.STRtree(many_parks)
    west, east = tree.query(many_parks, predicate="touches")
    across = np.flatnonzero((box[west, 0] < cut) & (box[west, 2] > cut) & (box[east, 0] >= cut))
    i, j = west[across[0]], east[across[0]]
    inside = shapely.buffer(shapely.point_on_surface(many_parks[j]), 1e-4)  # a bit of j only
    assert shapely.contains(many_parks[j], inside)
    geoms = many_parks.copy()
    geoms[i] = shapely.union(geoms[i], inside)
    assert not shapely.coverage_is_valid(geoms)
    assert not coverage_is_valid(geoms)
