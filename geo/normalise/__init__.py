"""Normalising a source layer: CRS to EPSG:4326, canonical attributes, checks, provenance.

An imported park without a statement of its quality is ``geometry_quality =
"unverified"`` (drawn like a schematic boundary), unless ``--quality`` says what it
is (``surveyed`` for a WDPA or cadastre boundary). A ``geometry_quality`` column in
the data (or ``--map geometry_quality=COLUMN``) is kept; its empty values take the
same default; unknown values are an error. The report says which was chosen.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as _ProjCRSError
from pyproj.exceptions import ProjError

from geo import __version__
from geo.errors import DataError, ReadError, UsageError
from geo.io import SHP_FIELD_NAMES, Source, read_source
from geo.layers import GEOMETRY_QUALITIES, LAYERS, PARK_COLUMNS, catalogue
from geo.project import bundled_project, country_of_role, project_for
from geo.validate import GeometryScanner, Problem, Report, check_geometries

__all__ = ["IMPORT_ROLES", "ROLE_COLUMNS", "ImportResult", "import_layer", "prepare_layer", "role_columns", "to_wgs84"]

#: Roles other than the park roles a file can be imported into, and their canonical columns.
ROLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "border": ("id", "left_iso3", "right_iso3", "source", "licence"),
    "places": ("id", "name_en", "name_ru", "name_zh", "country_iso3", "population", "source", "licence"),
}
#: The roles a file can be imported into, as messages name them.
IMPORT_ROLES = ("parks_<iso3>", *ROLE_COLUMNS)
#: Canonical park columns filled after the plain mapping (published area, quality, provenance).
_FILLED_LATER = PARK_COLUMNS[PARK_COLUMNS.index("reported_area_ha") :]
#: Default of ``region``: the bundled project's.
_BUNDLED = "bundled"


def role_columns(role: str) -> tuple[str, ...]:
    """The canonical columns of an importable role (``parks_<iso3>``, ``border``, ``places``).

    Raises
    ------
    UsageError
        For any other role.
    """
    if country_of_role(role) is not None:
        return PARK_COLUMNS
    if role not in ROLE_COLUMNS:
        raise UsageError(f"--role {role!r} is not importable; use one of {', '.join(IMPORT_ROLES)} "
                         "(parks_<iso3>: the ISO 3166 alpha-3 code in lower case, e.g. parks_pol).")
    return ROLE_COLUMNS[role]
MAX_TEXT_CHARS = 10_000
#: An HTML tag. HTML's whitespace is ASCII (space, tab, LF, FF, CR); spelled out rather than ``\s``
#: (Unicode whitespace in Python) so that pandas matches it in Arrow (RE2) instead of row by row.
_HTML_TAG = r"<[ \t\n\f\r]*/?[ \t\n\f\r]*[a-zA-Z][^>]*>"

# Source column -> canonical column, first match wins (WDPA, OpenStreetMap, our Shapefile export).
_ALIASES: dict[str, tuple[str, ...]] = {
    "name_en": ("name_en", "NAME_ENG", "name:en", "name_eng"),
    "name_ru": ("name_ru", "name:ru"),
    "name_zh": ("name_zh", "name:zh", "name:zh-Hans"),
    "country_iso3": ("country_iso3", "ISO3", "PARENT_ISO3", "PARENT_ISO", "ctry_iso3"),
    "designation": ("designation", "DESIG_ENG", "DESIG", "protection_title", "desig"),
    "iucn_cat": ("iucn_cat", "IUCN_CAT"),
    "status_year": ("status_year", "STATUS_YR", "status_yr"),
    "reported_area_ha": ("reported_area_ha",),
    "reported_area_source": ("reported_area_source",),
    "geometry_quality": ("geometry_quality",),
    "geometry_method": ("geometry_method",),
    "source": ("source",),
    "licence": ("licence", "license", "LICENCE", "LICENSE"),
    "left_iso3": ("left_iso3",),
    "right_iso3": ("right_iso3",),
    "population": ("population",),
}
for _long, _short in SHP_FIELD_NAMES.items():
    if _long in _ALIASES and _short not in _ALIASES[_long]:
        _ALIASES[_long] = _ALIASES[_long] + (_short,)
_PROTECT_CLASS = {"1a": "Ia", "1b": "Ib", "1": "Ia", "2": "II", "3": "III", "4": "IV", "5": "V", "6": "VI"}


@dataclass
class ImportResult:
    """What :func:`prepare_layer` or :func:`import_layer` produced."""

    report: Report
    gdf: gpd.GeoDataFrame | None
    provenance: dict
    written: Path | None = None
    #: the normalised layer even when refused (repairs applied), for further checks
    checked: gpd.GeoDataFrame | None = None


def _crs_name(crs) -> str | None:
    if crs is None:
        return None
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name


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
    if region == _BUNDLED:
        region = bundled_project().region
    gdf = source.gdf
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
                f"the file declares its CRS {_crs_name(declared)} but --crs {crs} was given",
                "drop --crs: a declared CRS is never relabelled",
            )
        )
        return None, problems, _crs_name(declared)
    use = declared if declared is not None else given
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
    original = _crs_name(use)
    geoms = gdf.geometry
    array = np.asarray(geoms.array, dtype=object)
    have = pd.Series(~(shapely.is_missing(array) | shapely.is_empty(array)), index=geoms.index)
    if have.any():
        xmin, ymin, xmax, ymax = geoms[have].total_bounds
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
            problems.append(
                Problem(
                    layer,
                    "*",
                    "coordinates hold non-finite numbers (NaN or infinity)",
                    "fix the coordinates at the source",
                )
            )
            return None, problems, original
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
            return None, problems, _crs_name(use)
        if use.is_geographic and _within_rounding(xmin, ymin, xmax, ymax):
            gdf = _clamped(gdf)
            problems.append(
                Problem(
                    layer,
                    "*",
                    f"coordinates reach beyond ±180/±90 by at most {LONLAT_ROUNDING_DEG:g}° (x {xmin:.7f}..{xmax:.7f}, "
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
                " (metre-sized values: a projected CRS)"
                if max(abs(xmin), abs(xmax), abs(ymin), abs(ymax)) > 1000
                else ""
            )
            problems.append(
                Problem(
                    layer,
                    "*",
                    f"coordinates of {int(bad.sum())} feature(s) cannot be longitude/latitude ({sample}; outside ±180/±90){looks}",
                    "pass --crs with the CRS the coordinates are in, e.g. --crs EPSG:32652",
                )
            )
            return None, problems, original
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
                    "export the file again with a CRS that has an EPSG code (e.g. a UTM zone); a declared CRS is never relabelled",
                )
            )
            return None, problems, original
    if have.any():
        xmin, ymin, xmax, ymax = out.geometry[have].total_bounds
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
            return None, problems, original
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
            return None, problems, original
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


def _column(gdf: gpd.GeoDataFrame, names) -> str | None:
    lower = {str(c).lower(): c for c in gdf.columns}
    for name in names:
        if name in gdf.columns:
            return name
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def _clean(series: pd.Series) -> pd.Series:
    """The values as Python objects, every missing value (NaN, NA, NaT) as None."""
    values = np.array(series.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)  # Arrow data: read-only
    values[series.isna().to_numpy()] = None  # NaT is not replaced by na_value
    return pd.Series(values, index=series.index, dtype=object)


def _text(series: pd.Series) -> pd.Series:
    if series.dtype.kind in "iu":  # NumPy integers (WDPAID, osm_id): no missing values
        return pd.Series([str(v) for v in series.tolist()], index=series.index, dtype=object)
    if pd.api.types.is_integer_dtype(series.dtype):  # nullable integers
        return series.astype("string").astype(object).where(series.notna(), None)
    return _clean(series).map(
        lambda v: None if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    )


def map_attributes(
    gdf: gpd.GeoDataFrame, *, role: str, mapping: dict[str, str] | None = None, source_name: str,
    quality: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem], dict[str, str], list[str]]:
    """Map a source schema onto the role's canonical columns.

    WDPA fields and OpenStreetMap tags are recognised; ``mapping`` (from
    ``--map FIELD=COLUMN``) overrides. ``quality`` (``--quality``) is the
    ``geometry_quality`` of features that state none (default ``unverified``).
    Returns the new layer, the problems, the mapping used and the source columns
    that were not kept.
    """
    if quality is not None and quality not in GEOMETRY_QUALITIES:
        raise UsageError(f"--quality {quality!r} is unknown; use one of {', '.join(GEOMETRY_QUALITIES)}.")
    columns = role_columns(role)
    mapping = dict(mapping or {})
    for field_name, col in mapping.items():
        if field_name not in columns:
            raise UsageError(
                f"--map {field_name}={col}: {field_name!r} is not a column of role {role}; use one of {', '.join(columns)}."
            )
        if col not in gdf.columns:
            raise UsageError(
                f"--map {field_name}={col}: the file has no column {col!r}; its columns are: "
                f"{', '.join(str(c) for c in gdf.columns if c != gdf.geometry.name)}."
            )
    problems: list[Problem] = []
    used: dict[str, str] = {}
    n = len(gdf)
    out: dict[str, pd.Series] = {}

    def take(name: str, aliases=()) -> pd.Series | None:
        col = mapping.get(name) or _column(gdf, aliases or _ALIASES.get(name, (name,)))
        if col is None:
            return None
        used[name] = str(col)
        return _clean(gdf[col])

    # id: --map, our own id, WDPA, OpenStreetMap, else generated from the row order
    if "id" in mapping:
        ids = _text(gdf[mapping["id"]]).tolist()
        used["id"] = mapping["id"]
    elif (col := _column(gdf, ("WDPAID", "SITE_ID", "WDPA_PID"))) is not None:
        ids = [None if v is None else f"WDPA:{v}" for v in _text(gdf[col]).tolist()]
        used["id"] = str(col)
    elif (col := _column(gdf, ("feature_id", "id", "@id", "osm_id", "full_id"))) is not None and gdf[col].notna().any():
        ids = _text(gdf[col]).tolist()
        if col in ("@id", "osm_id", "full_id"):
            ids = [None if v is None else f"osm:{v}" for v in ids]
        used["id"] = str(col)
    else:
        ids = [f"{Path(source_name).stem}-{i + 1}" for i in range(n)]
        problems.append(
            Problem(
                role,
                "*",
                "no id column: ids made from the row order",
                "pass --map id=COLUMN to keep the source's ids",
                "warning",
            )
        )
    out["id"] = pd.Series(ids, index=gdf.index, dtype=object)

    names = {k: take(k) for k in ("name_en", "name_ru", "name_zh")}
    plain = take("_name", ("NAME", "name", "Name", "NAME_RU", "ORIG_NAME"))
    plain_col = used.pop("_name", None)
    if plain is not None:
        text = _as_text(gdf[plain_col])  # the source column: Arrow text is checked without a copy
        for key, script in (("name_ru", "[\u0400-\u04ff]"), ("name_zh", "[\u4e00-\u9fff]")):
            if names[key] is None:
                mask = _matches(text, script)
                if mask.any():
                    names[key] = plain.where(mask, None)
        if names["name_en"] is None:
            mask = np.asarray(pc.is_valid(text), dtype=bool) & ~_matches(text, "[\u0400-\u04ff\u4e00-\u9fff]")
            names["name_en"] = plain.where(mask, None) if mask.any() else None
    for key in ("name_en", "name_ru", "name_zh"):
        if key in columns:
            out[key] = names[key] if names[key] is not None else pd.Series([None] * n, index=gdf.index, dtype=object)
    if "name_en" in columns and out["name_en"].isna().all() and n:
        problems.append(
            Problem(
                role, "*", "no English name column (NAME_ENG, name:en, name)", "pass --map name_en=COLUMN", "warning"
            )
        )

    for key in columns:
        if key in out or key in _FILLED_LATER:
            continue
        series = take(key)
        out[key] = series if series is not None else pd.Series([None] * n, index=gdf.index, dtype=object)

    if "iucn_cat" in columns and "iucn_cat" not in used and (col := _column(gdf, ("protect_class",))) is not None:
        out["iucn_cat"] = _text(gdf[col]).map(lambda v: _PROTECT_CLASS.get(str(v).lower()) if v is not None else None)
        used["iucn_cat"] = str(col)
    if "designation" in columns and "designation" not in used and (col := _column(gdf, ("boundary",))) is not None:
        out["designation"] = _clean(gdf[col]).map(
            lambda v: "National park" if v == "national_park" else (None if v is None else str(v))
        )
        used["designation"] = str(col)
    if "status_year" in columns:
        years = pd.to_numeric(out["status_year"], errors="coerce")
        out["status_year"] = years.where(years > 0).astype("Int64")  # WDPA writes 0 for "not reported"
    if "country_iso3" in columns:
        iso = pd.Series(
            [None if v is None else str(v).strip().upper() for v in out["country_iso3"].tolist()],
            index=gdf.index,
            dtype=object,
        )
        expected = country_of_role(role)
        if expected:
            wrong = iso.notna() & (iso != expected)
            for fid, value in zip(out["id"][wrong], iso[wrong], strict=True):
                problems.append(
                    Problem(
                        role,
                        str(fid),
                        f"country {value} in the {role} layer (needs {expected})",
                        "import it into the role of its country, or split the file",
                    )
                )
            iso = iso.fillna(expected)
        out["country_iso3"] = iso
    if "reported_area_ha" in columns:
        if "reported_area_ha" in mapping or _column(gdf, ("reported_area_ha", "rep_ha")) is not None:
            out["reported_area_ha"] = pd.to_numeric(
                take("reported_area_ha", ("reported_area_ha", "rep_ha")), errors="coerce"
            )
            src = take("reported_area_source", ("reported_area_source", "rep_src"))
            out["reported_area_source"] = (
                src
                if src is not None
                else pd.Series([f"reported_area_ha of {source_name}"] * n, index=gdf.index, dtype=object)
            )
        elif (col := _column(gdf, ("REP_AREA",))) is not None:
            km2 = pd.to_numeric(gdf[col], errors="coerce")
            out["reported_area_ha"] = (km2 * 100.0).where(km2 > 0)  # WDPA REP_AREA is in km²; 1 km² = 100 ha
            out["reported_area_source"] = pd.Series(
                [f"WDPA REP_AREA (km²) in {source_name}"] * n, index=gdf.index, dtype=object
            ).where(km2 > 0, None)
            used["reported_area_ha"] = f"{col} (km² x 100)"
        else:
            out["reported_area_ha"] = pd.Series([np.nan] * n, index=gdf.index, dtype=float)
            out["reported_area_source"] = pd.Series([None] * n, index=gdf.index, dtype=object)
    if "geometry_quality" in columns:
        q = take("geometry_quality")
        stated = quality or "unverified"
        told = f"--quality {quality} was given" if quality else "pass --quality surveyed if the boundaries are surveyed"
        if q is None:
            q = pd.Series([stated] * n, index=gdf.index, dtype=object)
            problems.append(
                Problem(role, "*", f"geometry_quality: {stated} for every feature (the file lacks a geometry_quality column)",
                        told, "warning" if stated == "unverified" else "note")
            )
        else:
            if unstated := int(q.isna().sum()):
                problems.append(
                    Problem(role, "*", f"geometry_quality: {stated} for the {unstated} feature(s) without a value "
                            f"in column {used['geometry_quality']}", told, "warning" if stated == "unverified" else "note")
                )
            q = q.fillna(stated)
            for fid, value in zip(out["id"], q, strict=True):
                if value not in GEOMETRY_QUALITIES:
                    problems.append(
                        Problem(
                            role,
                            str(fid),
                            f"geometry_quality {value!r} is unknown",
                            f"use one of {', '.join(GEOMETRY_QUALITIES)}",
                        )
                    )
        out["geometry_quality"] = q
        m = take("geometry_method")
        out["geometry_method"] = (
            m if m is not None else pd.Series([f"imported from {source_name}"] * n, index=gdf.index, dtype=object)
        )
    s = take("source")
    out["source"] = s if s is not None else pd.Series([source_name] * n, index=gdf.index, dtype=object)
    lic = take("licence")
    if lic is None:
        problems.append(
            Problem(
                role,
                "*",
                "no licence column: the layer's licence is not recorded",
                "pass --map licence=COLUMN or record it in the provenance",
                "warning",
            )
        )
        lic = pd.Series([None] * n, index=gdf.index, dtype=object)
    out["licence"] = lic

    frame = pd.DataFrame({c: out[c].array for c in columns}, index=gdf.index)  # every column is on gdf's index
    frame["geometry"] = gdf.geometry.values
    result = gpd.GeoDataFrame(frame, geometry="geometry", crs=gdf.crs)
    if not result.index.equals(pd.RangeIndex(len(result))):
        result = result.reset_index(drop=True)
    dropped = [
        str(c)
        for c in gdf.columns
        if c != gdf.geometry.name
        and str(c) not in used.values()
        and not any(str(c) == v.split(" ")[0] for v in used.values())
    ]
    return result, problems, used, dropped


def _as_text(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The string values of a column (others as null), as Arrow strings for vectorised checks (no copy of Arrow text)."""
    if isinstance(series.array, pd.arrays.ArrowStringArray) or (
        isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_string(series.dtype.pyarrow_dtype)
    ):
        return pa.array(series.array)
    return pa.array([v if isinstance(v, str) else None for v in series.tolist()], type=pa.large_string())


