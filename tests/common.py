"""Tiny geometries whose true answers are computed independently of the package."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

# WGS84 defining constants.
A = 6_378_137.0
F = 1 / 298.257223563
B = A * (1 - F)
E2 = F * (2 - F)
E = math.sqrt(E2)


def authalic_zone_m2(lat1_deg: float, lat2_deg: float, dlon_deg: float) -> float:
    """Exact area on the WGS84 ellipsoid between two parallels and two meridians.

    Closed form (e.g. Snyder, Map Projections: A Working Manual, eq. 3-12):
    the area from the equator to latitude phi over 2*pi of longitude is
    pi*b^2*q(phi) with q = sin/(1-e^2 sin^2) + ln((1+e sin)/(1-e sin))/(2e).
    """

    def q(phi: float) -> float:
        s = math.sin(phi)
        return s / (1 - E2 * s * s) + math.log((1 + E * s) / (1 - E * s)) / (2 * E)

    phi1, phi2 = math.radians(lat1_deg), math.radians(lat2_deg)
    return 0.5 * B * B * math.radians(dlon_deg) * (q(phi2) - q(phi1))


def parallel_box(lon0: float, lat0: float, dlon: float, dlat: float, n: int = 2000) -> Polygon:
    """A lon/lat box whose east-west edges follow the parallels (densely sampled).

    A geodesic between two points on a parallel bulges poleward; with ``n``
    vertices per edge the geodesic polygon converges to the box bounded by
    the parallels, whose exact area :func:`authalic_zone_m2` gives.
    """
    lons = np.linspace(lon0, lon0 + dlon, n)
    south = np.column_stack([lons, np.full(n, lat0)])
    north = np.column_stack([lons[::-1], np.full(n, lat0 + dlat)])
    return Polygon(np.vstack([south, north]))


def geod_ha(geom) -> float:
    """Geodesic area in ha with pyproj.Geod directly (independent of geo.measure).

    Rings are oriented first (exterior counter-clockwise, holes clockwise), as
    Geod.geometry_area_perimeter sums signed ring areas.
    """
    import shapely
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.orient_polygons(geom))[0]) / 10_000


def geod_dense(geom, max_edge_m: float = 1_000.0):
    """``geom`` with points on the WGS84 geodesic of each edge every ``max_edge_m`` (pyproj.Geod.npts).

    Independent of geo.measure.densify_geodesic: the same polygon under the geodesic reading of
    its edges, whose planar overlays in lon/lat then keep their geodesic areas.
    """
    import shapely
    from pyproj import Geod

    geod = Geod(ellps="WGS84")

    def ring(coords):
        out = []
        for (x0, y0), (x1, y1) in zip(coords[:-1], coords[1:], strict=True):
            out.append((x0, y0))
            n = int(math.ceil(geod.inv(x0, y0, x1, y1)[2] / max_edge_m)) - 1
            if n > 0:
                out.extend(geod.npts(x0, y0, x1, y1, n))
        out.append(tuple(coords[-1]))
        return out

    def polygon(p):
        return shapely.Polygon(ring(np.asarray(p.exterior.coords)[:, :2]),
                               [ring(np.asarray(r.coords)[:, :2]) for r in p.interiors])

    if geom.geom_type == "Polygon":
        return polygon(geom)
    return shapely.MultiPolygon([polygon(p) for p in geom.geoms])
