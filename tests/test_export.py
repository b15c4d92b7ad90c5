"""`bigcats export`: every format, the proposed park, and the export -> import round trip."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import Geod

from geo.cli import main
from geo.layers import LAYERS, read_layer
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


def _exported_file(out, fmt: str, layer: str):
    if fmt == "gpkg":
        return out
    if fmt == "shp":
        return out / layer / f"{layer}.shp"
    return out / f"{layer}.{fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_writes_every_layer_and_the_proposed_park(fmt, layers_dir, tmp_path, capsys):
    out = _export(fmt, layers_dir, tmp_path, capsys)
    names = [*LAYERS, "proposed_park"]
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
    decimals = re.findall(r"\d+\.(\d+)", json.dumps([f["geometry"] for f in data["features"]]))
    assert max(len(d) for d in decimals) <= 6


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_gpkg_opens_in_ogrinfo_without_warnings(layers_dir, tmp_path, capsys):
    out = _export("gpkg", layers_dir, tmp_path, capsys)
    run = subprocess.run(["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr + run.stdout and "ERROR" not in run.stderr
    for name in [*LAYERS, "proposed_park"]:
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
    before = read_layer(layers_dir, role)
    after = read_layer(layers_copy, role)
    assert sorted(after["id"]) == sorted(before["id"])
    a, b = _areas(before), _areas(after)
    for fid in a:
        assert b[fid] == pytest.approx(a[fid], rel=1e-9), fid
    if fmt != "shp":  # Shapefile text is cut at 254 bytes (documented in SHAPEFILE_FIELDS.csv)
        cols = ["id", "name_en", "name_ru", "name_zh", "country_iso3", "geometry_quality", "reported_area_ha"]
        left = before[cols].sort_values("id").reset_index(drop=True)
        right = after[cols].sort_values("id").reset_index(drop=True)
        assert left.astype(str).equals(right.astype(str))
