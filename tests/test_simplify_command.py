"""``bigcats simplify``: a coverage file simplified for display, and its lean GeoJSON reader and writer."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmarks.datagen import coverage
from geo.cli import main
from geo.io.coverage_json import PolygonLayer, read_polygons, write_polygons
from tests.common import geod_ha

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parks_file(tmp_path_factory) -> Path:
    """300 adjoining parks with winding shared edges, written by GDAL as a GIS user would get them."""
    path = tmp_path_factory.mktemp("cov") / "parks.geojson"
    pyogrio.write_dataframe(coverage(300, edge_vertices=8), path, driver="GeoJSON",
                            layer_options={"COORDINATE_PRECISION": 7})
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _independent_errors(src: Path, dst: Path) -> np.ndarray:
    """Each feature's relative geodesic area change, with pyproj.Geod and GDAL's reader (not ours)."""
    before = pyogrio.read_dataframe(src)
    after = pyogrio.read_dataframe(dst)
    assert list(after["WDPAID"]) == list(before["WDPAID"])  # every feature, in its order
    return np.array([abs(geod_ha(b) / geod_ha(a) - 1) for a, b in zip(before.geometry, after.geometry, strict=True)])


# ---------------------------------------------------------------- the command


def test_simplify_keeps_every_guarantee(parks_file, tmp_path, capsys):
    dst = tmp_path / "out" / "simple.geojson"
    before = _sha(parks_file)
    code, out, err = _run(capsys, "simplify", parks_file, dst)
    assert code == 0, err
    assert "a valid coverage" in out and "read with numpy" in out
    assert _sha(parks_file) == before  # the source is never modified
    assert [p.name for p in dst.parent.iterdir()] == ["simple.geojson"]  # no temporary file left
    shown = np.asarray(pyogrio.read_dataframe(dst).geometry.values, dtype=object)
    assert shapely.is_valid(shown).all() and shapely.coverage_is_valid(shown)
    assert _independent_errors(parks_file, dst).max() <= 0.005 + 1e-9
    src_vertices = shapely.get_num_coordinates(pyogrio.read_dataframe(parks_file).geometry.values).sum()
    assert shapely.get_num_coordinates(shown).sum() < 0.8 * src_vertices  # it did simplify
    doc = json.loads(dst.read_text(encoding="utf-8"))
    assert "crs" not in doc  # RFC 7946
    first = doc["features"][0]
    assert first["properties"] == json.loads(parks_file.read_text())["features"][0]["properties"]
    ring = np.asarray(first["geometry"]["coordinates"][0])
    assert shapely.LinearRing(ring).is_ccw  # right-hand rule: exteriors counter-clockwise


def test_when_the_proof_beside_the_writing_fails_nothing_is_written_until_it_holds(parks_file, tmp_path, capsys,
                                                                                   monkeypatch):
    """The proof beside the writing says no: that text is dropped, the careful way runs, and what it writes holds."""
    import geo.render.coverage_file as coverage_file

    calls = []
    real = coverage_file.coverage_is_valid

    def once_not(geoms):
        calls.append(len(geoms))
        return len(calls) > 1 and real(geoms)

    monkeypatch.setattr(coverage_file, "coverage_is_valid", once_not)
    dst = tmp_path / "simple.geojson"
    code, out, err = _run(capsys, "simplify", parks_file, dst)
    assert code == 0, err
    assert calls == [300]  # refused once; the careful way proves the coverage as it fits it
    assert [p.name for p in tmp_path.iterdir()] == ["simple.geojson"]  # the refused text left nothing behind
    shown = np.asarray(pyogrio.read_dataframe(dst).geometry.values, dtype=object)
    assert shapely.is_valid(shown).all() and shapely.coverage_is_valid(shown)
    assert _independent_errors(parks_file, dst).max() <= 0.005 + 1e-9


def test_a_tighter_budget_keeps_more_and_holds(parks_file, tmp_path, capsys):
    kept = {}
    for budget in ("0.1", "2"):
        dst = tmp_path / f"b{budget}.geojson"
        code, _, err = _run(capsys, "simplify", parks_file, dst, "--max-area-error", budget)
        assert code == 0, err
        assert _independent_errors(parks_file, dst).max() <= float(budget) / 100 + 1e-9
        kept[budget] = shapely.get_num_coordinates(pyogrio.read_dataframe(dst).geometry.values).sum()
    assert kept["0.1"] > kept["2"]


def test_overlapping_parks_are_refused_and_named(tmp_path, capsys):
    src = tmp_path / "overlap.geojson"
    a, b = shapely.box(130, 42, 131, 43), shapely.box(130.5, 42.5, 131.5, 43.5)
    src.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": json.loads(shapely.to_geojson(g))}
        for n, g in (("a", a), ("b", b))]}))
    dst = tmp_path / "out.geojson"
    code, _, err = _run(capsys, "simplify", src, dst)
    assert code == 1
    assert "not a valid polygon coverage" in err and "features 1 and 2 overlap" in err
    assert not dst.exists()


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        ("missing", 2, "cannot read"),
        ("same", 2, "is the input file"),
        ("shp", 2, "name it .geojson"),
        ("points", 1, "other than polygons"),
        ("broken", 1, "is not valid GeoJSON"),  # as every command reports a damaged GeoJSON
        ("budget", 2, "between 0 and 1"),
    ],
)
def test_bad_arguments_and_inputs_get_one_clear_line(parks_file, tmp_path, capsys, case, code, words):
    src, dst, extra = parks_file, tmp_path / "out.geojson", []
    if case == "missing":
        src = tmp_path / "nothing.geojson"
    elif case == "same":
        src = tmp_path / "copy.geojson"
        src.write_bytes(parks_file.read_bytes())
        dst = src
    elif case == "shp":
        dst = tmp_path / "out.shp"
    elif case == "points":
        src = tmp_path / "points.geojson"
        src.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
                       '"geometry": {"type": "Point", "coordinates": [130, 42]}}]}')
    elif case == "broken":
        src = tmp_path / "broken.geojson"
        src.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat')
    elif case == "budget":
        extra = ["--max-area-error", "150"]
    before = _sha(src) if src.exists() else None
    got, _, err = _run(capsys, "simplify", src, dst, *extra)
    assert got == code, err
    assert words in err and "Traceback" not in err
    assert (_sha(src) if src.exists() else None) == before
    if case != "same":
        assert not dst.exists()


def test_other_formats_and_crs_are_read_with_gdal(parks_file, tmp_path, capsys):
    src = tmp_path / "parks.gpkg"
    gdf = pyogrio.read_dataframe(parks_file).to_crs("EPSG:32652")  # projected, as handed over
    pyogrio.write_dataframe(gdf, src, driver="GPKG")
    dst = tmp_path / "out.geojson"
    code, out, err = _run(capsys, "simplify", src, dst)
    assert code == 0, err
    assert "read with GDAL" in out
    shown = np.asarray(pyogrio.read_dataframe(dst).geometry.values, dtype=object)
    assert shapely.coverage_is_valid(shown)
    assert abs(shapely.bounds(shown)[:, 0].min() - 125) < 10  # back in longitude/latitude


def test_a_file_of_several_layers_needs_layer(parks_file, tmp_path, capsys):
    src = tmp_path / "two.gpkg"
    gdf = pyogrio.read_dataframe(parks_file)
    pyogrio.write_dataframe(gdf, src, layer="parks", driver="GPKG")
    pyogrio.write_dataframe(gdf.iloc[:10], src, layer="sample", driver="GPKG", append=True)
    code, out, err = _run(capsys, "simplify", src, tmp_path / "a.geojson")
    assert code == 2 and "holds 2 layers (parks, sample); choose one with --layer NAME" in err
    code, out, err = _run(capsys, "simplify", src, tmp_path / "b.geojson", "--layer", "sample")
    assert code == 0, err
    assert len(pyogrio.read_dataframe(tmp_path / "b.geojson")) == 10
    # a GeoJSON with --layer goes to GDAL too (its only layer is named after the file)
    code, out, err = _run(capsys, "simplify", parks_file, tmp_path / "c.geojson", "--layer", "nope")
    assert code == 2 and "--layer 'nope' is not in parks.geojson" in err


def test_a_read_that_never_ends_stops_at_the_time_budget(tmp_path):
    import sqlite3

    src = tmp_path / "loop.gpkg"
    square = shapely.box(130, 43, 130.1, 43.1)
    pyogrio.write_dataframe(__import__("geopandas").GeoDataFrame({"id": ["a"]}, geometry=[square], crs="EPSG:4326"),
                            src, layer="parks", driver="GPKG")
    conn = sqlite3.connect(src)
    conn.execute("CREATE VIEW loop AS WITH RECURSIVE r(n, fid, geom, id) AS (SELECT 1, fid, geom, id FROM parks "
                 "UNION ALL SELECT n + 1, fid, geom, id FROM r) SELECT n AS fid, geom, id FROM r")
    conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
                 "VALUES ('loop', 'features', 'loop', 4326)")
    conn.execute("INSERT INTO gpkg_geometry_columns VALUES ('loop', 'geom', 'POLYGON', 4326, 0, 0)")
    conn.commit()
    conn.close()
    proc = subprocess.run([sys.executable, "-m", "geo.cli", "simplify", src, tmp_path / "o.geojson", "--layer", "loop",
                           "--timeout", "2"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "more than 2 s, the time budget of a read" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.geojson").exists()


def test_a_whole_process_prints_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "geo.cli", "simplify", tmp_path / "none.json", tmp_path / "o.json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("bigcats: error: cannot read") and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- the lean GeoJSON reader and writer

_text = st.lists(st.sampled_from([*'ab "[]{},:\\\u00e9\u4e2d\u0001', '"coordinates": [1, 2]']), max_size=8).map("".join)


@st.composite
def _collections(draw):
    """A FeatureCollection of Polygons (some with holes), MultiPolygons and null geometries, with tricky properties."""
    features = []
    for i in range(draw(st.integers(1, 6))):
        x, y = draw(st.floats(-179, 170)), draw(st.floats(-80, 70))
        shell = shapely.box(x, y, x + 1, y + 1)
        kind = draw(st.sampled_from(["polygon", "holed", "multi", "none"]))
        geom = {
            "polygon": shell,
            "holed": shapely.Polygon(shell.exterior, [shapely.box(x + 0.2, y + 0.2, x + 0.4, y + 0.4).exterior]),
            "multi": shapely.MultiPolygon([shell, shapely.box(x + 2, y, x + 2.5, y + 0.5)]),
            "none": None,
        }[kind]
        props = {draw(_text): draw(st.one_of(_text, st.integers(-10, 10), st.none())) for _ in range(2)}
        if draw(st.booleans()):
            props["coordinates"] = [1, 2]  # a property named like the member
        feature = {"type": "Feature", "properties": props,
                   "geometry": None if geom is None else json.loads(shapely.to_geojson(geom))}
        if draw(st.booleans()):
            feature["id"] = i
        features.append((feature, geom))
    return features


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(features=_collections(), indent=st.sampled_from([None, 1]))
def test_the_lean_reader_reads_what_json_reads_or_declines(features, indent):
    doc = {"type": "FeatureCollection", "features": [f for f, _ in features]}
    layer = read_polygons(json.dumps(doc, indent=indent, ensure_ascii=False).encode("utf-8"))
    if any("coordinates" in f["properties"] for f, _ in features) or all(g is None for _, g in features):
        # a property array named "coordinates", or no geometry at all: read right, or declined
        # (then GDAL reads the file)
        if layer is None:
            return
    assert layer is not None
    assert layer.properties == [f["properties"] for f, _ in features]
    for got, (_, want) in zip(layer.geometries, features, strict=True):
        assert (got is None) if want is None else shapely.equals_exact(got, want, 0)


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": '
        '[{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}",  # not lon/lat
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]]}}]}',  # 3D
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1 1], [0, 0]]]}}]}',  # a comma missing
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[0, 0], [1-2, 0], [1, 1], [0, 0]]]}}]}',  # not a number (strtod refuses)
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}}]}',  # ring not closed
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "LineString", "coordinates": [[0, 0], [1, 0]]}}]}',  # not a polygon
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}}]}',  # a MultiPolygon's nesting
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "MultiPolygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}',  # a Polygon's nesting
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[[[0, 0], [1, 0], [1, 1], [0, 0]]]]]}}]}',  # nested deeper still
    ],
)
def test_the_lean_reader_declines_what_it_does_not_know(text):
    assert read_polygons(text.encode()) is None


def test_the_writer_rounds_orients_and_replaces_only_when_checked(tmp_path):
    clockwise = shapely.Polygon([(130.12345678, 42), (130.12345678, 43), (131, 43), (131, 42)])
    multi = shapely.MultiPolygon([shapely.box(132, 42, 133, 43), shapely.box(134, 42, 135, 43)])
    layer = PolygonLayer(np.array([clockwise, None, multi], dtype=object),
                         [{"name": "Земля леопарда"}, {"name": "none"}, None], [7, None, "x"], "parks")
    path = tmp_path / "o.geojson"
    write_polygons(layer, path, decimals=6)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["name"] == "parks" and "crs" not in doc
    first, second, third = doc["features"]
    assert first["id"] == 7 and "id" not in second and third["id"] == "x"
    assert first["properties"] == {"name": "Земля леопарда"} and second["geometry"] is None
    assert first["geometry"]["coordinates"][0][0] == [130.123457, 42]
    assert shapely.LinearRing(first["geometry"]["coordinates"][0]).is_ccw
    assert third["geometry"]["type"] == "MultiPolygon" and len(third["geometry"]["coordinates"]) == 2
    back = read_polygons(path.read_bytes())
    assert back is not None and shapely.equals(back.geometries[2], multi)
    before = path.read_bytes()

    # a check that refuses, or fails, leaves the file as it was and no temporary file behind
    assert write_polygons(PolygonLayer(np.array([multi], dtype=object), [{}]), path, check=lambda: False) is None
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["o.geojson"]

    def fail() -> bool:
        raise RuntimeError("not proved")

    with pytest.raises(RuntimeError):
        write_polygons(PolygonLayer(np.array([multi], dtype=object), [{}]), path, check=fail)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["o.geojson"]


@pytest.mark.parametrize("odd", ["plain", "\u0000geometry\u0000", '"geometry": null}, {"type": "Feature"'])
def test_the_writer_writes_any_property_text(tmp_path, odd):
    """Properties holding the writer's own marker or JSON-looking text come back as they were."""
    box = shapely.box(130, 42, 131, 43)
    layer = PolygonLayer(np.array([box, None, box], dtype=object), [{"a": odd}, {"b": odd}, {odd: 1}], [1, 2, 3])
    path = tmp_path / "o.geojson"
    write_polygons(layer, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert [f["properties"] for f in doc["features"]] == layer.properties
    assert [f["id"] for f in doc["features"]] == [1, 2, 3]
    assert [f["geometry"] is None for f in doc["features"]] == [False, True, False]
    back = read_polygons(path.read_bytes())
    assert back is not None and shapely.equals(back.geometries[2], box)


_NUMBER_BYTES = st.sampled_from([b"0", b"1", b"7", b"9", b".", b"-", b" ", b",", b"]", b"e", b"+", b"x"])
#: Coordinates texts: numbers with their places, what stands between them, stray bytes to add.
_NUMBER_TEXTS = {
    "numbers": st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30),
    "places": st.lists(st.integers(1, 12), min_size=1, max_size=30),
    "between": st.lists(st.sampled_from([b" ", b",", b"],[", b"]],[[", b",\n  "]), min_size=1, max_size=5),
    "noise": st.lists(_NUMBER_BYTES, max_size=12),
}


