"""What changed between two versions of a polygon layer: area gained and lost per feature, geodesic."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.measure import M2_PER_HA, geodesic_area_m2

__all__ = ["diff_layers"]


def _by_id(gdf: gpd.GeoDataFrame) -> dict:
    keys = gdf["id"].astype(str) if "id" in gdf.columns else pd.Series(range(len(gdf))).astype(str)
    out: dict = {}
    for key, geom in zip(keys, gdf.geometry.array, strict=True):
        if geom is not None and not geom.is_empty:
            out[key] = shapely.union(out[key], geom) if key in out else geom
        else:
            out.setdefault(key, None)
    return out


def diff_layers(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Per-feature area gained and lost between two versions of a polygon layer (see :meth:`LayerStore.diff`)."""
    a, b = _by_id(before.to_crs("EPSG:4326")), _by_id(after.to_crs("EPSG:4326"))
    empty = shapely.Polygon()
    rows, parts = [], []
    for key in list(a) + [k for k in b if k not in a]:
        ga, gb = a.get(key) or empty, b.get(key) or empty
        gained, lost = shapely.difference(gb, ga), shapely.difference(ga, gb)
        areas = geodesic_area_m2(gpd.GeoSeries([gained, lost], crs="EPSG:4326"))
        gained_ha, lost_ha = (0.0 if np.isnan(x) else float(x) / M2_PER_HA for x in areas)
        if key not in a:
            status = "added"
        elif key not in b:
            status = "removed"
        else:
            status = "unchanged" if shapely.equals(ga, gb) or (gained_ha == 0 and lost_ha == 0) else "changed"
        rows.append(
            {"id": key, "status": status, "gained_ha": gained_ha, "lost_ha": lost_ha, "net_ha": gained_ha - lost_ha}
        )
        for change, geom, area in (("gained", gained, gained_ha), ("lost", lost, lost_ha)):
            if not geom.is_empty and area > 0:
                parts.append({"id": key, "change": change, "area_ha": area, "geometry": geom})
    table = pd.DataFrame(rows, columns=["id", "status", "gained_ha", "lost_ha", "net_ha"])
    parts_gdf = gpd.GeoDataFrame(
        parts, columns=["id", "change", "area_ha", "geometry"], geometry="geometry", crs="EPSG:4326"
    )
    return parts_gdf, table
