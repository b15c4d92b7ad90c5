"""Geometry helpers every merge step shares: unions, polygonal parts, geodesic hectares, a local metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from geo.measure import M2_PER_HA, geodesic_area_m2

#: Default largest distance (m) a park's vertex moves onto the border (:func:`geo.merge.snap.snap_to_border`).
SNAP_TOLERANCE_M = 500.0
#: Default width (m) under which a gap in the coverage is reported (:func:`geo.merge.coverage.check_coverage`).
GAP_WIDTH_M = 1_000.0


def _dissolve_land(geoms) -> shapely.Geometry:
    """One country's land as one geometry; a single polygon is used as it is (no overlay)."""
    geoms = np.asarray(geoms, dtype=object)
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def _dissolve(geoms, *, valid: bool | None = None) -> shapely.Geometry:
    """Union of polygons without degenerate holes (see :func:`_drop_degenerate_holes`).

    The fast coverage union when they form a valid coverage (``valid``: known already, or None to test).
    """
    return _drop_degenerate_holes(_union(geoms, valid=valid))


def _drop_degenerate_holes(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` without the holes of no planar area.

    Such holes are collinear points left where a union's edges met: their area on the
    ellipsoid, a few m² between geodesics, depends on their winding.
    """
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return geom
    polygons = list(shapely.get_parts(geom))
    changed = False
    for i, polygon in enumerate(polygons):
        holes = [ring for ring in polygon.interiors if not _degenerate(ring)]
        if len(holes) < len(polygon.interiors):
            polygons[i] = shapely.Polygon(polygon.exterior, holes)
            changed = True
    if not changed:
        return geom
    return polygons[0] if geom.geom_type == "Polygon" else shapely.MultiPolygon(polygons)


def _degenerate(ring) -> bool:
    """A ring whose planar area is below 10^-9 of its bounding box's: its points are collinear."""
    xmin, ymin, xmax, ymax = ring.bounds
    return shapely.Polygon(ring).area <= 1e-9 * max((xmax - xmin) * (ymax - ymin), 0.0)


def _union(geoms, *, valid: bool | None = None) -> shapely.Geometry:
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if valid is None:
        valid = len(geoms) > 1 and bool(shapely.coverage_is_valid(geoms))
    if valid:
        try:
            union = shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:  # noding changed (e.g. by a reprojection)
            union = None
        # the coverage union trusts its input: edges equal but for their last bits leave slivers
        if union is not None and shapely.is_valid(union):
            return union
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:
        # GEOS's floating noding can fail on nearly coincident edges ("found non-noded
        # intersection"); snap-rounding to a grid 10^-12 of the coordinates' size (0.02 mm
        # in degrees, far less in metres) is robust and changes no area measurably.
        return shapely.union_all(geoms, grid_size=_snap_grid(geoms))


def _robust(op, a, b):
    """``op(a, b)`` (a shapely overlay), snap-rounded where GEOS's noding fails.

    GEOS's floating noding can fail on nearly coincident edges; the overlay is then
    done again on the grid of :func:`_snap_grid`.
    """
    try:
        return op(a, b)
    except shapely.errors.GEOSException:
        return op(a, b, grid_size=_snap_grid([a, b]))


def _snap_grid(geoms) -> float:
    """A snap-rounding grid 10^-12 of the largest coordinate of ``geoms`` (never zero)."""
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    size = float(np.nanmax(np.abs(bounds))) if len(bounds) else 1.0
    return max(size, 1.0) * 1e-12


def _local_metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """An azimuthal equidistant CRS centred on the data, for buffers and distances in metres.

    Within a few hundred km of its centre, distances are true to better than
    0.1 %; only tolerances and widths are applied in it. Every area is
    measured geodesically afterwards.
    """
    lon0, lat0 = np.asarray(gdf.to_crs("EPSG:4326").total_bounds).reshape(2, 2).mean(axis=0)
    if not (np.isfinite(lon0) and np.isfinite(lat0)):  # no geometry left (all clipped away): nothing is measured
        lon0 = lat0 = 0.0
    return f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs"


def _area_ha(geoms, crs) -> np.ndarray:
    return np.nan_to_num(geodesic_area_m2(gpd.GeoSeries(geoms, crs=crs))) / M2_PER_HA


def _polygonal(geoms: npt.ArrayLike) -> np.ndarray:
    """Keep only the polygonal parts (intersections may leave lines and points)."""
    valid = np.asarray(shapely.make_valid(np.asarray(geoms, dtype=object)), dtype=object)
    out = []
    for geom in valid:
        if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
            out.append(geom)
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        out.append(shapely.union_all(parts) if parts else shapely.Polygon())
    return np.array(out, dtype=object)
