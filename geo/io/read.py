"""Reading any source file as it is, through pyogrio/GDAL (GeoParquet through pyarrow)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import DataError, ReadError, UsageError
from geo.io.files import _first_line, file_sha256
from geo.io.lint import geojson_problems
from geo.io.sources import (
    _geopackage_layer,
    _guess_dbf_encoding,
    _resolve,
    _shapefile_encoding,
    _shapefile_files,
    _zip_folder,
)
from geo.limits import ReadLimits, check_input, gdal_path, read_limits, within_time
from geo.problems import Problem
from geo.progress import Progress

__all__ = ["STREAMED_FORMATS", "Source", "read_source"]

try:  # pyogrio reads faster through Arrow when pyarrow is installed
    import pyarrow

    _HAVE_ARROW = True
except ImportError:  # pragma: no cover
    _HAVE_ARROW = False


@dataclass
class Source:
    """One source file read as it is: attributes, geometries and CRS untouched."""

    path: Path
    format: str
    gdf: gpd.GeoDataFrame
    crs: object  # pyproj.CRS or None
    layer: str | None = None
    sha256: str = ""
    encoding: str | None = None
    geojson: object = None  # the parsed JSON of a GeoJSON file (to see a legacy "crs" member)
    problems: list = field(default_factory=list)


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    on_geometries: Callable[[np.ndarray, str | None], None] | None = None,
    limits: ReadLimits | None = None,
    xy: tuple[str, str] | None = None,
) -> Source:
    """Read any supported file as it is, through pyogrio/GDAL (GeoParquet through pyarrow).

    Parameters
    ----------
    path : str or Path
        A GeoJSON (UTF-8 BOM allowed), TopoJSON, Shapefile (folder, .shp or .zip),
        GeoPackage, KML/KMZ, GeoParquet or FlatGeobuf file.
    layer : str, optional
        The layer to read when the file holds several.
    encoding : str, optional
        Text encoding of a Shapefile's attributes; by default its .cpg, its
        DBF code page, or a guess between UTF-8, cp1251 and GBK.
    on_geometries : callable, optional
        ``on_geometries(geoms, crs)`` is called with each batch of decoded
        geometries (an object array, in file order) and the layer's declared
        CRS as soon as the batch is read, for the formats read in batches
        (:data:`STREAMED_FORMATS`); a caller can start checking them while the
        rest of the file is read. The returned layer holds those same geometry
        objects. It is not called for other formats.
    limits : ReadLimits, optional
        Input size, JSON nesting depth, time budget and memory check
        (:func:`geo.limits.read_limits`: ``BIGCATS_*`` variables or defaults).
        FIFOs, devices and other non-regular files are always refused, and
        the path is always opened as a local file (see :func:`geo.limits.gdal_path`).
    xy : (str, str), optional
        The x and y columns of a CSV of points; by default ``lon``/``lat``,
        ``longitude``/``latitude``, ``lng``/``lat`` or ``x``/``y`` are found.

    Returns
    -------
    Source
        The data untouched: original CRS (or None), original columns.

    Raises
    ------
    ReadError
        The file is missing, truncated or not of its format (exit 2).
    UsageError
        The file holds several layers and ``layer`` is not given (exit 2).
    DataError
        A GeoJSON file breaks RFC 7946's structure (exit 1, every problem listed).
    """
    path = Path(path)
    limits = limits if limits is not None else read_limits()
    target, fmt = _resolve(path)
    check_input(path, _shapefile_files(target) if fmt == "ESRI Shapefile" else [target], fmt, limits)
    with gdal_path(target) as local:
        if fmt == "ESRI Shapefile (zip)":
            inner = _zip_folder(target)
            local = f"/vsizip/{local}" + (f"/{inner}" if inner else "")
        return within_time(
            lambda: _read_source(
                path,
                target,
                local,
                fmt,
                layer=layer,
                encoding=encoding,
                on_geometries=on_geometries,
                max_depth=limits.max_depth,
                xy=xy,
            ),
            limits.timeout_s,
            str(path),
        )


def _read_source(
    path: Path, target: Path, local: str, fmt: str, *, layer, encoding, on_geometries, max_depth, xy
) -> Source:
    # the checksum is computed on a thread while GDAL reads (hashlib releases the GIL)
    hashing = ThreadPoolExecutor(max_workers=1)
    sha = hashing.submit(file_sha256, path if path.is_file() else target)
    hashing.shutdown(wait=False)
    parsed = None
    problems: list = []
    if fmt == "GeoJSON":
        raw = target.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"cannot read {path}: GeoJSON must be UTF-8 ({exc.reason} at byte {exc.start}). Save it as UTF-8."
            ) from None
        parsed, problems = geojson_problems(text, source=path.name, max_depth=max_depth)
        if isinstance(parsed, dict) and parsed.get("type") == "Topology":
            fmt = "TopoJSON"
        errors = [p for p in problems if p.level == "error"]
        if errors:
            raise DataError(f"{path.name} is not valid GeoJSON: {errors[0].problem}", problems)
        target_arg: object = text.encode("utf-8") if raw.startswith(b"\xef\xbb\xbf") else local
    else:
        target_arg = local
    if fmt == "GeoParquet":
        try:
            gdf = gpd.read_parquet(local)
        except ImportError:
            raise ReadError("reading GeoParquet needs pyarrow: pip install pyarrow") from None
        except Exception as exc:
            raise ReadError(
                f"cannot read {path} as GeoParquet: {_first_line(exc)}. "
                "The file may be truncated or plain Parquet; export it again as GeoParquet."
            ) from None
        return Source(path, fmt, gdf, gdf.crs, None, sha.result(), None, None, problems)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            source = _read_ogr(path, target, target_arg, fmt, sha, layer, encoding, parsed, problems, on_geometries, xy)
        finally:
            recorded = list(caught)
    # GDAL's and pyogrio's notes on the file (RuntimeWarning, UserWarning...) go into the report, once each,
    # as one line without Python's source paths
    unclosed = any("not closed" in p.problem for p in problems)
    for w in recorded:
        text = str(w.message).splitlines()[0] if str(w.message).strip() else w.category.__name__
        if unclosed and "Non closed ring" in text:
            continue  # reported per feature already
        note = f"GDAL: {text}" if issubclass(w.category, RuntimeWarning) else f"reading: {text}"
        if not any(p.problem == note for p in problems):
            problems.append(Problem(path.name, "*", note, "check the source file", "warning"))
    return source


def _release_freed_memory() -> None:
    """Hand the read's freed buffers (Arrow's pool, the C heap) back to the system.

    A large read leaves its temporary WKB and Arrow buffers freed but still held
    by the allocators; returning them keeps the import's peak resident memory
    near the layer's own size (issue 7's budget). glibc only; elsewhere a no-op.
    """
    if _HAVE_ARROW:
        pyarrow.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: Formats read in batches through Arrow (:func:`read_source`'s ``on_geometries``).
STREAMED_FORMATS = ("GeoPackage",)
#: Formats never read through Arrow: GDAL 3.12's Arrow stream of a FlatGeobuf file without a
#: spatial index that holds a null geometry crashes the process (segmentation fault).
_NO_ARROW = ("FlatGeobuf",)
#: Features per streamed batch.
STREAM_BATCH = 2_048
#: After reading a file larger than this, freed buffers are handed back to the system.
_TRIM_MIN_BYTES = 32 << 20


def _owned(batch):
    """A copy of an Arrow record batch in memory of its own (``copy_to``; an IPC round trip where pyarrow lacks it)."""
    copy_to = getattr(batch, "copy_to", None)
    if copy_to is not None and hasattr(pyarrow, "default_cpu_memory_manager"):
        return copy_to(pyarrow.default_cpu_memory_manager())
    return _owned_by_ipc(batch)


def _owned_by_ipc(batch):
    """:func:`_owned` for pyarrow releases without ``RecordBatch.copy_to``: written to a new buffer and read back."""
    sink = pyarrow.BufferOutputStream()
    with pyarrow.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return pyarrow.ipc.open_stream(sink.getvalue()).read_next_batch()


def _read_streamed(target_arg, *, layer: str | None, on_geometries) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a GDAL layer through Arrow in batches, handing each batch's geometries over as it is read.

    Each batch's WKB is decoded with :func:`shapely.from_wkb` (as
    :func:`pyogrio.read_dataframe` does) and handed to ``on_geometries`` at
    once; the attribute columns are kept as Arrow and converted to pandas at
    the end with :meth:`pyarrow.Table.to_pandas`, as pyogrio does (JSON
    fields parsed; date-times as Arrow timestamps). Returns a DataFrame when
    the layer has no geometry.
    """
    parts: list[np.ndarray] = []
    kept: list = []
    with pyogrio.open_arrow(target_arg, layer=layer, use_pyarrow=True, batch_size=STREAM_BATCH) as (meta, reader):
        name = meta["geometry_name"] or "wkb_geometry"
        crs = meta["crs"]
        has_geometry = name in reader.schema.names
        schema = reader.schema.remove(reader.schema.get_field_index(name)) if has_geometry else reader.schema
        for batch in reader:
            if has_geometry:
                column = batch.column(name)
                if isinstance(column.type, pyarrow.BaseExtensionType):  # geoarrow.wkb
                    column = column.storage
                geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False))
                parts.append(geoms)
                if on_geometries is not None:
                    on_geometries(geoms, crs)
                batch = batch.drop_columns([name])
            # copied out of GDAL's memory: an imported batch is freed only when all of its columns
            # are, so attribute columns kept zero-copy (pandas' Arrow text) held every batch's WKB
            kept.append(_owned(batch))
    attrs = pyarrow.Table.from_batches(kept, schema=schema).to_pandas()
    for subtype, field_name in zip(meta["ogr_subtypes"], meta["fields"], strict=True):
        if subtype == "OFSTJSON" and pd.api.types.infer_dtype(attrs[field_name]) == "string":
            with contextlib.suppress(ValueError):
                attrs[field_name] = attrs[field_name].map(json.loads, na_action="ignore")
    if not has_geometry:
        return attrs
    geoms = np.concatenate(parts) if parts else np.array([], dtype=object)
    # the column set on the frame and then made its geometry: a GeoSeries passed as geometry= took
    # 0.8 ms at 1,000 features against 0.35 ms, on the reader's path before anything else can start
    attrs["geometry"] = gpd.array.from_shapely(geoms, crs=crs)
    return gpd.GeoDataFrame(attrs, geometry="geometry")


