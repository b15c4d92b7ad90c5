"""`bigcats export`: every format, the proposed park, and the export -> import round trip."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

from geo.cli import main
from geo.layers import read_layer
from geo.normalise import import_layer

GEOD = Geod(ellps="WGS84")
FORMATS = ("geojson", "gpkg", "kml", "shp", "parquet", "csv")


def _areas(gdf: gpd.GeoDataFrame) -> dict[str, float]:
    return {str(i): abs(GEOD.geometry_area_perimeter(g)[0]) for i, g in zip(gdf["id"], gdf.geometry, strict=True)}


def _export(fmt, layers_dir, tmp_path, capsys):
    out = tmp_path / ("all.gpkg" if fmt == "gpkg" else fmt)
    code = main(["export", "--format", fmt, "--out", str(out), "--layers", str(layers_dir)])
    text = capsys.readouterr()
    assert code == 0, text.err
    return out


def _build_gpkg(layers_dir, tmp_path):
    from geo.pipeline import build

    return build(layers_dir, tmp_path / "build").files["land_of_big_cats.gpkg"]


def test_export_writes_the_builds_layers_names_and_columns(layers_dir, tmp_path, capsys):
    """One write path: `bigcats export --format gpkg` holds the build's GeoPackage layers, their
    names, columns and areas."""
    out = _export("gpkg", layers_dir, tmp_path, capsys)
    built = _build_gpkg(layers_dir, tmp_path)

    def tables(path):
        return {name: pyogrio.read_dataframe(path, layer=name) for name in pyogrio.list_layers(path)[:, 0]}

    got, expected = tables(out), tables(built)
    assert list(got) == list(expected)
    for name, frame in expected.items():
        assert list(got[name].columns) == list(frame.columns), name
        if "area_ha" in frame:
            assert got[name]["area_ha"].tolist() == pytest.approx(frame["area_ha"].tolist(), rel=1e-12), name
            assert [abs(GEOD.geometry_area_perimeter(g)[0]) / 1e4 for g in got[name].geometry] == pytest.approx(
                frame["area_ha"].tolist(), rel=1e-6), name


def _exported_file(out, fmt: str, layer: str):
    if fmt == "gpkg":
        return out
    if fmt == "shp":
        return out / layer / f"{layer}.shp"
    return out / f"{layer}.{fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_writes_every_layer_and_the_proposed_park(fmt, layers_dir, tmp_path, capsys):
    out = _export(fmt, layers_dir, tmp_path, capsys)
    names = list(pyogrio.list_layers(_build_gpkg(layers_dir, tmp_path))[:, 0])
    assert {"parks_rus", "parks_chn", "proposed_park", "parks_by_country", "borders", "border_stretch"} <= set(names)
    for name in names:
        path = _exported_file(out, fmt, name)
        if fmt == "parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = pyogrio.read_dataframe(path, layer=name if fmt == "gpkg" else None)
        assert len(gdf) >= 1, name
    path = _exported_file(out, fmt, "proposed_park")
    proposed = (
        gpd.read_parquet(path)
        if fmt == "parquet"
        else gpd.read_file(path, layer="proposed_park" if fmt == "gpkg" else None)
    )
    union = shapely.union_all(
        list(read_layer(layers_dir, "parks_rus").geometry) + list(read_layer(layers_dir, "parks_chn").geometry)
    )
    got = abs(GEOD.geometry_area_perimeter(shapely.union_all(proposed.geometry.array))[0])
    assert got == pytest.approx(abs(GEOD.geometry_area_perimeter(union)[0]), rel=1e-6)


def test_geojson_export_is_rfc7946(layers_dir, tmp_path, capsys):
    out = _export("geojson", layers_dir, tmp_path, capsys)
    data = json.loads((out / "parks_rus.geojson").read_text(encoding="utf-8"))
    assert "crs" not in data
    for feature in data["features"]:
        for poly in shapely.get_parts(shapely.geometry.shape(feature["geometry"])):
            assert poly.exterior.is_ccw and all(not r.is_ccw for r in poly.interiors)
    # 6 decimals, but for a polygon that they would make invalid (a sliver part of a merged park
    # folds to a line at 6 decimals): that one is written exactly as it is, valid
    for feature in data["features"]:
        decimals = re.findall(r"\d+\.(\d+)", json.dumps(feature["geometry"]))
        if max(len(d) for d in decimals) > 6:
            geom = shapely.geometry.shape(feature["geometry"])
            assert geom.is_valid and not shapely.transform(geom, lambda xy: np.round(xy, 6)).is_valid


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_gpkg_opens_in_ogrinfo_without_warnings(layers_dir, tmp_path, capsys):
    out = _export("gpkg", layers_dir, tmp_path, capsys)
    run = subprocess.run(["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr + run.stdout and "ERROR" not in run.stderr
    for name in pyogrio.list_layers(_build_gpkg(layers_dir, tmp_path))[:, 0]:
        assert f"Layer name: {name}" in run.stdout


def test_kml_has_names_for_google_earth(layers_dir, tmp_path, capsys):
    out = _export("kml", layers_dir, tmp_path, capsys)
    text = (out / "parks_rus.kml").read_text(encoding="utf-8")
    for name in read_layer(layers_dir, "parks_rus")["name_en"]:
        assert f"<name>{name}</name>" in text


def test_shapefile_has_cpg_and_short_documented_names(layers_dir, tmp_path, capsys):
    out = _export("shp", layers_dir, tmp_path, capsys)
    folder = out / "parks_rus"
    assert (folder / "parks_rus.cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    fields = pyogrio.read_info(folder / "parks_rus.shp")["fields"]
    assert all(len(f) <= 10 for f in fields)
    mapping = (folder / "SHAPEFILE_FIELDS.csv").read_text(encoding="utf-8").splitlines()
    documented = {line.split(",")[0]: line.split(",")[1] for line in mapping[1:]}
    assert set(documented) == set(fields)
    assert documented["rep_ha"] == "reported_area_ha"
    # Russian names survive the DBF
    gdf = pyogrio.read_dataframe(folder / "parks_rus.shp")
    assert set(gdf["name_ru"]) == set(read_layer(layers_dir, "parks_rus")["name_ru"])


def test_csv_has_wkt(layers_dir, tmp_path, capsys):
    out = _export("csv", layers_dir, tmp_path, capsys)
    header = (out / "parks_rus.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[0] == "WKT"


def test_unknown_format_is_usage_error(layers_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["export", "--format", "dxf", "--out", str(tmp_path / "x"), "--layers", str(layers_dir)])
    assert exc.value.code == 2


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("role", ["parks_rus", "parks_chn"])
def test_round_trip_same_features_and_areas(fmt, role, layers_dir, layers_copy, tmp_path, capsys):
    out = _export(fmt, layers_dir, tmp_path, capsys)
    src = _exported_file(out, fmt, role)
    result = import_layer(
        src,
        role=role,
        layers_dir=layers_copy,
        layer=role if fmt == "gpkg" else None,
        crs="EPSG:4326" if fmt == "csv" else None,
    )
    assert result.report.ok, [str(p) for p in result.report.errors]
    # what was exported (the build's merged parks) comes back: the same features, with the areas of
    # the exported geometries (to 1e-6: the folder store keeps 6 decimals of a degree) and the attributes
    exported = gpd.read_parquet(src) if fmt == "parquet" else pyogrio.read_dataframe(
        src, layer=role if fmt == "gpkg" else None)
    store = read_layer(layers_dir, role)
    after = read_layer(layers_copy, role)
    assert sorted(after["id"]) == sorted(store["id"])
    expected = sorted(abs(GEOD.geometry_area_perimeter(g)[0]) for g in exported.geometry)
    assert sorted(_areas(after).values()) == pytest.approx(expected, rel=1e-6)
    if fmt != "shp":  # Shapefile text is cut at 254 bytes (documented in SHAPEFILE_FIELDS.csv)
        cols = ["id", "name_en", "name_ru", "name_zh", "country_iso3", "geometry_quality", "reported_area_ha"]
        left = store[cols].sort_values("id").reset_index(drop=True)
        right = after[cols].sort_values("id").reset_index(drop=True)
        assert left.astype(str).equals(right.astype(str))


def _kml_colour(hex_rgb: str) -> str:
    """KML's aabbggrr form of an opaque ``#rrggbb`` colour."""
    r, g, b = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"ff{b}{g}{r}".lower()


