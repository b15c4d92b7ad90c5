"""GeoPackage imports stream: geometries are checked batch by batch while the file is read.

``geo.io.read_source`` reads a GeoPackage through Arrow in batches and hands
each decoded batch to ``on_geometries``; ``geo.normalise.prepare_layer`` queues
the batches on a ``geo.validate.GeometryScanner``. These tests hold the
streamed read equal to pyogrio's own reader and the streamed import equal to
the plain one (the whole layer read, then scanned), batch and chunk sizes made
small so that many batches and chunks are crossed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import geo.io as io
import geo.io.read as io_read
import geo.validate as validate
import geo.validate.scan as validate_scan
from benchmarks.datagen import wdpa_like
from geo.normalise import prepare_layer
from tests.conftest import ROOT


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(io_read, "STREAM_BATCH", 37)
    monkeypatch.setattr(validate_scan, "_CHUNK", 23)


def _layer(n: int = 300, *, null: bool = True):
    gdf = wdpa_like(n, seed=3)
    gdf["ISO3"] = "CHN"
    gdf.loc[5, "NAME"] = "<b>bold</b> park"
    if null:
        gdf.loc[7, "geometry"] = None
    return gdf


def test_streamed_read_equals_pyogrio(tmp_path, small_batches):
    path = tmp_path / "parks.gpkg"
    pyogrio.write_dataframe(_layer(), path, driver="GPKG")
    batches = []
    source = io.read_source(path, on_geometries=lambda geoms, crs: batches.append((geoms, crs)))
    assert len(batches) == -(-300 // 37)  # every batch handed over, in order
    assert {crs for _, crs in batches} == {"EPSG:4326"}
    streamed = np.concatenate([g for g, _ in batches])
    assert all(a is b for a, b in zip(streamed, source.gdf.geometry.array, strict=True))  # the very same objects
    want = pyogrio.read_dataframe(path, use_arrow=True)
    pd.testing.assert_frame_equal(source.gdf.drop(columns="geometry"), want.drop(columns="geometry"))
    assert list(source.gdf.columns) == list(want.columns)
    assert source.gdf.crs == want.crs
    got_g, want_g = source.gdf.geometry.array, want.geometry.array
    assert all((a is None and b is None) or shapely.equals_identical(a, b) for a, b in zip(got_g, want_g, strict=True))



_PINNED_PROBE = r"""
import ctypes, gc, sys
import numpy as np, pyarrow
from geo.io import read_source

def anon_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("RssAnon")) / 1024

def trim():
    gc.collect()
    pyarrow.default_memory_pool().release_unused()
    ctypes.CDLL("libc.so.6").malloc_trim(0)

