"""A polygon coverage as arcs: the edges its polygons share, each simplified once for all of them.

A valid coverage (every shared edge matches vertex for vertex) is cut at its nodes (vertices
where three or more edges meet, or where a ring meets another) into arcs, each stored once
in one direction; every ring is a sequence of arcs, some reversed (:class:`Arcs`).
Simplifying each arc with its ends fixed keeps shared edges shared by construction, and
every arc may have its own tolerance. This is what mapshaper and TopoJSON do; here it is
numpy over all vertices at once: every vertex gets its Visvalingam-Whyatt significance once
(:func:`vw_significance`), an arc at any tolerance is then a comparison, and an area a sum
per arc (:func:`ragged_excess`), so tightening the polygons over their area budget costs a
comparison per vertex, not another simplification (:func:`fit_arcs`).

What this does not guarantee by itself is that simplified arcs do not cross: :func:`fit_arcs`
proves the result valid (and, if asked, a coverage) and keeps vertices again where not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geo.measure import AUTHALIC_R2, M2_PER_HA, edge_error_bound_m2, edge_excess

__all__ = ["Arcs", "arc_excess", "fit_arcs", "ragged_excess", "vw_significance"]


def _vertex_ids(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An id per distinct coordinate pair, numbered in sorted order, and the positions sorted by id.

    Equal means exactly equal: a valid coverage repeats its shared vertices exactly.
    """
    z = np.ascontiguousarray(xy).view(np.complex128).ravel()
    order = np.argsort(z)
    zs = z[order]
    new = np.empty(len(z), bool)
    new[:1] = True
    new[1:] = zs[1:] != zs[:-1]
    vid = np.empty(len(z), np.int64)
    vid[order] = np.cumsum(new) - 1
    return vid, order


