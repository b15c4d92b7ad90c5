"""Areas and lengths against independently computed answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Polygon

from geo.errors import CRSError
from geo.measure import geodesic_area_m2, geodesic_length_m, planar_area_m2
from tests.common import authalic_zone_m2, parallel_box


@pytest.mark.parametrize("lat0", [0.0, 42.5, 60.0])
def test_geodesic_area_matches_closed_form(lat0):
    box = parallel_box(130.0, lat0, 1.0, 1.0)
    expected = authalic_zone_m2(lat0, lat0 + 1.0, 1.0)
    got = geodesic_area_m2(gpd.GeoSeries([box], crs="EPSG:4326"))[0]
    assert got == pytest.approx(expected, rel=1e-7)


def test_area_with_hole_and_multipolygon():
    outer = parallel_box(130.0, 42.0, 1.0, 1.0)
    hole = parallel_box(130.25, 42.25, 0.5, 0.5)
    with_hole = Polygon(outer.exterior.coords, [hole.exterior.coords])
    other = parallel_box(132.0, 42.0, 0.5, 0.5)
    series = gpd.GeoSeries([with_hole, MultiPolygon([with_hole, other])], crs="EPSG:4326")
    expected_hole = authalic_zone_m2(42.0, 43.0, 1.0) - authalic_zone_m2(42.25, 42.75, 0.5)
    got = geodesic_area_m2(series)
    assert got[0] == pytest.approx(expected_hole, rel=1e-7)
    assert got[1] == pytest.approx(expected_hole + authalic_zone_m2(42.0, 42.5, 0.5), rel=1e-7)


def test_winding_order_does_not_matter():
    box = parallel_box(130.0, 42.0, 1.0, 1.0)
    reversed_box = Polygon(box.exterior.coords[::-1])
    got = geodesic_area_m2(gpd.GeoSeries([box, reversed_box], crs="EPSG:4326"))
    assert got[0] == pytest.approx(got[1], rel=1e-12)
    assert got[0] > 0


def test_projected_input_is_measured_geodesically():
    # A 10 km square in UTM zone 52N: its geodesic area differs from 1e8 m2 by the
    # UTM scale factor (about 0.9996^2 near the central meridian).
    square = Polygon([(500_000, 4_700_000), (510_000, 4_700_000), (510_000, 4_710_000), (500_000, 4_710_000)])
    utm = gpd.GeoSeries([square], crs="EPSG:32652")
    got = geodesic_area_m2(utm)[0]
    assert got == pytest.approx(1e8 / 0.9996**2, rel=2e-4)
    assert got == pytest.approx(geodesic_area_m2(utm.to_crs("EPSG:4326"))[0], rel=1e-9)


@pytest.mark.parametrize(
    ("crs", "words"),
    [
        ("EPSG:4326", "geographic CRS"),
        ("EPSG:3857", "not an equal-area projection"),
        ("EPSG:32652", "not an equal-area projection"),
    ],
)
def test_planar_area_refuses_lonlat_and_mercator(crs, words):
    series = gpd.GeoSeries([parallel_box(130.0, 42.0, 1.0, 1.0)], crs="EPSG:4326").to_crs(crs)
    with pytest.raises(CRSError, match=words):
        planar_area_m2(series)


@pytest.mark.parametrize("crs", ["ESRI:54009", "ESRI:54017"])
def test_equal_area_crosscheck_agrees(crs):
    box = parallel_box(130.0, 42.0, 1.0, 1.0)
    series = gpd.GeoSeries([box], crs="EPSG:4326")
    planar = planar_area_m2(series.to_crs(crs))[0]
    # Both are equal-area on a sphere/ellipsoid approximation; they agree with the
    # exact ellipsoidal area to well under 1%.
    assert planar == pytest.approx(authalic_zone_m2(42.0, 43.0, 1.0), rel=5e-3)


def test_no_crs_is_refused():
    with pytest.raises(CRSError, match="no CRS"):
        geodesic_area_m2(gpd.GeoSeries([parallel_box(130.0, 42.0, 1.0, 1.0)]))


def test_geodesic_length_of_meridian_arc():
    # Meridian arc from 42N to 43N on WGS84, computed by numerical integration
    # of the meridian radius of curvature M(phi) = a(1-e^2)/(1-e^2 sin^2 phi)^1.5.
    a, f = 6_378_137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = np.radians(np.linspace(42.0, 43.0, 200_001))
    m = a * (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5
    expected = np.trapezoid(m, phi)
    got = geodesic_length_m(gpd.GeoSeries([LineString([(131.0, 42.0), (131.0, 43.0)])], crs="EPSG:4326"))[0]
    assert got == pytest.approx(expected, rel=1e-9)


def _geod_area_m2(geoms) -> np.ndarray:
    """The reference: GeographicLib's polygon area, one geometry at a time."""
    import shapely
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    return np.array([abs(geod.geometry_area_perimeter(shapely.orient_polygons(g))[0]) for g in geoms])