trim()
before = anon_mb()
attrs = read_source(sys.argv[1]).gdf.drop(columns="geometry")  # the geometries let go at once
trim()
print(anon_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads RssAnon from /proc and trims with glibc")
def test_streamed_attributes_do_not_hold_the_geometries(tmp_path):
    """Attribute columns kept from the Arrow stream do not keep each batch's WKB in memory.

    GDAL hands each batch over as one block; pyarrow frees it only when every column of it is
    gone, so text columns kept zero-copy held all the layer's WKB (the import's peak was 3.6x the
    resulting layer at 100,000 polygons, 2.8x with the batches copied).
    """
    n, vertices = 400, 8_000  # about 50 MB of WKB, a few kB of attributes
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    rings = [np.c_[131 + 0.01 * k + 0.004 * np.cos(angles), 43 + 0.004 * np.sin(angles)] for k in range(n)]
    gdf = gpd.GeoDataFrame({"id": [f"P{k}" for k in range(n)], "NAME": [f"park {k}" for k in range(n)]},
                           geometry=[shapely.Polygon(r) for r in rings], crs="EPSG:4326")
    path = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(gdf, path, driver="GPKG")
    wkb_mb = sum(len(b) for b in shapely.to_wkb(gdf.geometry.array)) / 2**20
    done = subprocess.run([sys.executable, "-c", _PINNED_PROBE, str(path)], capture_output=True, text=True,
                          cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    kept_mb = float(done.stdout.strip().splitlines()[-1])
    assert kept_mb < 0.5 * wkb_mb, (kept_mb, wkb_mb)  # held, the WKB alone would be 1.0



@pytest.mark.parametrize("copy", [io_read._owned, io_read._owned_by_ipc])
def test_owned_batch_is_an_equal_copy_in_buffers_of_its_own(copy):
    """Both ways of copying a batch (``copy_to``, and the IPC round trip for older pyarrow) give the same
    columns in new buffers, dictionaries and nulls included."""
    import pyarrow as pa

    batch = pa.record_batch({
        "name": pa.array(["a", None, "ü<b>"]),
        "year": pa.array([1990, None, 2021], type=pa.int32()),
        "code": pa.array(["Ia", "II", "Ia"]).dictionary_encode(),
    })
    got = copy(batch)
    assert got.equals(batch) and got.schema.equals(batch.schema)
    ours = {b.address for col in got.columns for b in col.buffers() if b is not None}
    theirs = {b.address for col in batch.columns for b in col.buffers() if b is not None}
    assert not ours & theirs


def test_flatgeobuf_with_a_null_geometry_is_read(tmp_path):
    """GDAL's Arrow reader crashes on this file (no spatial index, a null geometry); it is read without Arrow."""
    path = tmp_path / "parks.fgb"
    pyogrio.write_dataframe(_layer(40), path, driver="FlatGeobuf", layer_options={"SPATIAL_INDEX": "NO"})
    result = prepare_layer(path, role="parks_chn", accept_repairs=True)
    assert result.report.features == 40
    assert [p.feature for p in result.report.problems if "no geometry" in p.problem] == ["WDPA:900000007"]


def test_streamed_read_keeps_every_attribute_type(tmp_path, small_batches):
    """Integers (with nulls), floats, text, booleans, dates and UTC date-times come out as pyogrio reads them."""
    import datetime as dt

    import geopandas as gpd

    n = 90
    layer = gpd.GeoDataFrame(
        {
            "i": pd.array([k if k % 7 else None for k in range(n)], dtype="Int64"),
            "f": [k / 3 if k % 5 else None for k in range(n)],
            "s": [None if k % 11 == 0 else f"парк {k} 公园" for k in range(n)],
            "b": [k % 2 == 0 for k in range(n)],
            "d": [dt.date(2000 + k % 20, 1 + k % 12, 1) if k % 4 else None for k in range(n)],
            "t": pd.to_datetime([f"2020-01-{1 + k % 28:02d}T10:{k % 60:02d}:00Z" for k in range(n)]),
        },
        geometry=[shapely.box(130 + k / 100, 43, 130.005 + k / 100, 43.005) for k in range(n)],
        crs="EPSG:4326",
    )
    path = tmp_path / "types.gpkg"
    pyogrio.write_dataframe(layer, path, driver="GPKG")
    source = io.read_source(path, on_geometries=lambda geoms, crs: None)
    want = pyogrio.read_dataframe(path, use_arrow=True)
    pd.testing.assert_frame_equal(source.gdf.drop(columns="geometry"), want.drop(columns="geometry"))


def test_a_table_without_geometry_is_refused(tmp_path):
    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"a": [1, 2]}), path, driver="GPKG")
    result = prepare_layer(path, role="parks_chn")
    assert [p.problem for p in result.report.problems] == ["the file holds no geometry column"]


def test_other_formats_are_not_streamed(tmp_path):
    path = tmp_path / "parks.geojson"
    pyogrio.write_dataframe(_layer(20), path, driver="GeoJSON")
    calls = []
    source = io.read_source(path, on_geometries=lambda geoms, crs: calls.append(len(geoms)))
    assert calls == [] and len(source.gdf) == 20


def _plain(path, monkeypatch, **kw):
    """The same import with streaming switched off: the layer read whole, then scanned."""
    with monkeypatch.context() as m:
        m.setattr(io, "STREAMED_FORMATS", ())
        return prepare_layer(path, **kw)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32652"])
