"""Areas and lengths against independently computed answers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
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
