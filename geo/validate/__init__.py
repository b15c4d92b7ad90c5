"""Checks on layers: every problem collected into one report, raised once."""

from __future__ import annotations

import json
import math
import os
import sys
from concurrent.futures import ThreadPoolExecutor
import threading
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import DataError
from geo.layers import GEOMETRY_QUALITIES, LAYERS, PARK_COLUMNS
from geo.problems import Problem, Report
from geo.progress import Progress

__all__ = ["GeometryScan", "GeometryScanner", "Problem", "Report", "check_geometries", "check_layers", "format_report", "geojson_problems", "scan_geometries"]

_GEOMETRY_TYPES = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


def _valid_in_parallel(geoms: np.ndarray) -> np.ndarray:
    """:func:`shapely.is_valid` of each geometry, the largest spread over two threads (GEOS releases the GIL).

    A country's outline of tens of thousands of vertices takes tens of
    milliseconds; the bundled countries layer holds three of them.
    """
    sizes = shapely.get_num_coordinates(geoms)
    if len(geoms) < 2 or (os.cpu_count() or 1) < 2 or sizes.sum() < 20_000:
        return shapely.is_valid(geoms)
    order = np.argsort(-sizes, kind="stable")
    halves = [order[0::2], order[1::2]]  # largest first, dealt out in turn
    out = np.empty(len(geoms), dtype=bool)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for half, result in zip(halves, pool.map(lambda idx: shapely.is_valid(geoms[idx]), halves), strict=True):
            out[half] = result
    return out


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
                problems.append(Problem(role, "*", f"missing attributes {missing}", "re-import the layer with 'bigcats import' and --map"))
            elif not missing and (bad := sorted(set(gdf["geometry_quality"].dropna()) - set(GEOMETRY_QUALITIES))):
                problems.append(Problem(role, "*", f"unknown geometry_quality {bad}", f"use one of {list(GEOMETRY_QUALITIES)}"))
        allowed = _GEOMETRY_TYPES[spec.geometry]
        geoms = np.asarray(gdf.geometry.array, dtype=object)
        valid = _valid_in_parallel(geoms)
        for fid, geom, ok in zip(ids, geoms, valid, strict=True):
            if geom is None or geom.is_empty:
                problems.append(Problem(role, fid, "empty or missing geometry", "remove the feature or give it a geometry"))
            elif geom.geom_type not in allowed:
                problems.append(Problem(role, fid, f"{geom.geom_type} where the role needs {spec.geometry}s", "import the right layer for this role"))
            elif not ok:
                problems.append(Problem(role, fid, f"invalid geometry: {shapely.is_valid_reason(geom)}", "repair it with 'bigcats import --accept-repairs'"))
    if problems:
        raise DataError(f"{len(problems)} problem(s) in the layers", problems)
    return problems


def format_report(report: Report, *, verdict: str) -> str:
    """Render the report as text: one line per problem, then the one-line verdict."""
    lines = [f"report on {report.source} (role: {report.role or 'any'}, {report.features} feature(s))"]
    if not report.problems:
        lines.append("  no problems found")
    for p in report.problems:
        lines.append(f"  - {'ERROR' if p.level == 'error' else p.level}: feature {p.feature}: {p.problem}; fix: {p.fix}")
    lines.append(verdict)
    return "\n".join(lines)


# -- GeoJSON structure (RFC 7946), checked on the parsed JSON because GDAL's reader is lenient ----------

_GEOMETRY_NAMES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection")
_ALL_TYPES = _GEOMETRY_NAMES + ("Feature", "FeatureCollection")
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
_FOREIGN = {  # members that change the meaning of an object of that type (RFC 7946 section 7.1)
    "Feature": ("features", "coordinates", "geometries"),
    "FeatureCollection": ("properties", "coordinates", "geometry", "geometries"),
    "geometry": ("properties", "geometry", "features"),
}


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


