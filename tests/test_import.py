"""`bigcats import` and `bigcats validate`: every case of issue 3 built in code, exit codes and words pinned."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Geod

from geo.cli import main
from geo.errors import UsageError
from geo.layers import read_layer
from geo.normalise import import_layer, prepare_layer

GEOD = Geod(ellps="WGS84")
# a 0.2° x 0.1° square well inside the region, wholly on Russian land (countries layer)
SQUARE = shapely.box(131.6, 43.5, 131.8, 43.6)


def _area_m2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def _park(**props):
    base = {"id": "T-1", "name_en": "Test park", "geometry": SQUARE}
    base.update(props)
    return gpd.GeoDataFrame([base], geometry="geometry", crs="EPSG:4326")


def _write_geojson(path: Path, features: list[dict], **extra) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", **extra, "features": features}), encoding="utf-8")
    return path


def _feature(geom, **props):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": None if geom is None else shapely.geometry.mapping(geom),
    }


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def _digest(folder: Path) -> dict[str, str]:
    """Checksums of the layer files (the store's own history under .versions/ aside)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# -- formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt",
    ["geojson", "geojson-bom", "shp", "shp-folder", "shp-zip", "gpkg", "kml", "kmz", "parquet", "fgb", "topojson"],
)
def test_every_format_imports_the_same_square(fmt, tmp_path, layers_copy, capsys):
    gdf = _park(name_en="Square park")
    if fmt.startswith("geojson"):
        src = tmp_path / "a.geojson"
        gdf.to_file(src, driver="GeoJSON")
        if fmt == "geojson-bom":
            src.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    elif fmt.startswith("shp"):
        folder = tmp_path / "shp"
        folder.mkdir()
        gdf.to_crs("EPSG:32652").to_file(folder / "a.shp")
        src = {"shp": folder / "a.shp", "shp-folder": folder}.get(fmt)
        if fmt == "shp-zip":
            src = tmp_path / "a.zip"
            with zipfile.ZipFile(src, "w") as zf:
                for part in folder.iterdir():
                    zf.write(part, part.name)
    elif fmt == "gpkg":
        src = tmp_path / "a.gpkg"
        gdf.to_crs("EPSG:3857").to_file(src, layer="parks", driver="GPKG")
    elif fmt in ("kml", "kmz"):
        src = tmp_path / "a.kml"
        pyogrio.write_dataframe(gdf, src, driver="KML")
        if fmt == "kmz":
            kmz = tmp_path / "a.kmz"
            with zipfile.ZipFile(kmz, "w") as zf:
                zf.write(src, "doc.kml")
            src = kmz
    elif fmt == "parquet":
        src = tmp_path / "a.parquet"
        gdf.to_crs("EPSG:32652").to_parquet(src)
    elif fmt == "fgb":
        src = tmp_path / "a.fgb"
        gdf.to_file(src, driver="FlatGeobuf")
    else:  # TopoJSON, hand-written here (GDAL reads it; nothing writes it)
        src = tmp_path / "a.topojson"
        x0, y0, x1, y1 = SQUARE.bounds
        src.write_text(
            json.dumps(
                {
                    "type": "Topology",
                    "objects": {
                        "parks": {
                            "type": "GeometryCollection",
                            "geometries": [
                                {
                                    "type": "Polygon",
                                    "arcs": [[0]],
                                    "properties": {"id": "T-1", "name_en": "Square park"},
                                }
                            ],
                        }
                    },
                    "arcs": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
                }
            )
        )
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 0, out
    assert "verdict: imported" in out
    layer = read_layer(layers_copy, "parks_rus")
    assert len(layer) == 1
    # no geometry_quality column and no --quality: not claimed surveyed, and the report says so
    assert layer.loc[0, "geometry_quality"] == "unverified"
    assert "geometry_quality: unverified for every feature" in out and "--quality surveyed" in out
    # area survives the CRS round trip (stored with 6 decimals: ~0.1 m, so 1e-5 relative)
    assert _area_m2(layer.geometry[0]) == pytest.approx(_area_m2(SQUARE), rel=1e-5)
    provenance = json.loads((layers_copy / "parks_rus.provenance.json").read_text())
    assert provenance["source_name"] == src.name
    assert provenance["sha256"] == (
        hashlib.sha256(src.read_bytes()).hexdigest() if src.is_file() else provenance["sha256"]
    )
    assert {"format", "original_crs", "imported_at", "tool_version", "repairs"} <= set(provenance)


