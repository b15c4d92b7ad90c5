"""A polygon coverage simplified arc by arc within a per-polygon area budget (:func:`fit_arcs`).

The arcs (:class:`geo.render.arcs.Arcs`) are simplified at per-arc levels by comparing each
vertex's Visvalingam-Whyatt significance with the level's area; the polygons' areas are summed
over their arcs; the polygons are built once every one is within its budget, then proved valid
(and, if asked, a coverage), their vertices kept again where they are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import shapely

from geo.measure import M2_PER_HA
from geo.render.arcs import Arcs, ragged_excess, vw_significance

__all__ = ["TrueAreas", "fit_arcs", "true_areas"]

#: The true areas (ha) and their bounds (ha, or None when exact), measured while something else
#: runs: called where they are first needed (it may wait for them).
TrueAreas = Callable[[], tuple[np.ndarray, np.ndarray | None]]


def true_areas(
    true_ha: np.ndarray | TrueAreas, true_bound_ha: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(true_ha, true_bound_ha)``, from the arrays as given or from the call that measures them."""
    return true_ha() if callable(true_ha) else (true_ha, true_bound_ha)


def fit_arcs(
    polygons: np.ndarray, true_ha: np.ndarray | TrueAreas, max_area_error: float, tolerances: Sequence[float], *,
    true_bound_ha: np.ndarray | None = None, prove_coverage: bool = True, grid: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simplify a valid coverage so that every polygon's area stays within its budget, arc by arc.

    The polygons are cut into arcs (:class:`Arcs`: every shared edge once, so it stays shared)
    and every vertex of every arc gets its Visvalingam-Whyatt significance once
    (:func:`vw_significance`). An arc at level ``k`` keeps the vertices of significance
    ``tolerances[k]**2`` or more; each arc takes the finest level of the polygons along it.
    Every polygon starts at a level guessed from its area; those whose area (summed over
    their arcs, :meth:`Arcs.areas_m2`: great circles on the authalic sphere, the bound of its
    difference from the geodesic area counted against it, and ``true_bound_ha`` the same for
    ``true_ha`` when that was not measured geodesically either) may miss ``true_ha`` by more
    than ``max_area_error`` move finer: a pass is a comparison per vertex and a sum per arc,
    no geometry is built until every polygon is within. No ring collapses to a line: of one
    whose arcs all went straight (a sliver), the longest keeps its most significant vertex,
    and a ring turned inside out keeps its arcs finer. Then the polygons are built: where
    one is invalid (arcs crossing) or, with ``prove_coverage``, where they are not a coverage
    (an arc passed into another polygon), the arcs there keep their vertices again, as GEOS's
    coverage simplifier keeps a corner that holds another line's vertex. With ``grid``, the
    vertices are snapped to it first, arc by arc (vertex by vertex, as
    :func:`shapely.set_precision` does pointwise: every polygon along an arc gets the same).

    ``true_ha`` may be a call (:data:`TrueAreas`, giving ``true_bound_ha`` too): it is made once
    the arcs and their significance are ready, so the areas can be measured meanwhile.

    Returns ``(simplified polygons, level per polygon, area error per polygon (at its
    largest), over budget per polygon)``; a level of ``len(tolerances)`` is unsimplified.
    Without ``prove_coverage`` each polygon is valid but that they are a coverage is for the
    caller to prove. Raises :class:`shapely.errors.GEOSException` when a polygon is not valid
    even unsimplified.
    """
    full = len(tolerances)
    thresholds = np.asarray([t * t for t in tolerances] + [0.0])  # level `full` keeps every vertex
    arcs = Arcs.from_polygons(polygons, grid)
    xy, offsets = arcs.xy, arcs.arc_offsets
    n_arcs = len(offsets) - 1
    arc_n = np.diff(offsets)
    arc_of = np.repeat(np.arange(n_arcs), arc_n)
    arc_polygon = arcs.arc_geometry()  # the polygon of each arc of each ring
    significance = vw_significance(xy, offsets)
    n_ring_arcs = np.diff(arcs.ring_arc_offsets)
    ring_sign = np.sign(arcs.ring_sums(ragged_excess(xy, offsets)[0]))
    # First guess per polygon: VW removes triangles of about its area each, so start at the
    # coarsest tolerance whose square is a small share of the polygon's area budget.
    level = np.searchsorted(-np.asarray(tolerances), -np.sqrt(0.4 * max_area_error * shapely.area(polygons)))
    arc_min = np.zeros(n_arcs, dtype=int)  # arcs kept finer: of rings turned inside out
    # the level from which each vertex is kept (0: always, the ends; lowered where vertices are kept again)
    need = np.searchsorted(-thresholds, -significance, side="left").astype(np.int16)
    true_ha, true_bound_ha = true_areas(true_ha, true_bound_ha)
    true_bound = np.zeros(len(polygons)) if true_bound_ha is None else true_bound_ha
    valid = np.zeros(len(polygons), bool)  # polygons proved valid as they are now
    built = np.zeros(n_arcs, dtype=int)  # each arc's vertices when the polygons were last built
    while True:
        arc_level = arc_min.copy()
        np.maximum.at(arc_level, arcs.ring_arcs, level[arc_polygon])
        k = np.flatnonzero(need <= arc_level[arc_of])
        kept = np.bincount(arc_of[k], minlength=n_arcs)
        short = np.flatnonzero(np.add.reduceat(kept[arcs.ring_arcs] - 1, arcs.ring_arc_offsets[:-1]) < 3)
        if len(short):
            longest = [
                arcs.ring_arcs[a + int(np.argmax(arc_n[arcs.ring_arcs[a:b]]))]
                for a, b in zip(arcs.ring_arc_offsets[short], arcs.ring_arc_offsets[short + 1], strict=True)
            ]
            for a in np.unique(np.asarray(longest, dtype=int)):
                if arc_n[a] >= 3:  # its most significant inner vertex
                    need[offsets[a] + 1 + int(np.argmax(significance[offsets[a] + 1:offsets[a + 1] - 1]))] = 0
            k = np.flatnonzero(need <= arc_level[arc_of])
            kept = np.bincount(arc_of[k], minlength=n_arcs)
        k_offsets = np.concatenate([[0], np.cumsum(kept)])
        excess, bound = ragged_excess(xy[k], k_offsets)
        coarse = np.minimum.reduceat(arc_level[arcs.ring_arcs], arcs.ring_arc_offsets[:-1]) < full
        flipped = np.flatnonzero((np.sign(arcs.ring_sums(excess)) != ring_sign) & coarse)
        if len(flipped):
            mine = arcs.ring_arcs[np.repeat(arcs.ring_arc_offsets[flipped], n_ring_arcs[flipped])
                                  + _ranges(n_ring_arcs[flipped])]
            arc_min[mine] = np.minimum(full, arc_level[mine] + 2)
            continue
        shown_m2, shown_bound_m2 = arcs.areas_m2(excess, bound)
        errors = (np.abs(shown_m2 / M2_PER_HA - true_ha) + shown_bound_m2 / M2_PER_HA + true_bound) / (
            true_ha - true_bound
        )
        over = errors > max_area_error
        if over.any() and not (level[over] >= full).all():
            # finer, the worse ones faster: each level about halves the tolerance, a quarter of the area
            steps = np.ceil(0.5 * np.log2(errors[over] / max(max_area_error, 1e-12))).astype(int)
            level[over] = np.minimum(full, level[over] + np.clip(steps, 1, 3))
            continue
        geoms = arcs.rebuild(xy[k], k_offsets)
        # the polygons along an arc that changed since they were proved valid are proved again
        # (an arc's vertices only ever grow in number, so a change is a new count)
        now = np.diff(k_offsets)
        valid[arc_polygon[(now != built)[arcs.ring_arcs]]] = False
        built = now
        todo = np.flatnonzero(~valid)
        ok = shapely.is_valid(geoms[todo])
        valid[todo[ok]] = True
        invalid = todo[~ok]
        if len(invalid):
            lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, xy[k], (k_offsets,))
            candidates = np.unique(arcs.ring_arcs[np.isin(arc_polygon, invalid)])
            which, where = _crossing_arcs(lines, arcs.lines(), candidates, now < arc_n, _problem_points(geoms[invalid]))
        elif prove_coverage and not shapely.coverage_is_valid(geoms):
            edges = shapely.coverage_invalid_edges(geoms)
            places = edges[~shapely.is_empty(edges)]
            lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, xy[k], (k_offsets,))
            near = shapely.STRtree(lines).query_nearest(places, max_distance=max(grid, 1e-6), all_matches=True)
            which, where = near[1], places[near[0]]
        else:
            break
        restored = _restore(xy, k, k_offsets, which, where, grid)
        if len(restored):
            need[restored] = 0
        else:  # nothing left to restore there: those arcs move finer
            stuck = which[arc_level[which] < full]
            if not len(stuck):
                raise shapely.errors.GEOSException("the polygons are not a valid coverage even unsimplified")
            arc_min[stuck] = np.minimum(full, arc_level[stuck] + 2)
    return geoms, level, errors, over


def _ranges(counts: np.ndarray) -> np.ndarray:
    """``0..c-1`` for each ``c`` in ``counts``, one after the other."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _crossing_arcs(
    simple: np.ndarray, original: np.ndarray, candidates: np.ndarray, moved: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The arcs to keep finer, and where (a geometry each; None for all of the arc).

    ``candidates`` are the arcs of invalid faces (indices into the simplified arcs ``simple``).
    Those that cross themselves (all of them) or another, or touch another but at both their
    ends (a valid coverage's arcs meet only at their ends: the nodes): where they meet. Only
    arcs that ``moved`` (lost vertices) can: two as they were are arcs of the valid coverage.
    Where none do (a hole the simplified shell passed by whole, now outside it), the moved
    arcs whose original box holds one of ``points`` (where GEOS found each face invalid) went
    round it before: there. Where none of those either, all of them, all along.
    """
    lines = simple[candidates]
    arcs_out: list[np.ndarray] = []
    where: list[np.ndarray] = []
    knotted = np.flatnonzero(~shapely.is_simple(lines))
    arcs_out.append(candidates[knotted])
    where.append(np.full(len(knotted), None, dtype=object))
    mine = np.flatnonzero(moved[candidates])
    a, b = shapely.STRtree(lines).query(lines[mine], predicate="intersects")
    a = mine[a]
    pair = (a != b) & ((a < b) | ~moved[candidates[b]])  # each pair once
    a, b = a[pair], b[pair]
    wrong = ~shapely.relate_pattern(lines[a], lines[b], "FF*F*****")  # interiors apart, ends on no interior
    a, b = a[wrong], b[wrong]
    if len(a):
        meet = shapely.intersection(lines[a], lines[b])
        arcs_out += [candidates[a], candidates[b]]
        where += [meet, meet]
    if not sum(len(x) for x in arcs_out) and len(mine) and len(points):
        p, m = shapely.STRtree(shapely.envelope(original[candidates[mine]])).query(points, predicate="intersects")
        arcs_out.append(candidates[mine[m]])
        where.append(points[p])
    if not sum(len(x) for x in arcs_out):
        return candidates, np.full(len(candidates), None, dtype=object)
    return np.concatenate(arcs_out), np.concatenate(where)


def _restore(
    xy: np.ndarray, k: np.ndarray, k_offsets: np.ndarray, which: np.ndarray, where: np.ndarray, grid: float
) -> np.ndarray:
    """The vertices (indices into ``xy``) to keep again, near where each arc broke.

    Of each arc ``which[i]`` (its kept vertices ``k[k_offsets[a]:k_offsets[a+1]]``), those
    its simplified edges near ``where[i]`` (None: all of them) had removed.
    """
    out: list[np.ndarray] = []
    eps = max(grid, 1e-9)
    for a, place in zip(which, where, strict=True):
        kept = k[k_offsets[a]:k_offsets[a + 1]]
        gaps = np.flatnonzero(np.diff(kept) > 1)  # simplified edges that stand for removed vertices
        if not len(gaps):
            continue
        if place is not None:
            x0, y0, x1, y1 = shapely.bounds(place)
            # each such edge's box over the vertices it stands for
            lo = np.minimum.reduceat(xy[kept[0]:kept[-1] + 1], kept[gaps] - kept[0])
            hi = np.maximum.reduceat(xy[kept[0]:kept[-1] + 1], kept[gaps] - kept[0])
            # (reduceat runs to the next gap's start: a little more than the edge, which does no harm)
            near = (lo[:, 0] <= x1 + eps) & (hi[:, 0] >= x0 - eps) & (lo[:, 1] <= y1 + eps) & (hi[:, 1] >= y0 - eps)
            gaps = gaps[near]
        for g in gaps:
            out.append(np.arange(kept[g] + 1, kept[g + 1]))
    return np.concatenate(out) if out else np.zeros(0, int)


def _problem_points(geoms: np.ndarray) -> np.ndarray:
    """Where each invalid geometry is invalid (the point GEOS reports: a self-intersection, say)."""
    points = []
    for reason in shapely.is_valid_reason(geoms):
        found = re.search(r"\[([-+.eE0-9]+) ([-+.eE0-9]+)\]", reason or "")
        points.append(shapely.Point(float(found.group(1)), float(found.group(2))) if found else None)
    missing = [i for i, p in enumerate(points) if p is None]
    out = np.asarray(points, dtype=object)
    outline = shapely.boundary(geoms[missing])  # no point given: all of it (a collection has no boundary: itself)
    out[missing] = np.where(shapely.is_missing(outline), geoms[missing], outline)
    return out