class _GeoJSONLint:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.cw_warned = False
        self.precision_warned = False

    def add(self, where: str, problem: str, fix: str, level: str = "error") -> None:
        self.problems.append(Problem(self.source, where, problem, fix, level))

    def root(self, obj) -> None:
        if not isinstance(obj, dict):
            self.add("-", f"the root of a GeoJSON file must be an object, found {_kind(obj)}", "export the layer again as GeoJSON")
            return
        self.obj(obj, "-")

    def obj(self, obj: dict, where: str) -> None:
        typ = obj.get("type")
        if "type" not in obj:
            self.add(where, '"type" member required', "give every GeoJSON object a type")
            return
        if not isinstance(typ, str):
            self.add(where, f'"type" member should be a string, found {_kind(typ)}', "give every GeoJSON object a type")
            return
        if typ not in _ALL_TYPES:
            near = [t for t in _ALL_TYPES if t.lower() == typ.lower()]
            hint = f" (types are case sensitive: {near[0]})" if near else ""
            self.add(where, f"unknown type {typ!r}{hint}", f"use one of {', '.join(_ALL_TYPES)}")
            return
        if typ in ("Feature", "FeatureCollection"):
            self.bbox(obj, where)
        if typ == "FeatureCollection":
            self.foreign(obj, "FeatureCollection", where)
            feats = obj.get("features")
            if "features" not in obj:
                self.add(where, '"features" member required in a FeatureCollection', "add a features array")
            elif not isinstance(feats, list):
                self.add(where, f'"features" member should be an array, found {_kind(feats)}', "make features an array of Feature objects")
            else:
                for i, f in enumerate(feats):
                    w = f"#{i}"
                    if not isinstance(f, dict):
                        self.add(w, f"every feature must be an object, found {_kind(f)}", "remove the entry or make it a Feature")
                    elif f.get("type") != "Feature":
                        self.add(w, f"feature must have type 'Feature', found {f.get('type')!r}", "set type to 'Feature'")
                    else:
                        self.feature(f, w)
        elif typ == "Feature":
            self.feature(obj, where)
        else:
            self.geometry(obj, where)

    def foreign(self, obj: dict, kind: str, where: str) -> None:
        for key in _FOREIGN[kind]:
            if key in obj:
                self.add(where, f'{kind} object cannot contain a "{key}" member', f"remove the {key} member")

    def bbox(self, obj: dict, where: str) -> None:
        if "bbox" not in obj:
            return
        bbox = obj["bbox"]
        if not isinstance(bbox, list):
            self.add(where, f"bbox member must be an array of numbers, found {_kind(bbox)}", "remove the bbox or fix it")
        elif not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
            self.add(where, "each element in a bbox member must be a number", "remove the bbox or fix it")
        elif len(bbox) not in (4, 6):
            self.add(where, f"bbox must have 4 elements (2D) or 6 (3D), found {len(bbox)}", "remove the bbox or fix it")

    def feature(self, f: dict, where: str) -> None:
        self.foreign(f, "Feature", where)
        if "id" in f and (not isinstance(f["id"], (str, int, float)) or isinstance(f["id"], bool)):
            self.add(where, f'feature "id" member must be a string or a number, found {_kind(f["id"])}', "fix or remove the id")
        if "properties" not in f:
            self.add(where, '"properties" member required', "add properties (an object, or null)")
        elif f["properties"] is not None and not isinstance(f["properties"], dict):
            self.add(where, f'"properties" member should be an object, found {_kind(f["properties"])}', "make properties an object")
        if "geometry" not in f:
            self.add(where, '"geometry" member required', "add geometry (an object, or null)")
        elif f["geometry"] is not None:
            if not isinstance(f["geometry"], dict):
                self.add(where, f"geometry must be an object or null, found {_kind(f['geometry'])}", "fix the geometry")
            else:
                self.geometry(f["geometry"], where)

    def geometry(self, g: dict, where: str, *, nested: bool = False) -> None:
        typ = g.get("type")
        if typ not in _GEOMETRY_NAMES:
            self.add(where, f"unknown geometry type {typ!r}", f"use one of {', '.join(_GEOMETRY_NAMES)}")
            return
        self.foreign(g, "geometry", where)
        self.bbox(g, where)
        if typ == "GeometryCollection":
            geoms = g.get("geometries")
            if not isinstance(geoms, list):
                self.add(where, '"geometries" member must be an array', "fix the GeometryCollection")
                return
            if nested:
                self.add(where, "nested GeometryCollection", "flatten the collection", "warning")
            if len(geoms) == 1:
                self.add(where, "GeometryCollection with a single geometry", "use that geometry itself", "warning")
            for sub in geoms:
                if not isinstance(sub, dict):
                    self.add(where, f"a GeometryCollection may hold only geometry objects, found {_kind(sub)}", "remove the entry")
                else:
                    self.geometry(sub, where, nested=True)
            return
        if "coordinates" not in g:
            self.add(where, f'"coordinates" member required in a {typ}', "add the coordinates")
            return
        self.coords(g["coordinates"], _DEPTH[typ], typ, where)

    def coords(self, c, depth: int, typ: str, where: str) -> None:
        if depth == 0:
            self.position(c, where)
            return
        if not isinstance(c, list):
            self.add(where, f"{typ} coordinates: expected an array, found {_kind(c)}", "nest the coordinates as the type requires")
            return
        for item in c:
            if not isinstance(item, list):
                self.add(where, f"{typ} coordinates: a number where an array of positions belongs (nesting too shallow)", "nest the coordinates as the type requires")
                return
        ring = (typ in ("Polygon",) and depth == 1) or (typ == "MultiPolygon" and depth == 1)
        line = (typ in ("LineString",) and depth == 1) or (typ == "MultiLineString" and depth == 1)
        polygon = (typ == "Polygon" and depth == 2) or (typ == "MultiPolygon" and depth == 2)
        if polygon and not self.cw_warned:
            for k, r in enumerate(c):
                if len(r) >= 4 and all(isinstance(q, list) and len(q) >= 2 and all(isinstance(v, (int, float)) for v in q[:2]) for q in r):
                    area2 = sum(r[j][0] * r[j + 1][1] - r[j + 1][0] * r[j][1] for j in range(len(r) - 1))
                    if (area2 < 0) == (k == 0) and area2 != 0:
                        self.cw_warned = True
                        self.add(where, "polygon rings do not follow the right-hand rule (RFC 7946: exterior counter-clockwise, holes clockwise); rewound on import",
                                 "none needed", "warning")
                        break
        if depth == 1 and not self.precision_warned:
            for q in c:
                if isinstance(q, list) and any(isinstance(v, float) and len(repr(v).split(".")[-1].split("e")[0]) > 6 for v in q[:2]):
                    self.precision_warned = True
                    self.add(where, "coordinates carry more than 6 decimals; stored with 6 (about 0.1 m)", "none needed", "warning")
                    break
        if ring:
            if len(c) < 4:
                self.add(where, f"a polygon ring needs 4 or more positions, found {len(c)}", "close the ring with at least 3 distinct corners")
            if c and c[0] != c[-1]:
                self.add(where, "the first and last positions of a polygon ring differ (ring not closed)", "repeat the first position at the end")
        if line and len(c) < 2:
            self.add(where, f"a line needs 2 or more positions, found {len(c)}", "remove the line or add positions")
        for item in c:
            self.coords(item, depth - 1, typ, where)

    def position(self, p, where: str) -> None:
        if not isinstance(p, list):
            self.add(where, f"a position must be an array of numbers, found {_kind(p)}", "write positions as [longitude, latitude]")
        elif not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p):
            self.add(where, "each element of a position must be a number", "write positions as [longitude, latitude] numbers")
        elif len(p) < 2:
            self.add(where, f"a position needs 2 or more elements, found {len(p)}", "write positions as [longitude, latitude]")
        elif len(p) > 3:
            self.add(where, f"a position should not have more than 3 elements, found {len(p)}; extra values dropped", "write [longitude, latitude(, height)]", "warning")
        elif not all(math.isfinite(v) for v in p):
            self.add(where, "a position holds a non-finite number", "fix the coordinates")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    obj = dict(pairs)
    if dupes:
        obj["\0duplicates"] = dupes
    return obj


