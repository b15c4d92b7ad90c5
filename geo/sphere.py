"""The geodesic area kernel: lon/lat polygons on the authalic sphere, numpy over every vertex at once.

On the authalic sphere (the latitude the authalic one, the radius ``sqrt(AUTHALIC_R2)``) areas
equal the WGS84 ellipsoid's; each edge is a great circle there, which differs from the
ellipsoid's geodesic by at most a bound that grows as the edge's length cubed
(:func:`edge_error_bound_m2`). :func:`_authalic_area_m2` densifies along the geodesic the rings
whose bound is not negligible (the primary areas, :mod:`geo.measure`);
:func:`sphere_area_bound_m2` returns the sphere's areas and the bounds instead (the display's
area budget counts them against itself, and needs no pyproj). Needs numpy and shapely only;
pyproj (for the geodesic's points) only where a ring is densified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    from pyproj import Geod

__all__ = [
    "AUTHALIC_R2",
    "MAX_EDGE_M",
    "densify_geodesic",
    "edge_error_bound_m2",
    "edge_excess",
    "sphere_area_bound_m2",
]


def _geod() -> Geod:
    """WGS84's ``pyproj.Geod`` (:data:`geo.measure.GEOD`), built on first use.

    Importing pyproj costs about 40 ms, and the kernel needs it only to densify long edges.
    """
    geod = globals().get("_GEOD")
    if geod is None:
        from pyproj import Geod

        globals()["_GEOD"] = geod = Geod(ellps="WGS84")
    return geod


#: The longest piece (m) an edge is cut into when its ring must be densified
#: along the geodesic (see :func:`geodesic_area_m2`).
MAX_EDGE_M = 2_000.0

_A = 6_378_137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = float(np.sqrt(_E2))
_QP = 1 + (1 - _E2) / _E * float(np.arctanh(_E))
#: Square of the authalic radius: a sphere of this radius has the ellipsoid's area.
AUTHALIC_R2 = 0.5 * _A * _A * _QP


def _sin_authalic(lat_deg: np.ndarray, sin_lat: np.ndarray | None = None) -> np.ndarray:
    """Sine of the authalic latitude (Snyder 1987, eq. 3-11, 3-12)."""
    s = np.sin(np.radians(lat_deg)) if sin_lat is None else sin_lat
    q = (1 - _E2) * (s / (1 - _E2 * s * s) + np.arctanh(_E * s) / _E)
    q /= _QP
    return np.clip(q, -1.0, 1.0, out=q)


def _densify_long_edges(
    coords: np.ndarray, ring_offsets: np.ndarray, max_edge_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Insert geodesic points into edges longer than ``max_edge_m`` (per vertex; vectorised)."""
    lon, lat = coords[:, 0], coords[:, 1]
    rough_m = _rough_edge_m(coords, ring_offsets)[:-1]
    limit_m = max_edge_m[:-1]
    long_edges = np.flatnonzero(rough_m > limit_m)
    if len(long_edges) == 0:
        return coords, ring_offsets
    az = np.zeros(len(rough_m))
    dist = np.zeros(len(rough_m))
    az[long_edges], _, dist[long_edges] = _geod().inv(
        lon[long_edges], lat[long_edges], lon[long_edges + 1], lat[long_edges + 1]
    )
    pieces = np.maximum(np.ceil(dist / limit_m).astype(np.int64), 1)
    # Each edge i contributes its start vertex plus pieces[i] - 1 interior points.
    counts = np.append(pieces, 1)
    counts[ring_offsets[1:] - 1] = 1  # last vertex of each ring: itself only
    start = np.repeat(np.arange(len(coords)), counts)
    k = np.arange(len(start)) - np.repeat(np.cumsum(counts) - counts, counts)
    frac = k / np.repeat(np.append(pieces, 1).astype(float), counts)
    frac[k == 0] = 0.0
    inner = k > 0
    new = coords[start].copy()
    idx = start[inner]
    plon, plat, _ = _geod().fwd(lon[idx], lat[idx], az[idx], dist[idx] * frac[inner])
    new[inner, 0], new[inner, 1] = plon, plat
    new_offsets = np.concatenate([[0], np.cumsum(counts)])[ring_offsets]
    return new, new_offsets


