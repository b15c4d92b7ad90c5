"""Areas and lengths: geodesic on the WGS84 ellipsoid, equal-area projections only as cross-checks."""

from __future__ import annotations

import numpy as np
import geopandas as gpd
import shapely
from pyproj import CRS, Geod

from geo.errors import CRSError

__all__ = [
    "GEOD",
    "M2_PER_HA",
    "geodesic_area_m2",
    "geodesic_length_m",
    "planar_area_m2",
]

#: The WGS84 ellipsoid; every primary area and length is computed on it.
GEOD = Geod(ellps="WGS84")

M2_PER_HA = 10_000.0

_EQUAL_AREA_METHODS = (
    "equal area",
    "mollweide",
    "sinusoidal",
    "eckert iv",
    "eckert vi",
    "goode",
)


def _as_lonlat(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return the geometries as WGS84 longitude/latitude, refusing to guess a CRS."""
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geoms.crs is None:
        raise CRSError(
            "the layer has no CRS, so its coordinates cannot be measured. "
            "Set the CRS the data was made in (GeoDataFrame.set_crs), never a guess."
        )
    if not geoms.crs.equals(CRS("EPSG:4326")) and not geoms.crs.equals(CRS("OGC:CRS84")):
        geoms = geoms.to_crs("EPSG:4326")
    return geoms


def geodesic_area_m2(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic area of each polygon on the WGS84 ellipsoid, in square metres.

    The layer may be in any CRS; it is transformed to WGS84 longitude/latitude
    and measured with GeographicLib (:meth:`pyproj.Geod.geometry_area_perimeter`).
    Winding order does not matter; holes are subtracted; lines and points have
    area 0; empty or missing geometries give NaN.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray of float
        Area in m², one value per geometry.

    Raises
    ------
    CRSError
        If the geometries have no CRS.
    """
    geoms = _as_lonlat(gdf)
    out = np.full(len(geoms), np.nan)
    for i, geom in enumerate(geoms.array):
        if geom is None or geom.is_empty:
            continue
        area, _ = GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))
        out[i] = abs(area)
    return out


def geodesic_length_m(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic length of each line on the WGS84 ellipsoid, in metres.

    For polygons this is the perimeter. Empty or missing geometries give NaN.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray of float
        Length in m, one value per geometry.
    """
    geoms = _as_lonlat(gdf)
    out = np.full(len(geoms), np.nan)
    for i, geom in enumerate(geoms.array):
        if geom is None or geom.is_empty:
            continue
        out[i] = GEOD.geometry_length(geom)
    return out


def planar_area_m2(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Planar area in the layer's own CRS, allowed only for an equal-area projection.

    This exists for cross-checks against the WDPA conventions (Mollweide,
    ``ESRI:54009``; Behrmann, ``ESRI:54017``). It refuses a geographic CRS
    (areas in square degrees are meaningless) and any projection that is not
    equal-area, such as Web Mercator, whose areas are wrong by a factor of
    about 1/cos²(latitude): 1.9× at 43°N.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries in an equal-area projected CRS.

    Returns
    -------
    numpy.ndarray of float
        Area in m² (the CRS must use metres).

    Raises
    ------
    CRSError
        If the CRS is missing, geographic, or not an equal-area projection.
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    crs = geoms.crs
    if crs is None:
        raise CRSError("the layer has no CRS; set it before measuring (GeoDataFrame.set_crs).")
    if crs.is_geographic:
        raise CRSError(
            f"refusing a planar area in the geographic CRS {crs.to_string()}: "
            "longitude/latitude degrees are not a unit of area. "
            "Use geodesic_area_m2(), or reproject to an equal-area CRS such as ESRI:54009."
        )
    if not _is_equal_area(crs):
        raise CRSError(
            f"refusing a planar area in {crs.to_string()} ({crs.name}): it is not an "
            "equal-area projection (Web Mercator inflates areas about 1.9x at 43N). "
            "Use geodesic_area_m2(), or reproject to an equal-area CRS such as ESRI:54009."
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"the CRS {crs.to_string()} is in {unit}, not metres; reproject first.")
    return np.asarray(geoms.area, dtype=float)


def _is_equal_area(crs: CRS) -> bool:
    operation = crs.coordinate_operation
    if operation is None:
        return False
    name = operation.method_name.lower()
    return any(key in name for key in _EQUAL_AREA_METHODS)