def _pop_duplicates(obj, lint: _GeoJSONLint, where: str = "-", *, max_depth: int = 64) -> bool:
    """Report members given twice, walking the parsed JSON without recursion; False when deeper than ``max_depth``."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            for key in value.pop("\0duplicates", []):
                lint.add(where, f"an object holds the member {key!r} twice (ambiguous)", "keep one of them")
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            lint.add(where, _too_deep(max_depth), _DEPTH_FIX)
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


_DEPTH_FIX = "export the file again; if such nesting is right, raise the limit with --max-depth N (or BIGCATS_MAX_DEPTH)"


def _too_deep(max_depth: int) -> str:
    return (f"objects and arrays nested more than {max_depth} levels deep (a GeoJSON layer needs about 10; "
            "the nesting depth limit of a read)")


def geojson_problems(text: str, *, source: str, max_depth: int = 64) -> tuple[object, list[Problem]]:
    """Check GeoJSON text against RFC 7946's structure; return the parsed object and every problem.

    GDAL reads malformed GeoJSON leniently (it drops or coerces what it does not
    understand), so the structure is checked here first, on the parsed JSON,
    the way a GeoJSON linter does. Parse errors give the line and column.
    """
    lint = _GeoJSONLint(source)
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        lint.add("-", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (file truncated or damaged?)",
                 "export the file again, or repair it in a text editor")
        return None, lint.problems
    except RecursionError:  # deeper than Python's JSON parser goes (about 1,000 levels)
        lint.add("-", _too_deep(min(max_depth, sys.getrecursionlimit())), _DEPTH_FIX)
        return None, lint.problems
    if not _pop_duplicates(obj, lint, max_depth=max_depth):
        return None, lint.problems
    if isinstance(obj, dict) and obj.get("type") == "Topology":
        return obj, []  # TopoJSON: GDAL's TopoJSON driver reads it
    lint.root(obj)
    return obj, lint.problems


# -- geometry checks for an import ------------------------------------------------------------------------

ROLE_GEOMETRY_TYPES = _GEOMETRY_TYPES
_CHUNK = 2_000
_MIN_CHUNK = 128
#: A repair that changes a feature's area by more than this fraction is refused unless accepted.
MAX_REPAIR_AREA_CHANGE = 0.001


def _silent_fixes(geoms: np.ndarray) -> np.ndarray:
    """Right-hand winding and no repeated vertices, for valid geometries of one kind (vectorised).

    Only the geometries that change are rebuilt; the others are returned as the
    same objects (no copy). Gives what ``remove_repeated_points(orient_polygons(g),
    tolerance=0)`` gives for every ``g``.
    """
    out = geoms.copy()  # the array of references, not the geometries
    if len(geoms) == 0:
        return out
    oriented = shapely.orient_polygons(geoms)
    turned = ~shapely.equals_identical(oriented, geoms)
    out[turned] = oriented[turned]
    del oriented
    # a repeated vertex is a coordinate equal to the one before it in the same geometry
    coords = shapely.get_coordinates(out)
    ends = np.cumsum(shapely.get_num_coordinates(out))
    same = np.flatnonzero((coords[1:, 0] == coords[:-1, 0]) & (coords[1:, 1] == coords[:-1, 1]))
    owner = np.searchsorted(ends, same, side="right")  # the geometry holding coordinate `same`
    within = same + 1 < ends[owner]
    repeated = np.unique(owner[within])  # may include a ring starting where the last one ended: harmless
    if len(repeated):
        out[repeated] = shapely.remove_repeated_points(out[repeated], tolerance=0.0)
    return out


def _repair(geoms: np.ndarray, *, kind: str) -> np.ndarray:
    """``make_valid`` (structure method) of invalid geometries; polygon roles keep the polygonal parts.

    The structure method gives a valid polygonal result (or an empty one) for
    polygonal input, which is kept as it is; only a result of another type (a
    collection) is cut down to its polygonal parts, unioned.
    """
    fixed = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    if kind != "polygon" or len(fixed) == 0:
        return fixed
    other = np.flatnonzero(~np.isin(shapely.get_type_id(fixed), (3, 6)) & ~shapely.is_empty(fixed))
    if len(other) == 0:
        return fixed
    parts, owner = shapely.get_parts(fixed[other], return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (3, 6))
    parts, owner = parts[keep], owner[keep]
    # one row per such geometry, its polygonal parts side by side (None pads); unioned row by row
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    table = np.full((len(other), int(rank.max()) + 1 if len(rank) else 1), None, dtype=object)
    table[owner, rank] = parts
    unioned = shapely.union_all(table, axis=1)
    fixed[other] = np.where(np.bincount(owner, minlength=len(other)) > 0, unioned, shapely.Polygon())
    return fixed


@dataclass
class GeometryScan:
    """What :func:`scan_geometries` found, per geometry.

    ``fixed`` holds the silently fixed form of the valid geometries of the
    role's kind and the ``make_valid`` repair of the invalid ones (before its
    winding and vertices are fixed); ``reasons`` shapely's reason for the invalid ones.
    """

    missing: np.ndarray
    type_names: np.ndarray
    fits: np.ndarray
    valid: np.ndarray
    fixed: np.ndarray
    reasons: np.ndarray


def _scan_chunk(geoms: np.ndarray, *, kind: str) -> GeometryScan:
    """:class:`GeometryScan` of one chunk of geometries (GEOS work: runs on a worker thread)."""
    n = len(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = np.asarray(shapely.get_type_id(geoms))
    type_names = np.where(types >= 0, _TYPE_NAMES[np.clip(types + 1, 0, 8)], "None")
    fits = ~missing & np.isin(type_names, list(_GEOMETRY_TYPES[kind]))
    valid = np.ones(n, dtype=bool)
    out = geoms.copy()  # references; a geometry is replaced only when it changes
    reasons = np.full(n, None, dtype=object)
    # Validity, then the silent fixes (right-hand winding, no repeated vertices)
    # on the valid ones while the chunk is at hand.
    here = np.flatnonzero(~missing)
    valid[here] = shapely.is_valid(geoms[here])
    fine = here[valid[here] & fits[here]]
    out[fine] = _silent_fixes(geoms[fine])
    bad = here[~valid[here] & fits[here]]
    if len(bad):
        reasons[bad] = shapely.is_valid_reason(geoms[bad])
        out[bad] = _repair(geoms[bad], kind=kind)
    return GeometryScan(missing, type_names, fits, valid, out, reasons)


class GeometryScanner:
    """Scan geometries on worker threads as they arrive (GEOS releases the GIL).

    ``add`` queues a batch (split into chunks) and returns at once, so a
    reader can go on reading while earlier batches are checked; ``result``
    gives the :class:`GeometryScan` of every geometry added, in order. The
    thread that calls ``result`` joins in: it scans the chunks no worker has
    started, from the back of the queue while the workers go on from the
    front, so there are as many scanning threads as cores and none waits
    idle. ``scanned`` is the object array of the geometries added. Use it as
    a context manager, or call ``close``, so the threads end.

    Parameters
    ----------
    kind : str
        The role's geometry kind (``polygon``, ``line`` or ``point``).
    total : int, optional
        Geometries expected, for the progress bar (a terminal only).
    """

    def __init__(self, *, kind: str, total: int | None = None) -> None:
        self.kind = kind
        # one core is left to the thread that reads the file and maps the attributes meanwhile
        self._workers = max(1, min(3, (os.cpu_count() or 1) - 1))
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._futures: list = []
        self._chunks: list[np.ndarray] = []
        self._batches: list[np.ndarray] = []
        self._progress = Progress("checking geometries", total or 1) if total else None
        self._lock = threading.Lock()  # chunks finish on several threads; one bar update at a time

    def add(self, geoms) -> None:
        """Queue a batch of geometries (any array-like of shapely geometries or None)."""
        geoms = np.asarray(geoms, dtype=object)
        self._batches.append(geoms)
        # chunks of at most _CHUNK; a small batch is still split so that every thread has a share
        size = min(_CHUNK, max(_MIN_CHUNK, -(-len(geoms) // (2 * (self._workers + 1)))))
        for start in range(0, len(geoms), size):
            chunk = geoms[start : start + size]
            future = self._pool.submit(_scan_chunk, chunk, kind=self.kind)
            if self._progress is not None:
                future.add_done_callback(lambda f, n=len(chunk): None if f.cancelled() else self._tick(n))
            self._futures.append(future)
            self._chunks.append(chunk)

    def _tick(self, n: int) -> None:
        with self._lock:
            self._progress.update(n)

    @property
    def scanned(self) -> np.ndarray:
        """Every geometry added, in order (the same objects)."""
        return np.concatenate(self._batches) if self._batches else np.array([], dtype=object)

    def result(self) -> GeometryScan:
        """Every chunk's scan, joined in the order added; this thread scans the chunks not yet started."""
        scans: list = [None] * len(self._futures)
        for k in reversed(range(len(self._futures))):
            if self._futures[k].cancel():  # still queued: scan it here rather than wait for a worker
                scans[k] = _scan_chunk(self._chunks[k], kind=self.kind)
                if self._progress is not None:
                    self._tick(len(self._chunks[k]))
        scans = [scan if scan is not None else future.result() for scan, future in zip(scans, self._futures, strict=True)]
        if self._progress is not None:
            self._progress.close()
        if not scans:
            empty, flags = np.array([], dtype=object), np.array([], dtype=bool)
            return GeometryScan(flags, empty, flags, flags, empty, empty)
        return GeometryScan(*(np.concatenate([getattr(s, f.name) for s in scans]) for f in fields(GeometryScan)))

    def reset(self, *, total: int | None = None) -> None:
        """Drop every batch added so far (queued chunks are cancelled), to scan others instead."""
        for future in self._futures:
            future.cancel()
        for future in self._futures:
            if not future.cancelled():
                future.exception()  # wait for the chunks already running
        self._futures, self._chunks, self._batches = [], [], []
        self._progress = Progress("checking geometries", total or 1) if total else None

    def close(self) -> None:
        """Drop queued chunks and end the worker threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> GeometryScanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan_geometries(geoms, *, kind: str) -> GeometryScan:
    """Validity of every geometry, the silent fixes of the valid ones, the repairs of the invalid ones.

    Runs in threaded chunks (GEOS releases the GIL): a :class:`GeometryScanner`
    given the whole array at once. The first, costly half of
    :func:`check_geometries`.
    """
    geoms = np.asarray(geoms, dtype=object)
    with GeometryScanner(kind=kind, total=len(geoms)) as scanner:
        scanner.add(geoms)
        return scanner.result()


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

    from geo.measure import geodesic_area_m2  # geodesic areas on WGS84; the layer is in EPSG:4326 here

    problems: list[Problem] = []
    repairs: list[dict] = []
    allowed = _GEOMETRY_TYPES[kind]
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if scan is None:
        scan = scan_geometries(geoms, kind=kind)
    elif len(scan.valid) != len(geoms):
        raise ValueError(f"the scan covers {len(scan.valid)} geometries, the layer has {len(geoms)}")
    missing, type_names, fits, valid = scan.missing, scan.type_names, scan.fits, scan.valid
    out = scan.fixed.copy()
    present = sorted(pd.unique(type_names[~missing]).tolist())  # hashing, not sorting every name
    if len(present) > 1:
        problems.append(Problem(layer, "*", f"mixed geometry types: {', '.join(present)}", f"a layer holds one kind ({kind}s); split the file", "warning" if set(present) <= allowed else "error"))
    broken = np.flatnonzero(fits & ~valid)
    reasons = scan.reasons
    fixed = out[broken]
    if kind == "polygon" and len(broken):  # vectorised over the geometries and their repairs
        both = np.concatenate([geoms[broken], fixed])
        pieces = np.array_split(both, 2) if len(both) >= 512 else [both]  # NumPy releases the GIL: two threads
        with ThreadPoolExecutor(max_workers=len(pieces)) as pool:
            areas = np.concatenate(list(pool.map(lambda a: geodesic_area_m2(gpd.GeoSeries(a, crs=gdf.crs)), pieces)))
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
            problems.append(Problem(layer, fid, f"no geometry (null or empty) where the role needs {kind}s", "give the feature a geometry or remove it"))
            continue
        if not fits[i]:
            what = "a multi-part GeometryCollection" if type_names[i] == "GeometryCollection" else f"a {type_names[i]}"
            problems.append(Problem(layer, fid, f"geometry type does not suit the role: {what} where the role needs {kind}s", f"import a layer of {kind}s for this role, or split the collection"))
            continue
        k = slot[i]
        reason, b, a, c = reasons[i], float(before[k]), float(after[k]), float(change[k])
        repairs.append({"feature": fid, "reason": reason, "area_before_m2": b, "area_after_m2": a, "area_change_pct": 100 * c})
        text = f"invalid geometry: {reason}; make_valid repair changes its area by {100 * c:.4g}% ({b / 1e4:,.2f} ha -> {a / 1e4:,.2f} ha)"
        if c > MAX_REPAIR_AREA_CHANGE and not accept_repairs:
            problems.append(Problem(layer, fid, text + ", more than 0.1%", "check the boundary, fix it at the source, or pass --accept-repairs"))
        else:
            problems.append(Problem(layer, fid, text + " (repaired)", "none needed; check the repaired boundary", "warning"))
    if len(flagged):
        repair_bar.close()
    result = gdf.copy(deep=False)  # attributes shared (copy-on-write), geometry column new
    result[gdf.geometry.name] = gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs)
    return result, problems, repairs


_TYPE_NAMES = np.array(["None", "Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"])
