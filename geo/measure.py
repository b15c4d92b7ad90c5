"""Areas and lengths: geodesic on the WGS84 ellipsoid, equal-area projections only as cross-checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.errors import CRSError
from geo.sphere import MAX_EDGE_M, _authalic_area_m2, _geod, densify_geodesic  # the kernel: numpy and shapely only

if TYPE_CHECKING:
    # imported where used: the lon/lat kernels need neither (``bigcats simplify`` stays light)
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS, Geod

__all__ = [
    "CROSSCHECK_CRS",
    "GEOD",
    "MAX_EDGE_M",
    "M2_PER_HA",
    "crosscheck_areas",
    "densify_geodesic",
    "geodesic_area_lonlat_m2",
    "geodesic_area_m2",
    "geodesic_length_m",
    "planar_area_m2",
]

#: The WGS84 ellipsoid (``pyproj.Geod``); every primary area and length is computed on it.
#: Built on first use (module ``__getattr__``): importing pyproj costs about 40 ms, and the
#: area kernel needs it only to densify long edges.
GEOD: Geod

M2_PER_HA = 10_000.0


def _lonlat_crs() -> tuple[CRS, CRS]:
    """Longitude/latitude on WGS84, built once (a CRS takes about 0.3 ms to build; it is compared on every call)."""
    found = globals().get("_LONLAT_CRS")
    if found is None:
        from pyproj import CRS

        globals()["_LONLAT_CRS"] = found = (CRS("EPSG:4326"), CRS("OGC:CRS84"))
    return found


def __getattr__(name: str):
    if name == "GEOD":  # ``from geo.measure import GEOD``
        return _geod()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
    import geopandas as gpd

    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geoms.crs is None:
        raise CRSError(
            "the layer has no CRS, so its coordinates cannot be measured. "
            "Set the CRS the data was made in (GeoDataFrame.set_crs), never a guess."
        )
    if not any(geoms.crs.equals(lonlat) for lonlat in _lonlat_crs()):
        geoms = geoms.to_crs("EPSG:4326")
    return geoms


def geodesic_area_m2(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic area of each polygon on the WGS84 ellipsoid, in square metres.

    The layer may be in any CRS; it is transformed to WGS84 longitude/latitude.
    The computation is vectorised over every vertex of every polygon at once
    (:func:`_authalic_area_m2`): the ellipsoid is mapped onto the authalic
    sphere, which preserves areas exactly, and each ring's area is the
    spherical excess of its edges there. Each edge is a geodesic, as in
    GeographicLib; a geodesic maps onto the authalic sphere close to, not
    exactly onto, a great circle (the difference grows as the edge length
    cubed), so the rings whose bound exceeds 1e-6 of their area are densified
    along the ellipsoidal geodesic (pieces of at most :data:`MAX_EDGE_M`,
    2 km, shorter for small rings) and measured again. The result agrees with
    :meth:`pyproj.Geod.geometry_area_perimeter` to better than 1e-6 relative
    (``tests/test_measure.py`` proves it near 60N, the equator, with holes,
    multipolygons and on the bundled parks).

    Winding order does not matter; holes are subtracted; lines and points have
    area 0; an empty geometry covers no ground (0); a missing one (None) gives NaN.

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
    return geodesic_area_lonlat_m2(np.asarray(_as_lonlat(gdf).array, dtype=object))


def geodesic_area_lonlat_m2(geoms: np.ndarray) -> np.ndarray:
    """:func:`geodesic_area_m2` of shapely geometries already in WGS84 longitude/latitude (no CRS check).

    For callers that hold bare geometries known to be lon/lat (a GeoJSON file, RFC 7946);
    it needs neither geopandas nor pandas.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.where(shapely.is_missing(geoms), np.nan, 0.0)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    type_id = shapely.get_type_id(geoms)
    polygonal = present & np.isin(type_id, (3, 6))
    out[present & ~polygonal & (type_id != 7)] = 0.0
    collections = np.flatnonzero(present & (type_id == 7))
    for i in collections:
        parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_type_id(p) in (3, 6)]
        out[i] = float(_authalic_area_m2(np.array(parts, dtype=object)).sum()) if parts else 0.0
    if polygonal.any():
        out[polygonal] = _authalic_area_m2(geoms[polygonal])
    return out


def geodesic_length_m(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic length of each line on the WGS84 ellipsoid, in metres.

    For polygons this is the perimeter. An empty geometry has length 0; a missing one (None) gives NaN.

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
        if geom is None:
            continue
        if geom.is_empty:
            out[i] = 0.0
            continue
        out[i] = _geometry_length_m(geom)
    return out


def _geometry_length_m(geom: shapely.Geometry) -> float:
    """:meth:`pyproj.Geod.geometry_length`, the same sums in the same order, without a shapely object per part.

    A border of a thousand parts (it has gaps wherever it runs through water) costs one
    coordinate fetch instead of a thousand. Lines and multi-lines only; anything else
    goes to pyproj as it is.
    """
    if shapely.get_type_id(geom) not in (1, 5):  # LineString, MultiLineString
        return _geod().geometry_length(geom)
    parts = shapely.get_parts(geom)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    ends = np.cumsum(np.bincount(index, minlength=len(parts)))
    if len(parts) == 1 and shapely.get_type_id(geom) == 1:
        return _geod().line_length(coords[:, 0], coords[:, 1])
    total = 0.0
    start = 0
    for end in ends:
        total += _geod().line_length(coords[start:end, 0], coords[start:end, 1])
        start = end
    return total


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
    import geopandas as gpd

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


#: The WDPA world's equal-area conventions, used as cross-checks only.
CROSSCHECK_CRS = {"behrmann": "ESRI:54017", "mollweide": "ESRI:54009"}


def crosscheck_areas(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.DataFrame:
    """Geodesic area beside the Behrmann and Mollweide planar areas, in hectares.

    Protected Planet computes WDPA areas in Mollweide (``ESRI:54009``) and the
    wdpar package in Behrmann (``ESRI:54017``); both are equal-area on a
    sphere, so they differ slightly from the ellipsoidal geodesic area.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Polygons with a CRS.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_ha`` (geodesic), ``behrmann_area_ha``,
        ``behrmann_difference_pct``, ``mollweide_area_ha``,
        ``mollweide_difference_pct`` (planar minus geodesic, in % of geodesic).
    """
    import pandas as pd

    geoms = _as_lonlat(gdf)
    geodesic_ha = geodesic_area_m2(geoms) / M2_PER_HA
    table = pd.DataFrame({"area_ha": geodesic_ha}, index=geoms.index)
    for name, crs in CROSSCHECK_CRS.items():
        planar_ha = planar_area_m2(geoms.to_crs(crs)) / M2_PER_HA
        table[f"{name}_area_ha"] = planar_ha
        with np.errstate(divide="ignore", invalid="ignore"):  # no area: the difference in % is undefined (NaN)
            difference_pct = 100 * (planar_ha - geodesic_ha) / geodesic_ha
            table[f"{name}_difference_pct"] = np.where(geodesic_ha > 0, difference_pct, np.nan)
    return table

