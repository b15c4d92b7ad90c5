"""The merged layers: the parks combined, dissolved per country and into the proposed park; the whole merge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.lonlat import require_lonlat
from geo.measure import densify_geodesic
from geo.merge.clip import clip_to_land
from geo.merge.coverage import check_coverage
from geo.merge.overlaps import resolve_overlaps
from geo.merge.snap import snap_to_border
from geo.overlay.ops import GAP_WIDTH_M, SNAP_TOLERANCE_M, _dissolve, _polygonal
from geo.project import Project, bundled_project


def _park_layer_name(layer: gpd.GeoDataFrame) -> str:
    """The park layer, for a message: by its countries when it names them."""
    if "country_iso3" in layer:
        return "the park layer of " + ", ".join(sorted(map(str, layer["country_iso3"].dropna().unique())))
    return "a park layer"


def combine_parks(*layers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack the countries' park layers (each in EPSG:4326, as imported) into one GeoDataFrame.

    A layer in another CRS is refused (:func:`geo.lonlat.require_lonlat`), not reprojected.

    Edges longer than 1 km get points along their geodesic (:func:`geo.measure.densify_geodesic`):
    the same polygons, whose overlays in lon/lat then keep their geodesic areas.
    """
    frames = [require_lonlat(layer, what=_park_layer_name(layer)) for layer in layers if len(layer)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    parks = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    parks[parks.geometry.name] = densify_geodesic(parks.geometry.array)
    return parks


def dissolve_by_country(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One feature per ``country_iso3``: the union of that country's parks (no double counting)."""
    rows = []
    for iso3, group in parks.groupby("country_iso3", sort=True):
        rows.append({"country_iso3": iso3, "parks": len(group), "geometry": _dissolve(group.geometry.array)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=parks.crs)


def proposed_park(parks: gpd.GeoDataFrame, *, project: Project | None = None) -> gpd.GeoDataFrame:
    """The proposed transboundary park: the union of every park of every country.

    Overlapping parts count once, so its area is never the plain sum of the
    parks' areas when they overlap. Its id and names come from ``project``
    (default: the bundled project).
    """
    project = bundled_project() if project is None else project
    union = _dissolve(parks.geometry.array)
    qualities = set(parks.get("geometry_quality", pd.Series(dtype=object)).fillna("unverified"))
    # the union is as good as its weakest part: schematic where any part is, else unverified where any is
    if qualities and qualities <= {"surveyed"}:
        quality = "surveyed"
    else:
        quality = "unverified" if qualities <= {"surveyed", "unverified"} else "schematic"
    ru, zh = project.name.get("ru"), project.name.get("zh")
    return gpd.GeoDataFrame(
        [
            {
                "id": project.proposed_id,
                "name_en": f"{project.display_name('en')} (proposed transboundary park)",
                "name_ru": None if ru is None else f"Трансграничный парк «{ru}» (предложение)",
                "name_zh": None if zh is None else f"“{zh}”跨境公园（拟建）",
                "country_iso3": "+".join(project.countries),
                "parks": len(parks),
                "geometry_quality": quality,
                "geometry_method": f"union of the {project.adjectives_text()} park layers, overlaps counted once",
                "geometry": union,
            }
        ],
        geometry="geometry",
        crs=parks.crs,
    )


def shared_edge(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> shapely.MultiLineString:
    """The lines along which a park of one country (``a``) and one of another (``b``) touch each other.

    Computed as the line parts of the intersection of the two countries'
    park boundaries; points where they only touch are dropped.
    Empty (not an error) when the parks do not touch or one side has none.
    """
    return _line_parts(shapely.intersection(_boundary(a.geometry.array), _boundary(b.geometry.array)))


def shared_edges_by_pair(parks: gpd.GeoDataFrame, pairs) -> dict[tuple[str, str], shapely.MultiLineString]:
    """:func:`shared_edge` of each pair of countries (``country_iso3`` codes) of ``pairs``."""
    codes = parks["country_iso3"]
    return {(a, b): shared_edge(parks[codes == a], parks[codes == b]) for a, b in pairs}


def _boundary(geoms) -> shapely.Geometry:
    """The boundary of the union of polygons; an empty line when there are none."""
    union = _dissolve(geoms)
    return shapely.boundary(_polygonal([union])[0]) if not union.is_empty else shapely.LineString()


def _line_parts(geom) -> shapely.MultiLineString:
    """The non-empty line parts of ``geom`` (an intersection may also hold points and empty parts)."""
    parts = shapely.get_parts(geom) if geom is not None else []
    return shapely.MultiLineString([g for g in parts if g.geom_type == "LineString" and not g.is_empty])


def _same_geometries(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    """Whether two layers hold the same ids and bit-identical geometries in the same CRS."""
    if len(a) != len(b) or a.crs != b.crs:
        return False
    if ("id" in a) != ("id" in b) or ("id" in a and not np.array_equal(a["id"].to_numpy(), b["id"].to_numpy())):
        return False
    return bool(np.all(shapely.equals_identical(np.asarray(a.geometry.array), np.asarray(b.geometry.array))))


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge_parks` returns: the merged layers and every report."""

    parks: gpd.GeoDataFrame
    snapped_parks: gpd.GeoDataFrame
    by_country: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame
    clipped: pd.DataFrame
    snapped: pd.DataFrame
    coverage_before: dict
    coverage_after: dict
    overlaps_resolved: pd.DataFrame


def merge_parks(
    parks: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame,
    border: gpd.GeoDataFrame,
    *,
    tolerance_m: float = SNAP_TOLERANCE_M,
    gap_width_m: float = GAP_WIDTH_M,
    project: Project | None = None,
    on_snapped: Callable[[gpd.GeoDataFrame], object] | None = None,
) -> MergeResult:
    """Clip to land, snap to the border, check the coverage, resolve overlaps, dissolve.

    Parameters
    ----------
    parks : GeoDataFrame
        Every country's parks (:func:`combine_parks`).
    countries : GeoDataFrame
        Country land polygons.
    border : GeoDataFrame
        Border lines between the countries.
    tolerance_m : float, keyword-only
        Snapping tolerance (m), default 500.
    gap_width_m : float, keyword-only
        Gaps narrower than this (m) are reported, default 1000.
    project : Project, keyword-only
        Names the proposed park; default the bundled project.
    on_snapped : callable, keyword-only
        Called with the snapped parks (:attr:`MergeResult.snapped_parks`) as soon as they exist,
        before the coverage is checked and overlaps resolved, so that a caller can start work on
        them meanwhile (``bigcats build`` starts the display geometry). It must not change them.

    Returns
    -------
    MergeResult
    """
    clipped, clip_report = clip_to_land(parks, countries)
    snapped, snap_report = snap_to_border(clipped, border, countries, tolerance_m=tolerance_m)
    if on_snapped is not None:
        on_snapped(snapped)
    coverage_before = check_coverage(snapped, gap_width_m=gap_width_m)
    resolved, overlap_report = resolve_overlaps(snapped)
    if _same_geometries(resolved, snapped):
        # Nothing overlapped, so nothing moved: the check would find the same (a copy each).
        coverage_after = {name: table.copy() for name, table in coverage_before.items()}
    else:
        coverage_after = check_coverage(resolved, gap_width_m=gap_width_m)
    return MergeResult(
        parks=resolved,
        snapped_parks=snapped,
        by_country=dissolve_by_country(resolved),
        proposed=proposed_park(resolved, project=project),
        clipped=clip_report,
        snapped=snap_report,
        coverage_before=coverage_before,
        coverage_after=coverage_after,
        overlaps_resolved=overlap_report,
    )
