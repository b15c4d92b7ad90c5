"""GeoJSON structure (RFC 7946), checked on the parsed JSON because GDAL's reader is lenient."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from typing import Any

from geo.problems import Problem

_GEOMETRY_NAMES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
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
            self.add(
                "-",
                f"the root of a GeoJSON file must be an object, found {_kind(obj)}",
                "export the layer again as GeoJSON",
            )
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
                self.add(
                    where,
                    f'"features" member should be an array, found {_kind(feats)}',
                    "make features an array of Feature objects",
                )
            else:
                for i, f in enumerate(feats):
                    w = f"#{i}"
                    if not isinstance(f, dict):
                        self.add(
                            w,
                            f"every feature must be an object, found {_kind(f)}",
                            "remove the entry or make it a Feature",
                        )
                    elif f.get("type") != "Feature":
                        self.add(
                            w, f"feature must have type 'Feature', found {f.get('type')!r}", "set type to 'Feature'"
                        )
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
            self.add(
                where, f"bbox member must be an array of numbers, found {_kind(bbox)}", "remove the bbox or fix it"
            )
        elif not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
            self.add(where, "each element in a bbox member must be a number", "remove the bbox or fix it")
        elif len(bbox) not in (4, 6):
            self.add(where, f"bbox must have 4 elements (2D) or 6 (3D), found {len(bbox)}", "remove the bbox or fix it")

    def feature(self, f: dict, where: str) -> None:
        self.foreign(f, "Feature", where)
        if "id" in f and (not isinstance(f["id"], (str, int, float)) or isinstance(f["id"], bool)):
            self.add(
                where,
                f'feature "id" member must be a string or a number, found {_kind(f["id"])}',
                "fix or remove the id",
            )
        if "properties" not in f:
            self.add(where, '"properties" member required', "add properties (an object, or null)")
        elif f["properties"] is not None and not isinstance(f["properties"], dict):
            self.add(
                where,
                f'"properties" member should be an object, found {_kind(f["properties"])}',
                "make properties an object",
            )
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
                    self.add(
                        where,
                        f"a GeometryCollection may hold only geometry objects, found {_kind(sub)}",
                        "remove the entry",
                    )
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
            self.add(
                where,
                f"{typ} coordinates: expected an array, found {_kind(c)}",
                "nest the coordinates as the type requires",
            )
            return
        for item in c:
            if not isinstance(item, list):
                self.add(
                    where,
                    f"{typ} coordinates: a number where an array of positions belongs (nesting too shallow)",
                    "nest the coordinates as the type requires",
                )
                return
        ring = (typ in ("Polygon",) and depth == 1) or (typ == "MultiPolygon" and depth == 1)
        line = (typ in ("LineString",) and depth == 1) or (typ == "MultiLineString" and depth == 1)
        polygon = (typ == "Polygon" and depth == 2) or (typ == "MultiPolygon" and depth == 2)
        if polygon and not self.cw_warned:
            self.winding(c, where)
        if depth == 1 and not self.precision_warned:
            self.precision(c, where)
        if ring:
            if len(c) < 4:
                self.add(
                    where,
                    f"a polygon ring needs 4 or more positions, found {len(c)}",
                    "close the ring with at least 3 distinct corners",
                )
            if c and c[0] != c[-1]:
                self.add(
                    where,
                    "the first and last positions of a polygon ring differ (ring not closed)",
                    "repeat the first position at the end",
                )
        if line and len(c) < 2:
            self.add(where, f"a line needs 2 or more positions, found {len(c)}", "remove the line or add positions")
        for item in c:
            self.coords(item, depth - 1, typ, where)

    def winding(self, rings: list, where: str) -> None:
        """Warn (once) of polygon rings against the right-hand rule."""
        for k, r in enumerate(rings):
            if len(r) >= 4 and all(
                isinstance(q, list) and len(q) >= 2 and all(isinstance(v, (int, float)) for v in q[:2]) for q in r
            ):
                area2 = sum(r[j][0] * r[j + 1][1] - r[j + 1][0] * r[j][1] for j in range(len(r) - 1))
                if (area2 < 0) == (k == 0) and area2 != 0:
                    self.cw_warned = True
                    self.add(
                        where,
                        "polygon rings do not follow the right-hand rule (RFC 7946: exterior counter-clockwise, "
                        "holes clockwise); rewound on import",
                        "none needed",
                        "warning",
                    )
                    break

    def precision(self, positions: list, where: str) -> None:
        """Warn (once) of coordinates with more than 6 decimals."""
        for q in positions:
            if isinstance(q, list) and any(
                isinstance(v, float) and len(repr(v).split(".")[-1].split("e")[0]) > 6 for v in q[:2]
            ):
                self.precision_warned = True
                self.add(
                    where,
                    "coordinates carry more than 6 decimals; stored with 6 (about 0.1 m)",
                    "none needed",
                    "warning",
                )
                break

    def position(self, p, where: str) -> None:
        if not isinstance(p, list):
            self.add(
                where,
                f"a position must be an array of numbers, found {_kind(p)}",
                "write positions as [longitude, latitude]",
            )
        elif not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p):
            self.add(
                where, "each element of a position must be a number", "write positions as [longitude, latitude] numbers"
            )
        elif len(p) < 2:
            self.add(
                where,
                f"a position needs 2 or more elements, found {len(p)}",
                "write positions as [longitude, latitude]",
            )
        elif len(p) > 3:
            self.add(
                where,
                f"a position should not have more than 3 elements, found {len(p)}; extra values dropped",
                "write [longitude, latitude(, height)]",
                "warning",
            )
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
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            lint.add(where, _too_deep(max_depth), _DEPTH_FIX)
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return True


_DEPTH_FIX = (
    "export the file again; if such nesting is right, raise the limit with --max-depth N (or BIGCATS_MAX_DEPTH)"
)


def _too_deep(max_depth: int) -> str:
    return (
        f"objects and arrays nested more than {max_depth} levels deep (a GeoJSON layer needs about 10; "
        "the nesting depth limit of a read)"
    )


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
        lint.add(
            "-",
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (file truncated or damaged?)",
            "export the file again, or repair it in a text editor",
        )
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