def densify_geodesic(geoms, *, max_edge_m: float = 1_000.0) -> np.ndarray:
    """Polygons with points inserted along the WGS84 geodesic of every edge longer than ``max_edge_m``.

    The areas measured here take each edge as a geodesic; overlays (intersection,
    union, difference) work in the plane of longitude/latitude, where an edge is a
    straight line. A vertex an overlay puts on a long edge lies on the straight line,
    off the geodesic, and changes the measured area (about 2 ha on a 20 km edge at
    43N). With points on the geodesic every ``max_edge_m``, the two agree to a few
    square metres per kilometre of edge, and the polygon measured is the same.
    Missing, empty and non-polygonal geometries are returned as they are.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    todo = np.flatnonzero(
        ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & np.isin(shapely.get_type_id(geoms), (3, 6))
    )
    if not len(todo):
        return out
    kind, coords, offsets = shapely.to_ragged_array(geoms[todo])
    coords = coords[:, :2]
    ring_offsets = offsets[0]
    long_edges = np.flatnonzero(_rough_edge_m(coords, ring_offsets)[:-1] > max_edge_m)
    if not len(long_edges):
        return out
    # Each edge is cut from its lexicographically smaller end, so an edge two parks share
    # (walked in opposite directions) gets the very same points: the coverage stays exact.
    p, q = coords[long_edges], coords[long_edges + 1]
    flip = (q[:, 0] < p[:, 0]) | ((q[:, 0] == p[:, 0]) & (q[:, 1] < p[:, 1]))
    a, b = np.where(flip[:, None], q, p), np.where(flip[:, None], p, q)
    az, _, dist = _geod().inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    n = np.ceil(np.asarray(dist) / max_edge_m).astype(np.int64) - 1
    keep = n > 0
    if not keep.any():
        return out
    inserts, n, flip, a = long_edges[keep], n[keep], flip[keep], a[keep]
    az, dist = np.asarray(az)[keep], np.asarray(dist)[keep]
    edge = np.repeat(np.arange(len(inserts)), n)
    k = np.arange(len(edge)) - np.repeat(np.cumsum(n) - n, n) + 1  # 1..n along each edge from its start a
    plon, plat, _ = _geod().fwd(a[edge, 0], a[edge, 1], az[edge], dist[edge] * k / (n[edge] + 1))
    slot = np.where(flip[edge], n[edge] + 1 - k, k)  # position after the edge's first vertex as walked
    counts = np.ones(len(coords), dtype=np.int64)
    counts[inserts] += n
    dense = np.repeat(coords, counts, axis=0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rows = starts[inserts][edge] + slot
    dense[rows, 0], dense[rows, 1] = plon, plat
    dense_offsets = np.concatenate([[0], np.cumsum(counts)])[ring_offsets]
    made = shapely.from_ragged_array(kind, dense, (dense_offsets, *offsets[1:]))
    promoted = (shapely.get_type_id(geoms[todo]) == 3) & (shapely.get_type_id(made) == 6)  # Polygons stay Polygons
    made[promoted] = shapely.get_geometry(made[promoted], 0)
    out[todo] = made
    return out


def edge_excess(coords: np.ndarray, sin_lat: np.ndarray | None = None) -> np.ndarray:
    """Half the signed spherical excess (radians) of the triangle pole–edge of each step ``coords[i:i+2]``.

    Great-circle edges on the authalic sphere; a closed ring's signed area (m²) is
    ``2 * AUTHALIC_R2 * sum`` over its edges (negative counter-clockwise), so the sums of
    pieces of a ring (its arcs) add up to the ring's.
    """
    sb = _sin_authalic(coords[:, 1], sin_lat)
    # t = tan(beta / 2) = sin(beta) / (1 + cos(beta))
    t = sb / (1.0 + np.sqrt(1.0 - sb * sb))
    dlam = np.diff(np.radians(coords[:, 0]))
    if len(dlam) and np.abs(dlam).max() > np.pi:
        dlam = (dlam + np.pi) % (2 * np.pi) - np.pi
    t1, t2 = t[:-1], t[1:]
    # 1 + t1 t2 > 0 for |t| < 1, so atan (not atan2) gives the right quadrant.
    x = np.tan(dlam * 0.5)
    x *= t1 + t2
    x /= 1.0 + t1 * t2
    return np.arctan(x, out=x)


def _ring_areas_m2(coords: np.ndarray, ring_offsets: np.ndarray, sin_lat: np.ndarray | None = None) -> np.ndarray:
    """Unsigned area (m²) of each ring, great-circle edges on the authalic sphere."""
    excess = np.append(edge_excess(coords, sin_lat), 0.0)
    excess[ring_offsets[1:] - 1] = 0.0  # the step from one ring to the next is not an edge
    return np.abs(np.add.reduceat(excess, ring_offsets[:-1])) * (2.0 * AUTHALIC_R2)


def _rough_edge_m(coords: np.ndarray, ring_offsets: np.ndarray, sin_lat: np.ndarray | None = None) -> np.ndarray:
    """An upper bound of each edge's length (m); 0 for the step between rings."""
    lon, lat = coords[:, 0], coords[:, 1]
    # 111.7 km per degree is the most a degree of latitude (or of longitude at the
    # equator) measures on WGS84; the factor 1.2 covers the cosine of the mid-latitude.
    # |dx| + |dy| >= hypot(dx, dy), so the sum is an upper bound too.
    dlon = np.abs(np.diff(lon))
    if len(dlon) and dlon.max() > 180.0:
        dlon = np.abs((np.diff(lon) + 180.0) % 360.0 - 180.0)
    cos_v = np.cos(np.radians(lat)) if sin_lat is None else np.sqrt(1.0 - sin_lat * sin_lat)
    dlon *= np.maximum(cos_v[:-1], cos_v[1:])
    dlon += np.abs(np.diff(lat))
    dlon *= 1.2 * 111_700.0
    dlon[ring_offsets[1:-1] - 1] = 0.0
    return np.append(dlon, 0.0)