@dataclass
class Arcs:
    """A valid polygon coverage cut into arcs (see the module).

    ``xy`` and ``arc_offsets`` hold each distinct arc once (its vertices, ends included);
    ``ring_arcs`` (with ``ring_arc_offsets``) is each ring's arcs in order and
    ``ring_reversed`` whether the ring runs it backwards; ``part_rings`` and ``geom_parts``
    are the offsets of the rings of each polygon and the polygons of each geometry, and
    ``multi`` whether a geometry is a MultiPolygon.
    """

    xy: np.ndarray
    arc_offsets: np.ndarray
    ring_arcs: np.ndarray
    ring_reversed: np.ndarray
    ring_arc_offsets: np.ndarray
    part_rings: np.ndarray
    geom_parts: np.ndarray
    multi: np.ndarray

    @classmethod
    def from_polygons(cls, geoms: np.ndarray) -> Arcs:
        """Cut a valid coverage of polygons and multipolygons (no missing or empty ones) into arcs."""
        geoms = np.asarray(geoms, dtype=object)
        parts, part_of = shapely.get_parts(geoms, return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        xy, at = shapely.get_coordinates(rings, return_index=True)
        ring_start = np.searchsorted(at, np.arange(len(rings) + 1))
        # each ring's vertices without the closing repeat
        last = np.zeros(len(xy), bool)
        last[ring_start[1:] - 1] = True
        xy, at = xy[~last], at[~last]
        start = ring_start - np.arange(len(rings) + 1)
        length = np.diff(start)
        vid, order = _vertex_ids(xy)
        n_vertices = int(vid.max()) + 1
        pos = np.arange(len(xy)) - start[at]
        nxt = np.arange(1, len(xy) + 1)
        nxt[start[1:] - 1] = start[:-1]  # a ring's last vertex goes on to its first
        prv = np.arange(-1, len(xy) - 1)
        prv[start[:-1]] = start[1:] - 1
        # a node: a vertex on three rings or more, or on two that come from or go to different
        # vertices there (one vertex on one ring only is never a node: it has two neighbours)
        p, q = vid[prv], vid[nxt]
        pair = np.minimum(p, q) * n_vertices + np.maximum(p, q)
        uses = np.bincount(vid, minlength=n_vertices)
        ps, vs = pair[order], vid[order]
        differ = (ps[1:] != ps[:-1]) & (vs[1:] == vs[:-1])
        node_vertex = uses > 2
        node_vertex[vs[1:][differ]] = True
        node = node_vertex[vid]
        # a ring with fewer than two nodes (an island, a park within another, one touching it at a
        # point) gets them at its largest vertex id and, with none, its smallest: the ring that
        # shares its edges has the same vertices, so it chooses the same ones
        count = np.bincount(at, weights=node, minlength=len(rings))
        few = np.flatnonzero(count < 2)
        if len(few):
            is_few = np.zeros(len(rings), bool)
            is_few[few] = True
            idx = np.flatnonzero(is_few[at])
            r = at[idx]
            masked = np.where(node[idx], -1, vid[idx])
            order = np.lexsort((masked, r))  # by ring, then id: the last of each ring is its largest
            group_end = np.searchsorted(r[order], few, side="right") - 1
            node[idx[order[group_end]]] = True
            none = count[few] == 0
            group_start = np.searchsorted(r[order], few[none], side="left")
            node[idx[order[group_start]]] = True
        # rotate each ring to start at its first node, and close it (the first node again at the end)
        first_node = np.full(len(rings), -1)
        node_at = np.flatnonzero(node)
        first_node[at[node_at][::-1]] = pos[node_at][::-1]
        rot = start[at] + (pos + first_node[at]) % length[at]  # the vertex at each place of the rotated rings
        closing = start[:-1] + first_node
        seq = np.insert(rot, start[1:], closing)  # positions into xy, each ring closed
        seq_ring = np.repeat(np.arange(len(rings)), length + 1)
        is_node = node[seq]
        seq_start = start + np.arange(len(rings) + 1)
        is_last = np.zeros(len(seq), bool)
        is_last[seq_start[1:] - 1] = True
        # every node but a ring's last starts an arc; every node but a ring's first ends one
        begins = is_node & ~is_last
        arc_of = np.cumsum(begins) - 1  # the arc each place starts or continues
        is_first = np.zeros(len(seq), bool)
        is_first[seq_start[:-1]] = True
        inner_node = is_node & ~is_last & ~is_first
        # an inner node belongs to two arcs: repeat it, the copy ending the arc before
        dup = np.flatnonzero(inner_node)
        occ_seq = np.insert(seq, dup, seq[dup])
        occ_arc = np.insert(arc_of, dup, arc_of[dup] - 1)
        # the last place of a ring (its closing node) ends the ring's last arc: arc_of there is
        # one too many (it is a node), but cumsum left it on the last arc since is_last does not begin
        n_occ = int(begins.sum())
        occ_offsets = np.searchsorted(occ_arc, np.arange(n_occ + 1))
        occ_ring = seq_ring[np.flatnonzero(begins)]
        # canonical direction: the arc from the end with the smaller (first, second) vertex ids
        v = vid[occ_seq]
        f0, f1 = v[occ_offsets[:-1]], v[occ_offsets[:-1] + 1]
        l0, l1 = v[occ_offsets[1:] - 1], v[occ_offsets[1:] - 2]
        backwards = (l0 < f0) | ((l0 == f0) & (l1 < f1))
        key = np.where(backwards, l0 * n_vertices + l1, f0 * n_vertices + f1)
        keys, first_occ, arc_id = np.unique(key, return_index=True, return_inverse=True)
        # each distinct arc's vertices, from its first occurrence, in canonical direction
        lengths = np.diff(occ_offsets)[first_occ]
        arc_offsets = np.concatenate([[0], np.cumsum(lengths)])
        within = np.arange(arc_offsets[-1]) - np.repeat(arc_offsets[:-1], lengths)
        o = np.repeat(first_occ, lengths)
        take = np.where(backwards[o], occ_offsets[o + 1] - 1 - within, occ_offsets[o] + within)
        arcs_xy = xy[occ_seq[take]]
        ring_arc_offsets = np.searchsorted(occ_ring, np.arange(len(rings) + 1))
        part_rings = np.searchsorted(ring_of, np.arange(len(parts) + 1))
        geom_parts = np.searchsorted(part_of, np.arange(len(geoms) + 1))
        multi = shapely.get_type_id(geoms) == 6
        return cls(arcs_xy, arc_offsets, arc_id.astype(np.int64), backwards, ring_arc_offsets, part_rings,
                   geom_parts, multi)

    @property
    def n_arcs(self) -> int:
        """How many distinct arcs."""
        return len(self.arc_offsets) - 1

    def lines(self) -> np.ndarray:
        """Every arc as a LineString (in its stored direction)."""
        return shapely.from_ragged_array(shapely.GeometryType.LINESTRING, self.xy, (self.arc_offsets,))

    def arc_geometry(self) -> np.ndarray:
        """For each arc of each ring (:attr:`ring_arcs`), the geometry whose ring it is."""
        rings = len(self.ring_arc_offsets) - 1
        return self._ring_geometry()[np.repeat(np.arange(rings), np.diff(self.ring_arc_offsets))]

    def areas_m2(self, excess: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each geometry's area (m², great circles on the authalic sphere) and its bound (m²).

        From each arc's sums (:func:`arc_excess`); the bound is of the area's difference from
        the geodesic area (:func:`geo.measure.edge_error_bound_m2`).
        """
        ring = np.abs(self.ring_sums(excess)) * (2.0 * AUTHALIC_R2)
        shell = np.zeros(len(ring), bool)
        shell[self.part_rings[:-1]] = True
        ring_geom = self._ring_geometry()
        n = len(self.geom_parts) - 1
        area = np.bincount(ring_geom, weights=np.where(shell, ring, -ring), minlength=n)
        per_ring = np.add.reduceat(bound[self.ring_arcs], self.ring_arc_offsets[:-1])
        return area, np.bincount(ring_geom, weights=per_ring, minlength=n)

    def ring_sums(self, excess: np.ndarray) -> np.ndarray:
        """Each ring's summed edge excess from its arcs' (:func:`arc_excess`): its signed area / ``2 * AUTHALIC_R2``."""
        signed = np.where(self.ring_reversed, -excess[self.ring_arcs], excess[self.ring_arcs])
        return np.add.reduceat(signed, self.ring_arc_offsets[:-1])

    def _ring_geometry(self) -> np.ndarray:
        """The geometry each ring is of."""
        ring_part = np.repeat(np.arange(len(self.part_rings) - 1), np.diff(self.part_rings))
        part_geom = np.repeat(np.arange(len(self.geom_parts) - 1), np.diff(self.geom_parts))
        return part_geom[ring_part]

    def geometries(self, lines: np.ndarray) -> np.ndarray:
        """The coverage rebuilt from (simplified) arcs ``lines``: see :meth:`rebuild`."""
        xy, at = shapely.get_coordinates(lines, return_index=True)
        return self.rebuild(xy, np.searchsorted(at, np.arange(len(lines) + 1)))

    def rebuild(self, xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The coverage rebuilt from arcs whose vertices ``xy[offsets[i]:offsets[i+1]]`` are arc ``i``'s (ends kept).

        A ring whose arcs were simplified to one line there and back (a sliver between two arcs
        of the same two nodes) has no area left: it is left out, and with a shell its polygon
        (a geometry left without any is empty). Its area, zero, is what :meth:`areas_m2` counts.
        """
        n = np.diff(offsets)[self.ring_arcs] - 1  # each arc in a ring: its vertices but the last
        rings = len(self.ring_arc_offsets) - 1
        occ_offsets = np.concatenate([[0], np.cumsum(n)])
        within = np.arange(int(occ_offsets[-1])) - np.repeat(occ_offsets[:-1], n)
        arc = np.repeat(self.ring_arcs, n)
        take = np.where(np.repeat(self.ring_reversed, n), offsets[arc + 1] - 1 - within, offsets[arc] + within)
        ring_n = np.add.reduceat(n, self.ring_arc_offsets[:-1]) if rings else np.zeros(0, int)
        ring_start = np.concatenate([[0], np.cumsum(ring_n)])
        take = np.insert(take, ring_start[1:], take[ring_start[:-1]])  # each ring closed
        ring_offsets = np.concatenate([[0], np.cumsum(ring_n + 1)])
        coords = xy[take]
        part_rings, geom_parts = self.part_rings, self.geom_parts
        ring_part = np.repeat(np.arange(len(part_rings) - 1), np.diff(part_rings))
        ok_ring = ring_n + 1 >= 4
        if not ok_ring.all():  # leave the collapsed rings out of the ragged arrays, and the parts of collapsed shells
            ok_part = ok_ring[part_rings[:-1]]
            ok_ring &= ok_part[ring_part]
            coords = coords[np.repeat(ok_ring, ring_n + 1)]
            ring_offsets = np.concatenate([[0], np.cumsum((ring_n + 1)[ok_ring])])
            rings_per_part = np.bincount(ring_part[ok_ring], minlength=len(ok_part))
            part_rings = np.concatenate([[0], np.cumsum(rings_per_part[ok_part])])
            part_geom = np.repeat(np.arange(len(geom_parts) - 1), np.diff(geom_parts))
            geom_parts = np.concatenate([[0], np.cumsum(np.bincount(part_geom[ok_part], minlength=len(self.multi)))])
        polygons = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, (ring_offsets, part_rings))
        n_parts = np.diff(geom_parts)
        geoms = np.full(len(n_parts), shapely.Polygon(), dtype=object)
        one = (n_parts == 1) & ~self.multi
        geoms[one] = polygons[geom_parts[:-1][one]]
        many = np.flatnonzero(~one & (n_parts > 0))
        if len(many):
            which = np.repeat(np.arange(len(many)), n_parts[many])
            idx = np.repeat(geom_parts[:-1][many] - np.concatenate([[0], np.cumsum(n_parts[many])[:-1]]),
                            n_parts[many]) + np.arange(int(n_parts[many].sum()))
            geoms[many] = shapely.multipolygons(polygons[idx], indices=which)
        return geoms


def vw_significance(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Visvalingam-Whyatt's effective area of every vertex of the lines ``xy[offsets[i]:offsets[i+1]]``.

    The area (square degrees, scaled by the cosine of the latitude: about the true area) of
    the triangle a vertex makes with its neighbours at the moment it is removed, never less
    than that of the vertices removed before it between those neighbours; the lines' ends
    are infinite. The vertices of a line simplified at area ``t`` are those of significance
    ``>= t``, for any ``t``: computed once, every line can be simplified at its own area,
    again and again, by a comparison. Removed in rounds, all at once (numpy over every line):
    each round takes every vertex whose triangle is smaller than its two neighbours' (ties by
    position, so no two neighbours go together), then the neighbours' triangles are measured
    again; seven rounds for the 10,000-park benchmark coverage. At a tolerance it keeps
    within 2 % of the vertices removing them one by one keeps (the outlines of the bundled
    countries at 0.02 and 0.005 degrees: 1,188 against 1,173 and 5,842 against 5,815).
    """
    n = len(xy)
    prev, nxt = np.arange(-1, n - 1), np.arange(1, n + 1)
    end = np.zeros(n, bool)
    end[offsets[:-1]] = end[offsets[1:] - 1] = True
    coslat = np.cos(np.radians(xy[:, 1]))

    def triangle(i: np.ndarray) -> np.ndarray:
        p, q = xy[prev[i]], xy[nxt[i]]
        d1, d2 = xy[i] - p, q - p
        return 0.5 * np.abs(d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]) * coslat[i]

    area = np.full(n, np.inf)
    left = np.flatnonzero(~end)
    area[left] = triangle(left)
    significance = np.full(n, np.inf)
    gap = np.zeros(n)  # the largest significance removed between a vertex and the next one left
    alive = ~end
    while len(left):
        a, p, q = area[left], prev[left], nxt[left]
        smallest = ((a < area[p]) | ((a == area[p]) & (left < p))) & ((a < area[q]) | ((a == area[q]) & (left < q)))
        gone = left[smallest]
        p, q = prev[gone], nxt[gone]
        significance[gone] = np.maximum(area[gone], np.maximum(gap[p], gap[gone]))
        gap[p] = np.maximum(gap[p], significance[gone])
        alive[gone] = False
        nxt[p], prev[q] = q, p
        again = np.concatenate([p, q])
        again = again[alive[again]]
        area[again] = triangle(again)
        left = left[~smallest]
    return significance


def ragged_excess(xy: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`arc_excess` of the lines ``xy[offsets[i]:offsets[i+1]]`` (each of two vertices or more)."""
    sin_lat = np.sin(np.radians(xy[:, 1]))
    excess = np.append(edge_excess(xy, sin_lat), 0.0)
    bound = np.append(edge_error_bound_m2(xy, sin_lat), 0.0)
    excess[offsets[1:] - 1] = bound[offsets[1:] - 1] = 0.0  # the step from one line to the next is not an edge
    return np.add.reduceat(excess, offsets[:-1]), np.add.reduceat(bound, offsets[:-1])


def arc_excess(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each LineString's summed edge excess and edge error bound (m²), in its direction.

    See :func:`geo.measure.edge_excess` and :func:`geo.measure.edge_error_bound_m2`.
    """
    xy, at = shapely.get_coordinates(lines, return_index=True)
    if not len(xy):
        return np.zeros(len(lines)), np.zeros(len(lines))
    return ragged_excess(xy, np.searchsorted(at, np.arange(len(lines) + 1)))


def fit_arcs(
    polygons: np.ndarray, true_ha: np.ndarray, max_area_error: float, tolerances: Sequence[float], *,
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

    Returns ``(simplified polygons, level per polygon, area error per polygon (at its
    largest), over budget per polygon)``; a level of ``len(tolerances)`` is unsimplified.
    Without ``prove_coverage`` each polygon is valid but that they are a coverage is for the
    caller to prove. Raises :class:`shapely.errors.GEOSException` when a polygon is not valid
    even unsimplified.
    """
    full = len(tolerances)
    thresholds = np.asarray([t * t for t in tolerances] + [0.0])  # level `full` keeps every vertex
    arcs = Arcs.from_polygons(polygons)
    if grid:
        scale = 1.0 / grid
        arcs.xy = np.round(arcs.xy * scale) / scale
    xy, offsets = arcs.xy, arcs.arc_offsets
    n_arcs = len(offsets) - 1
    arc_n = np.diff(offsets)
    arc_of = np.repeat(np.arange(n_arcs), arc_n)
    arc_polygon = arcs.arc_geometry()  # the polygon of each arc of each ring
    significance = vw_significance(xy, offsets)
    # each arc's most significant inner vertex (kept when its ring would collapse), -1 for none
    inner = np.where(np.isinf(significance), -1.0, significance)
    top = np.where(arc_n >= 3, np.lexsort((inner, arc_of))[offsets[1:] - 1], -1)
    n_ring_arcs = np.diff(arcs.ring_arc_offsets)
    ring_sign = np.sign(arcs.ring_sums(ragged_excess(xy, offsets)[0]))
    # First guess per polygon: VW removes triangles of about its area each, so start at the
    # coarsest tolerance whose square is a small share of the polygon's area budget.
    level = np.searchsorted(-np.asarray(tolerances), -np.sqrt(0.4 * max_area_error * shapely.area(polygons)))
    arc_min = np.zeros(n_arcs, dtype=int)  # arcs kept finer: of rings turned inside out
    forced = np.zeros(len(xy), bool)  # vertices kept whatever the level
    true_bound = np.zeros(len(polygons)) if true_bound_ha is None else true_bound_ha
    valid = np.zeros(len(polygons), bool)  # polygons proved valid as they are now
    built = np.zeros(n_arcs, dtype=int)  # each arc's vertices when the polygons were last built
    while True:
        arc_level = arc_min.copy()
        np.maximum.at(arc_level, arcs.ring_arcs, level[arc_polygon])
        keep = (significance >= thresholds[arc_level[arc_of]]) | forced
        kept = np.bincount(arc_of, weights=keep, minlength=n_arcs).astype(int)
        short = np.flatnonzero(np.add.reduceat(kept[arcs.ring_arcs] - 1, arcs.ring_arc_offsets[:-1]) < 3)
        if len(short):
            longest = [
                arcs.ring_arcs[a + int(np.argmax(arc_n[arcs.ring_arcs[a:b]]))]
                for a, b in zip(arcs.ring_arc_offsets[short], arcs.ring_arc_offsets[short + 1], strict=True)
            ]
            more = top[np.asarray(longest, dtype=int)]
            forced[more[more >= 0]] = keep[more[more >= 0]] = True
        k = np.flatnonzero(keep)
        k_offsets = np.searchsorted(arc_of[k], np.arange(n_arcs + 1))
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
            forced[restored] = True
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
