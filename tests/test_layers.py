"""The bundled layers: real, honest, reproducible."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Polygon

from geo.border import cut_stretch
from geo.io import write_geojson
from geo.layers import CONTEXT_ROLE, LAYERS, PARK_COLUMNS, load_layers
from geo.measure import GEOD, geodesic_area_m2
from geo.construct.schematic import band_along_line


def test_every_layer_is_present_and_in_wgs84(layers_dir):
    layers = load_layers(layers_dir)
    # every role but the context (no WDPA extract is bundled: it is the user's to import)
    assert set(layers) == set(LAYERS) - {CONTEXT_ROLE}
    for gdf in layers.values():
        assert gdf.crs.to_epsg() == 4326


def test_layer_files_are_canonical(layers_dir, tmp_path):
    # Re-serialising gives the same bytes: the files are in the deterministic
    # form 'make layers' writes, with no 'crs' member and 6-decimal coordinates.
    for spec in (spec for role, spec in LAYERS.items() if role != CONTEXT_ROLE):
        path = layers_dir / spec.filename
        data = json.loads(path.read_text(encoding="utf-8"))
        assert "crs" not in data
        again = write_geojson(gpd.read_file(path), tmp_path / spec.filename)
        assert again.read_bytes() == path.read_bytes(), spec.filename


@pytest.mark.parametrize("role", ["parks_rus", "parks_chn"])
def test_parks_are_schematic_honest_and_complete(layers_dir, role):
    parks = load_layers(layers_dir)[role]
    assert list(parks.columns[: len(PARK_COLUMNS)]) == list(PARK_COLUMNS)
    assert parks["geometry_quality"].isin(["schematic", "point_buffer"]).all()
    assert parks["geometry_method"].str.contains("unknown").all()
    assert parks["reported_area_source"].str.contains("https?://", regex=True).all()
    assert parks["licence"].str.contains("ODbL").all()


def test_parks_lie_on_their_own_side_and_adjoin_the_stretch(layers_dir):
    layers = load_layers(layers_dir)
    land = dict(zip(layers["countries"]["country_iso3"], layers["countries"].geometry))
    stretch = layers["stretch"].geometry.iloc[0]
    parks = gpd.GeoDataFrame(
        __import__("pandas").concat([layers["parks_rus"], layers["parks_chn"]], ignore_index=True), crs="EPSG:4326"
    )
    for _, park in parks.iterrows():
        outside = shapely.difference(park.geometry, land[park.country_iso3])
        outside_ha = geodesic_area_m2(gpd.GeoSeries([outside], crs="EPSG:4326"))[0] / 1e4 if not outside.is_empty else 0.0
        assert outside_ha < 1.0, park.id
    # The national parks adjoin the stretch; Kedrovaya Pad is inland and the component
    # reserves lie inside the Chinese national park (tests/test_anchors.py).
    national = parks[parks["id"].isin(["RUS-LOTL", "CHN-NETLNP"])]
    assert all(shapely.distance(g, stretch) < 1e-6 for g in national.geometry)
    assert shapely.coverage_is_valid(parks[parks["id"].isin(["RUS-LOTL", "RUS-KPAD", "CHN-NETLNP"])].geometry.values)


def test_russian_parks_do_not_overlap_and_make_280000_ha(layers_dir):
    from geo.facts import read_facts

    rus = load_layers(layers_dir)["parks_rus"]
    a, b = rus.geometry
    assert shapely.intersection(a, b).area < 1e-12
    # "about 280 thousands hectares" together: within the rounding of the published figure
    published = read_facts()["total.RUS.reported_area_ha"].number
    assert geodesic_area_m2(rus).sum() / 1e4 == pytest.approx(published, rel=5e-3)


def test_stretch_starts_at_the_tripoint_and_is_270_km(layers_dir):
    stretch = load_layers(layers_dir)["stretch"].iloc[0]
    lon, lat = stretch.geometry.coords[0]
    assert GEOD.inv(lon, lat, 130.64, 42.42)[2] < 3_000
    assert GEOD.geometry_length(stretch.geometry) == pytest.approx(270_000, abs=1)
    assert "gap" in stretch["geometry_method"]


def test_cut_stretch_along_a_meridian_with_a_gap():
    border = shapely.MultiLineString([[(131.0, 42.0), (131.0, 42.5)], [(131.0, 42.501), (131.0, 44.0)]])
    stretch = cut_stretch(border, start=(131.0, 41.99), length_m=100_000)
    assert GEOD.geometry_length(stretch.line) == pytest.approx(100_000, abs=1e-3)
    assert len(stretch.gaps) == 1
    lon, lat, _ = GEOD.fwd(131.0, 42.0, 0.0, 100_000)
    assert stretch.line.coords[-1] == pytest.approx((lon, lat), abs=1e-9)


def test_band_solves_the_published_area():
    # A synthetic country east of a straight border meridian: the band of land
    # within d of a 100 km stretch; its area must hit the target.
    land = Polygon([(131.0, 42.0), (133.0, 42.0), (133.0, 44.0), (131.0, 44.0)])
    line = LineString(np.column_stack([np.full(50, 131.0), np.linspace(42.5, 43.4, 50)]))
    band = band_along_line(land, line, target_ha=150_000)
    assert band.area_ha == pytest.approx(150_000, rel=2e-4)
    assert geodesic_area_m2(gpd.GeoSeries([band.geometry], crs="EPSG:4326"))[0] / 1e4 == pytest.approx(band.area_ha)
    # A half-stadium of a 100 km line with round ends: L*d + pi*d^2/2 = area,
    # so d = (-L + sqrt(L^2 + 2*pi*area)) / pi.
    length_km = GEOD.geometry_length(line) / 1000
    d_km = (-length_km + np.sqrt(length_km**2 + 2 * np.pi * 1500.0)) / np.pi
    assert band.parameter_m / 1000 == pytest.approx(d_km, rel=5e-3)