def _read_ogr(
    path, target, target_arg, fmt, sha, layer, encoding, parsed, problems, on_geometries=None, xy=None
) -> Source:
    names, geometry_type = _choose_layer(path, target_arg, fmt, layer)
    forced, guessed = (encoding, False) if encoding else (None, False)
    if fmt == "ESRI Shapefile" and not encoding:
        forced, guessed = _shapefile_encoding(target)
    retried = fmt.startswith("curved ")
    curved = retried or any(word in geometry_type for word in _CURVED)
    fmt = fmt.removeprefix("curved ")
    # GDAL's Arrow stream keeps curves (GEOS cannot read them); pyogrio's plain read linearises them
    if curved and not retried:
        problems.append(_linearised(path, f" ({geometry_type})"))
    options = _csv_options(target, xy) if fmt == "CSV" else {}
    bar = Progress(f"reading {path.name}", 1)
    bar.update(0)
    try:
        size = target.stat().st_size if target.is_file() else 0
        gdf = _read_frame(
            path,
            target_arg,
            fmt,
            layer=layer,
            forced=forced,
            curved=curved,
            options=options,
            on_geometries=on_geometries,
            problems=problems,
        )
    finally:
        bar.update(1)
        bar.close()
    if gdf is None:  # curves the layer's declared type did not announce: read again, linearised
        return _read_ogr(path, target, target_arg, "curved " + fmt, sha, layer, encoding, parsed, problems, None, xy)
    if size >= _TRIM_MIN_BYTES:
        _release_freed_memory()
    used = forced
    if guessed:
        gdf, used = _decode_guessed(gdf, path, problems)
    if not isinstance(gdf, gpd.GeoDataFrame):
        hint = _CSV_HINT if fmt == "CSV" else ""
        problem = Problem(
            path.name, "*", f"the file holds no geometry column{hint}", "export the layer again with its geometries"
        )
        raise DataError(f"{path.name} holds no geometry", [problem])
    if isinstance(parsed, dict) and parsed.get("type") == "FeatureCollection" and "id" not in gdf.columns:
        feats = parsed.get("features") or []
        if len(feats) == len(gdf) and feats and all("id" in f for f in feats):
            gdf.insert(0, "id", [str(f["id"]) for f in feats])  # RFC 7946 Feature ids (GDAL keeps them as FIDs)
    return Source(path, fmt, gdf, gdf.crs, layer or (names[0] if names else None), sha.result(), used, parsed, problems)


