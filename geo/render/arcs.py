"""A polygon coverage as arcs: the edges its polygons share, each simplified once for all of them.

A valid coverage (every shared edge matches vertex for vertex) is cut at its nodes (vertices
where three or more edges meet, or where a ring meets another) into arcs, each stored once
in one direction; every ring is a sequence of arcs, some reversed (:class:`Arcs`).
Simplifying each arc with its ends fixed keeps shared edges shared by construction, and
every arc may have its own tolerance. This is what mapshaper and TopoJSON do; here it is
numpy over all vertices at once: every vertex gets its Visvalingam-Whyatt significance once
(:func:`vw_significance`), an arc at any tolerance is then a comparison, and an area a sum
per arc (:func:`ragged_excess`), so tightening the polygons over their area budget costs a
comparison per vertex, not another simplification (:func:`geo.render.arc_fit.fit_arcs`).

What this does not guarantee by itself is that simplified arcs do not cross: ``fit_arcs``
proves the result valid (and, if asked, a coverage) and keeps vertices again where not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.forked import halves_at_once, two_cores
from geo.sphere import AUTHALIC_R2, edge_error_bound_m2, edge_excess

__all__ = ["Arcs", "ragged_excess", "vw_significance"]


def _vertex_ids(xy: np.ndarray, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An id per distinct coordinate pair, numbered in sorted order, and the positions sorted by id.

    Equal means exactly equal: a valid coverage repeats its shared vertices exactly. With
    ``cells`` (the coordinates as whole numbers of grid cells, under 2**31), one integer
    each is sorted instead of two floats (a sixth less time at 540,000 vertices).
    """
    if cells is not None:
        z = cells[:, 0] * (1 << 32) + (cells[:, 1] + (1 << 31))
    else:
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
    def from_polygons(cls, geoms: np.ndarray, grid: float = 0.0) -> Arcs:
        """Cut a valid coverage of polygons and multipolygons (no missing or empty ones) into arcs.

        With ``grid``, the vertices are snapped to it first (vertex by vertex, as
        :func:`shapely.set_precision` does pointwise): vertices that snap together are one.
        """
        geoms = np.asarray(geoms, dtype=object)
        # the coordinates and the offsets of rings, polygons and geometries at once (no object per
        # polygon and ring, as shapely.get_parts and get_rings make: 14 of 100 ms at 10,000 parks)
        kind, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
        offsets = [np.asarray(o, dtype=np.int64) for o in offsets]
        if kind == shapely.GeometryType.POLYGON:
            (ring_start, part_rings), geom_parts = offsets, np.arange(len(geoms) + 1)
        else:
            ring_start, part_rings, geom_parts = offsets
        n_rings = len(ring_start) - 1
        # each ring's vertices without the closing repeat
        keep = np.ones(len(xy), bool)
        keep[ring_start[1:] - 1] = False
        xy = xy[np.flatnonzero(keep)]
        start = ring_start - np.arange(n_rings + 1)
        length = np.diff(start)
        at = np.repeat(np.arange(n_rings), length)
        cells = None
        if grid:
            steps = np.round(xy * (1.0 / grid))
            if np.abs(steps).max() < 2**31:
                cells = steps.astype(np.int64)
            xy = steps / (1.0 / grid)
        vid, order = _vertex_ids(xy, cells)
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
        count = np.bincount(at, weights=node, minlength=n_rings)
        few = np.flatnonzero(count < 2)
        if len(few):
            is_few = np.zeros(n_rings, bool)
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
        first_node = np.full(n_rings, -1)
        node_at = np.flatnonzero(node)
        first_node[at[node_at][::-1]] = pos[node_at][::-1]
        rot = start[at] + (pos + first_node[at]) % length[at]  # the vertex at each place of the rotated rings
        closing = start[:-1] + first_node
        seq = np.insert(rot, start[1:], closing)  # positions into xy, each ring closed
        seq_ring = np.repeat(np.arange(n_rings), length + 1)
        is_node = node[seq]
        seq_start = start + np.arange(n_rings + 1)
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
        _, first_occ, arc_id = np.unique(key, return_index=True, return_inverse=True)
        # each distinct arc's vertices, from its first occurrence, in canonical direction
        lengths = np.diff(occ_offsets)[first_occ]
        arc_offsets = np.concatenate([[0], np.cumsum(lengths)])
        within = np.arange(arc_offsets[-1]) - np.repeat(arc_offsets[:-1], lengths)
        o = np.repeat(first_occ, lengths)
        take = np.where(backwards[o], occ_offsets[o + 1] - 1 - within, occ_offsets[o] + within)
        arcs_xy = xy[occ_seq[take]]
        ring_arc_offsets = np.searchsorted(occ_ring, np.arange(n_rings + 1))
        multi = shapely.get_type_id(geoms) == 6
        return cls(arcs_xy, arc_offsets, arc_id.astype(np.int64), backwards, ring_arc_offsets, part_rings,
                   geom_parts, multi)

    def lines(self) -> np.ndarray:
        """Every arc as a LineString (in its stored direction)."""
        return shapely.from_ragged_array(shapely.GeometryType.LINESTRING, self.xy, (self.arc_offsets,))

    def arc_geometry(self) -> np.ndarray:
        """For each arc of each ring (:attr:`ring_arcs`), the geometry whose ring it is."""
        rings = len(self.ring_arc_offsets) - 1
        return self._ring_geometry()[np.repeat(np.arange(rings), np.diff(self.ring_arc_offsets))]

    def areas_m2(self, excess: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each geometry's area (m², great circles on the authalic sphere) and its bound (m²).

        From each arc's sums (:func:`ragged_excess`); the bound is of the area's difference from
        the geodesic area (:func:`geo.sphere.edge_error_bound_m2`).
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
        """Each ring's summed edge excess from its arcs' (:func:`ragged_excess`): signed area / ``2 AUTHALIC_R2``."""
        signed = np.where(self.ring_reversed, -excess[self.ring_arcs], excess[self.ring_arcs])
        return np.add.reduceat(signed, self.ring_arc_offsets[:-1])

    def _ring_part(self) -> np.ndarray:
        """The polygon each ring is of."""
        return np.repeat(np.arange(len(self.part_rings) - 1), np.diff(self.part_rings))

    def _part_geometry(self) -> np.ndarray:
        """The geometry each polygon is of."""
        return np.repeat(np.arange(len(self.geom_parts) - 1), np.diff(self.geom_parts))

    def _ring_geometry(self) -> np.ndarray:
        """The geometry each ring is of."""
        return self._part_geometry()[self._ring_part()]

    def rebuild(self, xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """The coverage rebuilt from arcs whose vertices ``xy[offsets[i]:offsets[i+1]]`` are arc ``i``'s (ends kept).

        Every ring must keep three vertices or more (:func:`geo.render.arc_fit.fit_arcs` keeps a
        sliver's from collapsing); GEOS refuses a shorter one.
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
        polygons = shapely.from_ragged_array(shapely.GeometryType.POLYGON, coords, (ring_offsets, self.part_rings))
        # one Polygon each, but for MultiPolygons (of one part or more)
        geoms = np.empty(len(self.multi), dtype=object)
        one = (np.diff(self.geom_parts) == 1) & ~self.multi
        geoms[one] = polygons[self.geom_parts[:-1][one]]
        if not one.all():
            part_geom = self._part_geometry()
            rank = np.cumsum(~one) - 1  # each MultiPolygon's place among them
            geoms[~one] = shapely.multipolygons(polygons[~one[part_geom]], indices=rank[part_geom[~one[part_geom]]])
        return geoms


#: From this many vertices on, :func:`vw_significance` works on two halves of the lines on two threads.
PARALLEL_VERTICES = 100_000


def vw_significance(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Visvalingam-Whyatt's effective area of every vertex of the lines ``xy[offsets[i]:offsets[i+1]]``.

    See :func:`_vw_rounds`. Lines are independent, and a tie is broken by the order of positions,
    which a half keeps: from :data:`PARALLEL_VERTICES` vertices on (and with two cores), the
    lines are cut at the one nearest half of the vertices and both halves worked on two
    threads at once (NumPy releases the GIL in its loops), with the same result.
    """
    n_lines = len(offsets) - 1
    if len(xy) < PARALLEL_VERTICES or n_lines < 2 or not two_cores():
        return _vw_rounds(xy, offsets)
    cut = int(np.clip(np.searchsorted(offsets, len(xy) // 2), 1, n_lines - 1))
    at = int(offsets[cut])
    west, east = halves_at_once(lambda h: _vw_rounds(*h), (xy[:at], offsets[: cut + 1]), (xy[at:], offsets[cut:] - at))
    return np.concatenate([west, east])


def _vw_rounds(xy: np.ndarray, offsets: np.ndarray) -> np.ndarray:
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
    """Each line's summed edge excess and edge error bound (m²), in its direction.

    The lines are ``xy[offsets[i]:offsets[i+1]]``, each of two vertices or more; see
    :func:`geo.sphere.edge_excess` and :func:`geo.sphere.edge_error_bound_m2`.
    """
    sin_lat = np.sin(np.radians(xy[:, 1]))
    excess = np.append(edge_excess(xy, sin_lat), 0.0)
    bound = np.append(edge_error_bound_m2(xy, sin_lat), 0.0)
    excess[offsets[1:] - 1] = bound[offsets[1:] - 1] = 0.0  # the step from one line to the next is not an edge
    return np.add.reduceat(excess, offsets[:-1]), np.add.reduceat(bound, offsets[:-1])
