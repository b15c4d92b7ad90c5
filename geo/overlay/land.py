"""Each country's land as a geometry, and what of a park lies off its own land or on another's.

The overlay that both the import's wrong-side check (:mod:`geo.normalise`) and the merge's
clip (:mod:`geo.merge.clip`) measure with, on the floor below both.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.measure import densify_geodesic
from geo.overlay.ops import _area_ha, _dissolve_land, _polygonal

__all__ = ["CLIP_NOISE_HA", "WRONG_SIDE_FRACTION", "wrong_side"]


#: A park with more than this share of its area on another country's land is refused at
#: import (unless ``--accept-clip``) and fails the build's clip check; a smaller share is a warning.
WRONG_SIDE_FRACTION = 0.01
#: Clipped ground below this (ha) is coordinate rounding along a shared edge: not reported.
CLIP_NOISE_HA = 0.01


def _lands(countries: gpd.GeoDataFrame, crs) -> dict[str, shapely.Geometry]:
    """Each country's land as one prepared geometry, in ``crs``.

    In longitude/latitude the land's edges get the same geodesic points as the parks'
    (:func:`combine_parks`): a park cut from the land then keeps the land's edges exactly, so
    the clip moves nothing and two countries' parks still share their border.
    """
    countries = countries.to_crs(crs)
    if countries.crs is not None and countries.crs.is_geographic and len(countries):
        countries = countries.set_geometry(densify_geodesic(countries.geometry.array), crs=countries.crs)
    land = {iso3: _dissolve_land(group.geometry.array) for iso3, group in countries.groupby("country_iso3")}
    for geom in land.values():
        shapely.prepare(geom)
    return land


def _overlay_near(op, geoms, land: shapely.Geometry) -> np.ndarray:
    """``op(geom, land)`` for each geom, with the land first cut to the geom's box (grown a little).

    The parts of the land outside the box cannot meet the geom, so the result is the
    same; a country's outline has ~10^4 vertices and the cut makes each operation
    an order of magnitude cheaper.
    """
    out = np.empty(len(geoms), dtype=object)
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            out[i] = shapely.Polygon()
            continue
        xmin, ymin, xmax, ymax = geom.bounds
        grow = 0.01 * max(xmax - xmin, ymax - ymin) + 1e-9
        try:
            out[i] = op(geom, shapely.clip_by_rect(land, xmin - grow, ymin - grow, xmax + grow, ymax + grow))
        except shapely.errors.GEOSException:  # the cut left an invalid piece: do it on the whole land
            out[i] = op(geom, land)
    return _polygonal(out)


def _other_side_ha(pieces, iso3s, land: dict, crs) -> tuple[np.ndarray, np.ndarray]:
    """Hectares of each piece on another country's land (across a border), and those countries."""
    pieces = np.asarray(pieces, dtype=object)
    iso3s = np.asarray(iso3s, dtype=object)
    ha = np.zeros(len(pieces))
    where: list[list[str]] = [[] for _ in pieces]
    present = ~(shapely.is_missing(pieces) | shapely.is_empty(pieces))
    for iso3, geom in land.items():
        rows = np.flatnonzero(present & (iso3s != iso3))
        rows = rows[shapely.intersects(geom, pieces[rows])] if len(rows) else rows
        if not len(rows):
            continue
        part = np.maximum(_area_ha(_overlay_near(shapely.intersection, pieces[rows], geom), crs), 0.0)  # no -1e-10
        ha[rows] += part
        for i in rows[part > 0]:
            where[i].append(str(iso3))
    return ha, np.array([", ".join(w) for w in where], dtype=object)


def wrong_side(parks: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> pd.DataFrame:
    """How much of each park lies off its own country's land, and how much on another country's.

    What :func:`clip_to_land` would remove, measured before a build (``validate`` and
    ``import`` report it). Geodesic areas.

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``id`` and ``country_iso3``.
    countries : GeoDataFrame
        Country land polygons with ``country_iso3``.

    Returns
    -------
    DataFrame
        One row per park: ``id``, ``country_iso3``, ``area_ha``, ``outside_ha`` (not on its
        own land: across a border, in water or beyond the countries layer), ``other_side_ha``
        (on another country's land) and ``other_iso3`` (those countries).
    """
    land = _lands(countries, parks.crs)
    geoms = np.asarray(parks.geometry.array, dtype=object)
    iso3s = parks["country_iso3"].to_numpy(dtype=object)
    area = _area_ha(geoms, parks.crs)
    outside = np.array(geoms, dtype=object)  # a park of a country without land is outside it all
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for iso3, geom in land.items():
        rows = np.flatnonzero(present & (iso3s == iso3))
        if not len(rows):
            continue
        inside = shapely.contains_properly(geom, geoms[rows])
        outside[rows[inside]] = shapely.Polygon()
        rows = rows[~inside]
        if len(rows):
            outside[rows] = _overlay_near(shapely.difference, geoms[rows], geom)
    outside_ha = np.minimum(_area_ha(outside, parks.crs), area)
    other_ha, other_iso3 = _other_side_ha(outside, iso3s, land, parks.crs)
    return pd.DataFrame(
        {
            "id": parks["id"].to_numpy() if "id" in parks else np.arange(len(parks)),
            "country_iso3": iso3s,
            "area_ha": area,
            "outside_ha": outside_ha,
            "other_side_ha": np.minimum(other_ha, outside_ha),
            "other_iso3": other_iso3,
        }
    )
