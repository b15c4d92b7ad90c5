"""The display geometry's kernel: coverage simplification within a per-feature area budget.

Needs numpy and shapely only (``bigcats simplify`` imports neither geopandas nor GDAL).
:func:`_display_geometries` chooses the display geometry of one or more coverages: one
coverage arc by arc (:func:`geo.render.arcs.fit_arcs`), several noded into faces and
simplified with GEOS (:func:`fit_faces` tightens only the features over their budget);

:func:`simplify_faces` simplifies a coverage of faces, each at the tolerance of its level;
:func:`refine_faces` redoes it only around the faces whose level changed since, keeping every
other face as it was (so tightening a few features over their area budget costs a few
hundred faces' work, not another pass over the whole coverage).
"""

from __future__ import annotations

import threading

import numpy as np
import shapely

from geo.forked import halves_at_once, two_cores
from geo.measure import M2_PER_HA, geodesic_area_lonlat_m2
from geo.render.arc_fit import TrueAreas, fit_arcs, true_areas

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

    One :func:`shapely.coverage_simplify` per level in use, coarsest first, of the faces of
    that level and their coarser neighbours (done already). The other faces are left out of
    the collection, so the edges they share lie on its boundary and ``simplify_boundary=False``
    keeps them as they are; a filler polygon covering everything else (the outside, gaps and
    holes; ``filler``, by default :func:`outside` of the faces) takes their place at the outer
    edges, which are then inner edges and simplified. Each edge is thus simplified at the
    finest tolerance of the faces along it: an edge of a coarser face with a finer one waits
    for the finer one's level; its other edges, simplified at its own coarser tolerance
    already, lose nothing more at a finer one (every vertex left spans a triangle larger than
    the coarser tolerance allows to remove). Coarsest first, the neighbours come to the finer
    runs with their vertices already thinned, which makes those runs cheaper. The faces stay
    a valid coverage. With ``filler`` given, ``faces`` may be part of a larger coverage: the
    edges they share with the rest (neither in ``faces`` nor in the filler) stay as they are.
    """
    out = faces.copy()
    levels = sorted({int(v) for v in face_level if v < len(TOLERANCES_DEG)})
    if filler is None and len(levels) == 1 and (face_level == levels[0]).all():
        return shapely.coverage_simplify(faces, TOLERANCES_DEG[levels[0]])
    if not levels:
        return out
    filler = outside(faces) if filler is None else filler
    tree = shapely.STRtree(faces)
    for k in levels:
        # the faces of this level and their coarser neighbours (by box: a few more do no harm)
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


#: Islands and holes (lakes, river islands) smaller than this many square degrees (about
#: 8 km²) may be left out of the display, within half of each feature's area budget.
_MIN_RING_DEG2 = 1e-3


def _geodesic_ha(geoms) -> np.ndarray:
    """Geodesic area (ha) of lon/lat geometries (NaN where one is missing)."""
    return geodesic_area_lonlat_m2(np.asarray(geoms, dtype=object)) / M2_PER_HA


def _drop_rings_within(
    feats: np.ndarray, layer: np.ndarray, true_ha: np.ndarray, budget: float,
    faces: np.ndarray, feat: np.ndarray, face: np.ndarray, face_ha: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Leave out small islands and lakes, smallest first, while they cost a feature at most ``budget``.

    Works on the noded faces (see :func:`_faces`), so what is left out never breaks a coverage:
    a lake (a face inside a feature's outline that no feature of its layer holds) joins the
    feature only where the country layer holds it (a park never reaches beyond its country);
    an island (a part under :data:`_MIN_RING_DEG2`) leaves only when no feature of the other
    layer holds any of its faces (a park on a river island keeps its island). Candidates are
    under :data:`_MIN_RING_DEG2`, and their area counts in the feature's displayed area like
    any other error, but never more than ``budget`` (a share of the area budget): a park with
    many small lakes keeps some of them rather than failing and sending the map back to full
    resolution. Returns the new (feature, face) pairs.
    """
    if budget <= 0:
        return feat, face
    small = shapely.area(faces) < _MIN_RING_DEG2
    held = np.zeros((int(layer.max()) + 1, len(faces)), bool)  # layer 0 countries, 1.. parks
    held[layer[feat], face] = True
    # candidates: the feature, its faces, their area (ha), and whether they join it (a lake) or leave (an island)
    cand_feat: list[int] = []
    cand_faces: list[list[int]] = []
    cand_ha: list[float] = []
    cand_add: list[bool] = []
    # lakes: small faces inside a feature's outline that no feature of its layer holds
    points = shapely.point_on_surface(faces)
    parts = shapely.get_parts(feats, return_index=True)
    shells = shapely.polygons(shapely.get_exterior_ring(parts[0]))
    part_of = parts[1]
    s, f = shapely.STRtree(points).query(shells, predicate="intersects")
    ok = small[f] & ~held[layer[part_of[s]], f] & np.where(layer[part_of[s]] >= 1, held[0, f], True)
    for i, j in zip(part_of[s[ok]], f[ok], strict=True):
        cand_feat.append(i)
        cand_faces.append([j])
        cand_ha.append(face_ha[j])
        cand_add.append(True)
    # islands: small parts of a feature of several parts, held by no feature of the other layer
    many = np.bincount(part_of, minlength=len(feats))[part_of] > 1
    isl = np.flatnonzero(many & (shapely.area(parts[0]) < _MIN_RING_DEG2))
    if len(isl):
        s, f = shapely.STRtree(points).query(parts[0][isl], predicate="intersects")
        for k in np.unique(s):
            i, fs = part_of[isl[k]], f[s == k]
            fs = fs[np.isin(fs, face[feat == i])]
            other = np.asarray(held[1:].any(axis=0)) if layer[i] == 0 else held[0]
            if len(fs) and not other[fs].any():
                cand_feat.append(i)
                cand_faces.append(list(fs))
                cand_ha.append(face_ha[fs].sum())
                cand_add.append(False)
    if not cand_feat:
        return feat, face
    owner, owner_ha = np.asarray(cand_feat), np.asarray(cand_ha)
    add: list[tuple[int, int]] = []
    remove: set[tuple[int, int]] = set()
    for i in np.unique(owner):
        mine = np.flatnonzero(owner == i)
        mine = mine[np.argsort(owner_ha[mine], kind="stable")]
        for k in mine[np.cumsum(owner_ha[mine]) <= budget * true_ha[i]]:
            if cand_add[k]:
                add.append((i, cand_faces[k][0]))
            else:
                remove.update((i, j) for j in cand_faces[k])
    keep = np.array([(i, j) not in remove for i, j in zip(feat, face, strict=True)], dtype=bool) if remove else None
    if keep is not None:
        feat, face = feat[keep], face[keep]
    if add:
        extra = np.array(add, dtype=int)
        feat, face = np.concatenate([feat, extra[:, 0]]), np.concatenate([face, extra[:, 1]])
    return feat, face


