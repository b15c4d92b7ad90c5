"""Area totals of any polygon layer: the entry points of ``bigcats areas --engine memory|dask``.

Two engines give the same figures (the tests hold them to 1e-9 relative): ``memory``
(:mod:`geo.areas.memory`) reads a whole layer into one GeoDataFrame; ``dask``
(:mod:`geo.areas.dask_engine`) reads the features' bounding boxes, cuts them into runs of
neighbours along a Hilbert curve and totals each run on a ``dask.distributed`` cluster, for
national or world layers (the whole WDPA). The shared pieces are in :mod:`geo.areas.common`,
the text forms of the totals in :mod:`geo.areas.report`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.areas.common import (
    ENGINES,
    _check,
    _check_engine,
    _check_partitions,
    _union,
    frame_totals_memory,
)
from geo.areas.dask_engine import PARTITION_FEATURES, _hilbert_chunks, area_totals_dask, frame_totals_dask
from geo.areas.memory import area_totals
from geo.areas.report import totals_csv, totals_json, totals_text
from geo.errors import DataError, UsageError

__all__ = [
    "ENGINES",
    "PARTITION_FEATURES",
    "_hilbert_chunks",
    "_union",
    "area_totals",
    "area_totals_dask",
    "frame_totals",
    "store_park_totals",
    "totals",
    "totals_csv",
    "totals_json",
    "totals_text",
]


def frame_totals(
    gdf: gpd.GeoDataFrame,
    *,
    by: str = "country_iso3",
    engine: str = "memory",
    npartitions: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Totals per group of a GeoDataFrame already in memory (see :func:`area_totals`).

    With ``engine="dask"`` the frame is cut into ``npartitions`` runs of
    neighbouring features (Hilbert order, as :func:`area_totals_dask`) and
    computed on a dask cluster; the result equals the in-memory one.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons with a CRS and a column ``by``.
    by : str, default "country_iso3"
        Column to group by.
    engine : {"memory", "dask"}
        How to compute.
    npartitions : int, optional
        Partitions of the dask engine (default as :func:`area_totals_dask`).
    scheduler : str, optional
        As :func:`area_totals_dask`.

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`.
    """
    if by not in gdf.columns:
        _check(Path("."), by, gdf.columns)
    _check_engine(engine)
    if engine == "memory":
        return frame_totals_memory(gdf, by)
    return frame_totals_dask(gdf, by, npartitions=npartitions, scheduler=scheduler)


def store_park_totals(
    layers: str | Path = "layers",
    *,
    engine: str = "memory",
    npartitions: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Per-country totals of the park layers of a layer store (features as stored, before any merge).

    The current versions of the park layers of the store's project (``parks_<iso3>``
    for each country) are read from the store (a folder, a ``.gpkg`` or a PostGIS URL) and totalled by
    ``country_iso3``: number of features, sum of their geodesic areas and
    geodesic area of their union (overlaps counted once). These are the
    raw layers: unlike ``bigcats areas`` without ``--engine``, nothing is
    clipped to the border or snapped first.

    Parameters
    ----------
    layers : str or Path
        The layer store.
    engine : {"memory", "dask"}
        How to compute (see :func:`frame_totals`).
    npartitions : int, optional
        Partitions of the dask engine.
    scheduler : str, optional
        Dask scheduler address (see :func:`area_totals_dask`).

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`, indexed by ``country_iso3``.
    """
    from geo.store import open_store

    _check_engine(engine)
    if engine == "dask" and npartitions is not None:
        _check_partitions(npartitions)
    store = open_store(layers)
    present = store._roles()
    parts = [store.read_layer(role) for role in store.catalogue().park_roles if role in present]
    if not parts:
        raise DataError(
            f"the layers in {layers} hold no park: every park layer is missing; import one with "
            "'bigcats import FILE --role parks_<iso3>'",
            problems=[f"{role}: missing" for role in store.catalogue().park_roles],
        )
    parks = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return frame_totals(parks, by="country_iso3", engine=engine, npartitions=npartitions, scheduler=scheduler)


def totals(
    *,
    path: str | Path | None = None,
    layers: str | Path = "layers",
    by: str | None = None,
    layer: str | None = None,
    engine: str = "memory",
    npartitions: int | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """The totals ``bigcats areas --engine/--input/--by`` prints.

    Parameters
    ----------
    path : str or Path, optional
        An external vector file (e.g. a WDPA extract). Without it, the park
        layers of the store ``layers`` are totalled by country.
    layers : str or Path
        The layer store, used when ``path`` is not given.
    by : str, optional
        Column of ``path`` to group by (default ``country_iso3``). The store's
        parks are always grouped by ``country_iso3``.
    layer : str, optional
        Layer name inside a multi-layer ``path``.
    engine : {"memory", "dask"}
        ``"dask"`` reads ``path`` in spatially partitioned chunks.
    npartitions : int, optional
        Partitions of the dask engine (default: one per 20,000 features, at least
        two per worker); refused with ``"memory"``.
    scheduler : str, optional
        Address of a dask scheduler (``tcp://host:8786``) for the dask engine;
        without it a local cluster of processes is started. Refused with ``"memory"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`.

    Raises
    ------
    UsageError
        For an unknown engine, ``npartitions`` < 1 or given without the dask
        engine, ``scheduler`` without the dask engine, ``by`` or ``layer`` without ``path``, or a missing column.
    ReadError
        If ``path`` or the store cannot be read.
    """
    _check_engine(engine)
    if npartitions is not None:
        if engine != "dask":
            raise UsageError("--partitions applies to the dask engine only; add --engine dask.")
        _check_partitions(npartitions)
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler applies to the dask engine only; add --engine dask.")
    parts = npartitions
    if path is None:
        if by not in (None, "country_iso3"):
            raise UsageError(f"the store's parks are totalled by country_iso3, not {by!r}; use --input FILE --by {by}.")
        if layer is not None:
            raise UsageError("--layer names a layer inside --input FILE; add --input.")
        return store_park_totals(layers, engine=engine, npartitions=parts, scheduler=scheduler)
    by = by or "country_iso3"
    if engine == "dask":
        return area_totals_dask(path, by=by, layer=layer, npartitions=parts, scheduler=scheduler)
    return area_totals(path, by=by, layer=layer)
