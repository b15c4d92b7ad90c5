"""Schematic park boundaries, built reproducibly from real inputs.

No surveyed boundary of the parks is reachable, so the bundled park layers are
schematic: the land on one country's side of the real border stretch within a
distance of it, the distance solved so that the geodesic area equals the
published figure. Nothing here uses a hand-written coordinate: the inputs are
the OpenStreetMap land polygon, the border stretch cut from the OpenStreetMap
border, and a published area.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString

from geo.errors import DataError
from geo.measure import GEOD, M2_PER_HA

__all__ = [
    "BandSolution",
    "band_along_line",
    "disc",
    "grow_within",
    "nearer_to",
    "point_buffer",
    "round_coords",
    "solve_monotone",
    "split_band",
]

#: Relative tolerance to which the solved area matches the target.
AREA_RTOL = 1e-4


class BandSolution:
    """A polygon and the parameter that produced it.

    Attributes
    ----------
    geometry : shapely Polygon or MultiPolygon
        In WGS84 longitude/latitude, coordinates rounded to 6 decimals.
    parameter_m : float
        The solved distance (or length along the line), in metres.
    area_ha : float
        Geodesic area of ``geometry`` on WGS84, in hectares.
    """

    def __init__(self, geometry: shapely.Geometry, parameter_m: float, area_ha: float) -> None:
        self.geometry = geometry
        self.parameter_m = parameter_m
        self.area_ha = area_ha

    def __repr__(self) -> str:
        return f"BandSolution(parameter_m={self.parameter_m:.1f}, area_ha={self.area_ha:.1f})"


def round_coords(geom: shapely.Geometry, decimals: int = 6) -> shapely.Geometry:
    """Round coordinates to ``decimals`` places keeping the geometry valid."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, decimals))
    if not rounded.is_valid:
        rounded = shapely.make_valid(rounded, method="structure")
    return shapely.normalize(_polygonal(rounded))