@pytest.mark.parametrize("accept_repairs", [False, True])
def test_streamed_import_equals_plain_import(tmp_path, small_batches, monkeypatch, crs, accept_repairs):
    path = tmp_path / "parks.gpkg"
    layer = _layer(null=not accept_repairs)  # a null geometry is an error: the import would be refused
    pyogrio.write_dataframe(layer.to_crs(crs), path, driver="GPKG")
    chunks, fixed = [], []
    check_chunk, fix_chunk = validate_scan._check_chunk, validate_scan._fix_chunk
    with monkeypatch.context() as m:
        m.setattr(validate_scan, "_check_chunk", lambda geoms, **kw: chunks.append(len(geoms)) or check_chunk(geoms, **kw))
        m.setattr(validate_scan, "_fix_chunk", lambda geoms, *a, **kw: fixed.append(len(geoms)) or fix_chunk(geoms, *a, **kw))
        got = prepare_layer(path, role="parks_chn", accept_repairs=accept_repairs)
    # every geometry checked and fixed once: in EPSG:4326 batch by batch as read (37 = 23 + 14 per batch,
    # 4 left), in another CRS once transformed, in chunks of 23
    want_chunks = sorted([23, 14] * 8 + [4] if crs == "EPSG:4326" else [23] * 13 + [1])
    assert sorted(chunks) == sorted(fixed) == want_chunks  # threads: any order
    want = _plain(path, monkeypatch, role="parks_chn", accept_repairs=accept_repairs)
    assert got.report.problems == want.report.problems
    assert got.report.repairs == want.report.repairs
    assert any("invalid geometry" in p.problem for p in got.report.problems)  # the bow ties were found
    nulls = [p.feature for p in got.report.problems if "no geometry" in p.problem]
    assert nulls == ([] if accept_repairs else ["WDPA:900000007"])
    assert (got.gdf is None) == (want.gdf is None) == (not accept_repairs)
    if got.gdf is not None:
        pd.testing.assert_frame_equal(got.gdf.drop(columns="geometry"), want.gdf.drop(columns="geometry"))
        pairs = zip(got.gdf.geometry.array, want.gdf.geometry.array, strict=True)
        assert all((a is None and b is None) or shapely.equals_identical(a, b) for a, b in pairs)


def test_streamed_import_of_a_layer_with_z(tmp_path, small_batches, monkeypatch):
    """Z is dropped after the read, so the early scan of the 3D batches is discarded and the 2D layer scanned."""
    layer = _layer(80, null=False)
    layer["geometry"] = shapely.force_3d(layer.geometry.array, z=5.0)
    path = tmp_path / "parks3d.gpkg"
    pyogrio.write_dataframe(layer, path, driver="GPKG")
    got = prepare_layer(path, role="parks_chn", accept_repairs=True)
    want = _plain(path, monkeypatch, role="parks_chn", accept_repairs=True)
    assert got.report.problems == want.report.problems
    assert not got.gdf.geometry.has_z.any()
    assert all(shapely.equals_identical(a, b) for a, b in zip(got.gdf.geometry.dropna(), want.gdf.geometry.dropna(), strict=True))


def test_scanner_reset_drops_earlier_batches():
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])], dtype=object)
    with validate.GeometryScanner(kind="polygon") as scanner:
        scanner.add(geoms[:1])
        scanner.reset()
        scanner.add(geoms)
        scan = scanner.result()
        assert list(scan.valid) == [True, False] and scanner.scanned[1] is geoms[1]
        assert scan.reasons[1].startswith("Self-intersection")



def _scan_fields(scan):
    return [np.asarray(getattr(scan, f)) for f in ("missing", "type_names", "fits", "valid", "reasons")]


@pytest.mark.parametrize("batches", [[300], [37] * 8 + [4], [1, 250, 49]])
def test_scanner_in_two_steps_equals_one_scan(monkeypatch, batches):
    """Checks and fixes queued apart, taken from either end by either thread: the same as one chunk scanned whole."""
    monkeypatch.setattr(validate_scan, "_CHUNK", 23)
    geoms = np.asarray(_layer(sum(batches)).geometry.array, dtype=object).copy()
    geoms[::5] = shapely.reverse(geoms[::5])  # windings to fix
    want = validate_scan._scan_chunk(geoms, kind="polygon")
    with validate.GeometryScanner(kind="polygon") as scanner:
        start = 0
        for n in batches:
            scanner.add(geoms[start : start + n])
            start += n
        got = scanner.result()
    for a, b in zip(_scan_fields(got), _scan_fields(want), strict=True):
        assert a.tolist() == b.tolist()
    assert all((a is None and b is None) or shapely.equals_identical(a, b) for a, b in zip(got.fixed, want.fixed, strict=True))
    assert any(a is not g for a, g in zip(got.fixed, geoms, strict=True))  # some were fixed: the test sees the fixes


