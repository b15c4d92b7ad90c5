"""Border lines: shared edges of country polygons and the geodesic border stretch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString

from geo.errors import DataError
from geo.measure import GEOD

__all__ = ["Stretch", "cut_stretch", "shared_edges"]


def shared_edges(a: shapely.Geometry, b: shapely.Geometry) -> MultiLineString:
    """Return the edges two polygons share, merged into as few lines as possible.

    Points where the polygons only touch are dropped. The polygons must share
    vertices exactly along the common boundary (true of the OpenStreetMap
    country polygons used here), otherwise nothing is returned.

    Parameters
    ----------
    a, b : shapely Polygon or MultiPolygon
        Two polygons in the same coordinates.

    Returns
    -------
    shapely.MultiLineString
        Possibly empty.
    """
    common = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    lines = [g for g in shapely.get_parts(common) if g.geom_type == "LineString" and not g.is_empty]
    merged = shapely.line_merge(shapely.MultiLineString(lines)) if lines else shapely.MultiLineString()
    parts = shapely.get_parts(merged)
    return shapely.MultiLineString(list(parts))


@dataclass(frozen=True)
class Stretch:
    """A stretch of border cut to a geodesic length.

    Attributes
    ----------
    line : LineString
        The stretch, from the start point onwards, with water gaps bridged by
        straight segments between the facing land ends.
    length_m : float
        Geodesic length of ``line`` on WGS84 (equals the requested length).
    gaps : list of LineString
        The bridging segments (where the border runs through water).
    """

    line: LineString
    length_m: float
    gaps: list

    @property
    def gap_length_m(self) -> float:
        """Geodesic length of the bridged water gaps, in metres."""
        return float(sum(GEOD.geometry_length(g) for g in self.gaps))


def cut_stretch(
    border: shapely.Geometry,
    *,
    start: tuple[float, float],
    length_m: float,
    max_gap_m: float = 10_000.0,
) -> Stretch:
    """Walk along a border from a start point and cut it at a geodesic length.

    The border may be in several parts (gaps where it runs through water). The
    walk starts at the end of a part nearest ``start``, follows that part, and
    jumps to the next part whose nearer end is closest to where it stopped;
    each jump is bridged by a straight segment, counted in the length and
    returned in ``gaps``. The cut point is placed on the geodesic of the last
    segment, so the returned length equals ``length_m`` to within a millimetre.

    Parameters
    ----------
    border : LineString or MultiLineString
        Border in WGS84 longitude/latitude.
    start : (float, float)
        Longitude and latitude near which the walk starts (for example a tri-point).
    length_m : float
        Geodesic length to cut, in metres.
    max_gap_m : float, default 10 km
        A jump longer than this ends the walk with an error.

    Returns
    -------
    Stretch

    Raises
    ------
    DataError
        If the border is shorter than ``length_m`` or has a gap wider than ``max_gap_m``.
    """
    parts = [np.asarray(p.coords) for p in shapely.get_parts(shapely.line_merge(border))]
    if not parts:
        raise DataError("the border is empty; rebuild the layers with 'make layers'.")
    position = np.asarray(start, dtype=float)
    coords: list[np.ndarray] = []
    gaps: list[LineString] = []
    walked = 0.0
    remaining = list(range(len(parts)))
    while remaining:
        # the first part when no distance compares (NaN): its gap is then reported as too wide
        best, best_dist, reverse = remaining[0], np.inf, False
        for idx in remaining:
            for rev, end in ((False, parts[idx][0]), (True, parts[idx][-1])):
                dist = GEOD.inv(position[0], position[1], end[0], end[1])[2]
                if dist < best_dist:
                    best, best_dist, reverse = idx, dist, rev
        remaining.remove(best)
        part = parts[best][::-1] if reverse else parts[best]
        if coords:
            if best_dist > max_gap_m:
                raise DataError(
                    f"the border has a gap of {best_dist / 1000:.1f} km after "
                    f"{walked / 1000:.1f} km, more than max_gap_m={max_gap_m:.0f}; "
                    "the stretch cannot be cut. Check the border layer."
                )
            if best_dist > 0:
                gaps.append(LineString([coords[-1][-1], part[0]]))
                walked += best_dist
        elif best_dist > max_gap_m:
            raise DataError(
                f"no border part starts within {max_gap_m / 1000:.0f} km of {tuple(start)}; "
                "check the start point and the border layer."
            )
        seg = GEOD.inv(part[:-1, 0], part[:-1, 1], part[1:, 0], part[1:, 1])[2]
        cumulative = walked + np.cumsum(seg)
        if cumulative.size and cumulative[-1] >= length_m:
            k = int(np.searchsorted(cumulative, length_m))
            before = cumulative[k] - seg[k]
            az = GEOD.inv(part[k, 0], part[k, 1], part[k + 1, 0], part[k + 1, 1])[0]
            lon, lat, _ = GEOD.fwd(part[k, 0], part[k, 1], az, length_m - before)
            coords.append(np.vstack([part[: k + 1], [[lon, lat]]]))
            line = LineString(np.vstack(coords))
            return Stretch(line=line, length_m=float(length_m), gaps=gaps)
        walked = float(cumulative[-1]) if cumulative.size else walked
        coords.append(part)
        position = part[-1]
    raise DataError(
        f"the border is only {walked / 1000:.1f} km long from {tuple(start)}, "
        f"shorter than the {length_m / 1000:.1f} km asked for."
    )