def test_kml_layers_have_the_map_colours(layers_dir, tmp_path, capsys):
    from geo.project import project_for
    from geo.render import PROPOSED_COLOUR, STRETCH_COLOUR, country_colours

    out = _export("kml", layers_dir, tmp_path, capsys)
    expected = {f"parks_{iso3.lower()}": c for iso3, c in country_colours(project_for(layers_dir)).items()}
    expected |= {"proposed_park": PROPOSED_COLOUR, "border_stretch": STRETCH_COLOUR}
    assert len(set(expected.values())) == len(expected)  # the colours tell the layers apart
    for name, colour in expected.items():
        text = (out / f"{name}.kml").read_text(encoding="utf-8")
        placemarks = text.count("<Placemark")
        assert placemarks > 0, name
        line_colours = re.findall(r"<LineStyle>\s*<color>([0-9a-fA-F]{8})</color>", text)
        assert [c.lower() for c in line_colours] == [_kml_colour(colour)] * placemarks, name


def test_shapefile_export_says_which_texts_it_cuts(layers_dir, tmp_path, capsys):
    built = _build_gpkg(layers_dir, tmp_path)
    long = {
        (name, column): int(count)
        for name in pyogrio.list_layers(built)[:, 0]
        for column, values in pyogrio.read_dataframe(built, layer=name, read_geometry=False).items()
        if (count := values.map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > 254).sum())
    }
    assert long, "the bundled data has no text over 254 bytes: this test needs one"
    out = tmp_path / "shp"
    code = main(["export", "--format", "shp", "--out", str(out), "--layers", str(layers_dir)])
    printed = capsys.readouterr().out
    assert code == 0
    notes = re.findall(r"note: (\w+): column (\w+) is cut at 254 bytes in (\d+) feature", printed)
    said = {(name, column): int(count) for name, column, count in notes}
    assert said == long
    for name in {name for name, _column in long}:  # and the Shapefile holds the text cut, as the note says
        cut = pyogrio.read_dataframe(out / name / f"{name}.shp", read_geometry=False)
        assert cut.map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > 254).to_numpy().sum() == 0


def test_export_leaves_out_a_park_clipped_away_and_says_so(layers_copy, tmp_path, capsys):
    """A park wholly on the other country's land has no area left on its own: not exported, and the export says so."""
    from geo.io import write_geojson

    parks = read_layer(layers_copy, "parks_rus")
    chn = read_layer(layers_copy, "parks_chn")
    moved = parks.iloc[[0]].copy()
    moved["id"] = "moved_away"
    moved.geometry = [chn.geometry.iloc[0].representative_point().buffer(0.01)]
    write_geojson(pd.concat([parks, moved], ignore_index=True), layers_copy / "parks_rus.geojson")
    out = tmp_path / "geojson"
    code = main(["export", "--format", "geojson", "--out", str(out), "--layers", str(layers_copy)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "note: park moved_away is left out" in printed.out
    exported = pyogrio.read_dataframe(out / "parks_rus.geojson")
    assert "moved_away" not in set(exported["id"]) and len(exported) == len(parks)
    assert not exported.geometry.is_empty.any()