#: What a CSV without a geometry needs (the end of the problem's text).
_CSV_HINT = (
    " (a CSV needs its geometry as WKT in a column named WKT, or x/y columns: lon/lat, longitude/latitude, "
    "x/y, or name them with --x and --y)"
)


def _damaged(path: Path, fmt: str, exc: BaseException) -> ReadError:
    """The error of a file GDAL cannot read as its format."""
    return ReadError(
        f"cannot read {path} as {fmt}: {_first_line(exc)}. The file may be truncated or damaged; export it again."
    )


def _linearised(path: Path, what: str = "") -> Problem:
    """The warning that the curves of ``what`` were approximated by straight segments."""
    return Problem(
        path.name,
        "*",
        f"curved geometries{what} linearised: arcs approximated by straight segments",
        "none needed; check the outline if exact arcs matter",
        "warning",
    )


def _choose_layer(path: Path, target_arg, fmt: str, layer: str | None) -> tuple[list[str], str]:
    """The names of the file's layers and the geometry type of the one to read (``layer``, else the only one)."""
    if fmt == "GeoPackage" and isinstance(target_arg, str):
        plain = _geopackage_layer(target_arg)  # a GeoPackage of one table, without opening it in GDAL
        if plain is not None and layer in (None, plain[0][0]):
            return plain
    try:
        layers = pyogrio.list_layers(target_arg)
    except Exception as exc:
        raise _damaged(path, fmt, exc) from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if not names:
        raise ReadError(
            f"cannot read {path}: the {fmt} file holds no layer (no features, folders or placemarks). "
            "Export the layer again with its features."
        )
    if layer is not None and layer not in names:
        raise UsageError(f"--layer {layer!r} is not in {path.name}; its layers are: {', '.join(names)}.")
    if layer is None and len(names) > 1:
        raise UsageError(f"{path.name} holds {len(names)} layers ({', '.join(names)}); choose one with --layer NAME.")
    return names, str(layers[names.index(layer) if layer in names else 0, 1])


