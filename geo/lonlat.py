"""The guard of the one-reprojection rule: a layer handed to code that works in lon/lat must already be.

Everything after the import works in longitude/latitude (EPSG:4326);
:func:`geo.normalise.to_wgs84` is the only place a layer is reprojected to it. Code on any
floor that is handed a layer calls :func:`require_lonlat`, which raises instead of
reprojecting silently. (The measuring kernel, :mod:`geo.measure`, transforms a projected
layer to measure it geodesically, a computation that hands no layer on.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyproj import CRS

from geo.errors import CRSError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["crs_name", "require_lonlat"]


def crs_name(crs) -> str | None:
    """The CRS as its authority code (``EPSG:32652``), else its name; None for no CRS."""
    if crs is None:
        return None
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


def require_lonlat(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """The layer in EPSG:4326 (longitude/latitude); never transforms a coordinate.

    A layer labelled OGC:CRS84 (the same coordinates, listed longitude first, as GeoJSON
    reads) comes back relabelled EPSG:4326; one in EPSG:4326 comes back itself.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer handed to code that works in longitude/latitude.
    what : str
        What the layer is, for the message (e.g. ``"the parks_rus layer"``).

    Returns
    -------
    GeoDataFrame
        ``gdf`` (relabelled when it was CRS84).

    Raises
    ------
    CRSError
        When the layer has no CRS or another one: it was not imported (``bigcats import``
        reprojects once, with :func:`geo.normalise.to_wgs84`).
    """
    if gdf.crs is None or not CRS.from_user_input(gdf.crs).equals(CRS("EPSG:4326"), ignore_axis_order=True):
        raise CRSError(
            f"{what} is in {crs_name(gdf.crs) or 'no CRS'}, not EPSG:4326 (longitude/latitude). "
            "Import it with 'bigcats import', which transforms it to EPSG:4326 once."
        )
    if not CRS.from_user_input(gdf.crs).equals(CRS("EPSG:4326")):
        return gdf.set_crs("EPSG:4326", allow_override=True)
    return gdf