def _matches(text, pattern: str, *, regex: bool = True) -> np.ndarray:
    """Which values of Arrow ``text`` hold ``pattern`` (RE2 syntax; a literal with ``regex=False``); null: False."""
    found = pc.match_substring_regex(text, pattern) if regex else pc.match_substring(text, pattern)
    return np.asarray(pc.fill_null(found, False), dtype=bool).copy()


def _text_problems(gdf: gpd.GeoDataFrame, role: str, *, ids: pd.Series, columns) -> list[Problem]:
    """Over-long text and HTML markup in the source ``columns`` the layer keeps (checked on the source's own dtypes)."""
    problems = []
    tag = _HTML_TAG
    for col in columns:
        if col not in gdf.columns or col == gdf.geometry.name or gdf[col].dtype.kind in "biufM":
            continue
        text = _as_text(gdf[col])
        lengths = np.asarray(pc.fill_null(pc.utf8_length(text), 0), dtype=np.int64)
        html = _matches(text, "<", regex=False)  # the regex only where needed
        if html.any():
            html[html] = _matches(pc.filter(text, pa.array(html)), tag)
        for i in np.flatnonzero((lengths > MAX_TEXT_CHARS) | html):
            fid = ids.iloc[i]
            if lengths[i] > MAX_TEXT_CHARS:
                problems.append(
                    Problem(
                        role,
                        str(fid),
                        f"attribute {col} holds {lengths[i]:,} characters (limit {MAX_TEXT_CHARS:,})",
                        "shorten it at the source or --map another column",
                    )
                )
            else:
                problems.append(
                    Problem(
                        role,
                        str(fid),
                        f"attribute {col} holds HTML markup; it is kept and shown as plain text",
                        "remove the markup at the source if it was not meant",
                        "warning",
                    )
                )
    return problems


