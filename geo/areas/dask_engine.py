"""The dask engine: totals partition by partition on a ``dask.distributed`` cluster.

The features' bounding boxes are read first (``pyogrio.read_bounds``); their centres
are ordered along a Hilbert curve (dask-geopandas' own encoding) and cut into runs of
neighbouring features. Each run is one task of a ``dask.distributed`` cluster (a local
cluster of processes, or a scheduler's address) that reads its own features by id,
measures them and unions them per group. Neighbouring partials are merged in pairs by
the workers too, so only one per-group table travels back. Nothing is shuffled, the
calling process reads the file's metadata and bounds once, and every feature is read
once, in one read per partition (tests/test_scale.py counts them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.areas.common import (
    _check,
    _check_partitions,
    _finish,
    _first_line,
    _partition_totals,
    _read_error,
    merge_partials,
)
from geo.errors import ReadError, UsageError
from geo.limits import check_local_file, gdal_path

#: Features per partition when ``--partitions`` is not given: peak memory per worker
#: follows the partition, so it stays flat as the layer grows.
PARTITION_FEATURES = 20_000


def area_totals_dask(
    path: str | Path,
    *,
    by: str = "country_iso3",
    layer: str | None = None,
    npartitions: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """The same totals as :func:`area_totals`, computed partition by partition on a dask cluster.

    The features' bounding boxes are read first (``pyogrio.read_bounds``, no
    attributes, no geometry objects); their centres are ordered along a Hilbert
    curve and cut into ``npartitions`` runs of neighbouring features. Each run is
    one task: a worker reads those features by id, repairs, measures and unions
    them per group. Only per-group counts, sums and unions travel back and are
    combined, so a worker holds one partition at a time and nothing is shuffled.

    Parameters
    ----------
    path, by, layer
        As :func:`area_totals`.
    npartitions : int, optional
        Number of partitions (tasks). Default: one per 20,000 features, at least
        two per worker.
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``"tcp://host:8786"``).
        Without it a local cluster of worker processes (one thread each, one per
        core) is started for the call and closed after it.

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`.

    Raises
    ------
    ReadError, UsageError
        As :func:`area_totals`; ``UsageError`` also if ``npartitions`` < 1 or the
        scheduler cannot be reached.
    """
    import pyogrio

    path = Path(path)
    if npartitions is not None:
        _check_partitions(npartitions)
    if not path.exists():
        _check(path, by, [])
    check_local_file(path)
    with gdal_path(path) as local:  # a local file, never a remote or virtual GDAL path
        try:
            info = pyogrio.read_info(local, layer=layer)
            _check(path, by, list(info["fields"]))
            fids, bounds = pyogrio.read_bounds(local, layer=layer)
        except (ReadError, UsageError):
            raise
        except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
            raise _read_error(path, exc) from None
        fids = np.asarray(fids)
        boxes = np.asarray(bounds, dtype=float).T

        def tasks(workers: int) -> list[tuple]:
            chunks = _hilbert_chunks(boxes, npartitions, workers)
            return [(_read_partition_totals, local, layer, np.sort(fids[chunk]), by) for chunk in chunks if len(chunk)]

        return _run(len(fids), tasks, by=by, crs=info["crs"], scheduler=scheduler)


def _local_workers() -> int:
    """Worker processes of a local cluster: one per core, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def _hilbert_chunks(bounds: np.ndarray, npartitions: int | None, workers: int | None = None) -> list[np.ndarray]:
    """Row positions cut into runs of neighbouring features (Hilbert order of their box centres).

    Without ``npartitions``: one partition per :data:`PARTITION_FEATURES` features,
    at least two per worker, rounded up to a multiple of the workers (those of the
    cluster; by default those of a local cluster) so that the last round of tasks
    keeps every worker busy.
    """
    from dask_geopandas.hilbert_distance import _continuous_to_discrete_coords, _encode

    n = len(bounds)
    if npartitions is None:
        workers = max(1, workers or _local_workers())
        npartitions = max(2 * workers, -(-n // PARTITION_FEATURES))
        npartitions = -(-npartitions // workers) * workers
    npartitions = max(1, min(npartitions, n))
    if n == 0:
        return [np.arange(0)]
    bounds = bounds.copy()
    bounds[~np.isfinite(bounds)] = 0.0  # a missing or empty geometry still belongs to a partition
    mids = np.column_stack([(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2])
    total = (*mids.min(axis=0), *mids.max(axis=0))
    if total[2] == total[0] or total[3] == total[1]:  # a line or a point: any order is as good
        order = np.arange(n)
    else:
        x, y = _continuous_to_discrete_coords(bounds, 16, total)
        order = np.argsort(_encode(16, x, y), kind="stable")
    return np.array_split(order, npartitions)


def _read_partition_totals(path: str, layer: str | None, fids: np.ndarray, by: str) -> pd.DataFrame:
    """One task: read these features by id and total them (runs on a worker)."""
    import pyogrio

    part = pyogrio.read_dataframe(path, layer=layer, fids=fids, columns=[by])
    return _partition_totals(part, by)


def _run(rows: int, tasks: Callable[[int], list[tuple]], *, by: str, crs, scheduler: str | None) -> pd.DataFrame:
    """Run the partition tasks of ``rows`` features on a dask.distributed cluster and combine their totals there.

    ``tasks(workers)`` makes the tasks once the cluster's number of workers is known.
    The partials come in Hilbert order; neighbouring pairs are merged by the workers
    (:func:`geo.areas.common.merge_partials`) level by level, so the overlays of the
    combine run in parallel too and only one per-group table travels back.
    """
    if not rows:
        return _finish(_partition_totals(gpd.GeoDataFrame({by: []}, geometry=[], crs=crs), by), by, crs)
    with _client(scheduler) as client:
        workers = len(client.scheduler_info().get("workers", {}))
        futures = [client.submit(func, *args, pure=False) for func, *args in tasks(workers)]
        while len(futures) > 1:
            merged = [
                client.submit(merge_partials, a, b, pure=False)
                for a, b in zip(futures[0::2], futures[1::2], strict=False)
            ]
            futures = merged + futures[len(merged) * 2 :]
        partials = futures[0].result()
    if not len(partials):
        return _finish(_partition_totals(gpd.GeoDataFrame({by: []}, geometry=[], crs=crs), by), by, crs)
    return _finish(partials, by, crs)


class _client:  # noqa: N801 - used as a context manager, like a function
    """A ``distributed.Client`` on ``scheduler``, or on a local cluster of processes started for the call."""

    def __init__(self, scheduler: str | None) -> None:
        self.scheduler = scheduler
        self.cluster = None
        self.client = None

    def __enter__(self):
        try:
            from distributed import Client, LocalCluster
        except ModuleNotFoundError:  # pragma: no cover - it is a dependency
            raise UsageError("the dask engine needs dask.distributed: pip install distributed") from None
        if self.scheduler is None:
            self.cluster = LocalCluster(  # on loopback: nothing of it listens beyond this machine
                n_workers=_local_workers(),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            self.client = Client(self.cluster)
            return self.client
        try:
            self.client = Client(self.scheduler, timeout="5s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"cannot reach the dask scheduler {self.scheduler!r}: {_first_line(exc)}. "
                "Start one (dask scheduler; dask worker ADDRESS) or leave out --scheduler for a local cluster."
            ) from None
        return self.client

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def frame_totals_dask(
    gdf: gpd.GeoDataFrame, by: str, *, npartitions: int | None = None, scheduler: str | None = None
) -> pd.DataFrame:
    """Totals of a frame in memory, cut into runs of neighbouring features computed on a dask cluster."""
    if npartitions is not None:
        _check_partitions(npartitions)
    frame = gdf[[by, gdf.geometry.name]]
    boxes = shapely.bounds(np.asarray(frame.geometry.array, dtype=object))

    def tasks(workers: int) -> list[tuple]:
        chunks = _hilbert_chunks(boxes, npartitions, workers)
        return [(_partition_totals, frame.iloc[np.sort(chunk)], by) for chunk in chunks if len(chunk)]

    return _run(len(frame), tasks, by=by, crs=gdf.crs, scheduler=scheduler)