def _drop_rings_of_coverage(feats: np.ndarray, true_ha: np.ndarray | TrueAreas, budget: float) -> np.ndarray:
    """:func:`_drop_rings_within` for one valid coverage used without noding: on the rings themselves.

    Islands under :data:`_MIN_RING_DEG2` and holes under it that no other feature lies in are
    left out, smallest first, while they cost a feature at most ``budget`` of its area.
    """
    if budget <= 0:
        return feats
    # each small ring: the feature it belongs to, where it is (part, hole or -1 for the part itself), its polygon
    owners: list[int] = []
    where: list[tuple[int, int]] = []
    polygons: list[shapely.Polygon] = []
    # only features of several parts or with holes have any
    all_parts, part_of = shapely.get_parts(feats, return_index=True)
    holes_of = np.bincount(part_of, weights=shapely.get_num_interior_rings(all_parts), minlength=len(feats))
    some = np.flatnonzero((np.bincount(part_of, minlength=len(feats)) > 1) | (holes_of > 0))
    parts_of = {int(i): shapely.get_parts(feats[i]) for i in some}
    for i, parts in parts_of.items():
        for j, part in enumerate(parts):
            if len(parts) > 1 and part.area < _MIN_RING_DEG2:
                owners.append(i)
                where.append((j, -1))
                polygons.append(part)
            holes = shapely.get_rings(part)[1:]
            for h in np.flatnonzero(shapely.area(shapely.polygons(holes)) < _MIN_RING_DEG2) if len(holes) else []:
                owners.append(i)
                where.append((j, int(h)))
                polygons.append(shapely.Polygon(holes[h]))
    if not polygons:
        return feats
    owner, rings = np.asarray(owners), np.asarray(polygons, dtype=object)
    r, f = shapely.STRtree(feats).query(rings, predicate="intersects")
    r, f = r[f != owner[r]], f[f != owner[r]]
    taken = np.zeros(len(rings), bool)  # a hole another feature lies in stays
    taken[r[shapely.relate_pattern(rings[r], feats[f], "2********")]] = True
    ha = _geodesic_ha(rings)
    true_ha = true_areas(true_ha, None)[0]
    out = feats.copy()
    for i in np.unique(owner):
        mine = np.flatnonzero((owner == i) & ~taken)
        mine = mine[np.argsort(ha[mine], kind="stable")]
        gone = {where[k] for k in mine[np.cumsum(ha[mine]) <= budget * true_ha[i]]}
        if not gone:
            continue
        polys = []
        for j, part in enumerate(parts_of[i]):
            if (j, -1) not in gone:
                ring = shapely.get_rings(part)
                polys.append(shapely.Polygon(ring[0], [x for h, x in enumerate(ring[1:]) if (j, h) not in gone]))
        out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return out