#: Bound of the area (m²) between a geodesic edge and the great circle through its ends on
#: the authalic sphere, per km³ of the edge's length as :func:`_rough_edge_m` bounds it (it
#: grows as the length cubed). Largest for east-west edges at 45° of latitude: 0.0252 of
#: ``_rough_edge_m``'s km³ (0.0438 of the true length's), measured against GeographicLib's
#: geodesics (``pyproj.Geod.npts``) for edges of 1 to 300 km at every 2.5° of latitude and
#: azimuths 60-120° (tests/test_measure.py); 0.05 leaves a factor two. (Until 2026-12 this
#: was 1e-2, fitted on star polygons: east-west edges exceeded it up to 2.5 times.)
_EDGE_ERROR_M2_PER_KM3 = 0.05

#: Rings whose error bound exceeds this fraction of their area are densified: the areas are
#: within it of the geodesic ones, the accuracy :func:`geo.measure.geodesic_area_m2` promises.
#: (It was 2e-7 against the bound that was five times too small: the same rings were
#: densified, and the errors it let through reached 5e-7.)
_RELATIVE_BUDGET = 1e-6


def _ragged_polygons(geoms: np.ndarray, shells_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates and ring, polygon and geometry offsets of non-empty Polygons/MultiPolygons.

    ``shells_only``: every geometry is a Polygon without holes (the common case: no ring objects needed).
    """
    if shells_only:
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        ring_offsets = np.concatenate([[0], np.cumsum(np.bincount(index, minlength=len(geoms)))])
        poly_offsets = geom_offsets = np.arange(len(geoms) + 1)
        return coords, ring_offsets, poly_offsets, geom_offsets
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if len(offsets) == 2:  # all Polygons: one polygon per geometry
        ring_offsets, poly_offsets = offsets
        geom_offsets = np.arange(len(poly_offsets))
    else:
        ring_offsets, poly_offsets, geom_offsets = offsets
    return coords[:, :2], ring_offsets, poly_offsets, geom_offsets


def edge_error_bound_m2(coords: np.ndarray, sin_lat: np.ndarray | None = None) -> np.ndarray:
    """A bound (m²) of the area between each step's geodesic and great circle (``coords[i]`` → ``coords[i+1]``).

    The ellipsoid's geodesic and the authalic sphere's great circle through the step's ends
    enclose at most this (see ``_EDGE_ERROR_M2_PER_KM3``).
    A ring's area measured with great circles (:func:`edge_excess`) is within the sum of these
    of its geodesic area, with no densification (and no pyproj).
    """
    edge_km = _rough_edge_m(coords, np.array([0, len(coords)]), sin_lat)[:-1] / 1000.0
    return _EDGE_ERROR_M2_PER_KM3 * edge_km**3


def _sphere_rings(geoms: np.ndarray, shells_only: bool) -> tuple:
    """Each ring's area on the authalic sphere (m²) and the bound of its geodesic error (m²), with what they came from.

    Returns ``(ring_area, ring_bound, edge_km, coords, ring_offsets, poly_offsets, geom_offsets)``
    (``edge_km``: each step's rough length, :func:`_rough_edge_m`).
    """
    coords, ring_offsets, poly_offsets, geom_offsets = _ragged_polygons(geoms, shells_only)
    sin_lat = np.sin(np.radians(coords[:, 1]))
    ring_area = _ring_areas_m2(coords, ring_offsets, sin_lat)
    edge_km = _rough_edge_m(coords, ring_offsets, sin_lat) / 1000.0
    ring_bound = _EDGE_ERROR_M2_PER_KM3 * np.add.reduceat(edge_km**3, ring_offsets[:-1])
    return ring_area, ring_bound, edge_km, coords, ring_offsets, poly_offsets, geom_offsets


def _per_geometry(ring_value: np.ndarray, poly_offsets: np.ndarray, geom_offsets: np.ndarray, *, holes: int):
    """Ring values summed per geometry; ``holes=-1`` subtracts the holes (each polygon's first ring is its shell)."""
    sign = np.full(len(ring_value), float(holes))
    sign[poly_offsets[:-1]] = 1.0
    return np.add.reduceat(np.add.reduceat(sign * ring_value, poly_offsets[:-1]), geom_offsets[:-1])


def sphere_area_bound_m2(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area (m², great circles on the authalic sphere) of lon/lat polygons, and a bound of its geodesic error (m²).

    The polygons are non-empty Polygons/MultiPolygons.

    The geodesic area (:func:`geo.measure.geodesic_area_lonlat_m2`) lies within ``area ± bound``:
    it is the same sum, with the rings whose bound is not negligible densified along the geodesic.
    """
    geoms = np.asarray(geoms, dtype=object)
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    ring_area, ring_bound, _, _, _, poly_offsets, geom_offsets = _sphere_rings(geoms, bool(simple.all()))
    return (_per_geometry(ring_area, poly_offsets, geom_offsets, holes=-1),
            _per_geometry(ring_bound, poly_offsets, geom_offsets, holes=1))


def _authalic_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Area (m²) of non-empty Polygons/MultiPolygons in lon/lat, all at once.

    On the authalic sphere (radius ``sqrt(AUTHALIC_R2)``, latitude the authalic
    latitude) areas equal ellipsoidal areas. A ring's area is the sum over its
    edges of the signed spherical excess of the triangle edge–pole,
    ``2 atan(tan(dλ/2) (t1 + t2) / (1 + t1 t2))`` with ``t = tan(β/2)``.
    A geodesic edge of the ellipsoid is not exactly a great circle there; the
    difference grows as the cube of the edge length, so only the rings whose
    bound exceeds ``_RELATIVE_BUDGET`` (1e-6) of their area are densified along
    the geodesic and measured again.
    """
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    if simple.any() and not simple.all():
        out = np.empty(len(geoms))
        out[simple] = _authalic_area_m2(geoms[simple])
        out[~simple] = _authalic_area_m2(geoms[~simple])
        return out
    ring_area, bound, edge_km, coords, ring_offsets, poly_offsets, geom_offsets = _sphere_rings(
        geoms, bool(simple.all())
    )
    redo = np.flatnonzero(bound > _RELATIVE_BUDGET * ring_area)
    if len(redo):
        counts = ring_offsets[redo + 1] - ring_offsets[redo]
        sub_offsets = np.concatenate([[0], np.cumsum(counts)])
        vertex = np.repeat(ring_offsets[redo] - sub_offsets[:-1], counts) + np.arange(sub_offsets[-1])
        # Split each ring's edges so that its bound (n edges of length l: C n l³) fits the budget.
        n_edges = np.maximum(np.add.reduceat((edge_km > 0).astype(float), ring_offsets[:-1])[redo], 1.0)
        target_km = np.cbrt(_RELATIVE_BUDGET * ring_area[redo] / (_EDGE_ERROR_M2_PER_KM3 * n_edges))
        target_m = np.clip(target_km * 1000.0, 100.0, MAX_EDGE_M)
        dense, dense_offsets = _densify_long_edges(coords[vertex], sub_offsets, np.repeat(target_m, counts))
        ring_area[redo] = _ring_areas_m2(dense, dense_offsets)
    return _per_geometry(ring_area, poly_offsets, geom_offsets, holes=-1)