def test_gpkg_with_several_layers_needs_layer(tmp_path, layers_copy, capsys):
    src = tmp_path / "two.gpkg"
    _park().to_file(src, layer="first", driver="GPKG")
    _park(id="T-2").to_file(src, layer="second", driver="GPKG")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 2 and "holds 2 layers" in out and "--layer" in out
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--layer", "second")
    assert code == 0, out
    assert read_layer(layers_copy, "parks_rus")["id"].tolist() == ["T-2"]


# -- CRS ----------------------------------------------------------------------------------------------


def test_no_crs_refused_unless_crs_given(tmp_path, layers_copy, capsys):
    folder = tmp_path / "nocrs"
    folder.mkdir()
    gdf = _park().to_crs("EPSG:32652")
    gdf.to_file(folder / "a.shp")
    (folder / "a.prj").unlink()
    code, out = _run(capsys, "import", folder / "a.shp", "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "no CRS" in out and "--crs" in out
    code, out = _run(
        capsys, "import", folder / "a.shp", "--role", "parks_rus", "--layers", layers_copy, "--crs", "EPSG:32652"
    )
    assert code == 0, out
    assert _area_m2(read_layer(layers_copy, "parks_rus").geometry[0]) == pytest.approx(_area_m2(SQUARE), rel=1e-5)


def test_metre_coordinates_in_geojson_refused_suggesting_crs(tmp_path, layers_copy, capsys):
    projected = _park().to_crs("EPSG:32652").geometry[0]
    src = _write_geojson(tmp_path / "m.geojson", [_feature(projected, id="M-1", name_en="Metres")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "cannot be longitude/latitude" in out and "metre" in out and "--crs" in out
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--crs", "EPSG:32652")
    assert code == 0, out


def test_declared_crs_is_never_relabelled(tmp_path, layers_copy, capsys):
    src = tmp_path / "a.gpkg"
    _park().to_crs("EPSG:3857").to_file(src, driver="GPKG")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--crs", "EPSG:32652")
    assert code == 1 and "declares its CRS EPSG:3857" in out


def test_swapped_xy_detected(tmp_path, layers_copy, capsys):
    swapped = shapely.transform(SQUARE, lambda xy: xy[:, ::-1])
    src = _write_geojson(tmp_path / "s.geojson", [_feature(swapped, id="S-1", name_en="Swapped")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "x and y look swapped" in out


def test_huge_coordinate_refused(tmp_path, layers_copy, capsys):
    src = tmp_path / "h.geojson"
    src.write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"H"},'
        '"geometry":{"type":"Point","coordinates":[1e300,43.0]}}]}'
    )
    code, out = _run(capsys, "import", src, "--role", "places", "--layers", layers_copy)
    assert code == 1 and "cannot be longitude/latitude" in out


# -- geometry ----------------------------------------------------------------------------------------


def _bowtie(dx: float):
    """A self-intersecting ring: a square whose last corner is pushed across (dx in degrees)."""
    return shapely.Polygon([(131.6, 43.5), (131.8, 43.5), (131.8, 43.6), (131.6 + dx, 43.6 - dx / 2), (131.6, 43.6)])


def test_invalid_geometry_reported_with_reason_and_area_change(tmp_path, layers_copy, capsys):
    bad = shapely.Polygon([(131.6, 43.5), (131.8, 43.6), (131.8, 43.5), (131.6, 43.6)])  # bow tie
    assert not bad.is_valid
    src = _write_geojson(tmp_path / "b.geojson", [_feature(bad, id="B-1", name_en="Bow")])
    before = _digest(layers_copy)
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1
    assert "B-1" in out and "Self-intersection" in out and "more than 0.1%" in out and "--accept-repairs" in out
    assert _digest(layers_copy) == before
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--accept-repairs")
    assert code == 0, out
    repaired = read_layer(layers_copy, "parks_rus").geometry[0]
    assert repaired.is_valid and repaired.geom_type in ("Polygon", "MultiPolygon")
    provenance = json.loads((layers_copy / "parks_rus.provenance.json").read_text())
    assert provenance["repairs"][0]["feature"] == "B-1"


def test_a_feature_without_an_id_is_named_by_its_row_in_a_geopackage(tmp_path):
    # GDAL reads the missing WDPAID of the second feature; pandas 3 holds it as NaN in a string column
    bad = shapely.Polygon([(131.6, 43.5), (131.8, 43.6), (131.8, 43.5), (131.6, 43.6)])  # bow tie
    good = shapely.box(131.0, 43.0, 131.1, 43.1)
    gdf = gpd.GeoDataFrame({"WDPAID": ["555", None, None], "NAME": ["Good", "Bow", "Across"],
                            "ISO3": ["RUS", "RUS", "CHN"]}, geometry=[good, bad, good], crs="EPSG:4326")
    src = tmp_path / "parks.gpkg"
    gdf.to_file(src, driver="GPKG")
    result = prepare_layer(src, role="parks_rus")
    invalid = [p for p in result.report.problems if "invalid geometry" in p.problem]
    assert [p.feature for p in invalid] == ["row 2"]
    assert any(p.feature == "row 2" and p.problem == "feature has no id" for p in result.report.problems)
    assert any(p.feature == "row 3" and p.problem.startswith("country CHN") for p in result.report.problems)
    assert not any("nan" in p.feature or "None" in p.feature for p in result.report.problems)


def test_small_repair_is_accepted_with_its_area_change(tmp_path, layers_copy, capsys):
    # a tiny spike crossing an edge: a self-intersection whose repair changes the area by far less than 0.1%
    ring = [
        (131.6, 43.5),
        (131.8, 43.5),
        (131.8, 43.6),
        (131.7, 43.6),
        (131.7001, 43.6000001),
        (131.7, 43.59999),
        (131.6, 43.6),
    ]
    poly = shapely.Polygon(ring)
    if poly.is_valid:
        pytest.fail("test geometry should be invalid")
    src = _write_geojson(tmp_path / "s.geojson", [_feature(poly, id="S-1", name_en="Spike")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 0, out
    assert "S-1" in out and "repaired" in out and "%" in out


@pytest.mark.parametrize(
    "geom, words",
    [
        (None, "no geometry"),
        (shapely.Polygon(), "no geometry"),
        (shapely.Point(131.7, 43.55), "Point where the role needs polygons"),
        (shapely.GeometryCollection([SQUARE, shapely.Point(131.7, 43.55)]), "GeometryCollection"),
    ],
)
def test_geometry_type_problems(geom, words, tmp_path, layers_copy, capsys):
    feats = [_feature(SQUARE, id="OK-1", name_en="Fine"), _feature(geom, id="X-1", name_en="Odd")]
    src = _write_geojson(tmp_path / "t.geojson", feats)
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "X-1" in out and words in out


def test_mixed_types_reported(tmp_path, layers_copy, capsys):
    feats = [_feature(SQUARE, id="A"), _feature(shapely.LineString([(131.6, 43.5), (131.7, 43.6)]), id="B")]
    src = _write_geojson(tmp_path / "m.geojson", feats)
    code, out = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 1 and "mixed geometry types" in out and "LineString" in out


def test_winding_and_duplicate_vertices_fixed_silently(tmp_path, layers_copy, capsys):
    clockwise = shapely.Polygon(
        [(131.6, 43.5), (131.6, 43.6), (131.6, 43.6), (131.8, 43.6), (131.8, 43.5), (131.6, 43.5)]
    )
    gdf = gpd.GeoDataFrame([{"id": "W-1", "name_en": "W", "licence": "CC0"}], geometry=[clockwise], crs="EPSG:4326")
    src = tmp_path / "w.gpkg"
    gdf.to_file(src, driver="GPKG")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--quality", "surveyed")
    assert code == 0 and "warning" not in out and "ERROR" not in out, out
    assert "note: feature *: geometry_quality: surveyed for every feature" in out  # what was chosen, said once
    stored = read_layer(layers_copy, "parks_rus").geometry[0]
    assert stored.exterior.is_ccw
    assert len(stored.exterior.coords) == 5


# -- attributes ---------------------------------------------------------------------------------------


def test_wdpa_fields_mapped(tmp_path, layers_copy):
    gdf = gpd.GeoDataFrame(
        [
            {
                "WDPAID": 555_000_001,
                "NAME": "Земля леопарда",
                "NAME_ENG": "Land of the Leopard",
                "DESIG": "Национальный парк",
                "DESIG_ENG": "National Park",
                "IUCN_CAT": "II",
                "STATUS_YR": 2012,
                "REP_AREA": 2620.5,
                "ISO3": "RUS",
            }
        ],
        geometry=[SQUARE],
        crs="EPSG:4326",
    )
    src = tmp_path / "wdpa.gpkg"
    gdf.to_file(src, driver="GPKG")
    result = import_layer(src, role="parks_rus", layers_dir=layers_copy)
    assert result.report.ok, result.report.problems
    row = read_layer(layers_copy, "parks_rus").iloc[0]
    assert row["id"] == "WDPA:555000001"
    assert row["name_en"] == "Land of the Leopard" and row["name_ru"] == "Земля леопарда"
    assert row["designation"] == "National Park" and row["iucn_cat"] == "II" and row["status_year"] == 2012
    assert row["reported_area_ha"] == pytest.approx(2620.5 * 100)
    assert row["country_iso3"] == "RUS"


def test_osm_tags_mapped(tmp_path, layers_copy):
    feats = [
        _feature(
            SQUARE,
            **{
                "@id": "relation/123",
                "name": "Земля леопарда",
                "name:ru": "Земля леопарда",
                "name:zh": "豹之乡",
                "name:en": "Land of the Leopard",
                "boundary": "national_park",
                "protect_class": "2",
            },
        )
    ]
    src = _write_geojson(tmp_path / "osm.geojson", feats)
    result = import_layer(src, role="parks_rus", layers_dir=layers_copy)
    assert result.report.ok, result.report.problems
    row = read_layer(layers_copy, "parks_rus").iloc[0]
    assert row["id"] == "osm:relation/123"
    assert (row["name_en"], row["name_ru"], row["name_zh"]) == ("Land of the Leopard", "Земля леопарда", "豹之乡")
    assert row["iucn_cat"] == "II" and row["designation"] == "National park"


def test_map_option(tmp_path, layers_copy, capsys):
    feats = [_feature(SQUARE, code="K-7", title="Kedrovaya Pad")]
    src = _write_geojson(tmp_path / "m.geojson", feats)
    code, out = _run(
        capsys,
        "import",
        src,
        "--role",
        "parks_rus",
        "--layers",
        layers_copy,
        "--map",
        "id=code",
        "--map",
        "name_en=title",
    )
    assert code == 0, out
    row = read_layer(layers_copy, "parks_rus").iloc[0]
    assert (row["id"], row["name_en"]) == ("K-7", "Kedrovaya Pad")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--map", "name_en=nope")
    assert code == 2 and "no column 'nope'" in out
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--map", "colour=title")
    assert code == 2 and "not a column of role parks_rus" in out


def test_duplicate_ids_are_an_error(tmp_path, layers_copy, capsys):
    feats = [_feature(SQUARE, id="D-1"), _feature(shapely.box(131.9, 43.5, 132.0, 43.6), id="D-1")]
    src = _write_geojson(tmp_path / "d.geojson", feats)
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "duplicate id" in out and "D-1" in out


@pytest.mark.parametrize("encoding, name", [("cp1251", "Земля леопарда"), ("gbk", "东北虎豹国家公园")])
@pytest.mark.parametrize("with_cpg", [True, False])
def test_legacy_shapefile_encodings(encoding, name, with_cpg, tmp_path, layers_copy):
    folder = tmp_path / "enc"
    folder.mkdir()
    role = "parks_rus" if encoding == "cp1251" else "parks_chn"
    gdf = gpd.GeoDataFrame(
        [{"id": "E-1", "NAME": name}],
        geometry=[SQUARE if role == "parks_rus" else shapely.box(130.0, 43.0, 130.2, 43.1)],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(gdf, folder / "e.shp", encoding=encoding)
    cpg = folder / "e.cpg"
    if with_cpg:
        cpg.write_text(encoding.upper() if encoding == "cp1251" else "GBK")
    elif cpg.exists():
        cpg.unlink()
    # the DBF must really hold the legacy bytes
    assert name.encode(encoding) in (folder / "e.dbf").read_bytes()
    result = import_layer(folder / "e.shp", role=role, layers_dir=layers_copy)
    assert result.report.ok, result.report.problems
    row = read_layer(layers_copy, role).iloc[0]
    assert row["name_ru" if encoding == "cp1251" else "name_zh"] == name


def test_html_attribute_kept_as_text_with_warning(tmp_path, layers_copy, capsys):
    src = _write_geojson(tmp_path / "h.geojson", [_feature(SQUARE, id="H-1", name_en="<script>alert(1)</script>Park")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 0 and "HTML markup" in out
    assert read_layer(layers_copy, "parks_rus").loc[0, "name_en"] == "<script>alert(1)</script>Park"


def test_megabyte_attribute_refused(tmp_path, layers_copy, capsys):
    src = _write_geojson(tmp_path / "big.geojson", [_feature(SQUARE, id="B-1", name_en="x" * 1_048_576)])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "1,048,576 characters" in out


# -- bad files ----------------------------------------------------------------------------------------


def test_zero_features_refused(tmp_path, layers_copy, capsys):
    src = _write_geojson(tmp_path / "empty.geojson", [])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "0 features" in out


def test_truncated_files(tmp_path, layers_copy, capsys):
    good = _write_geojson(tmp_path / "g.geojson", [_feature(SQUARE, id="T")])
    cut = tmp_path / "cut.geojson"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    code, out = _run(capsys, "import", cut, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 1 and "not valid JSON" in out and "truncated" in out
    gpkg = tmp_path / "g.gpkg"
    _park().to_file(gpkg, driver="GPKG")
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(gpkg.read_bytes()[:2000])
    code, out = _run(capsys, "import", cut, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 2 and "cannot read" in out and "Traceback" not in out


def test_zip_without_shp(tmp_path, layers_copy, capsys):
    src = tmp_path / "x.zip"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("readme.txt", "no shapefile here")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 2 and "holds no .shp" in out


def test_missing_file_and_unknown_type(tmp_path, layers_copy, capsys):
    code, out = _run(capsys, "import", tmp_path / "nope.geojson", "--role", "parks_rus", "--layers", layers_copy)
    assert code == 2 and "no such file" in out
    odd = tmp_path / "a.xyz"
    odd.write_text("hello")
    code, out = _run(capsys, "validate", odd)
    assert code == 2 and "unknown file type" in out


# -- nothing lost --------------------------------------------------------------------------------------


def test_refused_import_and_dry_run_leave_layers_byte_identical(tmp_path, layers_copy, capsys):
    before = _digest(layers_copy)
    src = _write_geojson(tmp_path / "ok.geojson", [_feature(SQUARE, id="OK")])
    original = src.read_bytes()
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--dry-run")
    assert code == 0 and "dry run" in out and "nothing was written" in out
    assert _digest(layers_copy) == before
    assert src.read_bytes() == original


def test_failed_write_leaves_previous_layer(tmp_path, layers_copy, monkeypatch):
    before = _digest(layers_copy)
    src = _write_geojson(tmp_path / "ok.geojson", [_feature(SQUARE, id="OK")])
    real_write_text = Path.write_text
    written = []

    def write_text(self, data, *args, **kwargs):
        if self.name.endswith(".tmp.json"):  # the provenance sidecar, written after the layer's temporary file
            raise OSError("disk full")
        written.append(self.name)
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(OSError, match="disk full"):
        import_layer(src, role="parks_rus", layers_dir=layers_copy)
    assert any(name.endswith(".tmp.geojson") for name in written)  # the new layer was half-way in
    assert _digest(layers_copy) == before


def test_validate_prints_report_and_verdict_without_writing(tmp_path, capsys):
    src = _write_geojson(tmp_path / "v.geojson", [_feature(SQUARE, id="V")])
    code, out = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("report on v.geojson") and lines[-1].startswith("verdict:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.geojson"]


def test_unknown_role_is_a_usage_error(tmp_path):
    src = _write_geojson(tmp_path / "v.geojson", [_feature(SQUARE, id="V")])
    with pytest.raises(UsageError, match="is not importable"):
        prepare_layer(src, role="countries")


# -- the build uses the imported layer -----------------------------------------------------------------


def test_build_uses_imported_layer_and_drops_its_schematic_flag(tmp_path, layers_copy, capsys):
    bundled = read_layer(layers_copy, "parks_rus")
    surveyed = bundled.drop(columns=["geometry_quality", "geometry_method"])  # as a surveyed file would come
    src = tmp_path / "rus.gpkg"
    surveyed.to_file(src, driver="GPKG")
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--quality", "surveyed")
    assert code == 0, out
    out_dir = tmp_path / "out"
    code, out = _run(capsys, "build", "--layers", layers_copy, "--out", out_dir)
    assert code == 0, out
    report = json.loads((out_dir / "areas.json").read_text())
    quality = {f["id"]: f["geometry_quality"] for f in report["features"]}
    assert all(quality[i] == "surveyed" for i in bundled["id"])
    assert report["checks"]["geometry_quality"]["schematic_features"] == [
        i for i, q in quality.items() if q != "surveyed"
    ]
    expected = {i: _area_m2(g) / 1e4 for i, g in zip(bundled["id"], bundled.geometry, strict=True)}
    for f in report["features"]:
        if f["id"] in expected:
            assert f["area_ha"] == pytest.approx(expected[f["id"]], rel=1e-6)
    assert np.isfinite(report["totals"]["proposed_park"]["area_ha"])


def test_import_into_missing_layers_folder_is_refused(tmp_path, capsys):
    src = _write_geojson(tmp_path / "ok.geojson", [_feature(SQUARE, id="OK")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", tmp_path / "nowhere")
    assert code == 2 and "layers folder not found" in out
    assert not (tmp_path / "nowhere").exists()


def test_schematic_notice_goes_when_every_park_is_surveyed(tmp_path, layers_copy, capsys):
    for role in ("parks_rus", "parks_chn"):
        src = tmp_path / f"{role}.gpkg"
        read_layer(layers_copy, role).drop(columns=["geometry_quality", "geometry_method"]).to_file(src, driver="GPKG")
        code, out = _run(capsys, "import", src, "--role", role, "--layers", layers_copy, "--quality", "surveyed")
        assert code == 0, out
        if role == "parks_rus":  # the Chinese park is still schematic: the notice stays
            code, out = _run(capsys, "build", "--layers", layers_copy, "--out", tmp_path / "half")
            assert code == 0 and "id='schematic-notice'" in (tmp_path / "half" / "land_of_big_cats.html").read_text()
    code, out = _run(capsys, "build", "--layers", layers_copy, "--out", tmp_path / "out")
    assert code == 0, out
    assert "id='schematic-notice'" not in (tmp_path / "out" / "land_of_big_cats.html").read_text()


def test_legacy_geojson_crs_member_is_honoured(tmp_path, layers_copy, capsys):
    projected = _park().to_crs("EPSG:32652").geometry[0]
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32652"}}
    src = _write_geojson(tmp_path / "legacy.geojson", [_feature(projected, id="L-1", name_en="Legacy")], crs=crs)
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 0, out
    assert _area_m2(read_layer(layers_copy, "parks_rus").geometry[0]) == pytest.approx(_area_m2(SQUARE), rel=1e-5)
    provenance = json.loads((layers_copy / "parks_rus.provenance.json").read_text())
    assert provenance["original_crs"] == "EPSG:32652"


def test_add_keeps_the_existing_features(tmp_path, layers_copy, capsys):
    bundled = read_layer(layers_copy, "parks_rus")
    src = _write_geojson(tmp_path / "extra.geojson", [_feature(SQUARE, id="RUS-EXTRA", name_en="Extra")])
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--add")
    assert code == 0, out
    layer = read_layer(layers_copy, "parks_rus")
    assert sorted(layer["id"]) == sorted([*bundled["id"], "RUS-EXTRA"])
    assert dict(zip(layer["id"], layer["geometry_quality"], strict=True))["RUS-EXTRA"] == "unverified"
    before = _digest(layers_copy)
    code, out = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy, "--add")
    assert code == 1 and "already in the parks_rus layer" in out
    assert _digest(layers_copy) == before


def test_require_lonlat_passes_lonlat_and_refuses_anything_else():
    from geo.errors import CRSError
    from geo.normalise import require_lonlat

    park = _park()
    assert require_lonlat(park, what="the test layer") is park  # the very layer: nothing reprojected
    assert require_lonlat(park.set_crs("OGC:CRS84", allow_override=True), what="the test layer") is not None
    utm = park.to_crs("EPSG:32652")
    with pytest.raises(CRSError, match=r"the test layer is in EPSG:32652, not EPSG:4326"):
        require_lonlat(utm, what="the test layer")
    with pytest.raises(CRSError, match="no CRS"):
        require_lonlat(park.set_crs(None, allow_override=True), what="the test layer")
