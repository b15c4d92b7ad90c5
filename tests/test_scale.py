"""The dask engine gives the in-memory totals (issue 7: past one machine)."""

from __future__ import annotations

import csv
import io
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from benchmarks.datagen import wdpa_like, write_gpkg_sample
from geo.areas.common import _partition_totals, merge_partials
from geo.areas.scale import _hilbert_chunks, _union, area_totals, area_totals_dask
from geo.cli import main
from geo.errors import UsageError


@pytest.fixture(scope="module")
def cluster():
    """A local dask.distributed cluster of two worker processes, one thread each: its scheduler address."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as local:
        assert local.scheduler_address.startswith("tcp://127.0.0.1:")
        yield local.scheduler_address


def test_dask_totals_on_a_process_cluster_equal_in_memory_totals(wdpa_3k, cluster):
    memory = area_totals(wdpa_3k, by="ISO3")
    dask = area_totals_dask(wdpa_3k, by="ISO3", npartitions=4, scheduler=cluster)
    assert list(dask.index) == list(memory.index) == ["CHN", "RUS"]
    assert (dask["features"] == memory["features"]).all()
    assert int(memory["features"].sum()) == 3_000
    for column in ("sum_area_ha", "union_area_ha"):
        for key in memory.index:
            assert dask.loc[key, column] == pytest.approx(memory.loc[key, column], rel=1e-9), (key, column)
    for column in ("features", "sum_area_ha", "union_area_ha"):
        assert dask.attrs["total"][column] == pytest.approx(memory.attrs["total"][column], rel=1e-9), column
    # Overlaps exist in the synthetic layer, so the union is smaller than the sum.
    assert (memory["union_area_ha"] < memory["sum_area_ha"]).all()


@pytest.mark.parametrize("npartitions", [None, 1, 7])
def test_partitions_hold_every_feature_once_and_are_compact(npartitions):
    gdf = wdpa_like(700, seed=5)
    bounds = shapely.bounds(gdf.geometry.values)
    chunks = _hilbert_chunks(bounds, npartitions)
    assert len(chunks) == (npartitions or len(chunks))
    rows = np.concatenate(chunks)
    assert sorted(rows) == list(range(700))
    if len(chunks) > 1:  # neighbours together: each partition's box is well below the layer's
        whole = shapely.area(shapely.box(*gdf.total_bounds))
        boxes = [shapely.area(shapely.box(*gdf.geometry.iloc[c].total_bounds)) for c in chunks]
        assert max(boxes) < 0.75 * whole


@pytest.mark.parametrize(("n", "workers", "expected"), [(700, 3, 6), (700, 1, 2), (45_000, 2, 4), (100_000, 2, 6)])
def test_default_partitions_follow_the_cluster_workers(n, workers, expected):
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 10, size=(n, 2))
    bounds = np.column_stack([xy, xy + 0.01])
    chunks = _hilbert_chunks(bounds, None, workers)
    # at least two per worker, one per PARTITION_FEATURES features, a multiple of the workers
    assert len(chunks) == expected
    assert sorted(np.concatenate(chunks)) == list(range(n))


def test_union_of_partials_equals_the_overlay_union():
    parts = wdpa_like(400, seed=9, invalid_every=0).geometry.values
    order = np.argsort(shapely.get_x(shapely.centroid(parts)))
    partials = [shapely.union_all(chunk) for chunk in np.array_split(parts[order], 5)]
    got, expected = _union(partials), shapely.union_all(parts)
    assert got.is_valid
    assert shapely.symmetric_difference(got, expected).area < 1e-12 * expected.area
    assert _union([partials[0]]) is partials[0]


def test_merged_partials_equal_the_totals_of_the_whole():
    gdf = wdpa_like(600, seed=4)
    order = np.argsort(shapely.get_x(shapely.centroid(gdf.geometry.values)))
    halves = [_partition_totals(gdf.iloc[np.sort(half)], "ISO3") for half in np.array_split(order, 2)]
    whole = _partition_totals(gdf, "ISO3")
    merged = merge_partials(*halves)
    assert list(merged.index) == list(whole.index) == ["CHN", "RUS"]
    assert (merged["features"] == whole["features"]).all()
    for key in whole.index:
        assert merged.loc[key, "sum_area_m2"] == pytest.approx(whole.loc[key, "sum_area_m2"], rel=1e-12)
        got, expected = merged.loc[key, "geometry"], whole.loc[key, "geometry"]
        assert got.is_valid
        assert shapely.symmetric_difference(got, expected).area < 1e-12 * expected.area
    assert merge_partials(halves[0], halves[0].iloc[:0]) is halves[0]


def _count_reads() -> None:
    """Wrap pyogrio.read_dataframe in this process so that every call and the ids it read are recorded."""
    import pyogrio

    if hasattr(pyogrio, "_bigcats_reads"):
        return
    original = pyogrio.read_dataframe
    reads: list[list[int]] = []

    def counted(*args, **kwargs):
        fids = kwargs.get("fids")
        reads.append([-1] if fids is None else [int(f) for f in fids])
        return original(*args, **kwargs)

    pyogrio._bigcats_reads = (original, reads)
    pyogrio.read_dataframe = counted


def _reads_and_restore() -> list[list[int]]:
    """The reads recorded by :func:`_count_reads` in this process; the original function is put back."""
    import pyogrio

    original, reads = pyogrio.__dict__.pop("_bigcats_reads")
    pyogrio.read_dataframe = original
    return reads


def test_dask_engine_reads_each_feature_once_in_one_read_per_partition(tmp_path, cluster, monkeypatch):
    import pyogrio
    from distributed import Client

    n, npartitions = 1_500, 5
    path = write_gpkg_sample(wdpa_like(n, seed=12), tmp_path / "reads.gpkg")
    calls = {"read_info": 0, "read_bounds": 0, "read_dataframe": 0}
    for name in calls:  # the calling process: metadata and bounds once, never a feature's attributes
        original = getattr(pyogrio, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(pyogrio, name, counted)
    with Client(cluster) as client:
        client.run(_count_reads)
        try:
            totals = area_totals_dask(path, by="ISO3", npartitions=npartitions, scheduler=cluster)
        finally:
            per_worker = client.run(_reads_and_restore)
    assert calls == {"read_info": 1, "read_bounds": 1, "read_dataframe": 0}
    reads = [fids for worker in per_worker.values() for fids in worker]
    assert len(reads) == npartitions, reads
    assert len(per_worker) == 2
    read_ids = sorted(f for fids in reads for f in fids)
    assert read_ids == sorted(pyogrio.read_bounds(path)[0].tolist())  # every feature once, none twice
    assert int(totals["features"].sum()) == n


def test_in_memory_totals_against_independent_sum(tmp_path):
    gdf = wdpa_like(200, seed=3, invalid_every=0).rename(columns={"ISO3": "country_iso3"})
    path = write_gpkg_sample(gdf, tmp_path / "small.gpkg")
    totals = area_totals_dask(path, npartitions=3)
    geod = Geod(ellps="WGS84")
    def ring_ha(ring) -> float:
        lon, lat = ring.xy
        return abs(geod.polygon_area_perimeter(lon, lat)[0]) / 1e4

    expected = {}
    for iso3, geom in zip(gdf["country_iso3"], gdf.geometry, strict=True):
        for poly in getattr(geom, "geoms", [geom]):
            area = ring_ha(poly.exterior) - sum(ring_ha(hole) for hole in poly.interiors)
            expected[iso3] = expected.get(iso3, 0.0) + area
    # The vectorised area (geo.measure) is proven against pyproj.Geod to 1e-6.
    for iso3, value in expected.items():
        assert totals.loc[iso3, "sum_area_ha"] == pytest.approx(value, rel=1e-6)


def test_dask_engine_names_a_missing_column(tmp_path):
    path = write_gpkg_sample(wdpa_like(20, seed=1), tmp_path / "x.gpkg")
    with pytest.raises(UsageError, match="no column 'country_iso3'"):
        area_totals_dask(path)


# ---- bigcats areas --engine: the command line over geo.areas.scale -------------------------------------

def _geod_ha(geom) -> float:
    """Independent geodesic area (pyproj.Geod, GeographicLib) of a valid polygon, ha."""
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 1e4


@pytest.fixture(scope="module")
def wdpa_3k(tmp_path_factory):
    return write_gpkg_sample(wdpa_like(3_000, seed=11), tmp_path_factory.mktemp("cli") / "wdpa3k.gpkg")


def _json(capsys, argv) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("by", "own_cluster"), [("ISO3", True), ("IUCN_CAT", False)])
def test_cli_dask_engine_equals_memory_engine(wdpa_3k, cluster, capsys, by, own_cluster):
    memory = _json(capsys, ["areas", "--input", str(wdpa_3k), "--by", by, "--json"])
    argv = ["areas", "--input", str(wdpa_3k), "--by", by, "--engine", "dask", "--partitions", "5", "--json"]
    # without --scheduler the command starts (and closes) a local cluster of processes of its own
    argv += [] if own_cluster else ["--scheduler", cluster]
    dask = _json(capsys, argv)
    assert (memory["engine"], dask["engine"], dask["by"]) == ("memory", "dask", by)
    expected_groups = sorted(set(gpd.read_file(wdpa_3k)[by]))
    assert [g[by] for g in dask["groups"]] == [g[by] for g in memory["groups"]] == expected_groups
    for got, ref in zip(dask["groups"] + [dask["total"]], memory["groups"] + [memory["total"]], strict=True):
        assert got["features"] == ref["features"]
        assert got["sum_area_ha"] == pytest.approx(ref["sum_area_ha"], rel=1e-9)
        assert got["union_area_ha"] == pytest.approx(ref["union_area_ha"], rel=1e-9)
    assert dask["total"]["features"] == 3_000
    # Overlapping synthetic parks: the union counts them once, so it is smaller than the sum.
    assert dask["total"]["union_area_ha"] < dask["total"]["sum_area_ha"]


@pytest.fixture()
def standalone_scheduler(tmp_path):
    """A ``dask scheduler`` and a ``dask worker`` of two processes, started as commands on loopback: the address."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    dask_cmd = Path(sys.executable).with_name("dask")
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    scheduler = subprocess.Popen(
        [dask_cmd, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", info, *common],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline and scheduler.poll() is None:
            time.sleep(0.2)
        assert info.exists(), "the dask scheduler did not start"
        worker = subprocess.Popen(
            [dask_cmd, "worker", "--scheduler-file", info, "--host", "127.0.0.1", "--nworkers", "2",
             "--nthreads", "1", *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        address = json.loads(info.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def test_cli_dask_engine_on_a_standalone_scheduler(wdpa_3k, standalone_scheduler, capsys):
    assert standalone_scheduler.startswith("tcp://127.0.0.1:")
    memory = _json(capsys, ["areas", "--input", str(wdpa_3k), "--by", "ISO3", "--json"])
    argv = ["areas", "--input", str(wdpa_3k), "--by", "ISO3", "--engine", "dask", "--partitions", "4"]
    dask = _json(capsys, [*argv, "--scheduler", standalone_scheduler, "--json"])
    for got, ref in zip(dask["groups"] + [dask["total"]], memory["groups"] + [memory["total"]], strict=True):
        assert got["features"] == ref["features"]
        assert got["sum_area_ha"] == pytest.approx(ref["sum_area_ha"], rel=1e-9)
        assert got["union_area_ha"] == pytest.approx(ref["union_area_ha"], rel=1e-9)


def test_cli_store_parks_by_country_against_independent_areas(layers_dir, cluster, capsys):
    memory = _json(capsys, ["areas", "--layers", str(layers_dir), "--engine", "memory", "--json"])
    argv = ["areas", "--layers", str(layers_dir), "--engine", "dask", "--partitions", "2", "--scheduler", cluster]
    dask = _json(capsys, [*argv, "--json"])
    parks = pd.concat([gpd.read_file(layers_dir / f"parks_{c}.geojson") for c in ("rus", "chn")], ignore_index=True)
    expected = {}
    for iso3, geom in zip(parks["country_iso3"], parks.geometry, strict=True):
        n, ha = expected.get(iso3, (0, 0.0))
        expected[iso3] = (n + 1, ha + _geod_ha(shapely.make_valid(geom)))
    assert [g["country_iso3"] for g in dask["groups"]] == sorted(expected)
    for result in (memory, dask):
        for group in result["groups"]:
            n, ha = expected[group["country_iso3"]]
            assert group["features"] == n
            assert group["sum_area_ha"] == pytest.approx(ha, rel=1e-6)
            assert group["union_area_ha"] <= group["sum_area_ha"] * (1 + 1e-9)
    for got, ref in zip(dask["groups"], memory["groups"], strict=True):
        assert got["union_area_ha"] == pytest.approx(ref["union_area_ha"], rel=1e-9)


def test_cli_totals_table_and_csv(wdpa_3k, cluster, capsys):
    argv = ["areas", "--input", str(wdpa_3k), "--by", "ISO3", "--engine", "dask", "--partitions", "3"]
    assert main([*argv, "--scheduler", cluster]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["ISO3", "features"]
    assert [line.split()[0] for line in lines[2:5]] == ["CHN", "RUS", "total"]
    assert "engine dask" in text
    assert main(["areas", "--input", str(wdpa_3k), "--by", "ISO3", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["level"], r["ISO3"]) for r in rows] == [("group", "CHN"), ("group", "RUS"), ("total", "")]
    assert sum(int(r["features"]) for r in rows[:2]) == int(rows[2]["features"]) == 3_000
    for r in rows:
        assert float(r["overlap_ha"]) == pytest.approx(float(r["sum_area_ha"]) - float(r["union_area_ha"]), abs=1e-5)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input", "{missing}"], r"cannot find .*nowhere\.gpkg; pass the path of a GeoPackage"),
        (["--input", "{missing}", "--engine", "dask"], r"cannot find .*nowhere\.gpkg"),
        (["--input", "{gpkg}", "--by", "NOPE"], r"the layer has no column 'NOPE' to total by; columns are \[.*'ISO3'"),
        (["--input", "{gpkg}", "--by", "NOPE", "--engine", "dask"], r"no column 'NOPE'"),
        (["--input", "{gpkg}", "--engine", "dask", "--partitions", "0"], r"npartitions must be at least 1, got 0"),
        (["--engine", "dask", "--partitions", "-3"], r"npartitions must be at least 1, got -3"),
        (["--input", "{gpkg}", "--partitions", "4"], r"--partitions applies to the dask engine only"),
        (["--input", "{text}", "--engine", "dask"], r"cannot read .*notes\.txt as a vector layer"),
        (["--input", "{text}"], r"cannot read .*notes\.txt as a vector layer"),
        (["--engine", "dask", "--by", "IUCN_CAT"], r"the store's parks are totalled by country_iso3"),
        (["--input", "{gpkg}", "--scheduler", "tcp://127.0.0.1:9"], r"--scheduler applies to the dask engine only"),
        (["--input", "{gpkg}", "--by", "ISO3", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"],
         r"cannot reach the dask scheduler 'tcp://127\.0\.0\.1:9'.*leave out --scheduler"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(wdpa_3k, layers_dir, tmp_path, capsys, extra, message):
    text = tmp_path / "notes.txt"
    text.write_text("not a vector file\n", encoding="utf-8")
    paths = {"missing": tmp_path / "nowhere.gpkg", "gpkg": wdpa_3k, "text": text}
    argv = ["areas", "--layers", str(layers_dir), *(a.format(**paths) for a in extra)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("bigcats: error: ")
    assert re.search(message, err), err
    assert "Traceback" not in err


def _dense(n: int, seed: int) -> gpd.GeoDataFrame:
    """WDPA-like features drawn together (their centres 20 times nearer the middle, sizes kept): a dense layer."""
    gdf = wdpa_like(n, seed=seed)
    centres = shapely.get_coordinates(shapely.centroid(gdf.geometry.values))
    middle = centres.mean(axis=0)
    shift = (middle + (centres - middle) / 20) - centres
    moved = [shapely.transform(g, lambda xy, d=d: xy + d) for g, d in zip(gdf.geometry.values, shift, strict=True)]
    return gdf.set_geometry(gpd.GeoSeries(moved, crs=gdf.crs))


def test_union_of_a_dense_group_leaves_out_the_features_inside_and_equals_the_overlay_union(monkeypatch):
    from geo.areas import common

    geoms = np.asarray(_dense(3_000, seed=11).geometry.make_valid().values, dtype=object)
    boxes = shapely.bounds(geoms)
    extent = np.ptp(boxes[:, [0, 2]]) * np.ptp(boxes[:, [1, 3]])
    assert ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).sum() > common.DENSE_COVER * extent
    expected = shapely.union_all(geoms)
    sizes: list[int] = []
    original = shapely.union_all
    monkeypatch.setattr(common.shapely, "union_all", lambda g, **kw: sizes.append(len(g)) or original(g, **kw))
    got = common._union_all(geoms)
    monkeypatch.undo()
    # no overlay saw every feature: the last one got those outside the sample's union, and that union
    assert max(sizes) < len(geoms) * 0.75
    assert got.is_valid
    assert shapely.symmetric_difference(got, expected).area < 1e-12 * expected.area


def test_union_of_a_sparse_group_is_the_overlay_union():
    from geo.areas.common import _union_all

    geoms = np.asarray(wdpa_like(1_000, seed=12, invalid_every=0).geometry.values, dtype=object)
    assert shapely.equals_exact(_union_all(geoms), shapely.union_all(geoms), tolerance=0)


def test_dask_totals_of_a_dense_layer_equal_in_memory_totals(cluster):
    from geo.areas.scale import frame_totals

    gdf = _dense(2_000, seed=13)
    memory = frame_totals(gdf, by="ISO3")
    dask = frame_totals(gdf, by="ISO3", engine="dask", npartitions=3, scheduler=cluster)
    assert list(dask.index) == list(memory.index)
    assert (dask["features"] == memory["features"]).all()
    for column in ("sum_area_ha", "union_area_ha"):
        assert np.allclose(dask[column], memory[column], rtol=1e-9, atol=0)
    for key in ("sum_area_ha", "union_area_ha"):
        assert dask.attrs["total"][key] == pytest.approx(memory.attrs["total"][key], rel=1e-9)
