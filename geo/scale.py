"""Area totals for layers larger than memory, with dask-geopandas (an existing engine).

The in-memory path reads a whole layer into one GeoDataFrame. For a national or
world dataset (the whole WDPA: hundreds of thousands of polygons, several GB)
this module reads the file in chunks with ``dask_geopandas.read_file``
(pyogrio underneath), sorts the chunks into spatial partitions along a Hilbert
curve, measures each partition where it lies and only brings the per-group
sums and unions back. Results equal the in-memory path to floating-point
rounding (the tests hold them to 1e-9 relative).
"""

from __future__ import annotations

import csv
import io
import json
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

#: Park roles whose totals ``bigcats areas --engine dask`` reports for a layer store.
PARK_ROLES: tuple[str, ...] = ("parks_rus", "parks_chn")


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


def _finish(partials: pd.DataFrame, by: str, crs) -> pd.DataFrame:
    """Combine per-partition totals: counts and sums add, unions union."""
    rows, unions = [], []
    for key, group in partials.groupby(level=0, sort=True):
        union = shapely.union_all(group["geometry"].to_numpy())
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
    everything = shapely.union_all(np.array(unions, dtype=object)) if unions else shapely.Polygon()
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


def area_totals_dask(
    path: str | Path,
    *,
    by: str = "country_iso3",
    layer: str | None = None,
    npartitions: int = 8,
    scheduler: str = "threads",
) -> pd.DataFrame:
    """The same totals as :func:`area_totals`, computed partition by partition with dask.

    The file is read in ``npartitions`` chunks, re-partitioned spatially
    (Hilbert curve, ``spatial_shuffle``) so each partition holds neighbouring
    features, measured per partition, and combined. Only per-group sums and
    unions travel between partitions, so peak memory is bounded by the
    largest partition rather than the whole layer.

    Parameters
    ----------
    path, by, layer
        As :func:`area_totals`.
    npartitions : int, default 8
        Number of chunks to read and partitions to compute.
    scheduler : str, default "threads"
        A dask scheduler name (``"threads"``, ``"processes"``, ``"synchronous"``).

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`.

    Raises
    ------
    ReadError, UsageError
        As :func:`area_totals`; ``UsageError`` also if ``npartitions`` < 1.
    """
    dask_geopandas = _dask_geopandas()
    path = Path(path)
    _check_partitions(npartitions)
    if not path.exists():
        _check(path, by, [])
    check_local_file(path)
    with gdal_path(path) as local:  # a local file, never a remote or virtual GDAL path
        try:
            ddf = dask_geopandas.read_file(local, npartitions=npartitions, layer=layer)
        except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
            raise _read_error(path, exc) from None
        _check(path, by, ddf.columns, ddf.geometry.name)
        return _dask_totals(ddf, by=by, npartitions=npartitions, scheduler=scheduler)


def _dask_geopandas():
    try:
        import dask_geopandas
    except ModuleNotFoundError:  # pragma: no cover - it is a dependency
        raise UsageError("the dask engine needs dask-geopandas: pip install dask-geopandas") from None
    return dask_geopandas


def _dask_totals(ddf, *, by: str, npartitions: int, scheduler: str) -> pd.DataFrame:
    ddf = ddf.spatial_shuffle(by="hilbert", npartitions=npartitions)
    meta = pd.DataFrame(
        {
            "features": pd.Series(dtype="int64"),
            "sum_area_m2": pd.Series(dtype="float64"),
            "geometry": pd.Series(dtype="object"),
        },
        index=pd.Index([], name=by, dtype=ddf[by].dtype),
    )
    partials = ddf.map_partitions(_partition_totals, by, meta=meta).compute(scheduler=scheduler)
    return _finish(partials, by, ddf.crs)


def frame_totals(
    gdf: gpd.GeoDataFrame,
    *,
    by: str = "country_iso3",
    engine: str = "memory",
    npartitions: int = 8,
    scheduler: str = "threads",
) -> pd.DataFrame:
    """Totals per group of a GeoDataFrame already in memory (see :func:`area_totals`).

    With ``engine="dask"`` the frame is split into ``npartitions`` spatial
    partitions (``dask_geopandas.from_geopandas`` then ``spatial_shuffle``)
    and computed in parallel; the result equals the in-memory one.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons with a CRS and a column ``by``.
    by : str, default "country_iso3"
        Column to group by.
    engine : {"memory", "dask"}
        How to compute.
    npartitions : int, default 8
        Partitions of the dask engine.
    scheduler : str, default "threads"
        A dask scheduler name.

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
    _check_partitions(npartitions)
    ddf = _dask_geopandas().from_geopandas(gdf, npartitions=npartitions)
    return _dask_totals(ddf, by=by, npartitions=npartitions, scheduler=scheduler)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")


def store_park_totals(
    layers: str | Path = "layers", *, engine: str = "memory", npartitions: int = 8
) -> pd.DataFrame:
    """Per-country totals of the park layers of a layer store (features as stored, before any merge).

    The current versions of ``parks_rus`` and ``parks_chn`` are read from
    the store (a folder, a ``.gpkg`` or a PostGIS URL) and totalled by
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
    npartitions : int, default 8
        Partitions of the dask engine.

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`, indexed by ``country_iso3``.
    """
    from geo.store import open_store

    _check_engine(engine)
    if engine == "dask":
        _check_partitions(npartitions)
    store = open_store(layers)
    present = store._roles()
    parts = [store.read_layer(role) for role in PARK_ROLES if role in present]  # a park layer may be absent
    if not parts:
        raise DataError(f"the layers hold no park: {', '.join(PARK_ROLES)} are missing",
                        problems=["import a park layer with 'bigcats import FILE --role parks_<iso3> --layers ...'"])
    parks = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return frame_totals(parks, by="country_iso3", engine=engine, npartitions=npartitions)


def totals(
    *,
    path: str | Path | None = None,
    layers: str | Path = "layers",
    by: str | None = None,
    layer: str | None = None,
    engine: str = "memory",
    npartitions: int | None = None,
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
        Partitions of the dask engine (default 8); refused with ``"memory"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`area_totals`.

    Raises
    ------
    UsageError
        For an unknown engine, ``npartitions`` < 1 or given without the dask
        engine, ``by`` or ``layer`` without ``path``, or a missing column.
    ReadError
        If ``path`` or the store cannot be read.
    """
    _check_engine(engine)
    if npartitions is not None:
        if engine != "dask":
            raise UsageError("--partitions applies to the dask engine only; add --engine dask.")
        _check_partitions(npartitions)
    parts = 8 if npartitions is None else npartitions
    if path is None:
        if by not in (None, "country_iso3"):
            raise UsageError(f"the store's parks are totalled by country_iso3, not {by!r}; use --input FILE --by {by}.")
        if layer is not None:
            raise UsageError("--layer names a layer inside --input FILE; add --input.")
        return store_park_totals(layers, engine=engine, npartitions=parts)
    by = by or "country_iso3"
    if engine == "dask":
        return area_totals_dask(path, by=by, layer=layer, npartitions=parts)
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
