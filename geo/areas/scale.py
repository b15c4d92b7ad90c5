"""Area totals for layers larger than memory, with dask-geopandas (an existing engine).

The in-memory path reads a whole layer into one GeoDataFrame. For a national or
world dataset (the whole WDPA: hundreds of thousands of polygons, several GB)
this module reads only the features' bounding boxes first (``pyogrio.read_bounds``),
orders them along a Hilbert curve (dask-geopandas' own encoding) and cuts that order
into partitions of neighbouring features. Each partition is a task of a
``dask.distributed`` cluster (a local cluster of processes, or a scheduler's address)
that reads its own features by id, measures them and unions them per group; only the
per-group counts, sums and unions travel back, and are combined. Nothing is shuffled
and the file is read once (plus the bounds pass). Results equal the in-memory path to
floating-point rounding (the tests hold them to 1e-9 relative).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError, ReadError, UsageError
from geo.limits import check_local_file, gdal_path
from geo.measure import M2_PER_HA, geodesic_area_m2

__all__ = [
    "ENGINES",
    "area_totals",
    "area_totals_dask",
    "frame_totals",
    "store_park_totals",
    "totals",
    "totals_csv",
    "totals_json",
    "totals_text",
]

#: The engines ``bigcats areas --engine`` accepts.
ENGINES: tuple[str, ...] = ("memory", "dask")


def _valid(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Repair invalid polygons (as import does) so unions are defined."""
    bad = ~geoms.is_valid
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad].values, method="structure")
    return geoms


