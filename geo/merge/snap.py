"""Snapping park edges that stop short of the border onto the border line."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from pyproj import Transformer

from geo.merge.clip import clipped_geometries
from geo.overlay.ops import SNAP_TOLERANCE_M, _area_ha, _dissolve_land, _local_metric_crs, _polygonal


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
            ring_near = near[bounds[k] : bounds[k + 1]]
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
    tolerance_m: float = SNAP_TOLERANCE_M,
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
    snapped_geoms = np.array(snapped, dtype=object)
    # only the parks a snap moved can gain (each snap returns a new geometry, or the same object)
    rows = np.flatnonzero([a is not b for a, b in zip(snapped_geoms, before_geoms, strict=True)])
    gained = np.array([shapely.Polygon()] * len(snapped_geoms), dtype=object)
    if len(rows):
        gained[rows] = _polygonal(shapely.difference(snapped_geoms[rows], before_geoms[rows]))
    others = shapely.STRtree(before_geoms)
    for i in np.flatnonzero(~shapely.is_empty(gained)):
        near = [j for j in others.query(gained[i], predicate="intersects") if j != i]
        if near:
            gained[i] = _polygonal([shapely.difference(gained[i], shapely.union_all(before_geoms[near]))])[0]
    filled = _polygonal(shapely.union(before_geoms, gained))
    out = parks.copy()
    out[out.geometry.name] = filled
    out[out.geometry.name] = clipped_geometries(out, countries)
    before = np.asarray(parks.geometry.array, dtype=object)
    after = np.asarray(out.geometry.array, dtype=object)
    # a park that came out as it went in gained and lost nothing: only the others are overlaid
    changed = ~np.asarray(shapely.equals_identical(after, before), dtype=bool)
    gained_ha, lost_ha = np.zeros(len(parks)), np.zeros(len(parks))
    if changed.any():
        gained_ha[changed] = _area_ha(_polygonal(shapely.difference(after[changed], before[changed])), parks.crs)
        lost_ha[changed] = _area_ha(_polygonal(shapely.difference(before[changed], after[changed])), parks.crs)
    report = pd.DataFrame(
        {
            "id": parks["id"].to_numpy(),
            "country_iso3": parks["country_iso3"].to_numpy(),
            "gained_ha": gained_ha,
            "lost_ha": lost_ha,
        }
    )
    return out, report
