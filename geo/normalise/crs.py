"""The one reprojection of the project: a source layer to EPSG:4326, refusing to guess a CRS.

Everything after the import works in longitude/latitude (EPSG:4326). :func:`to_wgs84` is
the only place a layer is reprojected to it; code that needs lon/lat and is handed a
layer calls :func:`geo.lonlat.require_lonlat`, which raises instead of reprojecting silently.
"""

from __future__ import annotations

import math
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError
from pyproj.exceptions import ProjError

from geo.errors import UsageError
from geo.io import Source
from geo.lonlat import crs_name
from geo.project import bundled_project
from geo.validate import Problem

#: Default of ``region``: the bundled project's.
_BUNDLED = "bundled"


def _source_crs(source: Source, *, crs: str | None, layer: str) -> tuple[CRS | None, list[Problem], str | None]:
    """The CRS the source is in (declared, or ``--crs`` when none is), the problems and its name.

    None when refused: a declared CRS other than ``--crs``, or none at all.
    """
    problems: list[Problem] = []
    declared = source.crs
    is_geojson = source.format in ("GeoJSON", "TopoJSON")  # both lon/lat (CRS84) by definition
    legacy_crs = isinstance(source.geojson, dict) and "crs" in source.geojson
    given = None
    if crs is not None:
        try:
            given = CRS.from_user_input(crs)
        except _ProjCRSError:
            raise UsageError(f"--crs {crs!r} is not a CRS pyproj knows; give it as EPSG:XXXX.") from None
    if is_geojson and not legacy_crs:
        declared = None if given is not None else CRS("OGC:CRS84")  # RFC 7946: CRS84 by definition
    if given is not None and declared is not None and not given.equals(declared):
        problems.append(
            Problem(
                layer,
                "*",
                f"the file declares its CRS {crs_name(declared)} but --crs {crs} was given",
                "drop --crs: a declared CRS is never relabelled",
            )
        )
        return None, problems, crs_name(declared)
    use = cast(CRS | None, declared if declared is not None else given)  # Source.crs: a pyproj CRS or None
    if use is None:
        problems.append(
            Problem(
                layer,
                "*",
                "the file has no CRS (no .prj or CRS definition)",
                "pass --crs with the CRS it was made in, e.g. --crs EPSG:32652; never a guess",
            )
        )
        return None, problems, None
    return use, problems, crs_name(use)


def _bounds(geoms: gpd.GeoSeries, have: pd.Series) -> tuple[float, float, float, float]:
    """Bounds of the present geometries (shapely on the array: a filtered GeoSeries took twice as long)."""
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(geoms.array, dtype=object)[have.to_numpy()])
    return float(xmin), float(ymin), float(xmax), float(ymax)


def _check_source(
    gdf: gpd.GeoDataFrame,
    *,
    have: pd.Series,
    use: CRS,
    region: tuple[float, float, float, float] | None,
    layer: str,
    bounds: tuple[float, float, float, float],
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """The source's ``bounds`` in its own CRS: non-finite, swapped x/y, off ±180/±90 (None when refused)."""
    problems: list[Problem] = []
    geoms = gdf.geometry
    xmin, ymin, xmax, ymax = bounds
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        problems.append(
            Problem(
                layer,
                "*",
                "coordinates hold non-finite numbers (NaN or infinity)",
                "fix the coordinates at the source",
            )
        )
        return None, problems
    if (
        use.is_geographic
        and region is not None
        and not _intersects(region, (xmin, ymin, xmax, ymax))
        and _intersects(region, (ymin, xmin, ymax, xmax))
    ):
        problems.append(
            Problem(
                layer,
                "*",
                f"x and y look swapped: the layer lies at x {xmin:.3f}..{xmax:.3f}, y {ymin:.3f}..{ymax:.3f}, "
                "outside the region, but would fall inside it with x and y exchanged (latitude written first)",
                "write longitude as x and latitude as y (axis order lon/lat) and import again",
            )
        )
        return None, problems
    if use.is_geographic and _within_rounding(xmin, ymin, xmax, ymax):
        gdf = _clamped(gdf)
        problems.append(
            Problem(
                layer,
                "*",
                f"coordinates reach beyond ±180/±90 by at most {LONLAT_ROUNDING_DEG:g}° "
                f"(x {xmin:.7f}..{xmax:.7f}, "
                f"y {ymin:.7f}..{ymax:.7f}): rounding of a reprojection; clamped to ±180/±90",
                "none needed",
                "warning",
            )
        )
        xmin, ymin, xmax, ymax = max(xmin, -180), max(ymin, -90), min(xmax, 180), min(ymax, 90)
    if use.is_geographic and (xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90):
        bad = (geoms.bounds.abs().max(axis=1) > 180) | (geoms.bounds[["miny", "maxy"]].abs().max(axis=1) > 90)
        sample = f"x {xmin:.6g}..{xmax:.6g}, y {ymin:.6g}..{ymax:.6g}"
        looks = (
            " (metre-sized values: a projected CRS)" if max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) > 1000 else ""
        )
        problems.append(
            Problem(
                layer,
                "*",
                f"coordinates of {int(bad.sum())} feature(s) cannot be longitude/latitude "
                f"({sample}; outside ±180/±90){looks}",
                "pass --crs with the CRS the coordinates are in, e.g. --crs EPSG:32652",
            )
        )
        return None, problems
    return gdf, problems