def _grid_for(feats: np.ndarray) -> float:
    """Coordinate grid of the display: a power of ten at most 1/500 of the smallest feature's width.

    Snapping to it moves a vertex by at most half a cell, which changes the smallest feature's
    area by well under 0.1 %; between 1e-6 and 1e-3 degrees (0.1 m to 110 m).
    """
    areas = shapely.area(feats)
    smallest = float(np.sqrt(areas[areas > 0].min())) if (areas > 0).any() else 1.0
    return float(min(1e-3, max(1e-6, 10.0 ** np.floor(np.log10(smallest / 500)))))


def _faces(feats: np.ndarray, layer: np.ndarray, grid_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The features' boundaries noded on the grid and polygonised: faces that tile them exactly.

    Returns ``(faces, feat, face)``: every face (lakes and gaps too), and the (feature, face)
    pairs (a face inside two features of a layer, say a reserve inside a national park, is
    in both). Sparse: no features × faces matrix.
    """
    lines = shapely.union_all(shapely.boundary(feats), grid_size=grid_deg or None)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    faces = faces[~shapely.is_empty(faces)]
    feat, face = shapely.STRtree(shapely.point_on_surface(faces)).query(feats, predicate="intersects")
    return faces, feat, face


#: From this many vertices on, the first simplification runs in two halves on two threads (GEOS
#: releases the GIL), the seam between them simplified after (:func:`simplify_in_halves`). Below it
#: the halves' extra work (the seam, the filler) costs more than the second core saves: the
#: bundled layers (2,400 faces, 51,000 vertices) took 0.8-1.05 s in one piece, 1.0-1.2 s in halves;
#: the 10,000-park coverage (540,000 vertices) 0.9 s in one piece, 0.5 s in halves.
PARALLEL_VERTICES = 200_000


def simplify_in_halves(faces: np.ndarray, face_level: np.ndarray, tree: shapely.STRtree) -> np.ndarray:
    """:func:`simplify_faces`, the west and east halves at once on two threads when there are many faces.

    Each half is simplified with the outside of the whole coverage as filler and the other
    half left out, so the edges between the halves lie on its collection's boundary and stay
    as they are; then the faces along the seam (a face of one half whose box meets one of
    the other) are simplified once more, the same way, which simplifies the edges between
    the halves (and their outer edges a second time; the area check that follows counts
    it). ``tree`` indexes ``faces``. In one piece below PARALLEL_VERTICES, on one core, or with
    other threads running (a caller's pool).
    """
    n = len(faces)
    vertices = shapely.get_num_coordinates(faces)
    if vertices.sum() < PARALLEL_VERTICES or not two_cores() or threading.active_count() > 1:
        return simplify_faces(faces, face_level)
    box = shapely.bounds(faces)
    west_first = np.argsort(box[:, 0] + box[:, 2], kind="stable")
    # cut where the west half holds half of the vertices (the work), not half of the faces
    cut = int(np.searchsorted(np.cumsum(vertices[west_first]), vertices.sum() / 2)) + 1
    cut = min(max(cut, 1), n - 1)
    halves = (np.sort(west_first[:cut]), np.sort(west_first[cut:]))
    filler = outside(faces)
    done = halves_at_once(lambda h: simplify_faces(faces[h], face_level[h], filler=filler), *halves)
    simple = np.empty(n, dtype=object)
    for half, part in zip(halves, done, strict=True):
        simple[half] = part
    east = np.zeros(n, dtype=bool)
    east[halves[1]] = True
    a, b = tree.query(faces[halves[0]])
    across = east[b]
    seam = np.unique(np.concatenate([halves[0][a[across]], b[across]]))
    if len(seam):  # the outside of the seam and the faces touching it stands for the outside of the coverage
        around = np.unique(tree.query(faces[seam])[1])
        simple[seam] = simplify_faces(simple[seam], face_level[seam], filler=outside(simple[around]))
    return simple


def fit_faces(
    faces: np.ndarray, feat: np.ndarray, face: np.ndarray, feats: np.ndarray, true_ha: np.ndarray,
    max_area_error: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simplify the faces so that every feature (the union of its faces) is within its area budget.

    ``(feat, face)`` pairs say which faces make each of ``feats``. Every feature starts at a
    tolerance guessed from its area; only the features whose geodesic area misses
    ``true_ha`` by more than ``max_area_error`` move to finer tolerances (with the edges they
    share: :func:`refine_faces`), for at most three passes. Returns ``(simplified faces, level
    per feature, area error per feature, over budget per feature)``; a level of
    ``len(TOLERANCES_DEG)`` is unsimplified.
    """
    full = len(TOLERANCES_DEG)
    # First guess per feature: VW removes triangles of about tolerance² each, so start at the
    # coarsest tolerance whose square is a small share of the feature's area budget.
    guess = np.sqrt(0.4 * max_area_error * shapely.area(feats))
    level = np.searchsorted(-np.asarray(TOLERANCES_DEG), -guess)  # index into TOLERANCES_DEG
    passes = 0
    simple: np.ndarray | None = None
    face_level: np.ndarray | None = None
    tree = shapely.STRtree(faces)
    while True:
        passes += 1
        before, face_level = face_level, np.zeros(len(faces), dtype=int)
        np.maximum.at(face_level, face, level[feat])
        if simple is None or before is None:
            simple = simplify_in_halves(faces, face_level, tree)
            face_ha = _geodesic_ha(simple)
        else:
            # Only the faces whose level changed (and their neighbours) are done again.
            changed = np.flatnonzero(face_level != before)
            redone = refine_faces(faces, simple, face_level, changed, tree) if len(changed) else simple
            redone = simplify_faces(faces, face_level) if redone is None else redone
            moved = np.flatnonzero([a is not b for a, b in zip(redone, simple, strict=True)])
            simple, face_ha = redone, face_ha.copy()
            face_ha[moved] = _geodesic_ha(simple[moved])
        shown_ha = np.bincount(feat, weights=face_ha[face], minlength=len(feats))
        errors = np.abs(shown_ha / true_ha - 1)
        over = errors > max_area_error
        if not over.any() or (level[over] >= full).all():
            break
        # Only the features over budget get finer tolerances (each step about halves the
        # tolerance, a quarter of the area a simplification removes), the worse ones faster;
        # after three passes the few still over are shown unsimplified (on the grid).
        steps = np.ceil(0.5 * np.log2(errors[over] / max(max_area_error, 1e-12))).astype(int)
        level[over] = full if passes >= 3 else np.minimum(full, level[over] + np.clip(steps, 1, 3))
    return simple, level, errors, over


def _display_geometries(
    originals: list, true_ha: np.ndarray | TrueAreas, layer: np.ndarray, max_area_error: float, *, grid: bool = True,
    assume_coverage: bool = False, true_bound_ha: np.ndarray | None = None, prove_coverage: bool = True,
) -> tuple[float, float, list, float]:
    """The display geometry of features forming one coverage per ``layer`` value (0 countries, 1 and up parks).

    Returns ``(coarsest tolerance, grid, geometries, largest area error)``; see
    :func:`geo.render.display_layers`. Tolerance and grid are 0 when full resolution is shown.
    When a feature misses its budget even unsimplified on the grid (a sliver narrower than a
    grid cell), it is done again without a grid before giving up.

    One coverage (a single layer) is simplified arc by arc (:func:`geo.render.arcs.fit_arcs`:
    each shared edge once, each at its own tolerance, re-thresholded in numpy); several
    (countries and parks) are noded into faces first and simplified with GEOS's coverage
    simplifier (:func:`fit_faces`), which keeps the faces from crossing by construction where
    the slivers of the noding would make the arcs' repairs costly. ``assume_coverage`` skips
    proving that one layer is a valid coverage (a third of the time at 10,000 features): the
    caller then proves the result is one (:func:`geo.render.coverage_file.coverage_problems`)
    and, if not, finds out why; ``prove_coverage=False`` leaves the proof of the simplified
    result to the caller too (it may run it while it writes). ``true_bound_ha``: how far ``true_ha`` may be from the
    geodesic areas (when measured without densifying, :func:`geo.sphere.sphere_area_bound_m2`).
    ``true_ha`` may be a call giving both (:data:`geo.render.arc_fit.TrueAreas`): with one
    coverage and ``assume_coverage`` it is made only once the arcs are cut, so the caller can
    measure the areas meanwhile; otherwise at once.
    """
    feats = np.array(originals, dtype=object)
    grid_deg = _grid_for(feats) if grid else 0.0
    single = bool((layer == layer[0]).all())
    if not (single and assume_coverage):  # only that path can measure the true areas meanwhile
        true_ha, true_bound_ha = true_areas(true_ha, true_bound_ha)
    snap = 0.0  # the grid the faces are still to be snapped to (arc by arc: fit_arcs)
    if single and assume_coverage:
        # One coverage, taken to be valid: each feature is its own face, no noding, snapped
        # to the grid as arcs.
        faces, snap = _drop_rings_of_coverage(feats, true_ha, max_area_error / 2), grid_deg
        feat = face = np.arange(len(feats))
    else:
        snapped = shapely.set_precision(feats, grid_deg, mode="pointwise") if grid_deg else feats
        if single and shapely.is_valid(snapped).all() and bool(shapely.coverage_is_valid(snapped)):
            # One valid coverage, still one on the grid (snapping vertex by vertex keeps shared
            # edges shared): each feature is its own face, no noding.
            faces = _drop_rings_of_coverage(snapped, true_ha, max_area_error / 2)
            feat = face = np.arange(len(feats))
        elif single and grid_deg and bool(shapely.coverage_is_valid(feats)):  # the grid broke it: none
            faces, grid_deg = _drop_rings_of_coverage(feats, true_ha, max_area_error / 2), 0.0
            feat = face = np.arange(len(feats))
        else:
            faces, feat, face = _faces(feats, layer, grid_deg)
            # Half of each feature's budget may go to small islands and lakes left out (for one
            # coverage, :func:`_drop_rings_of_coverage` did it); the rest is the simplification's.
            # They count in the area checked below, so the guarantee holds.
            feat, face = _drop_rings_within(
                feats, layer, true_areas(true_ha, None)[0], max_area_error / 2, faces, feat, face, _geodesic_ha(faces)
            )
    # each feature its own face, in order (one coverage): arc by arc
    one_each = len(faces) == len(feat) == len(feats) and bool(
        (feat == np.arange(len(feats))).all() and (face == feat).all()
    )
    if one_each:
        simple, level, errors, over = fit_arcs(
            faces, true_ha, max_area_error, TOLERANCES_DEG, true_bound_ha=true_bound_ha,
            prove_coverage=prove_coverage, grid=snap,
        )
    else:
        held = np.unique(face)  # faces no feature holds (gaps, lakes kept) are left out of the coverage
        renumber = np.full(len(faces), -1)
        renumber[held] = np.arange(len(held))
        faces, face = faces[held], renumber[face]
        simple, level, errors, over = fit_faces(faces, feat, face, feats, true_areas(true_ha, None)[0], max_area_error)
    full = len(TOLERANCES_DEG)
    if over.any() and grid_deg:
        return _display_geometries(originals, true_ha, layer, max_area_error, grid=False,
                                   assume_coverage=assume_coverage, true_bound_ha=true_bound_ha,
                                   prove_coverage=prove_coverage)
    if over.any():  # even unsimplified, some feature misses: show full resolution
        shown = list(originals)
        chosen = (0.0, 0.0, shown, 0.0)
    else:
        if one_each:
            shown = list(simple)
        else:
            by_feat = np.argsort(feat, kind="stable")
            bounds = np.searchsorted(feat[by_feat], np.arange(len(feats) + 1))
            shown = []
            for i in range(len(feats)):
                mine = simple[face[by_feat[bounds[i]:bounds[i + 1]]]]
                shown.append(mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine))
        coarsest = TOLERANCES_DEG[int(level.min())] if level.min() < full else 0.0
        chosen = (coarsest, grid_deg, shown, float(errors.max()))
    return chosen