def _random_polygons(lat0: float, n: int, *, radius_deg: float, seed: int):
    """Star-shaped random polygons (some with a hole, some two-part) around ``lat0``."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(5, 80))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = radius_deg * rng.uniform(0.2, 1.0) * rng.uniform(0.5, 1.0, k)
        cx, cy = rng.uniform(120, 140), lat0 + rng.uniform(-2, 2)
        shell = np.column_stack([cx + r * np.cos(ang) / np.cos(np.radians(cy)), cy + r * np.sin(ang)])
        poly = Polygon(shell).buffer(0)
        if i % 3 == 1:
            poly = poly.difference(Polygon(shell).centroid.buffer(radius_deg * 0.1))
        if i % 4 == 2:
            poly = MultiPolygon([*getattr(poly, "geoms", [poly]), Polygon(shell + [radius_deg * 3, 0]).buffer(0)])
        out.append(poly)
    return out


@pytest.mark.parametrize("lat0", [0.0, 42.5, 60.0])
@pytest.mark.parametrize("radius_deg", [0.01, 0.3, 2.0])
def test_vectorised_area_agrees_with_geographiclib(lat0, radius_deg):
    polys = _random_polygons(lat0, 40, radius_deg=radius_deg, seed=int(lat0 * 10 + radius_deg * 100))
    got = geodesic_area_m2(gpd.GeoSeries(polys, crs="EPSG:4326"))
    expected = _geod_area_m2(polys)
    assert np.max(np.abs(got - expected) / expected) <= 1e-6


def test_vectorised_area_on_wdpa_like_data():
    import shapely

    from benchmarks.datagen import wdpa_like

    gdf = wdpa_like(500)
    gdf = gdf.set_geometry(shapely.make_valid(gdf.geometry.array))
    got = geodesic_area_m2(gdf)
    expected = _geod_area_m2(gdf.geometry.array)
    assert np.max(np.abs(got - expected) / expected) <= 1e-6


@pytest.mark.parametrize("name", ["parks_rus", "parks_chn", "countries"])
def test_vectorised_area_on_bundled_layers(layers_dir, name):
    gdf = gpd.read_file(layers_dir / f"{name}.geojson")
    got = geodesic_area_m2(gdf)
    expected = _geod_area_m2(gdf.geometry.array)
    assert np.max(np.abs(got - expected) / expected) <= 1e-6


def test_missing_empty_and_lines():
    from shapely.geometry import Point

    series = gpd.GeoSeries([None, Polygon(), LineString([(0, 0), (1, 1)]), Point(1, 1)], crs="EPSG:4326")
    got = geodesic_area_m2(series)
    assert np.isnan(got[0])  # missing: unknown
    assert got[1] == 0 and got[2] == 0 and got[3] == 0  # empty, lines and points cover no ground


def test_crosscheck_areas_against_closed_form():
    from geo.measure import crosscheck_areas

    box = parallel_box(130.0, 42.0, 1.0, 1.0)
    table = crosscheck_areas(gpd.GeoSeries([box], crs="EPSG:4326"))
    exact_ha = authalic_zone_m2(42.0, 43.0, 1.0) / 1e4
    assert table["area_ha"].iloc[0] == pytest.approx(exact_ha, rel=1e-7)
    for name in ("behrmann", "mollweide"):
        planar_ha = table[f"{name}_area_ha"].iloc[0]
        assert planar_ha == pytest.approx(exact_ha, rel=5e-3)
        assert table[f"{name}_difference_pct"].iloc[0] == pytest.approx(100 * (planar_ha - exact_ha) / exact_ha, abs=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    lon=st.floats(-170, 170), lat=st.floats(-70, 70), w=st.floats(0.01, 3), h=st.floats(0.01, 3),
    cut=st.floats(0.1, 0.9), shear=st.floats(-0.5, 0.5),
)
def test_densify_geodesic_puts_pyproj_npts_points_and_keeps_shared_edges_shared(lon, lat, w, h, cut, shear):
    """densify_geodesic against pyproj's Geod.npts (tests.common.geod_dense), on two parks sharing a slanted edge."""
    import shapely

    from geo.measure import densify_geodesic
    from tests.common import geod_dense

    x = lon + cut * w
    top, bottom = (x + shear * w / 2, lat + h), (x - shear * w / 2, lat)
    west = Polygon([(lon, lat), bottom, top, (lon, lat + h)])
    east = Polygon([bottom, (lon + w, lat), (lon + w, lat + h), top])
    assume(west.is_valid and east.is_valid)
    dense = densify_geodesic([west, east], max_edge_m=5_000.0)
    for got, poly in zip(dense, (west, east), strict=True):
        want = geod_dense(poly, max_edge_m=5_000.0)
        assert shapely.get_num_coordinates(got) == shapely.get_num_coordinates(want)
        np.testing.assert_allclose(shapely.get_coordinates(got), shapely.get_coordinates(want), atol=1e-9)
    assert shapely.coverage_is_valid(np.asarray(dense, dtype=object))  # the shared edge got the very same points
    shared = shapely.intersection(dense[0], dense[1])
    assert shapely.get_num_coordinates(shared) > 2 or shapely.length(shared) > 0