def _read_frame(
    path: Path, target_arg, fmt: str, *, layer, forced, curved: bool, options: dict, on_geometries, problems: list
) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """Read the chosen layer (streamed, through Arrow, or plainly); None: it holds curves, read it again as curved.

    GDAL's failures become a :class:`ReadError` or :class:`UsageError` naming the fix; a layer
    with unclosed rings is read with each one reported (:func:`_read_unclosed`).
    """
    try:
        if forced is None and _HAVE_ARROW and fmt in STREAMED_FORMATS and not curved:
            return _read_streamed(target_arg, layer=layer, on_geometries=on_geometries)
        arrow = forced is None and _HAVE_ARROW and fmt not in _NO_ARROW and not curved
        return pyogrio.read_dataframe(target_arg, layer=layer, encoding=forced, use_arrow=arrow, **options)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot decode the text of {path.name} with encoding {forced!r}: {_first_line(exc)}. "
            "Pass the right --encoding."
        ) from None
    except LookupError as exc:
        if forced is not None and "encoding" in str(exc):
            raise UsageError(
                f"--encoding {forced!r} is not a text encoding Python knows: {_first_line(exc)}. "
                "Pass e.g. --encoding cp1251."
            ) from None
        raise _damaged(path, fmt, exc) from None
    except Exception as exc:
        if "Nonlinear geometry" in str(exc) and not curved:
            problems.append(_linearised(path))
            return None
        if "closed linestring" not in str(exc):
            raise _damaged(path, fmt, exc) from None
        return _read_unclosed(path, target_arg, layer=layer, encoding=forced, problems=problems)