def geodesic_area_ha(geom: shapely.Geometry) -> float:
    """Geodesic area of one lon/lat polygon on WGS84, in hectares."""
    if geom.is_empty:
        return 0.0
    return abs(GEOD.geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / M2_PER_HA


def solve_monotone(
    build: Callable[[float], shapely.Geometry],
    *,
    target_ha: float,
    lo_m: float,
    hi_m: float,
    rtol: float = AREA_RTOL,
    max_iter: int = 60,
) -> BandSolution:
    """Find the parameter at which ``build`` yields a polygon of ``target_ha``.

    ``build(p)`` must return a polygon whose geodesic area grows with ``p``.
    Bisection on ``[lo_m, hi_m]``; each candidate is rounded to 6 decimals
    before it is measured, so the returned area is that of the returned geometry.

    Raises
    ------
    DataError
        If the target is not bracketed by ``lo_m`` and ``hi_m``.
    """
    def measure(p: float) -> tuple[shapely.Geometry, float]:
        geom = round_coords(build(p))
        return geom, geodesic_area_ha(geom)

    geom_lo, area_lo = measure(lo_m)
    geom_hi, area_hi = measure(hi_m)
    if not area_lo <= target_ha <= area_hi:
        raise DataError(
            f"cannot reach {target_ha:,.0f} ha: areas run from {area_lo:,.0f} ha to "
            f"{area_hi:,.0f} ha between {lo_m:.0f} m and {hi_m:.0f} m."
        )
    for _ in range(max_iter):
        mid = 0.5 * (lo_m + hi_m)
        geom, area = measure(mid)
        if abs(area - target_ha) <= rtol * target_ha:
            return BandSolution(geom, mid, area)
        if area < target_ha:
            lo_m = mid
        else:
            hi_m = mid
    return BandSolution(geom, mid, area)


def _local_transformers(line: LineString) -> tuple[Transformer, Transformer]:
    """Lambert azimuthal equal-area projection centred on the line's midpoint."""
    lon, lat = line.interpolate(0.5, normalized=True).coords[0]
    return _laea_at(lon, lat)


def _laea_at(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Lambert azimuthal equal-area projection centred on ``(lon, lat)``."""
    proj = f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +datum=WGS84 +units=m +no_defs"
    fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    inv = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    return fwd, inv


def _project(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return shapely.MultiPolygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _touching(geom: shapely.Geometry, line: shapely.Geometry, tol_deg: float = 1e-6) -> shapely.Geometry:
    """Keep the parts of ``geom`` that touch ``line`` (the parts that adjoin the border)."""
    near = line.buffer(tol_deg)
    parts = [p for p in shapely.get_parts(_polygonal(geom)) if p.intersects(near)]
    if not parts:
        return shapely.MultiPolygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def band_along_line(
    land: shapely.Geometry,
    line: LineString,
    *,
    target_ha: float,
    beyond: shapely.Geometry | None = None,
    max_distance_m: float = 200_000.0,
) -> BandSolution:
    """The land within a distance of a line, the distance solved for an area.

    The buffer is built in a Lambert azimuthal equal-area projection centred on
    the line; it is transformed back and intersected with ``land`` in
    longitude/latitude, so the land polygon's own vertices (and therefore the
    border) are kept exactly. Only parts that touch the line are kept. Where
    the border goes on past the line (``beyond``), the band stops at the
    bisector between the line and the rest of the border (a Voronoi partition
    of the densified lines), so bands built on both sides of a border end at
    the same place on it.

    Parameters
    ----------
    land : Polygon or MultiPolygon
        The country's land, lon/lat.
    line : LineString
        The border stretch, lon/lat.
    target_ha : float
        The published area to reach, in hectares.
    beyond : LineString or MultiLineString, optional
        The rest of the border, lon/lat, which the band must not reach past.
    max_distance_m : float, default 200 km
        Upper bound of the search.

    Returns
    -------
    BandSolution
        ``parameter_m`` is the solved distance in metres.
    """
    fwd, inv = _local_transformers(line)
    line_m = _project(line, fwd)
    window = shapely.box(*line.buffer(max_distance_m / 50_000).bounds)  # ~2x the max distance
    land = shapely.intersection(land, window)

    zone = None
    if beyond is not None and not beyond.is_empty:
        zone = _nearer_zone(line_m, _project(beyond, fwd), extent=line_m.buffer(2 * max_distance_m).envelope)

    def build(distance_m: float) -> shapely.Geometry:
        band = line_m.buffer(distance_m, quad_segs=16)
        if zone is not None:
            band = shapely.intersection(band, zone)
        band = _project(shapely.segmentize(band, 1_000.0), inv)
        return _touching(shapely.intersection(land, band), line)

    return solve_monotone(build, target_ha=target_ha, lo_m=100.0, hi_m=max_distance_m)


def _nearer_zone(
    line: shapely.Geometry, other: shapely.Geometry, *, extent: shapely.Geometry, spacing_m: float = 250.0
) -> shapely.Geometry:
    """The region nearer to ``line`` than to ``other`` (planar, both densified to ``spacing_m``)."""
    mine = shapely.get_coordinates(shapely.segmentize(line, spacing_m))
    theirs = shapely.get_coordinates(shapely.segmentize(other, spacing_m))
    theirs = theirs[shapely.distance(shapely.points(theirs), line) > spacing_m / 10]
    points = np.vstack([mine, theirs])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    )
    return shapely.intersection(shapely.union_all(cells[: len(mine)]), extent)


def split_band(
    band: shapely.Geometry,
    line: LineString,
    *,
    distance_m: float,
    target_ha: float,
) -> tuple[BandSolution, shapely.Geometry]:
    """Split a band into the part next to the start of the line and the rest.

    The first part is the band within ``distance_m`` of the first ``x`` metres
    of the line (measured geodesically from its start), ``x`` solved so that the
    part has ``target_ha``; the rest is the band minus that part. The two share
    their common edge exactly and do not overlap.

    Returns
    -------
    (BandSolution, geometry)
        The first part (``parameter_m`` is ``x``) and the remainder.
    """
    fwd, inv = _local_transformers(line)
    coords = np.asarray(line.coords)
    seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])[2]
    cumulative = np.concatenate([[0.0], np.cumsum(seg)])

    def head(length_m: float) -> LineString:
        k = int(np.searchsorted(cumulative, length_m))
        k = min(max(k, 1), len(coords) - 1)
        az = GEOD.inv(coords[k - 1, 0], coords[k - 1, 1], coords[k, 0], coords[k, 1])[0]
        lon, lat, _ = GEOD.fwd(coords[k - 1, 0], coords[k - 1, 1], az, length_m - cumulative[k - 1])
        return LineString(np.vstack([coords[:k], [[lon, lat]]]))

    def build(length_m: float) -> shapely.Geometry:
        cutter = _project(head(length_m), fwd).buffer(distance_m * 1.02, quad_segs=16, cap_style="flat")
        cutter = _project(shapely.segmentize(cutter, 1_000.0), inv)
        return _polygonal(shapely.intersection(band, cutter))

    first = solve_monotone(build, target_ha=target_ha, lo_m=1_000.0, hi_m=float(cumulative[-1]))
    # Cut once more by polygonizing the noded edges, so both parts are made of the
    # same noded vertices and share their common edge exactly (a valid coverage).
    cutter = _project(head(first.parameter_m), fwd).buffer(distance_m * 1.02, quad_segs=16, cap_style="flat")
    cutter = _project(shapely.segmentize(cutter, 1_000.0), inv)
    edges = shapely.get_parts(shapely.union_all([band.boundary, cutter.boundary]))
    faces = shapely.get_parts(shapely.polygonize(edges))
    inside_band = shapely.contains(band, shapely.point_on_surface(faces))
    in_cutter = shapely.contains(cutter, shapely.point_on_surface(faces))
    head_part = round_coords(shapely.union_all(faces[inside_band & in_cutter]))
    rest = round_coords(shapely.union_all(faces[inside_band & ~in_cutter]))
    if rest.is_empty or head_part.is_empty:
        raise DataError("splitting the band left one of the two parks empty.")
    return BandSolution(head_part, first.parameter_m, geodesic_area_ha(head_part)), rest


def disc(lon: float, lat: float, radius_m: float, *, quad_segs: int = 8) -> shapely.Geometry:
    """A circle of ``radius_m`` around ``(lon, lat)`` in lon/lat.

    A regular polygon of ``4 * quad_segs`` sides built in a local equal-area projection
    (few sides keep the map light; areas are measured on the polygon).
    """
    fwd, inv = _laea_at(lon, lat)
    circle = shapely.Point(0.0, 0.0).buffer(radius_m, quad_segs=quad_segs)
    return _project(circle, inv)


def point_buffer(
    lon: float,
    lat: float,
    *,
    target_ha: float,
    within: shapely.Geometry | None = None,
    max_radius_m: float = 100_000.0,
    quad_segs: int = 4,
) -> BandSolution:
    """A circle at a published point with a published area (the WDPA convention for point sites).

    The circle is a regular polygon of ``4 * quad_segs`` sides (16 by default: few enough
    that the map's one-tolerance simplification keeps it whole), its area measured as drawn.
    With ``within`` (the land the site may occupy), the circle is clipped to it and
    its radius solved so that the clipped part has ``target_ha``; only the part
    that holds the centre (or touches it) is kept.

    Returns
    -------
    BandSolution
        ``parameter_m`` is the radius in metres.
    """
    centre = shapely.Point(lon, lat)

    def build(radius_m: float) -> shapely.Geometry:
        circle = disc(lon, lat, radius_m, quad_segs=quad_segs)
        if within is None:
            return circle
        parts = [p for p in shapely.get_parts(_polygonal(shapely.intersection(within, circle)))]
        parts.sort(key=lambda p: p.distance(centre))
        return parts[0] if parts else shapely.MultiPolygon()

    return solve_monotone(build, target_ha=target_ha, lo_m=100.0, hi_m=max_radius_m)


def grow_within(
    seeds: shapely.Geometry,
    allowed: shapely.Geometry,
    *,
    target_ha: float,
    max_distance_m: float = 250_000.0,
) -> BandSolution:
    """The allowed land within a distance of seed geometries, the distance solved for an area.

    ``allowed`` is the land the park may occupy (a country's land cut to a published
    extent, minus what must stay outside); ``seeds`` are the lines and polygons it
    grows from (a border stretch, component reserves). The distance is measured in
    a Lambert azimuthal equal-area projection centred on the seeds; seeds that are
    polygons inside ``allowed`` are always part of the result. Only the parts of
    the result that touch a seed are kept.

    Returns
    -------
    BandSolution
        ``parameter_m`` is the solved distance in metres.
    """
    lon, lat = shapely.centroid(seeds).coords[0]
    fwd, inv = _laea_at(lon, lat)
    seeds_m = _project(shapely.segmentize(seeds, 0.01), fwd)
    near = seeds.buffer(1e-6)
    seed_area = _polygonal(shapely.intersection(allowed, seeds))

    def build(distance_m: float) -> shapely.Geometry:
        zone = _project(shapely.segmentize(seeds_m.buffer(distance_m, quad_segs=4), 5_000.0), inv)
        grown = shapely.union(shapely.intersection(allowed, zone), seed_area)
        parts = [p for p in shapely.get_parts(_polygonal(grown)) if p.intersects(near)]
        if not parts:
            return shapely.MultiPolygon()
        return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)

    return solve_monotone(build, target_ha=target_ha, lo_m=100.0, hi_m=max_distance_m)


def nearer_to(line: LineString, other: shapely.Geometry, *, max_distance_m: float = 250_000.0) -> shapely.Geometry:
    """The region (lon/lat) nearer to ``line`` than to ``other``, within ``2 * max_distance_m`` of ``line``.

    A Voronoi partition of both lines densified every 250 m, in a local equal-area
    projection: a park grown from a border stretch and cut to this region ends
    where the stretch ends.
    """
    fwd, inv = _local_transformers(line)
    line_m = _project(line, fwd)
    zone = _nearer_zone(line_m, _project(other, fwd), extent=line_m.buffer(2 * max_distance_m).envelope)
    return _project(shapely.segmentize(zone, 1_000.0), inv)
