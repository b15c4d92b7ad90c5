"""Checks on layers: every problem collected into one report, raised once."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely

from geo.errors import DataError
from geo.layers import GEOMETRY_QUALITIES, LAYERS, PARK_COLUMNS

__all__ = ["Problem", "check_layers"]

_GEOMETRY_TYPES = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


@dataclass(frozen=True)
class Problem:
    """One problem found in a layer: where, what, and how to fix it."""

    layer: str
    feature: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.layer}: feature {self.feature}: {self.problem} (fix: {self.fix})"


def check_layers(layers: dict[str, gpd.GeoDataFrame]) -> list[Problem]:
    """Check the layers a build needs; raise :class:`DataError` listing every problem.

    Checks geometry types per role, empty and invalid geometries, the canonical
    park attributes and ``geometry_quality`` values.

    Returns
    -------
    list of Problem
        Empty when the layers are fine.

    Raises
    ------
    DataError
        With ``problems`` holding every :class:`Problem` found.
    """
    problems: list[Problem] = []
    for role, gdf in layers.items():
        spec = LAYERS[role]
        ids = gdf["id"].astype(str).tolist() if "id" in gdf.columns else [str(i) for i in range(len(gdf))]
        if role.startswith("parks_"):
            missing = [c for c in PARK_COLUMNS if c not in gdf.columns]
            if missing:
                problems.append(Problem(role, "*", f"missing attributes {missing}", "re-import the layer with 'bigcats import' and --map"))
            elif bad := sorted(set(gdf["geometry_quality"].dropna()) - set(GEOMETRY_QUALITIES)):
                problems.append(Problem(role, "*", f"unknown geometry_quality {bad}", f"use one of {list(GEOMETRY_QUALITIES)}"))
        allowed = _GEOMETRY_TYPES[spec.geometry]
        for fid, geom in zip(ids, gdf.geometry.array):
            if geom is None or geom.is_empty:
                problems.append(Problem(role, fid, "empty or missing geometry", "remove the feature or give it a geometry"))
            elif geom.geom_type not in allowed:
                problems.append(Problem(role, fid, f"{geom.geom_type} where the role needs {spec.geometry}s", "import the right layer for this role"))
            elif not geom.is_valid:
                problems.append(Problem(role, fid, f"invalid geometry: {shapely.is_valid_reason(geom)}", "repair it with 'bigcats import --accept-repairs'"))
    if problems:
        raise DataError(f"{len(problems)} problem(s) in the layers", problems)
    return problems