def _attribute_problems(gdf: gpd.GeoDataFrame, mapped: gpd.GeoDataFrame, *, role: str, used: dict) -> list[Problem]:
    """Missing and duplicate ids, over-long text and HTML in the kept source columns."""
    problems = []
    ids = mapped["id"]
    missing = ids.isna()
    for i in np.flatnonzero(missing.to_numpy()):
        problems.append(Problem(role, f"row {i + 1}", "feature has no id", "fill the id column or --map id=COLUMN"))
    dupes = ids[ids.duplicated(keep=False) & ~missing]
    for fid in sorted(set(dupes)):
        problems.append(
            Problem(
                role,
                str(fid),
                f"duplicate id: {int((ids == fid).sum())} features share it",
                "give every feature its own id (or --map id=COLUMN with a unique column)",
            )
        )
    problems += _text_problems(gdf, role, ids=ids, columns=[c for c in gdf.columns if str(c) in used.values()])
    return problems


def prepare_layer(
    path: str | Path,
    *,
    role: str | None,
    crs: str | None = None,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    accept_repairs: bool = False,
    encoding: str | None = None,
    quality: str | None = None,
    layers_dir: str | Path | None = None,
    accept_clip: bool = False,
    limits=None,
    xy: tuple[str, str] | None = None,
    region: tuple[float, float, float, float] | None | str = _BUNDLED,
) -> ImportResult:
    """Read, check and normalise a source file for a role, without writing anything.

    Parameters
    ----------
    path : str or Path
        The source file (any format :func:`geo.io.read_source` reads).
    role : str or None
        One of :data:`IMPORT_ROLES`; None checks the file for the geometry kind it holds.
    crs : str, optional
        The CRS of a file that declares none (``--crs``).
    layer : str, optional
        The layer of a multi-layer file (``--layer``).
    mapping : dict, optional
        Canonical column -> source column (``--map``).
    accept_repairs : bool
        Accept repairs that change a feature's area by more than 0.1 %.
    encoding : str, optional
        Text encoding of a Shapefile without .cpg.
    quality : str, optional
        ``geometry_quality`` of parks that state none (``--quality``); default ``unverified``.
    layers_dir : str or Path, optional
        The layer store whose ``countries`` layer a park layer is measured against: the
        hectares of each park off its own country's land, and across the border.
    accept_clip : bool
        Accept parks with more than 1 % across the border (the build clips it off).
    limits : geo.limits.ReadLimits, optional
        Limits of the read (size, JSON depth, time budget); ``BIGCATS_*`` variables or defaults.
    xy : (str, str), optional
        The x and y columns of a CSV of points (``--x``/``--y``).
    region : (float, float, float, float) or None, optional
        Where the layer is expected (see :func:`to_wgs84`); default the bundled project's region.

    Returns
    -------
    ImportResult
        ``gdf`` is the normalised layer (EPSG:4326, canonical columns) when the
        report has no errors, else None.
    """
    if role is not None:
        role_columns(role)  # an unknown role fails before anything is read
    path = Path(path)
    kind = (LAYERS[role].geometry if role in LAYERS else "polygon") if role is not None else None
    # The geometry scan (validity, reasons, repairs, silent fixes: GEOS, without the GIL) runs on
    # worker threads: for a file read in batches, each batch is queued as soon as it is read, while
    # the reading goes on; otherwise the whole layer once read. The attributes are mapped and
    # checked on this thread meanwhile; check_geometries then uses the scan.
    scanner = GeometryScanner(kind=kind) if kind is not None else None
    try:
        result = _prepare(path, role=role, kind=kind, scanner=scanner, crs=crs, layer=layer, mapping=mapping,
                          accept_repairs=accept_repairs, encoding=encoding, quality=quality, limits=limits, xy=xy,
                          region=region)
    finally:
        if scanner is not None:
            scanner.close()
    if role is not None and country_of_role(role) is not None and layers_dir is not None and result.checked is not None:
        result.report.problems += _side_problems(result.checked, role=role, layers_dir=layers_dir, accept_clip=accept_clip)
        if not result.report.ok:
            result.gdf = None
    return result


