"""What both engines share: per-group totals of one partition, the union of partials, the checks and their errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ReadError, UsageError
from geo.measure import M2_PER_HA, geodesic_area_m2

#: The engines ``bigcats areas --engine`` accepts.
ENGINES: tuple[str, ...] = ("memory", "dask")

#: A group is dense when the areas of its features' bounding boxes add up to more than this
#: many times the area of the box around them all (WDPA layers of a country stay near or
#: below one); only then is :func:`_union_all` worth sampling.
DENSE_COVER = 8.0
#: Every how many features the sample of a dense group takes, and the smallest group sampled.
SAMPLE_EVERY, SAMPLE_MIN = 4, 512


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
            "geometry": _union_all(group["geometry"].to_numpy()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = by
    return out


def _union_all(geoms: np.ndarray) -> shapely.Geometry:
    """``shapely.union_all`` of one group, leaving out first, where features pile up, those inside the others.

    In a dense group (bounding boxes covering the group's box :data:`DENSE_COVER`
    times over) most features lie wholly inside the union of their neighbours and
    only cost the overlay its noding. Every :data:`SAMPLE_EVERY`-th feature is
    unioned first (by this function: the sample is a sparser group), the other
    features strictly inside that union (``contains_properly``, prepared) are left
    out, and the sample's union is unioned with the rest. A feature inside the
    sample's union changes nothing of it, so the union is the same; elsewhere (a
    sparse group, a small one) this is ``shapely.union_all``.
    """
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) < SAMPLE_MIN:
        return shapely.union_all(geoms)
    boxes = shapely.bounds(geoms)
    boxes = boxes[np.isfinite(boxes).all(axis=1)]
    if not len(boxes):
        return shapely.union_all(geoms)
    extent = (boxes[:, 2].max() - boxes[:, 0].min()) * (boxes[:, 3].max() - boxes[:, 1].min())
    cover = float(np.sum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))
    if not cover > DENSE_COVER * extent:
        return shapely.union_all(geoms)
    picked = np.zeros(len(geoms), bool)
    picked[::SAMPLE_EVERY] = True
    sample = _union_all(geoms[picked])
    rest = geoms[~picked]
    shapely.prepare(sample)
    outside = ~shapely.contains_properly(sample, rest)
    return shapely.union_all(np.append(rest[outside], sample))


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
    """Union of two polygonal unions; the parts of either that cannot meet the other are kept as they are.

    Only the parts whose bounding box meets a box of a part of the other side
    (an STRtree query) take part in the overlay; the others are disjoint from it.
    """
    a_parts, b_parts = shapely.get_parts(a), shapely.get_parts(b)
    near_a = np.zeros(len(a_parts), bool)
    near_b = np.zeros(len(b_parts), bool)
    if len(a_parts) and len(b_parts):
        ia, ib = shapely.STRtree(b_parts).query(a_parts)
        near_a[ia] = True
        near_b[ib] = True
    if near_a.any():
        joined = shapely.union(shapely.multipolygons(a_parts[near_a]), shapely.multipolygons(b_parts[near_b]))
        near = list(shapely.get_parts(joined))
    else:
        near = []
    parts = [*a_parts[~near_a], *b_parts[~near_b], *near]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def merge_partials(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two partitions' per-group totals as one: counts and sums add, the unions of a group present in both union."""
    if not len(a):
        return b
    if not len(b):
        return a
    rows = {}
    for key in a.index.union(b.index).sort_values():
        both = [frame.loc[key] for frame in (a, b) if key in frame.index]
        geometry = both[0]["geometry"] if len(both) == 1 else _union2(both[0]["geometry"], both[1]["geometry"])
        rows[key] = {
            "features": int(sum(row["features"] for row in both)),
            "sum_area_m2": float(sum(row["sum_area_m2"] for row in both)),
            "geometry": geometry,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = a.index.name
    return out


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


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}.")


def frame_totals_memory(gdf: gpd.GeoDataFrame, by: str) -> pd.DataFrame:
    """Totals per group of a frame in memory, all at once: each group's union is used as it is."""
    return _finish(_partition_totals(gdf, by), by, gdf.crs)