@settings(max_examples=60, deadline=None)
@example(lat=45.0, azimuth=90.0, km=20.0)  # the largest: east-west at 45°
@example(lat=-44.0, azimuth=95.0, km=150.0)
@given(
    lat=st.floats(-80, 80),
    azimuth=st.floats(0, 180),
    km=st.floats(0.5, 300),
)
def test_great_circle_edge_error_is_within_its_bound(lat, azimuth, km):
    """The sphere's great circle and the ellipsoid's geodesic between an edge's ends enclose less than the bound.

    The area between them is measured independently: the edge there and back along GeographicLib's
    geodesic (``pyproj.Geod.npts``, 400 pieces), measured with great circles (the pieces' own error is
    negligible). East-west edges at 45° once exceeded the bound 2.5 times.
    """
    from pyproj import Geod

    from geo.sphere import _ring_areas_m2, edge_error_bound_m2

    geod = Geod(ellps="WGS84")
    lon2, lat2, _ = geod.fwd(0.0, lat, azimuth, km * 1000.0)
    back = geod.npts(lon2, lat2, 0.0, lat, 400)
    ring = np.array([[0.0, lat], [lon2, lat2], *back, [0.0, lat]])
    between = _ring_areas_m2(ring, np.array([0, len(ring)]))[0]
    bound = edge_error_bound_m2(ring[:2])[0]
    assert between <= bound
    tight = km >= 20 and abs(azimuth - 90) < 20 and 30 <= abs(lat) <= 60  # where the error is largest
    assert between >= 0.1 * bound or not tight  # and there, not a loose one
