"""Areas and lengths: geodesic on the WGS84 ellipsoid, equal-area projections only as cross-checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.errors import CRSError

if TYPE_CHECKING:
    # imported where used: the lon/lat kernels need neither (``bigcats simplify`` stays light)
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS, Geod

__all__ = [
    "CROSSCHECK_CRS",
    "GEOD",
    "MAX_EDGE_M",
    "M2_PER_HA",
    "crosscheck_areas",
    "densify_geodesic",
    "geodesic_area_lonlat_m2",
    "geodesic_area_m2",
    "geodesic_length_m",
    "planar_area_m2",
]

#: The WGS84 ellipsoid (``pyproj.Geod``); every primary area and length is computed on it.
#: Built on first use (module ``__getattr__``): importing pyproj costs about 40 ms, and the
#: area kernel needs it only to densify long edges.
GEOD: Geod

M2_PER_HA = 10_000.0



def _geod() -> Geod:
    """:data:`GEOD`, built on first use."""
    geod = globals().get("GEOD")
    if geod is None:
        from pyproj import Geod

        globals()["GEOD"] = geod = Geod(ellps="WGS84")
    return geod


def _lonlat_crs() -> tuple[CRS, CRS]:
    """Longitude/latitude on WGS84, built once (a CRS takes about 0.3 ms to build; it is compared on every call)."""
    found = globals().get("_LONLAT_CRS")
    if found is None:
        from pyproj import CRS

        globals()["_LONLAT_CRS"] = found = (CRS("EPSG:4326"), CRS("OGC:CRS84"))
    return found


def __getattr__(name: str):
    if name == "GEOD":  # ``from geo.measure import GEOD``
        return _geod()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_EQUAL_AREA_METHODS = (
    "equal area",
    "mollweide",
    "sinusoidal",
    "eckert iv",
    "eckert vi",
    "goode",
)


def _as_lonlat(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return the geometries as WGS84 longitude/latitude, refusing to guess a CRS."""
    import geopandas as gpd

    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if geoms.crs is None:
        raise CRSError(
            "the layer has no CRS, so its coordinates cannot be measured. "
            "Set the CRS the data was made in (GeoDataFrame.set_crs), never a guess."
        )
    if not any(geoms.crs.equals(lonlat) for lonlat in _lonlat_crs()):
        geoms = geoms.to_crs("EPSG:4326")
    return geoms


