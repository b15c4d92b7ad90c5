"""RFC 7946 GeoJSON out: a layer as a FeatureCollection (dict or deterministic file)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import CRSError
from geo.io.files import atomic_path

__all__ = ["to_geojson_dict", "write_geojson"]


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _round_geometry(geom: dict, decimals: int) -> dict:
    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(v), decimals) + 0.0 for v in c]
        return [rnd(x) for x in c]

    if geom["type"] == "GeometryCollection":
        return {"type": geom["type"], "geometries": [_round_geometry(g, decimals) for g in geom["geometries"]]}
    return {"type": geom["type"], "coordinates": rnd(geom["coordinates"])}


def _broken_by_rounding(geoms, rounded: list[dict | None]) -> np.ndarray:
    """Positions of the valid polygons that their rounded coordinates would make invalid.

    Rounding to a grid can fold a thin inlet or a near-touching hole onto itself (a WDPA polygon
    valid at full precision read back with a self-intersection at 6 decimals): those are written
    unrounded, so that a store gives back the valid geometry it was given.
    """
    geoms = np.asarray(geoms, dtype=object)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    candidates = np.flatnonzero(polygonal)
    if not len(candidates):
        return candidates
    candidates = candidates[shapely.is_valid(geoms[candidates])]
    written = shapely.from_geojson([json.dumps(rounded[i]) for i in candidates])
    return candidates[~shapely.is_valid(written)]


def to_geojson_dict(gdf: gpd.GeoDataFrame, *, decimals: int = 6, name: str | None = None) -> dict:
    """Return an RFC 7946 FeatureCollection as a dict.

    Coordinates are WGS84 longitude/latitude rounded to ``decimals``; polygon
    rings follow the right-hand rule (exterior counter-clockwise); there is no
    ``crs`` member. Column order and feature order are kept.
    """
    if gdf.crs is None:
        raise CRSError("cannot write GeoJSON from a layer with no CRS; set the CRS it was made in first.")
    gdf = gdf.to_crs("EPSG:4326")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    geometries = [
        None if geom is None or geom.is_empty else json.loads(shapely.to_geojson(shapely.orient_polygons(geom)))
        for geom in gdf.geometry.array
    ]
    rounded = [None if g is None else _round_geometry(g, decimals) for g in geometries]
    for i in _broken_by_rounding(gdf.geometry.array, rounded):
        rounded[i] = geometries[i]  # written as it is (full precision): what is read back stays valid
    features = []
    for row, geometry in zip(gdf[columns].itertuples(index=False, name=None), rounded, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {c: _json_value(v) for c, v in zip(columns, row, strict=True)},
                "geometry": geometry,
            }
        )
    out: dict = {"type": "FeatureCollection"}
    if name:
        out["name"] = name
    out["features"] = features
    return out


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *, decimals: int = 6, durable: bool = False) -> Path:
    """Write a layer as RFC 7946 GeoJSON, atomically and deterministically.

    One feature per line, keys in column order, UTF-8 without escapes, so two
    writes of the same layer give identical bytes and diffs stay readable.
    """
    path = Path(path)
    data = to_geojson_dict(gdf, decimals=decimals)
    lines = ['{"type": "FeatureCollection", "features": [']
    feats = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    lines.append(",\n".join(feats))
    lines.append("]}")
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
