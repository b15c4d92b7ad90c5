"""Display geometry: countries and parks simplified as one coverage within an area budget.

See :func:`display_layers`; the borders and the stretch are derived from the displayed countries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.project import Project, bundled_project
from geo.render.simplify import _display_geometries, _geodesic_ha


@dataclass(frozen=True)
class DisplayLayers:
    """Display geometry: one simplified coverage and what was chosen.

    Attributes
    ----------
    countries, parks, proposed, borders, stretch : GeoDataFrame
        The input rows with display geometry (EPSG:4326).
    tolerance_deg : float
        Coarsest coverage simplification tolerance used, degrees (features over their
        area budget at it were simplified at finer ones).
    grid_deg : float
        Coordinate grid the display coordinates were snapped to, degrees.
    max_area_error : float
        Largest relative difference between a polygon's displayed and true geodesic area.
    """

    countries: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    proposed: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    stretch: gpd.GeoDataFrame
    tolerance_deg: float
    grid_deg: float
    max_area_error: float


def _dissolve_shown(geoms: np.ndarray, *, simplified: bool) -> shapely.Geometry:
    """Union of the displayed parks: the fast coverage union when they are the simplified coverage."""
    if simplified and len(geoms):
        try:
            return shapely.coverage_union_all(geoms)
        except shapely.errors.GEOSException:  # nested parks (a reserve inside a national park)
            pass
    return shapely.union_all(geoms)


def _coverage_layers(geoms: np.ndarray) -> np.ndarray:
    """A layer number per geometry (0, 1, ...) such that no two of one layer share interior.

    Greedy in order: each geometry takes the lowest layer none of its overlapping neighbours
    already holds. Parks that already form a coverage are all layer 0.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.zeros(len(geoms), dtype=int)
    if len(geoms) < 2:
        return out
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    overlap = shapely.relate_pattern(geoms[a], geoms[b], "T********")
    later: dict[int, list[int]] = {}
    for i, j in zip(a[overlap], b[overlap], strict=True):
        later.setdefault(int(j), []).append(int(i))
    for j in sorted(later):
        taken = {int(out[i]) for i in later[j]}
        out[j] = min(k for k in range(len(taken) + 1) if k not in taken)
    return out


def display_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    parks: gpd.GeoDataFrame,
    *,
    max_area_error: float = 0.005,
    project: Project | None = None,
) -> DisplayLayers:
    """Simplify countries and parks for display as one coverage, and derive the borders from it.

    The country and park boundaries are noded together on a coordinate grid (snap rounding)
    and polygonised into faces that tile them without overlaps; the faces are simplified
    with :func:`shapely.coverage_simplify` (shared edges stay shared, so no slivers or gaps;
    it only removes vertices, so they stay on the grid); each feature is the union of its
    faces, and the countries and the parks each stay a valid coverage. Every feature starts
    at the coarsest tolerance; only the features whose geodesic area misses the true one
    by more than ``max_area_error`` move to finer tolerances (with the edges they share),
    until every one is within. Small islands and lakes are left out within half of each
    feature's budget (:func:`_drop_rings_within`). Should a feature miss its budget even
    unsimplified, the map shows full resolution (``tolerance_deg`` 0). Displayed borders are
    the shared edges of the displayed countries.

    Parameters
    ----------
    layers : mapping of role to GeoDataFrame
        Needs ``countries``, ``border`` and ``stretch`` (EPSG:4326).
    parks : GeoDataFrame
        Both countries' parks (EPSG:4326).
    max_area_error : float, default 0.005
        Largest allowed relative area difference per feature (0.005 = 0.5 %).

    Returns
    -------
    DisplayLayers
    """
    countries = layers["countries"]
    originals = list(countries.geometry.values) + list(parks.geometry.values)
    n = len(countries)
    true_ha = _geodesic_ha(originals)
    # 0 countries; parks from 1 on, nested or overlapping parks (a reserve inside a national park)
    # each on a further layer, so that every layer is a coverage
    layer = np.concatenate([np.zeros(n, dtype=int), 1 + _coverage_layers(parks.geometry.values)])
    tolerance_deg, grid_deg, shown, error = _display_geometries(originals, true_ha, layer, max_area_error)
    n = len(countries)
    d_countries = countries.set_geometry(gpd.GeoSeries(shown[:n], crs="EPSG:4326", index=countries.index))
    d_parks = parks.set_geometry(gpd.GeoSeries(shown[n:], crs="EPSG:4326", index=parks.index))
    proposed_geom = _dissolve_shown(
        np.array(shown[n:], dtype=object), simplified=bool(tolerance_deg or grid_deg) and layer.max() <= 1
    )
    d_proposed = gpd.GeoDataFrame({"id": ["proposed_park"]}, geometry=[proposed_geom], crs="EPSG:4326")

    by_iso = dict(zip(countries["country_iso3"], shown[:n], strict=True))
    border = layers["border"]
    border_geoms = []
    for _, row in border.iterrows():
        a, _, b = str(row["id"]).partition("-")
        if a in by_iso and b in by_iso:
            edge = shapely.intersection(shapely.boundary(by_iso[a]), shapely.boundary(by_iso[b]))
            parts = shapely.get_parts(edge)
            edge = shapely.line_merge(shapely.union_all(parts[shapely.get_type_id(parts) != 0]))  # lines only
            border_geoms.append(edge)
        else:
            border_geoms.append(shapely.set_precision(shapely.simplify(row.geometry, tolerance_deg), grid_deg))
    d_borders = border.set_geometry(gpd.GeoSeries(border_geoms, crs="EPSG:4326", index=border.index))
    stretch = layers["stretch"]
    # the stretch follows its pair's displayed border (the stretches' pairs of the project)
    pairs = {s.pair_id for s in (bundled_project() if project is None else project).stretches}
    lines = [g for i, g in zip(border["id"], border_geoms, strict=True) if i in pairs]
    along = lines[0] if len(lines) == 1 else shapely.union_all(lines) if lines else None
    stretch_geoms = []
    for geom in stretch.geometry:
        if along is not None and tolerance_deg:
            # a coarse buffer does: it only picks the part of the border along the stretch. It is of
            # the stretch simplified at the tolerance (within it of the stretch, so the buffer still
            # holds every point within one tolerance of it): buffering the 1,400-vertex bundled
            # stretch took 0.15 s, simplified 2 ms
            rough = shapely.simplify(geom, tolerance_deg)
            near = shapely.intersection(along, shapely.buffer(rough, 2 * tolerance_deg, quad_segs=2))
            stretch_geoms.append(shapely.line_merge(near) if not near.is_empty else geom)
        else:
            stretch_geoms.append(geom)
    d_stretch = stretch.set_geometry(gpd.GeoSeries(stretch_geoms, crs="EPSG:4326", index=stretch.index))
    return DisplayLayers(d_countries, d_parks, d_proposed, d_borders, d_stretch, tolerance_deg, grid_deg, error)


def _label_point(geom: shapely.Geometry) -> shapely.Point:
    """Where a polygon's label goes: the pole of inaccessibility of its largest part (always inside)."""
    from shapely.ops import polylabel

    parts = shapely.get_parts(geom)
    largest = parts[int(np.argmax(shapely.area(parts)))]
    return polylabel(largest, tolerance=0.005)
