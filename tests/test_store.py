"""The layer store on its three backends: folder, GeoPackage and a real PostgreSQL/PostGIS server."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.cli import main
from geo.errors import DataError, ReadError, UsageError
from geo.io import write_geojson
from geo.store import mask_url, open_store
from tests import pg_server
from tests.common import geod_ha as _geod_ha
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
WRITER = ROOT / "tests" / "store_writer.py"




@pytest.fixture(scope="session")
def pg():
    reason = pg_server.missing()
    if reason:
        skip_or_fail(reason)
    server = pg_server.start()
    saved = os.environ.get("PGPASSWORD")
    os.environ["PGPASSWORD"] = server.password  # how a team member passes it; subprocesses inherit it
    yield server
    if saved is None:
        os.environ.pop("PGPASSWORD", None)
    else:
        os.environ["PGPASSWORD"] = saved
    server.stop()


@pytest.fixture(params=["folder", "gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def new_store(request, tmp_path) -> str:
    """The spec of a store that does not exist yet (a PostGIS database with no bigcats schema)."""
    if request.param == "folder":
        return str(tmp_path / "store")
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    server = request.getfixturevalue("pg")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture()
def store(new_store, layers_dir) -> str:
    """A store initialised from the bundled layers."""
    assert main(["init", "--layers", new_store, "--from", str(layers_dir)]) == 0
    return new_store


def _shrunk(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, float]:
    """The layer with a box cut out of its first feature, and the cut's area in ha."""
    geom = gdf.geometry.iloc[0]
    p = geom.representative_point()
    cut = shapely.box(p.x - 0.05, p.y - 0.05, p.x + 0.05, p.y + 0.05)
    out = gdf.copy()
    out.loc[out.index[0], "geometry"] = geom.difference(cut)
    return out, _geod_ha(geom.intersection(cut))


