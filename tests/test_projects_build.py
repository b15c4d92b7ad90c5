"""Projects of any countries, end to end through the command line.

Each test makes a project with ``bigcats new`` from a committed OpenStreetMap extract
(``tests/data/osm_land/``), imports parks for each country with ``bigcats import --role
parks_<iso3>``, builds, and checks ``areas.json``: the totals per country, the proposed
park, each pair's border length and shared edge, against an independent computation
with GeographicLib (``pyproj.Geod``) on the parks as imported and the extract's land.

The parks are made here from the extract's land: a country's land inside a box, so
neighbouring parks meet exactly along the border (and the true shared edge is known);
they are labelled schematic.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
import shapely
from pyproj import Geod
from shapely.geometry import mapping, shape

from geo.cli import main

DATA = Path(__file__).resolve().parent / "data" / "osm_land"
WGS84 = Geod(ellps="WGS84")
M2_PER_HA = 10_000.0

#: Snapping (500 m) may fill slivers along the border and clipping drops what lies off the land
#: (both reported in checks); on these parks, cut from the land itself, they move less than this.
AREA_RTOL = 1e-4


def _land(path: Path) -> dict[str, shapely.Geometry]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {f["properties"]["A3"]: shape(f["geometry"]) for f in data["features"]}


def _ha(geom: shapely.Geometry) -> float:
    return abs(WGS84.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / M2_PER_HA


def _km(geom: shapely.Geometry) -> float:
    return sum(WGS84.geometry_length(g) for g in shapely.get_parts(geom)) / 1000


def _shared(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    common = shapely.intersection(shapely.union_all([a]).boundary, shapely.union_all([b]).boundary)
    return shapely.MultiLineString([g for g in shapely.get_parts(common) if g.geom_type == "LineString"])


def _write_parks(path: Path, iso3: str, parks: list[tuple[str, shapely.Geometry, str | None]]) -> Path:
    features = [
        {"type": "Feature", "properties": {"id": pid, "name_en": f"Test park {pid}", "country_iso3": iso3,
                                           "iucn_cat": iucn, "geometry_quality": "schematic"},
         "geometry": mapping(shapely.orient_polygons(geom))}
        for pid, geom, iucn in parks
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _project(tmp_path: Path, capsys, extract: Path, countries: str, name: str, *extra: str) -> Path:
    store = tmp_path / "store"
    code = main(["new", str(store), "--countries", countries, "--name", name, "--package", str(extract), *extra])
    assert code == 0, capsys.readouterr().err
    return store


def _import_and_build(tmp_path: Path, capsys, store: Path, parks: dict[str, list]) -> tuple[dict, Path]:
    for iso3, rows in parks.items():
        src = _write_parks(tmp_path / f"{iso3.lower()}.geojson", iso3, rows)
        code = main(["import", str(src), "--role", f"parks_{iso3.lower()}", "--layers", str(store)])
        assert code == 0, capsys.readouterr()
    out = tmp_path / "out"
    code = main(["build", "--layers", str(store), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    for name in ("areas.json", "areas.csv", "areas.md", "land_of_big_cats.html", "land_of_big_cats.gpkg"):
        assert (out / name).is_file(), name
    return json.loads((out / "areas.json").read_text(encoding="utf-8")), out / "land_of_big_cats.gpkg"


def _check(report: dict, gpkg: Path, land: dict, parks: dict[str, list]) -> None:
    """areas.json against GeographicLib on the build's own geometries (the GeoPackage, full resolution),
    and against the parks as imported: the merge (clip, snap) may only move them a little."""
    import geopandas as gpd

    countries = list(parks)
    out_parks = {c: gpd.read_file(gpkg, layer=f"parks_{c.lower()}") for c in countries}
    by_country = gpd.read_file(gpkg, layer="parks_by_country").set_index("country_iso3")
    proposed = gpd.read_file(gpkg, layer="proposed_park")
    # totals: one per country (its parks dissolved, overlaps counted once), then the proposed park
    assert list(report["totals"]) == [*countries, "proposed_park"]
    unions = {c: shapely.union_all([g for _i, g, _c in rows]) for c, rows in parks.items()}
    for iso3 in countries:
        area = report["totals"][iso3]["area_ha"]
        assert area == pytest.approx(_ha(by_country.geometry[iso3]), rel=1e-6), iso3
        assert area == pytest.approx(_ha(unions[iso3]), rel=AREA_RTOL), iso3
        assert report["totals"][iso3]["reported_area_ha"] is None  # the new project has no published figure
    total = report["totals"]["proposed_park"]["area_ha"]
    assert total == pytest.approx(_ha(proposed.geometry.iloc[0]), rel=1e-6)
    assert total == pytest.approx(_ha(shapely.union_all(list(unions.values()))), rel=AREA_RTOL)
    # each park, measured after clipping and snapping (before overlaps are resolved)
    by_id = {f["id"]: f for f in report["features"]}
    for iso3, rows in parks.items():
        built = dict(zip(out_parks[iso3]["id"], out_parks[iso3].geometry, strict=True))
        for pid, geom, _iucn in rows:
            assert by_id[pid]["country_iso3"] == iso3
            assert by_id[pid]["area_ha"] == pytest.approx(_ha(built[pid]), rel=1e-6), pid
            assert by_id[pid]["area_ha"] == pytest.approx(_ha(geom), rel=AREA_RTOL), pid
    # border pairs: every pair of countries, the border length from the extract's land, the shared edge of the parks
    pairs = {tuple(p["countries"]): p for p in report["border"]["pairs"]}
    assert list(pairs) == list(combinations(countries, 2))
    total_km = 0.0
    for a, b in combinations(countries, 2):
        assert pairs[(a, b)]["length_km"] == pytest.approx(_km(_shared(land[a], land[b])), rel=1e-6), (a, b)
        edge_km = pairs[(a, b)]["shared_edge_km"]
        built_km = _km(_shared(shapely.union_all(out_parks[a].geometry), shapely.union_all(out_parks[b].geometry)))
        assert edge_km == pytest.approx(built_km, rel=1e-6), (a, b)
        # as imported, the parks meet along the land border; snapping (500 m) onto the border line, where it
        # runs in a river, moves the edges a little (bridging some water gaps, re-drawing some banks)
        imported_km = _km(_shared(unions[a], unions[b]))
        assert imported_km > 0.5, (a, b)  # the parks were cut to meet along every border
        assert edge_km == pytest.approx(imported_km, rel=0.05), (a, b)
        total_km += edge_km
    assert report["border"]["shared_edge_km"] == pytest.approx(total_km, rel=1e-12)
    # the reconciliation has a row per country and one for the proposed park
    totals_rows = [r["id"] for r in report["checks"]["reconciliation"]["rows"] if r["level"] == "total"]
    assert totals_rows == [*countries, "proposed_park"]


def test_three_countries_at_the_tumen_tripoint(tmp_path, capsys):
    extract = DATA / "tumen_tripoint.geo.json"
    land = _land(extract)
    store = _project(tmp_path, capsys, extract, "RUS,CHN,PRK", "Tumen tri-point", "--stretch", "RUS-CHN@PRK",
                     "--margin-km", "20")
    box = shapely.box(130.45, 42.3, 130.85, 42.65)
    inner = shapely.box(130.55, 42.45, 130.75, 42.6)
    parks = {
        "RUS": [("RUS-A", shapely.intersection(land["RUS"], box), "II"),
                # a reserve overlapping the national park: counted once in the total (IUCN Ia wins the overlap)
                ("RUS-B", shapely.intersection(land["RUS"], inner), "Ia")],
        "CHN": [("CHN-A", shapely.intersection(land["CHN"], box), "II")],
        "PRK": [("PRK-A", shapely.intersection(land["PRK"], box), None)],
    }
    report, gpkg = _import_and_build(tmp_path, capsys, store, parks)
    _check(report, gpkg, land, parks)
    overlap = report["checks"]["coverage"]["overlap_removed_ha"]
    assert overlap == pytest.approx(_ha(parks["RUS"][1][1]), rel=AREA_RTOL)
    assert report["totals"]["proposed_park"]["sum_of_parks_ha"] == pytest.approx(
        sum(_ha(g) for rows in parks.values() for _i, g, _c in rows), rel=AREA_RTOL)


def test_two_countries_in_the_bialowieza_forest(tmp_path, capsys):
    extract = DATA / "bialowieza.geo.json"
    land = _land(extract)
    store = _project(tmp_path, capsys, extract, "POL,BLR", "Białowieża Forest")
    box = shapely.box(23.6, 52.55, 24.1, 52.85)
    parks = {
        "POL": [("POL-A", shapely.intersection(land["POL"], box), "II")],
        "BLR": [("BLR-A", shapely.intersection(land["BLR"], box), "II")],
    }
    report, gpkg = _import_and_build(tmp_path, capsys, store, parks)
    _check(report, gpkg, land, parks)
    assert "pol_blr_length_km" in report["border"]


def test_a_park_role_outside_the_project_is_refused(tmp_path, capsys):
    extract = DATA / "bialowieza.geo.json"
    store = _project(tmp_path, capsys, extract, "POL,BLR", "Białowieża Forest")
    land = _land(extract)
    src = _write_parks(tmp_path / "ukr.geojson", "UKR", [("UKR-A", shapely.intersection(land["POL"], shapely.box(
        23.6, 52.55, 24.1, 52.85)), "II")])
    code = main(["import", str(src), "--role", "parks_ukr", "--layers", str(store)])
    err = capsys.readouterr().err
    assert code == 2
    assert "UKR is not a country of the project" in err and "parks_pol, parks_blr" in err