def _is_text(column: pd.Series) -> bool:
    return column.dtype == object or str(column.dtype) in ("str", "string")


def _decode_guessed(gdf, path: Path, problems: list) -> tuple[gpd.GeoDataFrame | pd.DataFrame, str]:
    """Decode a Shapefile's attribute text read as latin1 bytes with the guessed code page (latin1 if none)."""
    geometry = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else None
    # as before the split: a non-geometry column of object dtype, or any column of a string dtype
    text_cols = [
        c for c in gdf.columns if c != geometry and gdf[c].dtype == object or str(gdf[c].dtype) in ("str", "string")
    ]
    raw_values = [str(v).encode("latin1") for c in text_cols for v in gdf[c].dropna()]
    raw_names = [str(c).encode("latin1", "replace") for c in gdf.columns]
    used = _guess_dbf_encoding(raw_values + raw_names)
    if used is None:
        return gdf, "latin1"
    gdf = gdf.rename(columns={c: c.encode("latin1").decode(used) for c in gdf.columns if c != geometry})
    for c in gdf.columns:
        if c != geometry and _is_text(gdf[c]):
            gdf[c] = gdf[c].map(lambda v: v.encode("latin1").decode(used) if isinstance(v, str) else v)
    problems.append(
        Problem(
            path.name,
            "*",
            f"no .cpg file: attribute text decoded as {used} (detected)",
            "add a .cpg file, or pass --encoding if the names read wrong",
            "warning",
        )
    )
    return gdf, used


#: Words of GDAL's curved geometry type names (CurvePolygon, MultiSurface, CompoundCurve, CircularString...).
_CURVED = ("Curve", "Surface", "CircularString")
#: Column pairs read as the x/y of a CSV of points, first match wins (case-insensitive).
_XY_NAMES = (("lon", "lat"), ("longitude", "latitude"), ("lng", "lat"), ("long", "lat"), ("x", "y"))


def _csv_options(target: Path, xy: tuple[str, str] | None) -> dict:
    """GDAL CSV open options reading x/y columns as points (none when the CSV has a WKT column)."""
    import csv

    with open(target, newline="", encoding="utf-8-sig", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    lower = {h.strip().lower(): h.strip() for h in header}
    if xy is not None:
        missing = [c for c in xy if c.lower() not in lower]
        if missing:
            raise UsageError(
                f"--x/--y: the CSV has no column {', '.join(map(repr, missing))}; its columns are: {', '.join(header)}."
            )
        pair = (lower[xy[0].lower()], lower[xy[1].lower()])
    elif "wkt" in lower:
        return {}
    else:
        found = next(((lower[x], lower[y]) for x, y in _XY_NAMES if x in lower and y in lower), None)
        if found is None:
            return {}
        pair = found
    return {"X_POSSIBLE_NAMES": pair[0], "Y_POSSIBLE_NAMES": pair[1], "KEEP_GEOM_COLUMNS": "NO"}


def _read_unclosed(path: Path, target_arg, *, layer, encoding, problems: list) -> gpd.GeoDataFrame:
    """Read a layer with unclosed polygon rings.

    Each such feature is one reported problem; its ring is closed to read it.
    """
    from pyogrio.raw import read as read_raw

    try:
        meta, _fids, wkb, fields = read_raw(target_arg, layer=layer, encoding=encoding)
    except Exception as exc:
        raise ReadError(
            f"cannot read {path}: {_first_line(exc)}. The file may be truncated or damaged; export it again."
        ) from None
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    geoms = shapely.from_wkb(wkb, on_invalid="fix")
    attrs = pd.DataFrame({str(n): v for n, v in zip(meta["fields"], fields, strict=True)})
    label = next((c for c in ("id", "Name", "name", "NAME") if c in attrs.columns and attrs[c].notna().any()), None)
    for i in np.flatnonzero(pd.isna(strict) & pd.notna(wkb)):
        what = f"{attrs[label].iloc[i]} (row {i + 1})" if label and pd.notna(attrs[label].iloc[i]) else f"row {i + 1}"
        problems.append(
            Problem(
                path.name,
                what,
                "a polygon ring is not closed (its last position is not its first)",
                "close the ring at the source: repeat its first position at the end",
            )
        )
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=meta["crs"])