def test_end_to_end(store, tmp_path, capsys, layers_dir):
    # init refuses an existing store
    assert main(["init", "--layers", store, "--from", str(layers_dir)]) == 2
    assert "refuses to touch an existing store" in capsys.readouterr().err

    s = open_store(store)
    v1 = s.read_layer("parks_chn")
    v1_ha = _geod_ha(v1.geometry.iloc[0])
    v2, cut_ha = _shrunk(v1)
    # the built area of the park before the import (nested reserves' overlaps count in it)
    assert main(["build", "--layers", store, "--out", str(tmp_path / "before")]) == 0
    before = json.loads((tmp_path / "before" / "areas.json").read_text(encoding="utf-8"))
    built_v1_ha = [f for f in before["features"] if f["id"] == v1["id"].iloc[0]][0]["area_ha"]
    capsys.readouterr()
    assert cut_ha > 1000
    # a real import of a file GIS staff were handed: a new version with its provenance
    source = write_geojson(v2, tmp_path / "cadastre_2024.geojson")
    source_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    assert main(["import", str(source), "--role", "parks_chn", "--layers", store]) == 0
    assert "imported" in capsys.readouterr().out

    out = tmp_path / "out"
    assert main(["build", "--layers", store, "--out", str(out)]) == 0
    report = json.loads((out / "areas.json").read_text(encoding="utf-8"))
    chn = [f for f in report["features"] if f["id"] == v1["id"].iloc[0]][0]
    assert chn["area_ha"] == pytest.approx(built_v1_ha - cut_ha, rel=1e-5)
    capsys.readouterr()

    # areas and export read the same store
    assert main(["areas", "--json", "--layers", store]) == 0
    areas = json.loads(capsys.readouterr().out)
    assert {f["id"]: f["area_ha"] for f in areas["features"]} == {f["id"]: f["area_ha"] for f in report["features"]}
    exported = tmp_path / "export.gpkg"
    assert main(["export", "--format", "gpkg", "--out", str(exported), "--layers", store]) == 0
    capsys.readouterr()
    chn_exported = gpd.read_file(exported, layer="parks_chn")
    assert _geod_ha(chn_exported.geometry.iloc[0]) == pytest.approx(v1_ha - cut_ha, rel=1e-5)

    hist = s.history("parks_chn")
    assert list(hist["version"]) == [1, 2]
    assert list(hist["source"])[1] == "cadastre_2024.geojson" and list(hist["checksum"])[1] == source_sha
    assert list(hist["feature_count"]) == [len(v1), len(v2)]
    layer_ha = sum(_geod_ha(g) for g in v1.geometry)  # the version's area: the sum of its features
    assert hist["area_ha"].iloc[0] == pytest.approx(layer_ha, rel=1e-5)
    assert hist["area_ha"].iloc[1] == pytest.approx(layer_ha - cut_ha, rel=1e-5)
    assert main(["history", "parks_chn", "--layers", store]) == 0
    assert "cadastre_2024.geojson" in capsys.readouterr().out

    diff_path = tmp_path / "diff.geojson"
    assert main(["diff", "parks_chn", "1", "2", "--layers", store, "--out", str(diff_path)]) == 0
    assert "changed" in capsys.readouterr().out
    parts, table = s.diff("parks_chn", 1, 2)
    row = table.set_index("id").loc[v1["id"].iloc[0]]
    assert row["lost_ha"] == pytest.approx(cut_ha, rel=1e-4)
    assert row["gained_ha"] == pytest.approx(0, abs=1e-3)
    written = gpd.read_file(diff_path)
    lost = written[written["change"] == "lost"]
    assert len(lost) == 1 and _geod_ha(lost.geometry.iloc[0]) == pytest.approx(cut_ha, rel=1e-4)

    assert main(["rollback", "parks_chn", "1", "--layers", store]) == 0
    hist = open_store(store).history("parks_chn")
    assert list(hist["version"]) == [1, 2, 3]
    assert "rollback to version 1" in hist["note"].iloc[2]
    now = open_store(store).read_layer("parks_chn")
    assert _geod_ha(now.geometry.iloc[0]) == pytest.approx(v1_ha, rel=1e-9)
    assert list(now["id"]) == list(v1["id"])
    # earlier versions still readable; other roles untouched
    assert _geod_ha(open_store(store).read_layer("parks_chn", version=2).geometry.iloc[0]) == pytest.approx(
        v1_ha - cut_ha, rel=1e-5
    )
    assert list(open_store(store).history("parks_rus")["version"]) == [1]


def _run_writer(store: str, tag: str, n: int = 3000) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), store, "parks_chn", str(n), tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _state(store: str):
    s = open_store(store)
    layers = s.read_layers()
    return list(s.history("parks_chn")["version"]), list(layers["parks_chn"]["id"])


def _mid_write(store: str, version: int) -> bool:
    """Whether a write of ``version`` of parks_chn has started changing the store and not committed."""
    if store.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store) as conn:
            return bool(
                conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bigcats' "
                    "AND pid <> pg_backend_pid() AND state = 'active' AND query ILIKE 'INSERT%'"
                ).fetchone()[0]
            )
    if store.endswith(".gpkg"):
        return Path(store + "-journal").exists()  # SQLite's rollback journal: a transaction is writing
    # the folder: the new version's file is on disk, the index does not list it yet
    vdir = Path(store) / ".versions" / "parks_chn"
    return (vdir / f"v{version:04d}.geojson").exists() or any(vdir.glob(f".v{version:04d}.geojson.*"))


def test_killed_write_leaves_the_store_as_it_was(store):
    done = _run_writer(store, "A")
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    before = _state(store)
    assert before[0] == [1, 2] and before[1][0] == "A-0"

    proc = _run_writer(store, "B", n=4000)
    assert proc.stdout.readline().strip() == "writing"
    while not _mid_write(store, 3):  # kill -9 once the write has begun to change the store
        assert proc.poll() is None, "the write finished before it could be killed; use a larger layer"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    if store.startswith("postgresql://"):
        time.sleep(0.5)  # the server rolls back when it sees the connection drop
    assert _state(store) == before
    # and the store still takes writes
    after = _run_writer(store, "C", n=10)
    assert after.communicate(timeout=300)[0].split()[2] == "3"
    versions, ids = _state(store)
    assert versions == [1, 2, 3] and ids == [f"C-{i}" for i in range(10)]