def _side_problems(gdf: gpd.GeoDataFrame, *, role: str, layers_dir, accept_clip: bool) -> list[Problem]:
    """The hectares of each park off its own country's land and across the border (see merge.wrong_side)."""
    from geo.errors import BigCatsError
    from geo.merge import CLIP_NOISE_HA, WRONG_SIDE_FRACTION, wrong_side
    from geo.store import open_store

    try:
        countries = open_store(layers_dir).read_layer("countries")
    except BigCatsError as exc:
        return [Problem(role, "*", f"not measured against the border: {exc}",
                        "pass --layers with a layer store holding the countries layer", "warning")]
    keep = np.asarray(shapely.is_valid(np.asarray(gdf.geometry.array, dtype=object)), dtype=bool)  # refused ones aside
    table = wrong_side(gdf[keep], countries)
    problems = []
    for r in table.itertuples():
        share = r.other_side_ha / r.area_ha if r.area_ha > 0 else 0.0
        if r.other_side_ha >= CLIP_NOISE_HA:
            problem = (f"{r.other_side_ha:,.2f} ha ({100 * share:.2f} % of the park) lie across the border on "
                       f"{r.other_iso3} land; the build clips them off")
            if share > WRONG_SIDE_FRACTION and not accept_clip:
                problems.append(Problem(role, str(r.id), problem,
                                        "correct the boundary or its country, or pass --accept-clip to import it clipped "
                                        f"(more than {100 * WRONG_SIDE_FRACTION:g} % of the park)"))
            else:
                problems.append(Problem(role, str(r.id), problem, "none needed if the border is right", "warning"))
        off = r.outside_ha - r.other_side_ha
        if off >= CLIP_NOISE_HA:
            whole = " (all of it: nothing would be left)" if r.outside_ha >= r.area_ha * (1 - 1e-9) else ""
            problems.append(Problem(
                role, str(r.id),
                f"{off:,.2f} ha ({100 * off / r.area_ha:.2f} % of the park) lie off {r.country_iso3} land in the "
                f"countries layer (water, or beyond the layer){whole}; the build clips them off",
                "none needed for a lake or the sea; else check the boundary", "warning"))
    return problems