def _partition_totals(part: gpd.GeoDataFrame, by: str) -> pd.DataFrame:
    """Per-group feature count, sum of areas and union of one partition."""
    if part.empty:
        return pd.DataFrame({"features": [], "sum_area_m2": [], "geometry": []}, index=pd.Index([], name=by))
    geoms = _valid(part.geometry)
    areas = geodesic_area_m2(geoms)
    frame = pd.DataFrame({by: part[by].to_numpy(), "area": areas, "geometry": geoms.to_numpy()})
    rows = {}
    for key, group in frame.groupby(by, sort=True):
        rows[key] = {
            "features": len(group),
            "sum_area_m2": float(group["area"].sum()),
            "geometry": shapely.union_all(group["geometry"].to_numpy()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by
    return out


def _union(geoms) -> shapely.Geometry:
    """Union of partial unions, neighbours first (the partials come in Hilbert order).

    One partial is already a union and is used as it is. Otherwise pairs of
    neighbours are merged level by level with :func:`_union2`: a binary overlay
    of two large unions is several times faster than GEOS's cascaded union of
    their many parts, and only the parts near the other side take part in it.
    """
    geoms = [g for g in np.asarray(geoms, dtype=object) if g is not None and not g.is_empty]
    if not geoms:
        return shapely.Polygon()
    while len(geoms) > 1:
        merged = [_union2(a, b) for a, b in zip(geoms[0::2], geoms[1::2], strict=False)]
        if len(geoms) % 2:
            merged.append(geoms[-1])
        geoms = merged
    return geoms[0]


def _union2(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    """Union of two polygonal unions; the parts of either that cannot meet the other are kept as they are."""
    a_parts, b_parts = shapely.get_parts(a), shapely.get_parts(b)
    ax0, ay0, ax1, ay1 = shapely.bounds(a)
    bx0, by0, bx1, by1 = shapely.bounds(b)
    box = shapely.box(max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1))
    if box.is_empty:
        near_a = np.zeros(len(a_parts), bool)
        near_b = np.zeros(len(b_parts), bool)
    else:
        # a part whose box misses the common box cannot touch the other side
        near_a = shapely.intersects(shapely.envelope(a_parts), box)
        near_b = shapely.intersects(shapely.envelope(b_parts), box)
    if near_a.any() and near_b.any():
        joined = shapely.union(shapely.multipolygons(a_parts[near_a]), shapely.multipolygons(b_parts[near_b]))
        near = list(shapely.get_parts(joined))
    else:
        near = [*a_parts[near_a], *b_parts[near_b]]
    parts = [*a_parts[~near_a], *b_parts[~near_b], *near]
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _finish(partials: pd.DataFrame, by: str, crs) -> pd.DataFrame:
    """Combine per-partition totals: counts and sums add, unions union."""
    rows, unions = [], []
    for key, group in partials.groupby(level=0, sort=True):
        union = _union(group["geometry"].to_numpy())
        unions.append(union)
        union_m2 = geodesic_area_m2(gpd.GeoSeries([union], crs=crs))[0]
        rows.append(
            {
                by: key,
                "features": int(group["features"].sum()),
                "sum_area_ha": float(np.sum(group["sum_area_m2"].to_numpy())) / M2_PER_HA,
                "union_area_ha": float(union_m2) / M2_PER_HA,
            }
        )
    out = pd.DataFrame(rows, columns=[by, "features", "sum_area_ha", "union_area_ha"]).set_index(by)
    everything = _union(unions) if unions else shapely.Polygon()
    all_m2 = geodesic_area_m2(gpd.GeoSeries([everything], crs=crs))[0] if unions else 0.0
    out.attrs["total"] = {
        "features": int(out["features"].sum()),
        "sum_area_ha": float(out["sum_area_ha"].sum()),
        "union_area_ha": float(all_m2) / M2_PER_HA,
    }
    return out


def _check(path: Path, by: str, columns, geometry: str = "geometry") -> None:
    if not path.exists():
        raise ReadError(f"cannot find {path}; pass the path of a GeoPackage, GeoParquet or other vector file.")
    names = sorted(c for c in columns if c != geometry)
    if by == geometry and by in columns:
        raise UsageError(f"--by {by!r} is the layer's geometry column; total by an attribute column, one of {names}.")
    if by not in columns:
        raise UsageError(f"the layer has no column {by!r} to total by; columns are {names}. Pass one with --by.")


def _check_partitions(npartitions: int) -> None:
    if isinstance(npartitions, bool) or not isinstance(npartitions, int) or npartitions < 1:
        raise UsageError(f"npartitions must be at least 1, got {npartitions}. Pass --partitions 1 or more.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_error(path: Path, exc: BaseException) -> ReadError:
    return ReadError(
        f"cannot read {path} as a vector layer: {_first_line(exc)}. "
        "Pass a GeoPackage, GeoParquet, FlatGeobuf, Shapefile or GeoJSON file (and --layer for a multi-layer file)."
    )


def area_totals(path: str | Path, *, by: str = "country_iso3", layer: str | None = None) -> pd.DataFrame:
    """In-memory totals per group: features, sum of feature areas and area of their union (ha).

    Parameters
    ----------
    path : str or Path
        A vector file pyogrio reads.
    by : str, default "country_iso3"
        Column to group by.
    layer : str, optional
        Layer name inside a multi-layer file.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``; columns ``features``, ``sum_area_ha``, ``union_area_ha``.
        ``attrs["total"]`` holds the same three figures over every group
        (the union there is the union of all groups' unions).

    Raises
    ------
    ReadError
        If the file is missing or is not a readable vector layer.
    UsageError
        If the layer has no column ``by``.
    """
    path = Path(path)
    if not path.exists():
        _check(path, by, [])
    check_local_file(path)
    try:
        with gdal_path(path) as local:  # a local file, never a remote or virtual GDAL path
            gdf = gpd.read_file(local, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
        raise _read_error(path, exc) from None
    _check(path, by, gdf.columns, gdf.geometry.name)
    return frame_totals(gdf, by=by)


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
        chunks = _hilbert_chunks(np.asarray(bounds, dtype=float).T, npartitions)
        tasks = [(_read_partition_totals, local, layer, np.sort(fids[chunk]), by) for chunk in chunks if len(chunk)]
        return _run(tasks, by=by, crs=info["crs"], scheduler=scheduler)


def _local_workers() -> int:
    """Worker processes of a local cluster: one per core, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def _hilbert_chunks(bounds: np.ndarray, npartitions: int | None) -> list[np.ndarray]:
    """Row positions cut into runs of neighbouring features (Hilbert order of their box centres).

    Without ``npartitions``: one partition per :data:`PARTITION_FEATURES` features,
    at least two per worker, rounded up to a multiple of the workers so that the
    last round of tasks keeps every worker busy.
    """
    from dask_geopandas.hilbert_distance import _continuous_to_discrete_coords, _encode

    n = len(bounds)
    if npartitions is None:
        workers = _local_workers()
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


def _run(tasks: list[tuple], *, by: str, crs, scheduler: str | None) -> pd.DataFrame:
    """Run partition tasks on a dask.distributed cluster and combine their totals."""
    if not tasks:
        return _finish(_partition_totals(gpd.GeoDataFrame({by: []}, geometry=[], crs=crs), by), by, crs)
    with _client(scheduler) as client:
        futures = [client.submit(func, *args, pure=False) for func, *args in tasks]
        partials = client.gather(futures)
    partials = [p for p in partials if len(p)]
    if not partials:
        return _finish(_partition_totals(gpd.GeoDataFrame({by: []}, geometry=[], crs=crs), by), by, crs)
    return _finish(pd.concat(partials), by, crs)


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
            self.cluster = LocalCluster(
                n_workers=_local_workers(), threads_per_worker=1, processes=True, dashboard_address=":0"
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
        return _finish(_partition_totals(gdf, by), by, gdf.crs)
    if npartitions is not None:
        _check_partitions(npartitions)
    frame = gdf[[by, gdf.geometry.name]]
    chunks = _hilbert_chunks(shapely.bounds(np.asarray(frame.geometry.array, dtype=object)), npartitions)
    tasks = [(_partition_totals, frame.iloc[np.sort(chunk)], by) for chunk in chunks if len(chunk)]
    return _run(tasks, by=by, crs=gdf.crs, scheduler=scheduler)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")


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
        raise DataError(f"the layers in {layers} hold no park: every park layer is missing; import one with "
                        "'bigcats import FILE --role parks_<iso3>'",
                        problems=[f"{role}: missing" for role in store.catalogue().park_roles])
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


def _records(table: pd.DataFrame) -> list[dict]:
    by = table.index.name
    return [
        {
            by: key.item() if hasattr(key, "item") else key,
            "features": int(row.features),
            "sum_area_ha": float(row.sum_area_ha),
            "union_area_ha": float(row.union_area_ha),
        }
        for key, row in zip(table.index, table.itertuples(index=False), strict=True)
    ]


def _overlap_ha(row: dict) -> float:
    """Area counted more than once (sum minus union); rounding noise below zero shows as 0."""
    return max(0.0, row["sum_area_ha"] - row["union_area_ha"])


def totals_json(table: pd.DataFrame, *, engine: str, source: str) -> str:
    """The totals as JSON: ``by``, ``engine``, ``source``, ``groups`` (one object each) and ``total``."""
    doc = {
        "by": table.index.name,
        "engine": engine,
        "source": source,
        "groups": _records(table),
        "total": table.attrs.get("total"),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _csv_text(value):
    """A group key safe in a spreadsheet (see :func:`geo.pipeline.csv_text`)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def totals_csv(table: pd.DataFrame) -> str:
    """The totals as CSV: one ``group`` row per group and a last ``total`` row (union of everything)."""
    by = table.index.name
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["level", by, "features", "sum_area_ha", "union_area_ha", "overlap_ha"])
    rows = [("group", r) for r in _records(table)]
    total = table.attrs.get("total")
    if total is not None:
        rows.append(("total", {by: "", **total}))
    for level, r in rows:
        overlap = _overlap_ha(r)
        writer.writerow(
            [level, _csv_text(r[by]), r["features"], f"{r['sum_area_ha']:.6f}", f"{r['union_area_ha']:.6f}", f"{overlap:.6f}"]
        )
    return buf.getvalue()


def totals_text(table: pd.DataFrame, *, engine: str, source: str) -> str:
    """The totals as a terminal table (ha, thousands separated, the total last)."""
    by = table.index.name
    header = (by, "features", "sum of areas ha", "union ha", "overlap ha")
    body = [
        (str(r[by]), f"{r['features']:,}", f"{r['sum_area_ha']:,.1f}", f"{r['union_area_ha']:,.1f}",
         f"{_overlap_ha(r):,.1f}")
        for r in _records(table)
    ]
    total = table.attrs.get("total")
    if total is not None:
        body.append(
            ("total", f"{total['features']:,}", f"{total['sum_area_ha']:,.1f}", f"{total['union_area_ha']:,.1f}",
             f"{_overlap_ha(total):,.1f}")
        )
    lines = [header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("")
    out.append(f"geodesic areas (WGS84) of {source}, engine {engine}; the union counts overlapping features once.")
    return "\n".join(out) + "\n"
