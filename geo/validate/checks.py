"""Checks on layers: the layers a build needs, and the geometries of an import (every problem collected)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import DataError
from geo.forked import halves_at_once, two_cores
from geo.layers import GEOMETRY_QUALITIES, LAYERS, PARK_COLUMNS
from geo.progress import Progress
from geo.validate.problems import GEOMETRY_TYPES, Problem
from geo.validate.scan import MAX_REPAIR_AREA_CHANGE, GeometryScan, _valid_in_parallel, scan_geometries


def check_layers(layers: dict[str, gpd.GeoDataFrame]) -> list[Problem]:
    """Check the layers a build needs; raise :class:`DataError` listing every problem.

    Checks geometry types per role, empty and invalid geometries, the canonical
    park attributes and ``geometry_quality`` values.

    Returns
    -------
    list of Problem
        Empty when the layers are fine.

    Raises
    ------
    DataError
        With ``problems`` holding every :class:`Problem` found.
    """
    problems: list[Problem] = []
    for role, gdf in layers.items():
        spec = LAYERS[role]
        ids = gdf["id"].astype(str).tolist() if "id" in gdf.columns else [str(i) for i in range(len(gdf))]
        if role.startswith("parks_"):
            missing = [c for c in PARK_COLUMNS if c not in gdf.columns]
            if missing and len(gdf):  # an empty GeoJSON layer has no columns to check
                problems.append(
                    Problem(
                        role,
                        "*",
                        f"missing attributes {missing}",
                        "re-import the layer with 'bigcats import' and --map",
                    )
                )
            elif not missing and (bad := sorted(set(gdf["geometry_quality"].dropna()) - set(GEOMETRY_QUALITIES))):
                problems.append(
                    Problem(role, "*", f"unknown geometry_quality {bad}", f"use one of {list(GEOMETRY_QUALITIES)}")
                )
        allowed = GEOMETRY_TYPES[spec.geometry]
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        valid = _valid_in_parallel(geoms)
        for fid, geom, ok in zip(ids, geoms, valid, strict=True):
            if geom is None or geom.is_empty:
                problems.append(
                    Problem(role, fid, "empty or missing geometry", "remove the feature or give it a geometry")
                )
            elif geom.geom_type not in allowed:
                problems.append(
                    Problem(
                        role,
                        fid,
                        f"{geom.geom_type} where the role needs {spec.geometry}s",
                        "import the right layer for this role",
                    )
                )
            elif not ok:
                problems.append(
                    Problem(
                        role,
                        fid,
                        f"invalid geometry: {shapely.is_valid_reason(geom)}",
                        "repair it with 'bigcats import --accept-repairs'",
                    )
                )
    if problems:
        raise DataError(f"{len(problems)} problem(s) in the layers", problems)
    return problems


def check_geometries(
    gdf: gpd.GeoDataFrame,
    *,
    ids: list[str],
    kind: str,
    layer: str,
    accept_repairs: bool = False,
    scan: GeometryScan | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem], list[dict]]:
    """Check and repair the geometries of a layer in EPSG:4326 for a role of geometry ``kind``.

    Empty/null geometries, the wrong type for the role and mixed types are
    reported per feature. Invalid geometries are reported with shapely's reason
    and repaired with :func:`shapely.make_valid`; the geodesic area change of
    each repair (:func:`geo.measure.geodesic_area_m2`) is shown and a change
    above 0.1 % is an error unless ``accept_repairs``. Ring winding and
    repeated vertices are fixed silently.

    Every step runs over arrays of geometries (shapely 2): validity over the
    whole layer in chunks on threads (GEOS releases the GIL), the reason, the
    repair and the areas only for the invalid ones, the silent fixes only
    rebuilding the geometries they change. ``tests/test_import_vectorised.py``
    holds it equal to a plain per-feature loop. ``scan`` is the result of
    :func:`scan_geometries` on the same geometries when it was run already.

    Returns
    -------
    (GeoDataFrame, list of Problem, list of dict)
        The repaired layer (a new GeoDataFrame sharing the unchanged
        geometries), the problems and the repairs made.
    """
    from geo.measure import _as_lonlat, geodesic_area_lonlat_m2  # geodesic areas on WGS84

    problems: list[Problem] = []
    repairs: list[dict] = []
    allowed = GEOMETRY_TYPES[kind]
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if scan is None:
        scan = scan_geometries(geoms, kind=kind)
    elif len(scan.valid) != len(geoms):
        raise ValueError(f"the scan covers {len(scan.valid)} geometries, the layer has {len(geoms)}")
    missing, type_names, fits, valid = scan.missing, scan.type_names, scan.fits, scan.valid
    out = scan.fixed.copy()
    present = sorted(set(type_names[~missing].tolist()))  # hashing, not sorting every name
    if len(present) > 1:
        problems.append(
            Problem(
                layer,
                "*",
                f"mixed geometry types: {', '.join(present)}",
                f"a layer holds one kind ({kind}s); split the file",
                "warning" if set(present) <= allowed else "error",
            )
        )
    broken = np.flatnonzero(fits & ~valid)
    reasons = scan.reasons
    fixed = out[broken]
    if kind == "polygon" and len(broken):  # vectorised over the geometries and their repairs
        # in longitude/latitude once (the layer is in EPSG:4326 here; any other CRS is transformed)
        both = np.asarray(_as_lonlat(gpd.GeoSeries(np.concatenate([geoms[broken], fixed]), crs=gdf.crs)).array)
        if len(both) >= 512 and two_cores():  # NumPy releases the GIL: two threads
            areas = np.concatenate(halves_at_once(geodesic_area_lonlat_m2, *np.array_split(both, 2)))
        else:  # a few: a thread would cost more than it saves
            areas = geodesic_area_lonlat_m2(both)
        before, after = areas[: len(broken)], np.nan_to_num(areas[len(broken) :])  # empty repair: 0
    else:
        before = after = np.zeros(len(broken))
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(before > 0, np.abs(after - before) / before, np.where(after == 0, 0.0, np.inf))
    if len(broken):
        out[broken] = shapely.remove_repeated_points(shapely.orient_polygons(fixed), tolerance=0.0)
    slot = {i: k for k, i in enumerate(broken.tolist())}
    flagged = np.flatnonzero(missing | ~fits | ~valid)
    repair_bar = Progress("repairing geometries", len(flagged))
    for i in flagged.tolist():
        repair_bar.update()
        fid = ids[i]
        if missing[i]:
            problems.append(
                Problem(
                    layer,
                    fid,
                    f"no geometry (null or empty) where the role needs {kind}s",
                    "give the feature a geometry or remove it",
                )
            )
            continue
        if not fits[i]:
            what = "a multi-part GeometryCollection" if type_names[i] == "GeometryCollection" else f"a {type_names[i]}"
            problems.append(
                Problem(
                    layer,
                    fid,
                    f"geometry type does not suit the role: {what} where the role needs {kind}s",
                    f"import a layer of {kind}s for this role, or split the collection",
                )
            )
            continue
        k = slot[i]
        reason, b, a, c = reasons[i], float(before[k]), float(after[k]), float(change[k])
        repairs.append(
            {"feature": fid, "reason": reason, "area_before_m2": b, "area_after_m2": a, "area_change_pct": 100 * c}
        )
        text = (
            f"invalid geometry: {reason}; make_valid repair changes its area by {100 * c:.4g}% "
            f"({b / 1e4:,.2f} ha -> {a / 1e4:,.2f} ha)"
        )
        if c > MAX_REPAIR_AREA_CHANGE and not accept_repairs:
            problems.append(
                Problem(
                    layer,
                    fid,
                    text + ", more than 0.1%",
                    "check the boundary, fix it at the source, or pass --accept-repairs",
                )
            )
        else:
            problems.append(
                Problem(layer, fid, text + " (repaired)", "none needed; check the repaired boundary", "warning")
            )
    if len(flagged):
        repair_bar.close()
    result = gdf.copy(deep=False)  # attributes shared (copy-on-write), geometry column new
    name = gdf.active_geometry_name
    result[name] = gpd.array.from_shapely(out, crs=gdf[name].array.crs)  # a GeoSeries cost twice as much
    return result, problems, repairs
