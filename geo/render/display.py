"""Display geometry: countries and parks simplified as one coverage within an area budget.

See :func:`display_layers`; the borders and the stretch are derived from the displayed countries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.measure import M2_PER_HA, geodesic_area_m2
from geo.project import Project, bundled_project
from geo.render.simplify import TOLERANCES_DEG as _TOLERANCES_DEG
from geo.render.simplify import refine_faces, simplify_faces

#: Islands and holes (lakes, river islands) smaller than this many square degrees (about
#: 8 km²) may be left out of the display, within half of each feature's area budget.
_MIN_RING_DEG2 = 1e-3


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


def _geodesic_ha(geoms) -> np.ndarray:
    return geodesic_area_m2(gpd.GeoSeries(list(geoms), crs="EPSG:4326")) / M2_PER_HA


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


def _drop_rings_of_coverage(feats: np.ndarray, true_ha: np.ndarray, budget: float) -> np.ndarray:
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


def _display_geometries(
    originals: list, true_ha: np.ndarray, layer: np.ndarray, max_area_error: float, *, grid: bool = True
) -> tuple[float, float, list, float]:
    """The display geometry of features forming one coverage per ``layer`` value (0 countries, 1 and up parks).

    Returns ``(coarsest tolerance, grid, geometries, largest area error)``; see
    :func:`display_layers`. Tolerance and grid are 0 when full resolution is shown. When a
    feature misses its budget even unsimplified on the grid (a sliver narrower than a grid
    cell), it is done again without a grid before giving up.
    """
    feats = np.array(originals, dtype=object)
    grid_deg = _grid_for(feats) if grid else 0.0
    snapped = shapely.set_precision(feats, grid_deg, mode="pointwise") if grid_deg else feats
    single = bool((layer == layer[0]).all())
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
            feats, layer, true_ha, max_area_error / 2, faces, feat, face, _geodesic_ha(faces)
        )
    held = np.unique(face)  # faces no feature holds (gaps, lakes kept) are left out of the coverage
    renumber = np.full(len(faces), -1)
    renumber[held] = np.arange(len(held))
    faces, face = faces[held], renumber[face]
    full = len(_TOLERANCES_DEG)
    # First guess per feature: VW removes triangles of about tolerance² each, so start at the
    # coarsest tolerance whose square is a small share of the feature's area budget.
    guess = np.sqrt(0.4 * max_area_error * shapely.area(feats))
    level = np.searchsorted(-np.asarray(_TOLERANCES_DEG), -guess)  # index into _TOLERANCES_DEG
    passes = 0
    simple: np.ndarray | None = None
    face_level: np.ndarray | None = None
    tree = shapely.STRtree(faces)
    while True:
        passes += 1
        before, face_level = face_level, np.zeros(len(faces), dtype=int)
        np.maximum.at(face_level, face, level[feat])
        if simple is None or before is None:
            simple = simplify_faces(faces, face_level)
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
    if over.any() and grid_deg:
        return _display_geometries(originals, true_ha, layer, max_area_error, grid=False)
    if over.any():  # even unsimplified, some feature misses: show full resolution
        shown = list(originals)
        chosen = (0.0, 0.0, shown, 0.0)
    else:
        if len(feat) == len(feats) and (feat == np.arange(len(feats))).all():  # one face each
            shown = list(simple[face])
        else:
            by_feat = np.argsort(feat, kind="stable")
            bounds = np.searchsorted(feat[by_feat], np.arange(len(feats) + 1))
            shown = []
            for i in range(len(feats)):
                mine = simple[face[by_feat[bounds[i]:bounds[i + 1]]]]
                shown.append(mine[0] if len(mine) == 1 else shapely.coverage_union_all(mine))
        coarsest = _TOLERANCES_DEG[int(level.min())] if level.min() < full else 0.0
        chosen = (coarsest, grid_deg, shown, float(errors.max()))
    return chosen


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
            near = shapely.intersection(along, shapely.buffer(geom, 2 * tolerance_deg))
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