def _early_scan(scanner: GeometryScanner):
    """``on_geometries`` for :func:`geo.io.read_source`: queue batches already in EPSG:4326 for scanning."""
    state = {"crs": None}

    def on_geometries(geoms, crs) -> None:
        if state["crs"] is None:
            try:
                state["crs"] = crs is not None and CRS.from_user_input(crs).equals(CRS("EPSG:4326"))
            except _ProjCRSError:
                state["crs"] = False
        if state["crs"]:  # the layer is checked as read; other CRSs are transformed first, then scanned
            scanner.add(geoms)

    return on_geometries


def _same_objects(a: np.ndarray, b) -> bool:
    """Whether two arrays hold the very same geometry objects, in order."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _prepare(path: Path, *, role, kind, scanner, crs, layer, mapping, accept_repairs, encoding, quality=None,
             limits=None, xy=None, region=_BUNDLED) -> ImportResult:
    try:
        source = read_source(
            path, layer=layer, encoding=encoding, on_geometries=_early_scan(scanner) if scanner is not None else None,
            limits=limits, xy=xy,
        )
    except DataError as exc:  # a GeoJSON that breaks RFC 7946's structure: report every problem
        report = Report(source=path.name, role=role, features=0, problems=list(exc.problems))
        return ImportResult(report, None, {"source_name": path.name})
    name = role or "layer"
    report = Report(source=path.name, role=role, features=len(source.gdf), problems=list(source.problems))
    provenance = {
        "source_name": path.name,
        "sha256": source.sha256,  # of the file given (for a Shapefile folder: of its .shp)
        "format": source.format,
        "layer": source.layer,
        "original_crs": _crs_name(source.crs) if source.format != "GeoJSON" else "OGC:CRS84 (GeoJSON)",
        "encoding": source.encoding,
        "tool_version": f"bigcats {__version__}",
        "role": role,
    }
    if len(source.gdf) == 0:
        report.problems.append(
            Problem(name, "*", "the layer has 0 features", "export the layer again with its features")
        )
        return ImportResult(report, None, provenance)
    gdf, problems, original = to_wgs84(source, crs=crs, layer=name, region=region)
    report.problems += problems
    provenance["original_crs"] = original
    provenance["crs_option"] = crs
    if gdf is None:
        return ImportResult(report, None, provenance)
    has_z = bool(gdf.geometry.has_z.any())
    if has_z:
        gdf = gdf.set_geometry(gdf.geometry.force_2d())
        report.problems.append(Problem(name, "*", "Z (height) values dropped: the map is 2D", "none needed", "warning"))
    if role is None:
        kinds = {
            "Polygon": "polygon",
            "MultiPolygon": "polygon",
            "LineString": "line",
            "MultiLineString": "line",
            "Point": "point",
            "MultiPoint": "point",
        }
        found = gdf.geometry.geom_type.dropna().map(kinds).dropna()
        kind = found.mode().iloc[0] if len(found) else "polygon"
        ids = [str(i) for i in range(len(gdf))]
        _, problems, repairs = check_geometries(gdf, ids=ids, kind=kind, layer=name, accept_repairs=accept_repairs)
        report.problems += problems
        report.repairs = repairs
        return ImportResult(report, None, provenance)
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    if not _same_objects(scanner.scanned, geoms):  # not read in batches, transformed, or made 2D
        scanner.reset(total=len(geoms))
        scanner.add(geoms)
    mapped, problems, used, dropped = map_attributes(gdf, role=role, mapping=mapping, source_name=path.name,
                                                     quality=quality)
    report.problems += problems
    report.problems += _attribute_problems(gdf, mapped, role=role, used=used)
    scan = scanner.result()
    provenance["columns"] = used
    provenance["dropped_columns"] = dropped
    ids = mapped["id"]
    idlist = [str(v) if v is not None else f"row {i + 1}" for i, v in enumerate(ids)]
    checked, problems, repairs = check_geometries(
        mapped,
        ids=idlist,
        kind=kind,
        layer=role,
        accept_repairs=accept_repairs,
        scan=scan,
    )
    report.problems += problems
    report.repairs = repairs
    provenance["repairs"] = repairs
    provenance["features"] = len(checked)
    return ImportResult(report, checked if report.ok else None, provenance, checked=checked)


def import_layer(
    path: str | Path,
    *,
    role: str,
    layers_dir: str | Path,
    crs: str | None = None,
    layer: str | None = None,
    mapping: dict[str, str] | None = None,
    accept_repairs: bool = False,
    encoding: str | None = None,
    dry_run: bool = False,
    add: bool = False,
    quality: str | None = None,
    accept_clip: bool = False,
    limits=None,
    xy: tuple[str, str] | None = None,
) -> ImportResult:
    """Check a source file and, if the report has no errors, add it as a new version of the role's layer.

    ``layers_dir`` is any layer store :func:`geo.store.open_store` opens (a
    folder, a ``.gpkg`` store or a ``postgresql://`` URL). The layer becomes
    the role's current version in one all-or-nothing write, with its
    provenance; earlier versions are kept (``bigcats history``). With ``add``
    its features are added to the current layer instead (ids must stay
    unique). ``dry_run`` writes nothing. Parks are measured against the store's
    countries layer and ``quality`` is their default ``geometry_quality``
    (see :func:`prepare_layer`).
    """
    from geo.store import open_store

    if role is None:
        raise UsageError("import needs --role; use one of " + ", ".join(IMPORT_ROLES) + ".")
    spec = str(layers_dir)
    if "://" not in spec and not spec.lower().endswith(".gpkg") and not Path(spec).is_dir():
        raise ReadError(
            f"layers folder not found: {_masked(spec)}. Pass --layers with an existing layer folder "
            "(the bundled one is 'layers'), a .gpkg store or a postgresql:// URL."
        )
    role_columns(role)
    project = project_for(spec)
    if country_of_role(role) is not None and role not in catalogue(project).park_roles:
        where = project.path or "the bundled project"
        raise UsageError(
            f"--role {role}: {country_of_role(role)} is not a country of the project ({where}: countries "
            f"{', '.join(project.countries)}); use one of {', '.join(project.park_roles)}, or add it to "
            "countries in project.toml."
        )
    result = prepare_layer(
        path, role=role, crs=crs, layer=layer, mapping=mapping, accept_repairs=accept_repairs, encoding=encoding,
        quality=quality, layers_dir=spec, accept_clip=accept_clip, limits=limits, xy=xy, region=project.region,
    )
    if not result.report.ok:
        return result
    store = open_store(spec)
    if add and role in store._roles():
        existing = store.read_layer(role)
        clash = sorted(set(existing["id"].astype(str)) & set(result.gdf["id"].astype(str)))
        for fid in clash:
            result.report.problems.append(
                Problem(role, fid, f"duplicate id: already in the {role} layer", "drop --add to replace the layer, or give it another id")
            )
        if clash:
            result.gdf = None
            return result
        result.provenance["added_to"] = {"version": store.current_version(role), "features": len(existing)}
        columns = [c for c in result.gdf.columns if c in existing.columns]
        combined = pd.concat([existing[columns], result.gdf], ignore_index=True)
        result.gdf = gpd.GeoDataFrame(combined, geometry=result.gdf.geometry.name, crs="EPSG:4326")
    if not dry_run:
        result.provenance["imported_at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        provenance = {**result.provenance, "source": result.provenance["source_name"], "checksum": result.provenance["sha256"]}
        version = store.write_layer(role, result.gdf, provenance=provenance)
        result.written = f"{role} version {version} of {_masked(spec)}"
    return result


def _masked(spec: str) -> str:
    from geo.store import mask_url

    return mask_url(spec)
