"""The parks as one coverage: overlaps, narrow gaps and edges not shared exactly."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.measure import geodesic_length_m
from geo.overlay.ops import GAP_WIDTH_M, _area_ha, _dissolve, _local_metric_crs, _polygonal, _robust, _snap_grid


def check_coverage(parks: gpd.GeoDataFrame, *, gap_width_m: float = GAP_WIDTH_M) -> dict[str, pd.DataFrame]:
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
    candidates = [
        g for g in shapely.get_parts(_polygonal([_robust(shapely.difference, closed, union_m)])[0]) if not g.is_empty
    ]
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
    distinct = (
        np.array([len(set(park_idx[piece_idx == i])) for i in range(len(pieces))]) if len(piece_idx) else touching
    )
    filled = shapely.union_all([shapely.Polygon(shapely.get_exterior_ring(p)) for p in shapely.get_parts(union_m)])
    grown = shapely.buffer(filled, touch_m)
    shapely.prepare(grown)  # indexed once for every piece: covers(grown, piece) is covered_by(piece, grown)
    enclosed = shapely.covers(grown, pieces)
    return list(pieces[(distinct >= 2) | enclosed])