def test_two_concurrent_writes_land_as_two_versions(store):
    procs = {tag: _run_writer(store, tag, n=1500) for tag in ("P", "Q")}
    results = {}
    for tag, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results[tag] = int(out.split()[2])
    assert sorted(results.values()) == [2, 3]
    s = open_store(store)
    for tag, version in results.items():
        ids = list(s.read_layer("parks_chn", version=version)["id"])
        assert ids == [f"{tag}-{i}" for i in range(1500)]
    last = max(results, key=results.get)
    assert list(s.read_layer("parks_chn")["id"])[:3] == [f"{last}-{i}" for i in range(3)]
    assert list(s.history("parks_chn")["feature_count"])[1:] == [1500, 1500]


@pytest.mark.parametrize("role", ["x; DROP TABLE bigcats.versions", 'parks_chn"; --', "Parks_CHN", ""])
def test_role_names_are_validated(store, role, capsys):
    s = open_store(store)
    gdf = s.read_layer("parks_chn")
    with pytest.raises(UsageError, match="unknown role"):
        s.write_layer(role, gdf, provenance={})
    with pytest.raises(UsageError, match="unknown role"):
        s.history(role)
    assert main(["history", role, "--layers", store]) == 2
    assert "unknown role" in capsys.readouterr().err
    assert list(open_store(store).history("parks_chn")["version"]) == [1]


def test_column_names_are_validated(store):
    s = open_store(store)
    gdf = s.read_layer("parks_chn").rename(columns={"name_en": 'name"); DROP TABLE x; --'})
    with pytest.raises(DataError, match="column names the store cannot hold"):
        s.write_layer("parks_chn", gdf, provenance={})
    assert list(s.history("parks_chn")["version"]) == [1]


def test_unknown_version(store, capsys):
    assert main(["diff", "parks_chn", "1", "7", "--layers", store]) == 2
    assert "version 7 of 'parks_chn' does not exist" in capsys.readouterr().err
    assert main(["rollback", "parks_chn", "9", "--layers", store]) == 2


def test_folder_without_versions_reads_as_version_1(layers_copy):
    s = open_store(layers_copy)
    assert list(s.history("parks_rus")["version"]) == [1]
    v1 = s.read_layer("parks_rus")
    v2, cut_ha = _shrunk(v1)
    assert s.write_layer("parks_rus", v2, provenance={"source": "a.shp"}) == 2
    assert list(s.history("parks_rus")["version"]) == [1, 2]
    # the folder's file is now version 2 (other code reads the folder directly)
    from geo.layers import read_layer

    assert _geod_ha(read_layer(layers_copy, "parks_rus").geometry.iloc[0]) == pytest.approx(
        _geod_ha(v1.geometry.iloc[0]) - cut_ha, rel=1e-5
    )
    assert _geod_ha(s.read_layer("parks_rus", version=1).geometry.iloc[0]) == pytest.approx(
        _geod_ha(v1.geometry.iloc[0]), rel=1e-9
    )


def test_geopackage_is_valid(tmp_path, layers_dir):
    path = tmp_path / "team.gpkg"
    assert main(["init", "--layers", str(path), "--from", str(layers_dir)]) == 0
    s = open_store(path)
    s.write_layer("parks_chn", _shrunk(s.read_layer("parks_chn"))[0], provenance={"source": "x"})
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        kinds = dict(conn.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert kinds["parks_chn"] == "MULTIPOLYGON" and kinds["places"] == "POINT" and kinds["border"] == "MULTILINESTRING"
    proc = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True)
    if proc.returncode == 127:  # pragma: no cover
        skip_or_fail("ogrinfo not installed: run scripts/ensure_postgis.sh")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    current = gpd.read_file(path, layer="parks_chn")
    assert "Geometry: Multi Polygon" in proc.stdout and f"Feature Count: {len(current)}" in proc.stdout
    # the current table is the latest version, typed, with an R-tree index GDAL uses
    assert len(current) == len(s.read_layer("parks_chn")) and set(current.geometry.geom_type) == {"MultiPolygon"}
    spatial = gpd.read_file(path, layer="parks_chn", bbox=(0, 0, 1, 1))
    assert len(spatial) == 0