def _number_text(numbers, places, between) -> tuple[list[bytes], bytes]:
    """Each number written with its places, and all of them in one bracketed text with the separators between."""
    texts = [f"{x:.{places[i % len(places)]}f}".encode() for i, x in enumerate(numbers)]
    return texts, b"[" + b"".join(t + between[i % len(between)] for i, t in enumerate(texts[:-1])) + texts[-1] + b"]"


@settings(max_examples=300, deadline=None)
@example(numbers=[1.5], places=[1], between=[b" "], noise=[b"1", b".", b"5", b"e", b"1"])  # an exponent after the digits
@example(numbers=[1.5], places=[1], between=[b","], noise=[b"7", b"-", b"1", b".", b"0"])  # two numbers run together
@example(numbers=[1.5, 2.5], places=[1], between=[b","], noise=[b"7", b",", b"1", b".", b"0"])  # a number without point
@given(**_NUMBER_TEXTS)
def test_the_column_parser_gives_strtods_doubles_or_declines(numbers, places, between, noise):
    """``_decimals`` reads the very doubles C's strtod (``np.fromstring``) reads, or declines: never others."""
    import warnings

    from geo.io.coverage_json import _NUMBERS_ONLY, _decimals

    def strtod(text: bytes) -> np.ndarray:
        return np.fromstring(text.translate(_NUMBERS_ONLY), sep=" ")

    texts, text = _number_text(numbers, places, between)
    got = _decimals(text)
    whole = max(len(str(int(abs(float(t))))) for t in texts)
    if whole + max(len(t.split(b".")[1]) for t in texts) <= 15:  # within a double's exact digits
        assert got is not None  # every number [-]digits.digits is read
    if got is None:
        return
    assert got.tobytes() == strtod(text).tobytes()  # the same bits (-0.0 too)
    assert _decimals(text[1:-1]).tobytes() == got.tobytes()  # with no separator at either end too
    # text with stray bytes: the same doubles, or declined
    noisy = text[:-1] + b" " + b"".join(noise) + b"]"
    got = _decimals(noisy)
    if got is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # fromstring warns where it stops early: then _decimals must not read it
            assert got.tobytes() == strtod(noisy).tobytes()


@settings(max_examples=150, deadline=None)
@given(**_NUMBER_TEXTS)
def test_numbers_parsed_in_two_halves_are_those_of_the_whole(numbers, places, between, noise):
    """A large text's numbers are parsed in halves on two threads: the very doubles of the whole, in order."""
    import warnings

    import geo.io.coverage_json as cj

    _, text = _number_text(numbers, places, between)
    saved = cj._PARALLEL_BYTES
    try:
        for t in (text, text[:-1] + b" " + b"".join(noise) + b"]"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # strtod's note where it stops early: both sides alike
                cj._PARALLEL_BYTES = 1 << 62
                whole = cj._numbers(t)
                cj._PARALLEL_BYTES = 0
                halves = cj._numbers(t)
            assert halves.tobytes() == whole.tobytes()
    finally:
        cj._PARALLEL_BYTES = saved
