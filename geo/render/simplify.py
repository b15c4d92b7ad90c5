"""Coverage simplification at a tolerance per face, done again only where a face's tolerance changes.

:func:`simplify_faces` simplifies a coverage of faces, each at the tolerance of its level;
:func:`refine_faces` redoes it only around the faces whose level changed since, keeping every
other face as it was (so tightening a few features over their area budget costs a few
hundred faces' work, not another pass over the whole coverage).
"""

from __future__ import annotations

import numpy as np
import shapely

#: Display tolerances (coverage simplification, degrees), coarsest first. Every feature starts
#: at the first; a feature whose displayed area misses its budget moves to finer ones, and the
#: edges it shares move with it (see :func:`simplify_faces`).
TOLERANCES_DEG = (0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001)


def outside(faces: np.ndarray) -> shapely.Geometry:
    """A filler polygon covering everything around a valid coverage (the outside, gaps and holes)."""
    x0, y0, x1, y1 = shapely.total_bounds(faces)
    return shapely.difference(shapely.box(x0 - 1, y0 - 1, x1 + 1, y1 + 1), shapely.coverage_union_all(faces))


def simplify_faces(faces: np.ndarray, face_level: np.ndarray, filler: shapely.Geometry | None = None) -> np.ndarray:
    """Coverage-simplify the faces, each at the tolerance of its level (beyond the last: unchanged).

    One :func:`shapely.coverage_simplify` per level in use, finest first, of the faces of that
    level and their coarser neighbours. The other faces are left out of the collection, so the
    edges they share lie on its boundary and ``simplify_boundary=False`` keeps them as they
    are; a filler polygon covering everything else (the outside, gaps and holes; ``filler``,
    by default :func:`outside` of the faces) takes their place at the outer edges, which are
    then inner edges and simplified. Each edge is thus simplified at the finest tolerance of
    the faces along it (a coarser face, simplified first with its finer neighbour, is
    simplified again at its own level), and the faces stay a valid coverage. With ``filler``
    given, ``faces`` may be part of a larger coverage: the edges they share with the rest
    (neither in ``faces`` nor in the filler) stay as they are.
    """
    out = faces.copy()
    levels = sorted({int(v) for v in face_level if v < len(TOLERANCES_DEG)}, reverse=True)
    if filler is None and levels == [0] and (face_level == 0).all():
        return shapely.coverage_simplify(faces, TOLERANCES_DEG[0])
    if not levels:
        return out
    filler = outside(faces) if filler is None else filler
    tree = shapely.STRtree(faces)
    for k in levels:
        # the faces of this level and their coarser neighbours (by box: a few more do no harm;
        # they are simplified again at their own level later)
        at_k = np.flatnonzero(face_level == k)
        near = tree.query(faces[at_k])[1]
        active = np.union1d(at_k, near[face_level[near] < k])
        coverage = np.concatenate([out[active], np.array([filler], dtype=object)])
        simple = shapely.coverage_simplify(coverage, TOLERANCES_DEG[k], simplify_boundary=False)
        out[active], filler = simple[:-1], simple[-1]
    return out


def _xy(geoms: np.ndarray) -> np.ndarray:
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0] + 1j * xy[:, 1]


def _rings(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ring of the polygons: the rings, the part each is of, and the geometry each part is of."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    return rings, ring_of, part_of


def _hybrid(originals: np.ndarray, simple: np.ndarray, keep_xy: np.ndarray) -> np.ndarray | None:
    """``simple`` (simplifications of ``originals``) with the vertices of ``originals`` at ``keep_xy`` put back.

    The edges the originals share with the faces whose vertices are ``keep_xy`` come back
    whole, the others stay as simplified (in a valid coverage a vertex of one face on
    another's boundary is one of the other's vertices too, so a vertex kept anywhere in
    ``simple`` is kept). None when the two differ in parts or rings.
    """
    rings, ring_of, part_of = _rings(originals)
    simple_rings, simple_ring_of, simple_part_of = _rings(simple)
    if not (np.array_equal(ring_of, simple_ring_of) and np.array_equal(part_of, simple_part_of)):
        return None
    xy, at = shapely.get_coordinates(rings, return_index=True)
    z = xy[:, 0] + 1j * xy[:, 1]
    keep = np.isin(z, np.concatenate([_xy(simple_rings), keep_xy]))
    if (np.bincount(at[keep], minlength=len(rings)) < 4).any():
        return None
    kept = shapely.linearrings(xy[keep], indices=at[keep])
    polygons = shapely.polygons(kept, indices=ring_of)
    out = shapely.multipolygons(polygons, indices=part_of)
    single = np.bincount(part_of, minlength=len(originals)) == 1
    out[single] = polygons[np.searchsorted(part_of, np.flatnonzero(single))]
    return out


def refine_faces(
    faces: np.ndarray, simple: np.ndarray, face_level: np.ndarray, changed: np.ndarray, tree: shapely.STRtree
) -> np.ndarray | None:
    """:func:`simplify_faces` again after the ``changed`` faces' levels changed, redone only around them.

    ``simple`` is the simplification of ``faces`` before the change and ``tree`` an index of
    ``faces``. The changed faces start again from their own geometry; each neighbour keeps
    its simplified edges but gets back, whole, those it shares with a changed face (every
    vertex of it that is one of theirs), so the edges with the faces left alone stay exactly
    as they are; these faces are then simplified with the outside as filler and the others
    out of the collection. Returns the new simplification, or None when the neighbourhood
    cannot be rebuilt or the result is not a valid coverage there (then do it all again).
    """
    near = np.unique(tree.query(faces[changed])[1])
    ring = np.setdiff1d(near, changed)
    keep_xy = np.unique(_xy(faces[changed]))
    current = simple.copy()
    current[changed] = faces[changed]
    hybrid = _hybrid(faces[ring], simple[ring], keep_xy)
    if hybrid is None:
        return None
    current[ring] = hybrid
    around = np.unique(tree.query(faces[near])[1])  # the region and the faces touching it
    if not (shapely.is_valid(current[near]).all() and shapely.coverage_is_valid(current[around])):
        return None
    out = current
    # the outside of the region and the faces touching it stands for the outside of the coverage
    out[near] = simplify_faces(current[near], face_level[near], filler=outside(current[around]))
    if not (shapely.is_valid(out[near]).all() and shapely.coverage_is_valid(out[around])):
        return None
    return out