def test_scanner_closed_or_reset_while_checking():
    """A check still running when the scanner is reset or closed neither raises nor leaves its fix behind."""
    geoms = np.asarray(_layer(2_000, null=False).geometry.array, dtype=object)
    with validate.GeometryScanner(kind="polygon") as scanner:
        scanner.add(geoms)
        scanner.reset()
        scanner.add(geoms[:10])
        assert len(scanner.result().valid) == 10
    scanner = validate.GeometryScanner(kind="polygon")
    scanner.add(geoms)
    first = scanner._chunks[0].check
    while not (first.running() or first.done()):
        time.sleep(0.0001)
    scanner.close()  # the running check's fix cannot be queued any more: dropped
    assert all(c.check.cancelled() or c.check.exception() is None for c in scanner._chunks)


# -- the layer of a plain GeoPackage, found without GDAL ------------------------------------------------


def _gpkg_cases(tmp_path):
    import sqlite3

    import geopandas as gpd

    square = shapely.box(131.0, 43.0, 131.1, 43.1)
    geoms = {"polygon": square, "multipolygon": shapely.MultiPolygon([square]), "point": shapely.Point(131, 43),
             "line": shapely.LineString([(131, 43), (131.1, 43.1)]), "z": shapely.Point(131, 43, 5)}
    for kind, geom in geoms.items():
        path = tmp_path / f"{kind}.gpkg"
        gpd.GeoDataFrame({"id": ["a"]}, geometry=[geom], crs="EPSG:4326").to_file(path, layer=f"parks {kind}")
        yield kind, path
    two = tmp_path / "two.gpkg"
    gdf = gpd.GeoDataFrame({"id": ["a"]}, geometry=[square], crs="EPSG:4326")
    gdf.to_file(two, layer="a")
    gdf.to_file(two, layer="b", mode="a")
    yield "two layers", two
    table = tmp_path / "table.gpkg"
    gdf.to_file(table, layer="parks")
    pyogrio.write_dataframe(pd.DataFrame({"note": ["x"]}), table, layer="notes", append=True)
    yield "attribute table", table
    loose = tmp_path / "loose.gpkg"
    gdf.to_file(loose, layer="parks")
    with sqlite3.connect(loose) as conn:  # a table the GeoPackage does not register
        conn.execute("CREATE TABLE extra (fid INTEGER PRIMARY KEY, geom BLOB)")
    yield "unregistered table", loose
    fake = tmp_path / "fake.gpkg"
    fake.write_bytes(b"not a database at all")
    yield "not SQLite", fake


def test_a_plain_geopackage_is_listed_as_gdal_lists_it(tmp_path):
    from geo.io.sources import _geopackage_layer

    answered = []
    for kind, path in _gpkg_cases(tmp_path):
        quick = _geopackage_layer(str(path))
        if quick is None:
            continue
        answered.append(kind)
        layers = pyogrio.list_layers(path)
        assert quick == ([str(n) for n in layers[:, 0]], str(layers[0, 1])), kind
    # the plain 2D layers are answered; several layers, other tables, Z and damaged files go to GDAL
    assert answered == ["polygon", "multipolygon", "point", "line"]


def test_the_layer_choice_of_a_geopackage_is_unchanged(tmp_path, capsys):
    from geo.cli import main

    cases = dict(_gpkg_cases(tmp_path))
    assert main(["validate", str(cases["two layers"]), "--role", "parks_rus"]) == 2
    assert "holds 2 layers (a, b); choose one with --layer NAME" in capsys.readouterr().err
    assert main(["validate", str(cases["polygon"]), "--role", "parks_rus", "--layer", "nope"]) == 2
    assert "--layer 'nope' is not in polygon.gpkg; its layers are: parks polygon" in capsys.readouterr().err
    assert main(["validate", str(cases["polygon"]), "--role", "parks_rus", "--layer", "parks polygon"]) in (0, 1)
    assert main(["validate", str(cases["not SQLite"]), "--role", "parks_rus"]) == 2
    assert "cannot read" in capsys.readouterr().err