def _check_result(
    out: gpd.GeoDataFrame,
    *,
    have: pd.Series,
    region: tuple[float, float, float, float] | None,
    layer: str,
    original: str | None,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[gpd.GeoDataFrame | None, list[Problem]]:
    """Bounds of the layer in EPSG:4326: off the Earth, swapped x/y, outside the region (None when refused).

    ``bounds``: the layer's, when already measured (the source's, when neither clamping nor a transformation
    changed it: 2 ms at 10,000 polygons).
    """
    problems: list[Problem] = []
    xmin, ymin, xmax, ymax = bounds if bounds is not None else _bounds(out.geometry, have)
    if _within_rounding(xmin, ymin, xmax, ymax):
        out = _clamped(out)
        xmin, ymin, xmax, ymax = max(xmin, -180), max(ymin, -90), min(xmax, 180), min(ymax, 90)
    if (
        not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax))
        or xmin < -180
        or xmax > 180
        or ymin < -90
        or ymax > 90
    ):
        problems.append(
            Problem(
                layer,
                "*",
                f"coordinates fall off the Earth after transforming from {original}",
                "check the CRS: pass --crs with the one the data was made in",
            )
        )
        return None, problems
    inside = region is None or _intersects(region, (xmin, ymin, xmax, ymax))
    swapped = region is not None and _intersects(region, (ymin, xmin, ymax, xmax))
    if not inside and swapped:
        problems.append(
            Problem(
                layer,
                "*",
                f"x and y look swapped: the layer lies at lon {xmin:.3f}..{xmax:.3f}, lat {ymin:.3f}..{ymax:.3f}, "
                "outside the region, but would fall inside it with x and y exchanged (latitude written first)",
                "write longitude as x and latitude as y (axis order lon/lat) and import again",
            )
        )
        return None, problems
    if not inside:
        problems.append(
            Problem(
                layer,
                "*",
                f"the layer lies outside the project region (lon {xmin:.3f}..{xmax:.3f}, lat {ymin:.3f}..{ymax:.3f})",
                "check that this is the file you meant",
                "warning",
            )
        )
    return out, problems


def to_wgs84(
    source: Source,
    *,
    crs: str | None = None,
    layer: str,
    region: tuple[float, float, float, float] | None | str = _BUNDLED,
) -> tuple[gpd.GeoDataFrame | None, list[Problem], str | None]:
    """Transform a source layer to EPSG:4326, refusing to guess a CRS.

    Returns the transformed layer (None when refused), the problems and the
    original CRS's name. ``region`` (lon_min, lat_min, lon_max, lat_max; default the
    bundled project's) is where the layer is expected: outside it is a warning, and
    inside it only with x and y exchanged is an error. None skips both checks.
    """
    box = bundled_project().region if isinstance(region, str) else region  # _BUNDLED: the only string
    use, problems, original = _source_crs(source, crs=crs, layer=layer)
    if use is None:
        return None, problems, original
    gdf = source.gdf
    array = np.asarray(gdf.geometry.array, dtype=object)
    have = pd.Series(~(shapely.is_missing(array) | shapely.is_empty(array)), index=gdf.geometry.index)
    bounds = _bounds(gdf.geometry, have) if have.any() else None
    if bounds is not None:
        checked, found = _check_source(gdf, have=have, use=use, region=box, layer=layer, bounds=bounds)
        problems += found
        if checked is None:
            return None, problems, original
        gdf = checked
    out = gdf.set_crs(use, allow_override=True) if gdf.crs is None or not gdf.crs.equals(use) else gdf
    if not use.equals(CRS("EPSG:4326")):
        try:
            out = out.to_crs("EPSG:4326")
        except ProjError as exc:
            problems.append(
                Problem(
                    layer,
                    "*",
                    f"the CRS {original} cannot be transformed to longitude/latitude: {str(exc).splitlines()[0]}",
                    "export the file again with a CRS that has an EPSG code (e.g. a UTM zone); "
                    "a declared CRS is never relabelled",
                )
            )
            return None, problems, original
    if have.any():
        same = out is source.gdf  # neither clamped, relabelled nor transformed: the source's bounds hold
        result, found = _check_result(
            out, have=have, region=box, layer=layer, original=original, bounds=bounds if same else None
        )
        problems += found
        if result is None:
            return None, problems, original
        out = result
    if out.crs is None or not out.crs.equals(CRS("EPSG:4326")):
        out = out.set_crs("EPSG:4326", allow_override=True)
    return out, problems, original


#: How far beyond ±180/±90 (degrees, about 0.1 m) coordinates may reach by rounding; they are clamped.
LONLAT_ROUNDING_DEG = 1e-5


def _within_rounding(xmin: float, ymin: float, xmax: float, ymax: float) -> bool:
    """Whether the bounds leave ±180/±90, but by no more than :data:`LONLAT_ROUNDING_DEG`."""
    over = max(-180 - xmin, xmax - 180, -90 - ymin, ymax - 90)
    return 0 < over <= LONLAT_ROUNDING_DEG


def _clamped(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with x clamped to ±180 and y to ±90 (a new GeoDataFrame)."""
    limits = np.array([180.0, 90.0])
    geoms = shapely.transform(np.asarray(gdf.geometry.array, dtype=object), lambda c: np.clip(c, -limits, limits))
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def _intersects(a, b) -> bool:
    return not (b[2] < a[0] or b[0] > a[2] or b[3] < a[1] or b[1] > a[3])
