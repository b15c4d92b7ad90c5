"""Merging the countries' parks into one coverage and the proposed park (any number of countries)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from geo.errors import DataError
from geo.measure import M2_PER_HA, densify_geodesic, geodesic_area_m2, geodesic_length_m
from geo.project import Project, bundled_project

__all__ = [
    "CLIP_NOISE_HA",
    "IUCN_PRIORITY",
    "MergeResult",
    "WRONG_SIDE_FRACTION",
    "check_coverage",
    "clip_to_land",
    "combine_parks",
    "dissolve_by_country",
    "merge_parks",
    "proposed_park",
    "resolve_overlaps",
    "shared_edge",
    "shared_edges_by_pair",
    "snap_to_border",
    "wrong_side",
]



def _dissolve_land(geoms) -> shapely.Geometry:
    """One country's land as one geometry; a single polygon is used as it is (no overlay)."""
    geoms = np.asarray(geoms, dtype=object)
    return geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)


def _dissolve(geoms, *, valid: bool | None = None) -> shapely.Geometry:
    """Union of polygons (the fast coverage union when they form a valid coverage), without
    degenerate holes (see :func:`_drop_degenerate_holes`)."""
    return _drop_degenerate_holes(_union(geoms, valid=valid))


def _drop_degenerate_holes(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` without the holes of no planar area (collinear points left where a union's edges
    met: their area on the ellipsoid, a few m² between geodesics, depends on their winding)."""
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
    """``op(a, b)`` (a shapely overlay), snap-rounded to :func:`_snap_grid` where GEOS's floating
    noding fails on nearly coincident edges."""
    try:
        return op(a, b)
    except shapely.errors.GEOSException:
        return op(a, b, grid_size=_snap_grid([a, b]))


def _snap_grid(geoms) -> float:
    """A snap-rounding grid 10^-12 of the largest coordinate of ``geoms`` (never zero)."""
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    size = float(np.nanmax(np.abs(bounds))) if len(bounds) else 1.0
    return max(size, 1.0) * 1e-12


def combine_parks(*layers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack the countries' park layers into one GeoDataFrame in EPSG:4326.

    Edges longer than 1 km get points along their geodesic (:func:`geo.measure.densify_geodesic`):
    the same polygons, whose overlays in lon/lat then keep their geodesic areas.
    """
    frames = [layer.to_crs("EPSG:4326") for layer in layers if len(layer)]
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


# --------------------------------------------------------------------------- border-aware merge

#: IUCN categories from the highest priority to the lowest (wdpar's order);
#: anything else (Not Reported, Not Applicable, missing) ranks after them.
IUCN_PRIORITY: tuple[str, ...] = ("Ia", "Ib", "II", "III", "IV", "V", "VI")


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


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (intersections may leave lines and points)."""
    geoms = shapely.make_valid(np.asarray(geoms, dtype=object))
    out = []
    for geom in geoms:
        if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
            out.append(geom)
            continue
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        out.append(shapely.union_all(parts) if parts else shapely.Polygon())
    return np.array(out, dtype=object)


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
    report["other_side_ha"], report["other_iso3"] = _clipped_across(before, after, report, countries, parks.crs)
    return clipped, report


def _clipped_across(before, after, report: pd.DataFrame, countries, crs) -> tuple[np.ndarray, np.ndarray]:
    """Of the ground clipped off each park, the hectares on another country's land, and those countries."""
    rows = np.flatnonzero(report["removed_ha"].to_numpy() >= CLIP_NOISE_HA)
    ha, where = np.zeros(len(report)), np.full(len(report), "", dtype=object)
    if len(rows):
        removed = _polygonal(shapely.difference(before[rows], after[rows]))
        ha[rows], where[rows] = _other_side_ha(
            removed, report["country_iso3"].to_numpy(dtype=object)[rows], _lands(countries, crs), crs
        )
    return np.minimum(ha, np.maximum(report["removed_ha"].to_numpy(), 0.0)), where  # removed may be -1e-10


def _snap_ring(coords: np.ndarray, line: shapely.LineString, near: np.ndarray, slack: float) -> np.ndarray:
    """Move the ring vertices flagged ``near`` onto ``line``, following the line between them.

    Works in the layer's own coordinates (lon/lat), so the border's vertices are
    inserted exactly as they are and the parks of both sides share them bit for bit.
    """
    closed = coords[:-1]
    near = near[:-1]
    if not near.any() or near.all():
        return coords  # nothing near, or a ring entirely along the border: left alone
    # Only the positions of the vertices that move are used (the ends of each run):
    # locating the others on a long border line would cost a full pass over it each.
    position = np.full(len(closed), np.nan)
    position[near] = shapely.line_locate_point(line, shapely.points(closed[near]))
    return _walk_runs(closed, near, position, line, slack)


def _walk_runs(
    closed: np.ndarray, near: np.ndarray, position: np.ndarray, line: shapely.LineString, slack: float
) -> np.ndarray:
    """The snapped ring: each run of ``near`` vertices replaced by the line between its ends.

    ``position`` holds the distance along ``line`` of (at least) every ``near`` vertex;
    ``closed`` is the ring without its closing vertex, which the result repeats.
    """
    # Start the walk at a vertex that stays, so runs of snapped vertices are contiguous.
    start = int(np.flatnonzero(~near)[0])
    order = np.roll(np.arange(len(closed)), -start)
    out: list[np.ndarray] = []
    k = 0
    while k < len(order):
        i = order[k]
        if not near[i]:
            out.append(closed[i][None, :])
            k += 1
            continue
        run = [i]
        while k + 1 < len(order) and near[order[k + 1]]:
            k += 1
            run.append(order[k])
        k += 1
        a, b = position[run[0]], position[run[-1]]
        run_length = float(np.sum(np.hypot(*np.diff(closed[run], axis=0).T))) if len(run) > 1 else 0.0
        if abs(b - a) > 1.5 * run_length + 2 * slack:
            # The border takes another way between these vertices (a meander, another
            # part): following it would cut the park, so the run stays as it was.
            out.append(closed[run])
            continue
        piece = shapely.ops.substring(line, min(a, b), max(a, b))
        piece_coords = np.asarray(piece.coords)[:, :2] if piece.geom_type == "LineString" else np.empty((0, 2))
        if len(piece_coords) <= 1:
            piece_coords = shapely.get_coordinates(shapely.line_interpolate_point(line, [a, b]))
        elif a > b:
            piece_coords = piece_coords[::-1]
        out.append(piece_coords)
    ring = np.vstack(out)
    return np.vstack([ring, ring[:1]])


def _indexed(lines: shapely.Geometry) -> shapely.Geometry:
    """``lines`` prepared (GEOS builds an index of its segments on first use), for distance tests."""
    shapely.prepare(lines)
    return lines


def _within(points: np.ndarray, lines: shapely.Geometry, distance: float) -> np.ndarray:
    """Whether each point lies within ``distance`` of ``lines`` (prepared by :func:`_indexed`)."""
    return np.asarray(shapely.dwithin(lines, points, distance), dtype=bool)


def _ring_vertices(geom, to_metric) -> tuple[list, list, np.ndarray, np.ndarray, np.ndarray] | None:
    """The rings of a (multi)polygon's polygons and all their vertices, in lon/lat and in metres.

    Returns ``(rings per polygon, rings, lon/lat, x, y)``, or None without a polygon.
    :func:`snap_to_border` computes it once per park and again only after a snap moved it.
    """
    polys = [poly for poly in shapely.get_parts(geom) if poly.geom_type == "Polygon"]
    rings = [[np.asarray(ring.coords)[:, :2] for ring in (poly.exterior, *poly.interiors)] for poly in polys]
    flat = [coords for poly_rings in rings for coords in poly_rings]
    if not flat:
        return None
    coords = np.concatenate(flat)
    x, y = to_metric.transform(coords[:, 0], coords[:, 1])
    return rings, flat, coords, x, y


def _snap_polygon(geom, vertices, line, line_m, land_edge, tolerance_m: float, slack: float):
    """Snap one (multi)polygon onto one border line; the same object back when nothing moved.

    ``vertices`` is :func:`_ring_vertices` of ``geom``.
    """
    if vertices is None:
        return geom
    # Every vertex of every ring in one pass (one transform, one indexed query each),
    # then split back per ring: the per-vertex tests are the same, only batched.
    rings, flat, coords, x, y = vertices
    # Only the vertices inside the line's box grown by the tolerance can be within it
    # (outside, one axis alone is farther); the others are never made into points.
    xmin, ymin, xmax, ymax = shapely.bounds(line_m)
    near = (x >= xmin - tolerance_m) & (x <= xmax + tolerance_m) & (y >= ymin - tolerance_m) & (y <= ymax + tolerance_m)
    # Indexed tests against the lines' segments (see _indexed), not full distances.
    if near.any():
        near[near] = _within(shapely.points(x[near], y[near]), line_m, tolerance_m)
    # A vertex already on its country's land edge (the border, a coast, a river
    # bank where the border runs in water) is as far as the park can go: it stays.
    if near.any():
        near[near] = ~_within(shapely.points(coords[near]), land_edge, 1e-9)
    if not near.any():
        return geom
    bounds = np.cumsum([0, *(len(c) for c in flat)])
    moved = False
    out, k = [], 0
    for poly_rings in rings:
        new_rings = []
        for ring_coords in poly_rings:
            ring_near = near[bounds[k]:bounds[k + 1]]
            k += 1
            new = _snap_ring(ring_coords, line, ring_near, slack) if ring_near.any() else ring_coords
            moved |= new is not ring_coords
            new_rings.append(new)
        out.append(shapely.Polygon(new_rings[0], new_rings[1:]))
    if not moved:
        return geom
    return _polygonal([shapely.union_all(_polygonal(out))])[0]


def snap_to_border(
    parks: gpd.GeoDataFrame,
    border: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 500.0,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Snap park edges lying within ``tolerance_m`` of the border onto the border line.

    Each vertex within the tolerance moves to the nearest point of the border
    line (the part of ``border`` nearest to it), and the border's own vertices
    between consecutive snapped vertices are inserted, so a park that stopped
    short now follows the border exactly and meets the neighbouring country's
    park. The result is clipped to the park's country land again, so a snap
    never crosses the border. Snapping only adds ground: where moving a
    vertex would cut a wedge off a park (its edge meets the border at a
    shallow angle), the park keeps it, so ``lost_ha`` is 0 up to rounding;
    and it never fills ground another park already covers.
    Vertices already on their country's land edge stay where they are.
    Distances are taken in a local azimuthal
    equidistant projection; areas are geodesic.

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``id`` and ``country_iso3`` (clipped to land first).
    border : GeoDataFrame
        The border lines (LineString/MultiLineString). With ``left_iso3`` and
        ``right_iso3`` columns, only the lines between two of the parks'
        countries are used (not, say, the China–North Korea border).
    countries : GeoDataFrame
        Country land polygons with ``country_iso3``.
    tolerance_m : float, keyword-only
        Largest distance (m) a vertex moves. Default 500.

    Returns
    -------
    snapped : GeoDataFrame
        New GeoDataFrame, same rows.
    report : DataFrame
        ``id``, ``country_iso3``, ``gained_ha``, ``lost_ha`` (geodesic).
    """
    if tolerance_m < 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    if {"left_iso3", "right_iso3"} <= set(border.columns):
        # Only the border between the parks' own countries: the parks meet along it.
        countries_here = set(parks["country_iso3"])
        between = border["left_iso3"].isin(countries_here) & border["right_iso3"].isin(countries_here)
        border = border[between & (border["left_iso3"] != border["right_iso3"])]
    metric = _local_metric_crs(parks)
    to_metric = Transformer.from_crs(parks.crs, metric, always_xy=True)
    lines = [
        line
        for line in shapely.get_parts(shapely.line_merge(shapely.union_all(border.to_crs(parks.crs).geometry.array)))
        if line.geom_type == "LineString"
    ]
    lines_m = gpd.GeoSeries(lines, crs=parks.crs).to_crs(metric).array
    tree = shapely.STRtree(np.asarray(lines_m, dtype=object))
    # The tolerance in degrees, generously (for the run check only, never for distances).
    lat0 = float(np.mean(parks.total_bounds[1::2]))
    slack = tolerance_m / (111_000.0 * max(np.cos(np.radians(lat0)), 0.1))
    land = countries.to_crs(parks.crs)
    # Prepared (indexed) lines make the per-vertex distance tests fast: a country's land
    # edge has ~10^4-10^5 vertices and each park ring is tested against it.
    # Only the parks' own countries are needed (not, say, North Korea's coast).
    park_countries = set(parks["country_iso3"])
    land_edges = {
        iso3: _indexed(shapely.boundary(_dissolve_land(g.geometry.array)))
        for iso3, g in land.groupby("country_iso3")
        if iso3 in park_countries
    }
    # Built on first use: most parts of a long border are nowhere near a park.
    prepared_lines: dict[int, shapely.Geometry] = {}
    snapped = []
    for geom, geom_m, iso3 in zip(
        parks.geometry.array, parks.geometry.to_crs(metric).array, parks["country_iso3"], strict=True
    ):
        if geom is None or geom.is_empty:
            snapped.append(geom)
            continue
        result = geom
        vertices = None
        for j in tree.query(geom_m, predicate="dwithin", distance=tolerance_m):
            edge = land_edges[iso3] if iso3 in land_edges else shapely.LineString()
            if j not in prepared_lines:
                prepared_lines[j] = _indexed(lines_m[j])
            if vertices is None:  # the park's vertices, projected once until a snap moves them
                vertices = _ring_vertices(result, to_metric)
            moved = _snap_polygon(result, vertices, lines[j], prepared_lines[j], edge, tolerance_m, slack)
            if moved is not result:
                result, vertices = moved, None
        snapped.append(result)
    # Snapping only fills: a vertex pulled onto the border can cut a wedge off a park
    # whose edge meets the border at a shallow angle; that ground stays protected.
    # Nor does it fill ground another park already covers: that is not a gap.
    before_geoms = np.asarray(parks.geometry.array, dtype=object)
    gained = _polygonal(shapely.difference(np.array(snapped, dtype=object), before_geoms))
    others = shapely.STRtree(before_geoms)
    for i in np.flatnonzero(~shapely.is_empty(gained)):
        near = [j for j in others.query(gained[i], predicate="intersects") if j != i]
        if near:
            gained[i] = _polygonal([shapely.difference(gained[i], shapely.union_all(before_geoms[near]))])[0]
    filled = _polygonal(shapely.union(before_geoms, gained))
    out = parks.copy()
    out[out.geometry.name] = filled
    out, _ = clip_to_land(out, countries)
    before = np.asarray(parks.geometry.array, dtype=object)
    after = np.asarray(out.geometry.array, dtype=object)
    report = pd.DataFrame(
        {
            "id": parks["id"].to_numpy(),
            "country_iso3": parks["country_iso3"].to_numpy(),
            "gained_ha": _area_ha(_polygonal(shapely.difference(after, before)), parks.crs),
            "lost_ha": _area_ha(_polygonal(shapely.difference(before, after)), parks.crs),
        }
    )
    return out, report


def check_coverage(parks: gpd.GeoDataFrame, *, gap_width_m: float = 1_000.0) -> dict[str, pd.DataFrame]:
    """Check the parks of both countries as one coverage: overlaps and narrow gaps.

    An overlap is the intersection of two parks with a positive area. A gap is
    a piece of ground covered by no park that disappears when the union of the
    parks is closed (grown then shrunk) by ``gap_width_m / 2``: a gap narrower
    than ``gap_width_m`` between parks or inside one. The edges that break
    the coverage are also listed (``shapely.coverage_invalid_edges``).

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``id``.
    gap_width_m : float, keyword-only
        Gaps narrower than this (m) are reported. Default 1000.

    Returns
    -------
    dict of DataFrame
        ``overlaps``: ``id_a``, ``id_b``, ``area_ha``, ``lon``, ``lat``, ``geometry``;
        ``gaps``: ``area_ha``, ``lon``, ``lat``, ``geometry``;
        ``invalid_edges``: ``id``, ``length_m`` of edges not shared exactly.
    """
    crs = parks.crs
    geoms = np.asarray(parks.geometry.array, dtype=object)
    ids = parks["id"].to_numpy() if "id" in parks else np.arange(len(parks))
    edges = shapely.coverage_invalid_edges(geoms)
    valid = bool(shapely.is_empty(edges).all())
    if valid:
        left = right = np.zeros(0, dtype=int)  # a valid coverage has no overlaps
    else:
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    keep = shapely.relate_pattern(geoms[left], geoms[right], "2********")
    left, right = left[keep], right[keep]
    inter = _polygonal(shapely.intersection(geoms[left], geoms[right])) if len(left) else np.array([], dtype=object)
    area = _area_ha(inter, crs) if len(inter) else np.array([])
    real = area > 0
    points = shapely.point_on_surface(inter[real]) if real.any() else np.array([], dtype=object)
    overlaps = gpd.GeoDataFrame(
        {
            "id_a": ids[left[real]],
            "id_b": ids[right[real]],
            "area_ha": area[real],
            "lon": shapely.get_x(points) if len(points) else [],
            "lat": shapely.get_y(points) if len(points) else [],
        },
        geometry=list(inter[real]),
        crs=crs,
    )
    metric = _local_metric_crs(parks)
    projected = np.asarray(parks.geometry.to_crs(metric).array, dtype=object)
    # A park valid in lon/lat can self-intersect once projected (a narrow neck, a vertex
    # close to an edge): repaired here, so the union below never meets a TopologyException.
    bent = ~np.asarray(shapely.is_valid(projected), dtype=bool) & ~shapely.is_missing(projected)
    if bent.any():
        projected[bent] = _polygonal(projected[bent])
        valid = False
    union_m = _dissolve(projected, valid=valid)
    if not shapely.is_valid(union_m):  # a coverage union of edges that differ in their last bits
        union_m = shapely.union_all(projected, grid_size=_snap_grid(projected))
    half = gap_width_m / 2
    closed = shapely.buffer(shapely.buffer(union_m, half, quad_segs=4), -half, quad_segs=4)
    candidates = [g for g in shapely.get_parts(_polygonal([_robust(shapely.difference, closed, union_m)])[0])
                  if not g.is_empty]
    gap_parts = _between_parks(candidates, projected, union_m)
    gaps = gpd.GeoDataFrame(geometry=gpd.GeoSeries(gap_parts, crs=metric).to_crs(crs).array, crs=crs)
    gaps.insert(0, "area_ha", _area_ha(gaps.geometry.array, crs) if len(gaps) else np.array([]))
    gaps = gaps[gaps["area_ha"] > 1e-4].reset_index(drop=True)
    points = shapely.point_on_surface(gaps.geometry.array) if len(gaps) else np.array([])
    gaps.insert(1, "lon", shapely.get_x(points) if len(gaps) else [])
    gaps.insert(2, "lat", shapely.get_y(points) if len(gaps) else [])
    invalid = pd.DataFrame({"id": ids, "length_m": np.nan_to_num(geodesic_length_m(gpd.GeoSeries(edges, crs=crs)))})
    return {
        "overlaps": overlaps,
        "gaps": gaps,
        "invalid_edges": invalid[invalid["length_m"] > 0].reset_index(drop=True),
    }


def _between_parks(candidates: list, parks_m: np.ndarray, union_m: shapely.Geometry, *, touch_m: float = 1.0) -> list:
    """Keep the pieces that are real gaps in the coverage, not notches in one outline.

    Closing the union also fills concave notches of a single park's outline (a
    bay, a river bend). A gap is kept when it is bounded by two or more parks
    (ground between them), or when the coverage encloses it (a hole, GEOS's own
    notion of a coverage gap).
    """
    if not candidates:
        return []
    pieces = np.asarray(candidates, dtype=object)
    # Candidate pairs by the pieces' boxes grown by touch_m, then the exact test with each
    # (large) park prepared, so its segments are indexed once rather than scanned per piece.
    xmin, ymin, xmax, ymax = shapely.bounds(pieces).T
    grown_boxes = shapely.box(xmin - touch_m, ymin - touch_m, xmax + touch_m, ymax + touch_m)
    piece_idx, park_idx = shapely.STRtree(parks_m).query(grown_boxes)
    shapely.prepare(parks_m)  # check_coverage's own projected copies
    near = shapely.dwithin(parks_m[park_idx], pieces[piece_idx], touch_m)
    piece_idx, park_idx = piece_idx[near], park_idx[near]
    touching = np.bincount(piece_idx, minlength=len(pieces)) if len(piece_idx) else np.zeros(len(pieces), int)
    # Count distinct parks per piece (a park may appear once per piece already; be safe).
    distinct = np.array([len(set(park_idx[piece_idx == i])) for i in range(len(pieces))]) if len(piece_idx) else touching
    filled = shapely.union_all([shapely.Polygon(shapely.get_exterior_ring(p)) for p in shapely.get_parts(union_m)])
    grown = shapely.buffer(filled, touch_m)
    shapely.prepare(grown)  # indexed once for every piece: covers(grown, piece) is covered_by(piece, grown)
    enclosed = shapely.covers(grown, pieces)
    return list(pieces[(distinct >= 2) | enclosed])


def _priority(parks: gpd.GeoDataFrame) -> np.ndarray:
    """Sort key, lower wins: IUCN rank, then status year (earlier wins), then row order."""
    rank_of = {cat: i for i, cat in enumerate(IUCN_PRIORITY)}
    cats = parks["iucn_cat"] if "iucn_cat" in parks else pd.Series([None] * len(parks), index=parks.index)
    rank = np.array([rank_of.get(str(c).strip(), len(IUCN_PRIORITY)) for c in cats])
    years = (
        pd.to_numeric(parks["status_year"], errors="coerce")
        if "status_year" in parks
        else pd.Series(np.nan, index=parks.index)
    )
    year = years.fillna(9999).to_numpy()
    return np.lexsort((np.arange(len(parks)), year, rank))


def resolve_overlaps(parks: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give each shared piece to the higher-priority park, as wdpar does.

    Priority: IUCN category (Ia, Ib, II, III, IV, V, VI, then anything else),
    then the earlier ``status_year``; ties keep the earlier row. The
    lower-priority park loses the shared part.

    Parameters
    ----------
    parks : GeoDataFrame
        Parks with ``id``, ``iucn_cat`` and ``status_year`` (missing ones rank last).

    Returns
    -------
    resolved : GeoDataFrame
        New GeoDataFrame, same rows, without overlaps.
    report : DataFrame
        One row per park that lost ground: ``id``, ``lost_ha``, ``lost_to`` (ids).
    """
    geoms = np.asarray(parks.geometry.array, dtype=object)
    ids = parks["id"].to_numpy() if "id" in parks else np.arange(len(parks))
    order = _priority(parks)
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    if bool(shapely.coverage_is_valid(geoms)):  # no overlaps: nothing to resolve
        return parks.copy(), pd.DataFrame(
            {"id": ids[:0], "lost_ha": np.zeros(0), "lost_to": np.array([], dtype=object)}
        )
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    # Only pairs whose interiors share an area (neighbours that merely touch are fine).
    shared_area = shapely.relate_pattern(geoms[left], geoms[right], "2********")
    left, right = left[shared_area], right[shared_area]
    # Pairs (loser, winner) where the winner ranks higher.
    loser_mask = rank[left] > rank[right]
    losers, winners = left[loser_mask], right[loser_mask]
    new = geoms.copy()
    lost_ha = np.zeros(len(geoms))
    lost_to: list[list[str]] = [[] for _ in geoms]
    before_area = _area_ha(geoms, parks.crs)
    # The pairs grouped by loser (ascending, as np.unique gives them): one pass, not one scan per loser.
    by_loser = np.argsort(losers, kind="stable")
    losers, winners = losers[by_loser], winners[by_loser]
    unique_losers, starts = np.unique(losers, return_index=True)
    for i, above in zip(unique_losers, np.split(winners, starts[1:]), strict=True):
        cut = shapely.union_all(new[above])
        shared = _polygonal([shapely.intersection(new[i], cut)])[0]
        if shared.is_empty or _area_ha([shared], parks.crs)[0] <= 0:
            continue
        new[i] = _polygonal([shapely.difference(new[i], cut)])[0]
        lost_to[i] = [str(ids[j]) for j in above if shapely.intersection(geoms[i], geoms[j]).area > 0]
    changed = np.array([bool(t) for t in lost_to])
    lost_ha[changed] = before_area[changed] - _area_ha(new[changed], parks.crs)
    resolved = parks.copy()
    resolved[resolved.geometry.name] = new
    report = pd.DataFrame(
        {
            "id": ids[changed],
            "lost_ha": lost_ha[changed],
            "lost_to": [", ".join(t) for t in np.array(lost_to, dtype=object)[changed]],
        }
    )
    return resolved, report


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
    tolerance_m: float = 500.0,
    gap_width_m: float = 1_000.0,
    project: Project | None = None,
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

    Returns
    -------
    MergeResult
    """
    clipped, clip_report = clip_to_land(parks, countries)
    snapped, snap_report = snap_to_border(clipped, border, countries, tolerance_m=tolerance_m)
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