def geodesic_area_m2(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic area of each polygon on the WGS84 ellipsoid, in square metres.

    The layer may be in any CRS; it is transformed to WGS84 longitude/latitude.
    The computation is vectorised over every vertex of every polygon at once
    (:func:`_authalic_area_m2`): the ellipsoid is mapped onto the authalic
    sphere, which preserves areas exactly, and each ring's area is the
    spherical excess of its edges there. Each edge is a geodesic, as in
    GeographicLib; a geodesic maps onto the authalic sphere close to, not
    exactly onto, a great circle (the difference grows as the edge length
    cubed), so the rings whose bound exceeds 2e-7 of their area are densified
    along the ellipsoidal geodesic (pieces of at most :data:`MAX_EDGE_M`,
    2 km, shorter for small rings) and measured again. The result agrees with
    :meth:`pyproj.Geod.geometry_area_perimeter` to better than 1e-6 relative
    (``tests/test_measure.py`` proves it near 60N, the equator, with holes,
    multipolygons and on the bundled parks).

    Winding order does not matter; holes are subtracted; lines and points have
    area 0; an empty geometry covers no ground (0); a missing one (None) gives NaN.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray of float
        Area in m², one value per geometry.

    Raises
    ------
    CRSError
        If the geometries have no CRS.
    """
    return geodesic_area_lonlat_m2(np.asarray(_as_lonlat(gdf).array, dtype=object))


def geodesic_area_lonlat_m2(geoms: np.ndarray) -> np.ndarray:
    """:func:`geodesic_area_m2` of shapely geometries already in WGS84 longitude/latitude (no CRS check).

    For callers that hold bare geometries known to be lon/lat (a GeoJSON file, RFC 7946);
    it needs neither geopandas nor pandas.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.where(shapely.is_missing(geoms), np.nan, 0.0)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    type_id = shapely.get_type_id(geoms)
    polygonal = present & np.isin(type_id, (3, 6))
    out[present & ~polygonal & (type_id != 7)] = 0.0
    collections = np.flatnonzero(present & (type_id == 7))
    for i in collections:
        parts = [p for p in shapely.get_parts(geoms[i]) if shapely.get_type_id(p) in (3, 6)]
        out[i] = float(_authalic_area_m2(np.array(parts, dtype=object)).sum()) if parts else 0.0
    if polygonal.any():
        out[polygonal] = _authalic_area_m2(geoms[polygonal])
    return out


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

#: Rings whose error bound exceeds this fraction of their area are densified.
_RELATIVE_BUDGET = 2e-7


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


def sphere_area_bound_m2(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area (m², great circles on the authalic sphere) of lon/lat polygons, and a bound of its geodesic error (m²).

    The polygons are non-empty Polygons/MultiPolygons.

    The geodesic area (:func:`geodesic_area_lonlat_m2`) lies within ``area ± bound``: it is
    the same sum, with the rings whose bound is not negligible densified along the geodesic.
    """
    geoms = np.asarray(geoms, dtype=object)
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    coords, ring_offsets, poly_offsets, geom_offsets = _ragged_polygons(geoms, bool(simple.all()))
    sin_lat = np.sin(np.radians(coords[:, 1]))
    ring_area = _ring_areas_m2(coords, ring_offsets, sin_lat)
    edge_km = _rough_edge_m(coords, ring_offsets, sin_lat) / 1000.0
    ring_bound = _EDGE_ERROR_M2_PER_KM3 * np.add.reduceat(edge_km**3, ring_offsets[:-1])
    sign = -np.ones(len(ring_area))
    sign[poly_offsets[:-1]] = 1.0
    poly_area = np.add.reduceat(sign * ring_area, poly_offsets[:-1])
    poly_bound = np.add.reduceat(ring_bound, poly_offsets[:-1])
    return np.add.reduceat(poly_area, geom_offsets[:-1]), np.add.reduceat(poly_bound, geom_offsets[:-1])


def _authalic_area_m2(geoms: np.ndarray) -> np.ndarray:
    """Area (m²) of non-empty Polygons/MultiPolygons in lon/lat, all at once.

    On the authalic sphere (radius ``sqrt(AUTHALIC_R2)``, latitude the authalic
    latitude) areas equal ellipsoidal areas. A ring's area is the sum over its
    edges of the signed spherical excess of the triangle edge–pole,
    ``2 atan(tan(dλ/2) (t1 + t2) / (1 + t1 t2))`` with ``t = tan(β/2)``.
    A geodesic edge of the ellipsoid is not exactly a great circle there; the
    difference grows as the cube of the edge length, so only the rings whose
    bound exceeds 1e-7 of their area are densified along the geodesic and
    measured again.
    """
    simple = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    if simple.any() and not simple.all():
        out = np.empty(len(geoms))
        out[simple] = _authalic_area_m2(geoms[simple])
        out[~simple] = _authalic_area_m2(geoms[~simple])
        return out
    coords, ring_offsets, poly_offsets, geom_offsets = _ragged_polygons(geoms, bool(simple.all()))
    sin_lat = np.sin(np.radians(coords[:, 1]))
    ring_area = _ring_areas_m2(coords, ring_offsets, sin_lat)
    edge_km = _rough_edge_m(coords, ring_offsets, sin_lat) / 1000.0
    bound = _EDGE_ERROR_M2_PER_KM3 * np.add.reduceat(edge_km**3, ring_offsets[:-1])
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
    # The first ring of each polygon is its shell, the others are holes.
    sign = -np.ones(len(ring_area))
    sign[poly_offsets[:-1]] = 1.0
    poly_area = np.add.reduceat(sign * ring_area, poly_offsets[:-1])
    return np.add.reduceat(poly_area, geom_offsets[:-1])


def geodesic_length_m(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Geodesic length of each line on the WGS84 ellipsoid, in metres.

    For polygons this is the perimeter. An empty geometry has length 0; a missing one (None) gives NaN.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries with a CRS.

    Returns
    -------
    numpy.ndarray of float
        Length in m, one value per geometry.
    """
    geoms = _as_lonlat(gdf)
    out = np.full(len(geoms), np.nan)
    for i, geom in enumerate(geoms.array):
        if geom is None:
            continue
        if geom.is_empty:
            out[i] = 0.0
            continue
        out[i] = _geometry_length_m(geom)
    return out


def _geometry_length_m(geom: shapely.Geometry) -> float:
    """:meth:`pyproj.Geod.geometry_length`, the same sums in the same order, without a shapely object per part.

    A border of a thousand parts (it has gaps wherever it runs through water) costs one
    coordinate fetch instead of a thousand. Lines and multi-lines only; anything else
    goes to pyproj as it is.
    """
    if shapely.get_type_id(geom) not in (1, 5):  # LineString, MultiLineString
        return _geod().geometry_length(geom)
    parts = shapely.get_parts(geom)
    coords, index = shapely.get_coordinates(parts, return_index=True)
    ends = np.cumsum(np.bincount(index, minlength=len(parts)))
    if len(parts) == 1 and shapely.get_type_id(geom) == 1:
        return _geod().line_length(coords[:, 0], coords[:, 1])
    total = 0.0
    start = 0
    for end in ends:
        total += _geod().line_length(coords[start:end, 0], coords[start:end, 1])
        start = end
    return total


def planar_area_m2(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Planar area in the layer's own CRS, allowed only for an equal-area projection.

    This exists for cross-checks against the WDPA conventions (Mollweide,
    ``ESRI:54009``; Behrmann, ``ESRI:54017``). It refuses a geographic CRS
    (areas in square degrees are meaningless) and any projection that is not
    equal-area, such as Web Mercator, whose areas are wrong by a factor of
    about 1/cos²(latitude): 1.9× at 43°N.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Geometries in an equal-area projected CRS.

    Returns
    -------
    numpy.ndarray of float
        Area in m² (the CRS must use metres).

    Raises
    ------
    CRSError
        If the CRS is missing, geographic, or not an equal-area projection.
    """
    import geopandas as gpd

    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    crs = geoms.crs
    if crs is None:
        raise CRSError("the layer has no CRS; set it before measuring (GeoDataFrame.set_crs).")
    if crs.is_geographic:
        raise CRSError(
            f"refusing a planar area in the geographic CRS {crs.to_string()}: "
            "longitude/latitude degrees are not a unit of area. "
            "Use geodesic_area_m2(), or reproject to an equal-area CRS such as ESRI:54009."
        )
    if not _is_equal_area(crs):
        raise CRSError(
            f"refusing a planar area in {crs.to_string()} ({crs.name}): it is not an "
            "equal-area projection (Web Mercator inflates areas about 1.9x at 43N). "
            "Use geodesic_area_m2(), or reproject to an equal-area CRS such as ESRI:54009."
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"the CRS {crs.to_string()} is in {unit}, not metres; reproject first.")
    return np.asarray(geoms.area, dtype=float)


def _is_equal_area(crs: CRS) -> bool:
    operation = crs.coordinate_operation
    if operation is None:
        return False
    name = operation.method_name.lower()
    return any(key in name for key in _EQUAL_AREA_METHODS)


#: The WDPA world's equal-area conventions, used as cross-checks only.
CROSSCHECK_CRS = {"behrmann": "ESRI:54017", "mollweide": "ESRI:54009"}


def crosscheck_areas(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.DataFrame:
    """Geodesic area beside the Behrmann and Mollweide planar areas, in hectares.

    Protected Planet computes WDPA areas in Mollweide (``ESRI:54009``) and the
    wdpar package in Behrmann (``ESRI:54017``); both are equal-area on a
    sphere, so they differ slightly from the ellipsoidal geodesic area.

    Parameters
    ----------
    gdf : GeoSeries or GeoDataFrame
        Polygons with a CRS.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_ha`` (geodesic), ``behrmann_area_ha``,
        ``behrmann_difference_pct``, ``mollweide_area_ha``,
        ``mollweide_difference_pct`` (planar minus geodesic, in % of geodesic).
    """
    import pandas as pd

    geoms = _as_lonlat(gdf)
    geodesic_ha = geodesic_area_m2(geoms) / M2_PER_HA
    table = pd.DataFrame({"area_ha": geodesic_ha}, index=geoms.index)
    for name, crs in CROSSCHECK_CRS.items():
        planar_ha = planar_area_m2(geoms.to_crs(crs)) / M2_PER_HA
        table[f"{name}_area_ha"] = planar_ha
        with np.errstate(divide="ignore", invalid="ignore"):  # no area: the difference in % is undefined (NaN)
            difference_pct = 100 * (planar_ha - geodesic_ha) / geodesic_ha
            table[f"{name}_difference_pct"] = np.where(geodesic_ha > 0, difference_pct, np.nan)
    return table