def test_missing_store_exit_2(tmp_path, capsys):
    assert main(["history", "parks_chn", "--layers", str(tmp_path / "none.gpkg")]) == 2
    assert "bigcats init --layers" in capsys.readouterr().err
    plain = tmp_path / "plain.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:4326").to_file(plain)
    with pytest.raises(ReadError, match="not a bigcats layer store"):
        open_store(plain)


def test_password_is_masked(capsys):
    assert mask_url("postgresql://ann:s3cr%40t@db:5432/gis") == "postgresql://ann:***@db:5432/gis"
    assert mask_url("postgresql://ann@db/gis") == "postgresql://ann@db/gis"
    # nothing listens on port 1 of the loopback
    assert main(["history", "parks_chn", "--layers", "postgresql://ann:s3cr3t@127.0.0.1:1/gis"]) == 2
    captured = capsys.readouterr()
    assert (
        "s3cr3t" not in captured.err + captured.out
        and "cannot connect to postgresql://ann:***@127.0.0.1:1/gis" in captured.err
    )


@pytest.mark.postgis
def test_postgis_tables_are_typed_and_indexed(pg, layers_dir):
    import psycopg

    url = pg.create_database(f"t_{uuid.uuid4().hex[:12]}")
    assert main(["init", "--layers", url, "--from", str(layers_dir)]) == 0
    with psycopg.connect(url) as conn:
        cols = dict(
            (
                (t, (typ, srid))
                for t, typ, srid in conn.execute(
                    "SELECT f_table_name, type, srid FROM geometry_columns WHERE f_table_schema = 'bigcats'"
                )
            )
        )
        indexes = {r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'bigcats'")}
    assert cols["parks_chn"] == ("MULTIPOLYGON", 4326) and cols["border"] == ("MULTILINESTRING", 4326)
    assert cols["places"] == ("POINT", 4326)
    assert any("USING gist (geom)" in i and ".parks_chn " in i for i in indexes), indexes
    proc = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-so",
            f"PG:host=127.0.0.1 port={pg.port} dbname={url.rsplit('/', 1)[1]} user={pg_server.SUPERUSER}",
            "bigcats.parks_chn",
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode == 127:  # pragma: no cover
        skip_or_fail("ogrinfo not installed: run scripts/ensure_postgis.sh")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    count = len(open_store(url).read_layer("parks_chn"))
    assert "Geometry: Multi Polygon" in proc.stdout and f"Feature Count: {count}" in proc.stdout


@pytest.mark.postgis
def test_postgis_password_from_pgpass_or_environment_never_printed(pg, layers_dir, tmp_path, monkeypatch, capsys):
    url = pg.create_database(f"t_{uuid.uuid4().hex[:12]}")
    assert "@127.0.0.1" in url and pg.password not in url
    # the password inside the URL works and is masked in what init prints
    inline = url.replace(f"{pg_server.SUPERUSER}@", f"{pg_server.SUPERUSER}:{pg.password}@")
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    assert main(["init", "--layers", inline, "--from", str(layers_dir)]) == 0
    captured = capsys.readouterr()
    assert pg.password not in captured.out + captured.err and ":***@" in captured.out
    # ~/.pgpass (here through PGPASSFILE)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg.port}:*:{pg_server.SUPERUSER}:{pg.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert main(["history", "parks_chn", "--layers", url]) == 0
    # a wrong password: exit 2, one line, the password never shown
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    monkeypatch.setenv("PGPASSWORD", "wrong-Secret-4711")
    capsys.readouterr()
    assert main(["history", "parks_chn", "--layers", url]) == 2
    err = capsys.readouterr().err
    assert "wrong-Secret-4711" not in err and "password authentication failed" in err
    assert err.startswith(f"bigcats: error: cannot connect to {url}") and err.count("\n") == 1


def test_folder_file_changed_outside_the_store_becomes_a_version(layers_copy):
    from geo.io import write_geojson
    from geo.layers import LAYERS

    s = open_store(layers_copy)
    v1 = s.read_layer("parks_chn")
    v2, cut_ha = _shrunk(v1)
    assert s.write_layer("parks_chn", v2, provenance={"source": "a"}) == 2
    path = layers_copy / LAYERS["parks_chn"].filename
    # a write killed after its commit leaves the previous file in the folder: the index wins
    path.write_bytes((layers_copy / ".versions" / "parks_chn" / "v0001.geojson").read_bytes())
    assert list(s.history("parks_chn")["version"]) == [1, 2]
    assert _geod_ha(s.read_layer("parks_chn").geometry.iloc[0]) == pytest.approx(
        _geod_ha(v2.geometry.iloc[0]), rel=1e-6
    )
    # an edit outside the store (make layers, an editor): the folder's file is current, recorded at the next write
    v3, _ = _shrunk(v2)
    write_geojson(v3, path)
    hist = s.history("parks_chn")
    assert list(hist["version"]) == [1, 2, 3] and "outside the store" in hist["note"].iloc[2]
    assert _geod_ha(s.read_layer("parks_chn").geometry.iloc[0]) == pytest.approx(
        _geod_ha(v3.geometry.iloc[0]), rel=1e-6
    )
    assert s.write_layer("parks_chn", v1, provenance={"source": "b"}) == 4
    assert list(s.history("parks_chn")["version"]) == [1, 2, 3, 4]
    assert _geod_ha(s.read_layer("parks_chn", version=3).geometry.iloc[0]) == pytest.approx(
        _geod_ha(v3.geometry.iloc[0]), rel=1e-6
    )


# --------------------------------------------------------------------------- the project a store holds


@pytest.fixture(params=["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)])
def new_sql_store(request, tmp_path) -> str:
    """The spec of a GeoPackage or PostGIS store that does not exist yet."""
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    return request.getfixturevalue("pg").create_database(f"t_{uuid.uuid4().hex[:12]}")


def test_a_sql_store_holds_its_project_versioned_and_the_build_uses_it(new_sql_store, tmp_path, capsys):
    import dataclasses

    from geo.facts import read_facts
    from geo.project import ProjectError, project_for, project_toml, read_project_text
    from tests.test_projects_build import DATA, _check, _import_and_build, _land, _project

    extract = DATA / "bialowieza.geo.json"
    land = _land(extract)
    folder = _project(tmp_path, capsys, extract, "POL,BLR", "Białowieża Forest")
    assert main(["init", "--layers", new_sql_store, "--from", str(folder)]) == 0
    text = (folder / "project.toml").read_text(encoding="utf-8")
    store = open_store(new_sql_store)
    hist = store.history("project")
    assert list(hist["version"]) == [1]
    assert hist["checksum"][0] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert hist["source"][0] == str(folder / "project.toml")
    held = project_for(new_sql_store)  # what every command reads for --layers
    assert held == read_project_text(text) and held.countries == ("POL", "BLR")
    assert list(store.catalogue().park_roles) == ["parks_pol", "parks_blr"]

    # the build reads the store's project: Polish and Belarusian parks, not the bundled project's countries
    box = shapely.box(23.6, 52.55, 24.1, 52.85)
    parks = {
        "POL": [("POL-A", shapely.intersection(land["POL"], box), "II")],
        "BLR": [("BLR-A", shapely.intersection(land["BLR"], box), "II")],
    }
    report, gpkg = _import_and_build(tmp_path, capsys, new_sql_store, parks)
    _check(report, gpkg, land, parks)
    # its published figures come from the facts table kept with the project (none: not the bundled project's)
    assert report["totals"]["proposed_park"]["reported_area_ha"] is None
    assert store.facts() == read_facts(folder / "facts.csv")

    # a new version of the project: listed like a layer's versions, and what the next run reads
    renamed = project_toml(dataclasses.replace(held, name={**held.name, "en": "Puszcza Białowieska"}))
    assert store.write_project(renamed, source="edited") == 2
    assert list(store.history("project")["version"]) == [1, 2]
    assert main(["history", "project", "--layers", new_sql_store]) == 0
    assert "edited" in capsys.readouterr().out
    assert main(["areas", "--json", "--layers", new_sql_store]) == 0
    rows = json.loads(capsys.readouterr().out)["checks"]["reconciliation"]["rows"]
    assert {r["id"]: r["name_en"] for r in rows if r["level"] == "total"}["proposed_park"] == (
        "Puszcza Białowieska (proposed)"
    )
    # a project that cannot work is refused and nothing is written; a rollback adds a version
    with pytest.raises(ProjectError, match="two countries"):
        store.write_project(renamed.replace('countries = ["POL", "BLR"]', 'countries = ["POL"]'))
    assert main(["rollback", "project", "1", "--layers", new_sql_store]) == 0
    hist = store.history("project")
    assert list(hist["version"]) == [1, 2, 3] and hist["note"].iloc[-1] == "rollback to version 1"
    assert project_for(new_sql_store).display_name("en") == "Białowieża Forest"


def test_a_sql_store_without_a_project_uses_the_bundled_one_like_a_folder(new_sql_store, layers_copy):
    from geo.layers import catalogue
    from geo.project import bundled_project, project_for

    (layers_copy / "project.toml").unlink()
    assert project_for(layers_copy) == bundled_project()  # a folder without project.toml
    assert main(["init", "--layers", new_sql_store, "--from", str(layers_copy)]) == 0
    store = open_store(new_sql_store)
    assert store.history("project").empty
    assert project_for(new_sql_store) == bundled_project() == store.project()
    assert list(store.catalogue()) == list(catalogue(None))
    assert set(store.read_layers()) == set(open_store(str(layers_copy)).read_layers())


def test_what_a_store_is_given_valid_it_gives_back_valid(store):
    """Every store reads back valid what it was given valid: the folder's GeoJSON keeps 6 decimals,
    which would fold a thin inlet onto itself (and did fold a seeded WDPA-like park, read back with a
    self-intersection that the next build refused), so such a polygon is written unrounded."""
    from benchmarks.datagen import wdpa_like

    inlet = shapely.Polygon([(131, 43), (131.2, 43), (131.2, 43.2), (131.1000004, 43.2), (131.1000004, 43.05),
                             (131.0999999, 43.05), (131.0999999, 43.2), (131, 43.2)])
    assert inlet.is_valid and not shapely.transform(inlet, lambda xy: xy.round(6)).is_valid
    seeded = wdpa_like(2000, seed=15).geometry.iloc[730]  # the one met at 6 decimals
    assert seeded.is_valid
    plain = shapely.box(131.3, 43.0, 131.40000001, 43.1)
    gdf = gpd.GeoDataFrame({"id": ["inlet", "seeded", "plain"], "name_en": ["a", "b", "c"]},
                           geometry=[inlet, seeded, plain], crs="EPSG:4326")
    s = open_store(store)
    version = s.write_layer("context_pa", gdf, provenance={"source": "test"})
    back = s.read_layer("context_pa", version=version).set_index("id").geometry
    assert bool(back.is_valid.all()), shapely.is_valid_reason(back.values)
    assert back["inlet"].equals(inlet) and back["seeded"].equals(seeded)  # nothing rounded away
    assert shapely.get_coordinates(back["plain"]).max(axis=0)[0] == pytest.approx(131.4, abs=1e-6)
