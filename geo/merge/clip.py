"""Clipping parks to their own country's land, and measuring what lies across a border."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError
from geo.overlay.land import CLIP_NOISE_HA, _lands, _other_side_ha
from geo.overlay.ops import _area_ha, _polygonal


def clip_to_land(parks: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Clip each park to its own country's land polygon.

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``id`` and ``country_iso3``.
    countries : GeoDataFrame
        Country land polygons with ``country_iso3``.

    Returns
    -------
    clipped : GeoDataFrame
        A new GeoDataFrame, same rows, geometries clipped.
    report : DataFrame
        One row per park: ``id``, ``country_iso3``, ``area_before_ha``,
        ``area_after_ha``, ``removed_ha`` (geodesic).
    """
    land = _lands(countries, parks.crs)
    before, after, inside = _clip(parks, land)
    clipped = parks.copy()
    clipped[clipped.geometry.name] = after
    area_before = _area_ha(before, parks.crs)
    area_after = area_before.copy()
    if (~inside).any():
        area_after[~inside] = _area_ha(after[~inside], parks.crs)
    report = pd.DataFrame(
        {
            "id": parks["id"].to_numpy(),
            "country_iso3": parks["country_iso3"].to_numpy(),
            "area_before_ha": area_before,
            "area_after_ha": area_after,
            "removed_ha": area_before - area_after,
        }
    )
    report["other_side_ha"], report["other_iso3"] = _clipped_across(before, after, report, land, parks.crs)
    return clipped, report


def clipped_geometries(parks: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> np.ndarray:
    """The parks' geometries as :func:`clip_to_land` clips them, without measuring anything (no report)."""
    return _clip(parks, _lands(countries, parks.crs))[1]


def _clip(parks: gpd.GeoDataFrame, land: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(before, after, inside)``: each geometry, clipped to ``land[its country]``, and which were on it whole."""
    missing = sorted(set(parks["country_iso3"]) - set(land))
    if missing:
        raise DataError(
            f"no land polygon for {', '.join(missing)} in the countries layer; "
            "add the country or fix the parks' country_iso3",
            problems=[f"country_iso3 {iso3}: not in the countries layer" for iso3 in missing],
        )
    before = np.asarray(parks.geometry.array, dtype=object)  # _lands prepared each country's land once
    masks = np.array([land[iso3] for iso3 in parks["country_iso3"]], dtype=object)
    # A park wholly on its land is kept as it is; only the others are intersected (once).
    inside = np.asarray(shapely.covers(masks, before), dtype=bool) & ~shapely.is_missing(before)
    after = before.copy()
    if (~inside).any():
        after[~inside] = _polygonal(shapely.intersection(before[~inside], masks[~inside]))
    return before, after, inside


def _clipped_across(before, after, report: pd.DataFrame, land: dict, crs) -> tuple[np.ndarray, np.ndarray]:
    """Of the ground clipped off each park, the hectares on another country's land, and those countries.

    ``land``: each country's land, as :func:`geo.overlay.land._lands` gives it.
    """
    rows = np.flatnonzero(report["removed_ha"].to_numpy() >= CLIP_NOISE_HA)
    ha, where = np.zeros(len(report)), np.full(len(report), "", dtype=object)
    if len(rows):
        removed = _polygonal(shapely.difference(before[rows], after[rows]))
        ha[rows], where[rows] = _other_side_ha(
            removed, report["country_iso3"].to_numpy(dtype=object)[rows], land, crs
        )
    return np.minimum(ha, np.maximum(report["removed_ha"].to_numpy(), 0.0)), where  # removed may be -1e-10
