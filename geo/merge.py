"""Merging the two countries' parks into one coverage and the proposed park."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

__all__ = ["combine_parks", "dissolve_by_country", "proposed_park", "shared_edge"]

PROPOSED_ID = "PROPOSED-LBC"


def combine_parks(*layers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack park layers of both countries into one GeoDataFrame in EPSG:4326."""
    frames = [layer.to_crs("EPSG:4326") for layer in layers if len(layer)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def dissolve_by_country(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One feature per ``country_iso3``: the union of that country's parks (no double counting)."""
    rows = []
    for iso3, group in parks.groupby("country_iso3", sort=True):
        rows.append({"country_iso3": iso3, "parks": len(group), "geometry": shapely.union_all(group.geometry.array)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=parks.crs)


def proposed_park(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The proposed transboundary park: the union of every park of both countries.

    Overlapping parts count once, so its area is never the plain sum of the
    parks' areas when they overlap.
    """
    union = shapely.union_all(parks.geometry.array)
    quality = "schematic" if (parks.get("geometry_quality", pd.Series(dtype=str)) != "surveyed").any() else "surveyed"
    return gpd.GeoDataFrame(
        [
            {
                "id": PROPOSED_ID,
                "name_en": "Land of Big Cats (proposed transboundary park)",
                "name_ru": "Трансграничный парк «Земля больших кошек» (предложение)",
                "name_zh": "“大猫之地”跨境公园（拟建）",
                "country_iso3": "RUS+CHN",
                "parks": len(parks),
                "geometry_quality": quality,
                "geometry_method": "union of the Russian and Chinese park layers, overlaps counted once",
                "geometry": union,
            }
        ],
        geometry="geometry",
        crs=parks.crs,
    )


def shared_edge(rus: gpd.GeoDataFrame, chn: gpd.GeoDataFrame) -> shapely.MultiLineString:
    """The lines along which a Russian and a Chinese park touch each other.

    Computed as the line parts of the intersection of the two countries'
    park boundaries; points where they only touch are dropped.
    """
    a = shapely.union_all(rus.geometry.array)
    b = shapely.union_all(chn.geometry.array)
    common = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    lines = [g for g in shapely.get_parts(common) if g.geom_type == "LineString"]
    return shapely.MultiLineString(lines)
