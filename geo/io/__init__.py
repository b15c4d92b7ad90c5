"""Reading and writing layers: RFC 7946 GeoJSON, GeoPackage; atomic writes."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.errors import DataError, ReadError, UsageError, WriteError
from geo.limits import ReadLimits, check_input, gdal_path, no_room_reason, read_limits, within_time

__all__ = [
    "SHP_FIELD_NAMES",
    "STREAMED_FORMATS",
    "Source",
    "atomic_path",
    "file_sha256",
    "export_layers",
    "read_source",
    "to_geojson_dict",
    "write_geojson",
    "write_gpkg",
]


@contextlib.contextmanager
def atomic_path(path: str | Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` on success.

    Readers never see a half-written file: either the old file or the new one.
    On an exception the temporary file is removed and ``path`` is untouched.
    ``durable`` also survives a power cut: the file is flushed to the disk
    (``fsync``) before the rename, and its folder after it.
    """
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # let the writer create it (GDAL refuses to overwrite some formats)
    try:
        yield Path(tmp)
        if durable:
            fsync_path(tmp)
        os.replace(tmp, path)
        if durable:
            fsync_path(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def fsync_path(path: str | Path) -> None:
    """Flush a file or a folder (its entries: renames, new files) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _round_geometry(geom: dict, decimals: int) -> dict:
    def rnd(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(v), decimals) + 0.0 for v in c]
        return [rnd(x) for x in c]

    if geom["type"] == "GeometryCollection":
        return {"type": geom["type"], "geometries": [_round_geometry(g, decimals) for g in geom["geometries"]]}
    return {"type": geom["type"], "coordinates": rnd(geom["coordinates"])}


def to_geojson_dict(gdf: gpd.GeoDataFrame, *, decimals: int = 6, name: str | None = None) -> dict:
    """Return an RFC 7946 FeatureCollection as a dict.

    Coordinates are WGS84 longitude/latitude rounded to ``decimals``; polygon
    rings follow the right-hand rule (exterior counter-clockwise); there is no
    ``crs`` member. Column order and feature order are kept.
    """
    if gdf.crs is None:
        from geo.errors import CRSError

        raise CRSError("cannot write GeoJSON from a layer with no CRS; set the CRS it was made in first.")
    gdf = gdf.to_crs("EPSG:4326")
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    features = []
    for row, geom in zip(gdf[columns].itertuples(index=False, name=None), gdf.geometry.array):
        if geom is None or geom.is_empty:
            geometry = None
        else:
            geometry = _round_geometry(json.loads(shapely.to_geojson(shapely.orient_polygons(geom))), decimals)
        features.append(
            {
                "type": "Feature",
                "properties": {c: _json_value(v) for c, v in zip(columns, row)},
                "geometry": geometry,
            }
        )
    out: dict = {"type": "FeatureCollection"}
    if name:
        out["name"] = name
    out["features"] = features
    return out


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *, decimals: int = 6, durable: bool = False) -> Path:
    """Write a layer as RFC 7946 GeoJSON, atomically and deterministically.

    One feature per line, keys in column order, UTF-8 without escapes, so two
    writes of the same layer give identical bytes and diffs stay readable.
    """
    path = Path(path)
    data = to_geojson_dict(gdf, decimals=decimals)
    lines = ['{"type": "FeatureCollection", "features": [']
    feats = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"]]
    lines.append(",\n".join(feats))
    lines.append("]}")
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write several layers into one GeoPackage (one table each), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            # GeoPackage 1.2: opened without a version warning by the GDAL inside older QGIS/ogrinfo releases
            _gdal_write(path, lambda: pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG",
                                                              dataset_options={"VERSION": "1.2"}), tmp)
    return path


def _gdal_write(path: Path, write: Callable[[], None], tmp: Path | None = None) -> None:
    """Run a GDAL write of ``path`` (into ``tmp``); a failure (a full disk...) becomes a :class:`WriteError` naming the cause."""
    try:
        write()
    except OSError:
        raise
    except Exception as exc:  # pyogrio raises DataSourceError, FeatureError, ... with GDAL's message
        written = [] if tmp is None else [p for p in Path(tmp).parent.iterdir() if p.name.startswith(Path(tmp).name)]
        reason = no_room_reason(path, exc, written=written)
        raise WriteError(
            f"cannot write {path}: {reason or _first_line(exc)}. "
            + ("Free space on the disk or write somewhere else (--out); " if reason else "Check the path and its folder; ")
            + "nothing was half-written."
        ) from None


# -- reading any source file ------------------------------------------------------------------------------

_FORMATS = {
    ".geojson": "GeoJSON", ".json": "GeoJSON", ".topojson": "TopoJSON", ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile (zip)", ".gpkg": "GeoPackage", ".kml": "KML", ".kmz": "KMZ",
    ".parquet": "GeoParquet", ".geoparquet": "GeoParquet", ".fgb": "FlatGeobuf", ".csv": "CSV",
}


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


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].rstrip(".")


def _script_score(text: str, lo: int, hi: int) -> float:
    letters = [c for c in text if ord(c) > 127]
    return sum(lo <= ord(c) <= hi for c in letters) / len(letters) if letters else 0.0


def _guess_dbf_encoding(raw: list[bytes]) -> str | None:
    """Guess the code page of DBF text that is not UTF-8: cp1251 (Cyrillic) or GBK (Chinese)."""
    blob = b"\n".join(raw)
    if not any(b > 127 for b in blob):
        return None
    try:
        blob.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    scores = {}
    for enc, lo, hi in (("cp1251", 0x0400, 0x04FF), ("gbk", 0x4E00, 0x9FFF)):
        try:
            scores[enc] = _script_score(blob.decode(enc), lo, hi)
        except UnicodeDecodeError:
            scores[enc] = -1.0
    best = max(scores, key=scores.get)
    return best if scores[best] > 0.5 else None


def _shapefile_encoding(shp: Path) -> tuple[str | None, bool]:
    """(encoding to force, guessed?) for a Shapefile: None lets GDAL use its .cpg or DBF code page."""
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = shp.with_suffix(".CPG")
    if cpg.exists():
        return None, False
    dbf = next((p for p in (shp.with_suffix(".dbf"), shp.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None, False
    with open(dbf, "rb") as fh:
        header = fh.read(32)
    if len(header) == 32 and header[29] != 0:
        return None, False  # the DBF declares its code page (language driver id); GDAL honours it
    return "latin1", True  # read raw bytes, then decode them after a guess


def _resolve(path: Path) -> tuple[Path, str]:
    """The file pyogrio opens and the format name; folders and zips give their one .shp."""
    if not path.exists():
        raise ReadError(f"cannot read {path}: no such file or folder. Check the path.")
    if path.is_dir():
        shps = sorted(path.glob("*.shp")) + sorted(path.glob("*.SHP"))
        if len(shps) != 1:
            what = "no .shp file" if not shps else f"{len(shps)} .shp files ({', '.join(p.name for p in shps)})"
            raise ReadError(f"cannot read folder {path}: it holds {what}; pass the .shp file itself.")
        return shps[0], "ESRI Shapefile"
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile as exc:
            raise ReadError(f"cannot read {path}: not a valid zip file ({exc}). Download or zip it again.") from None
        shps = [n for n in names if n.lower().endswith(".shp") and not _mac_resource(n)]
        if not shps:
            raise ReadError(
                f"cannot read {path}: the zip holds no .shp file (it holds {', '.join(names[:5]) or 'nothing'}). "
                "Zip the .shp with its .shx, .dbf, .prj and .cpg."
            )
        if len(shps) > 1:
            raise ReadError(f"cannot read {path}: the zip holds {len(shps)} .shp files ({', '.join(shps)}); unzip it and pass one.")
        return path, "ESRI Shapefile (zip)"
    if suffix not in _FORMATS:
        raise ReadError(f"cannot read {path}: unknown file type {suffix or '(none)'}; use one of {', '.join(sorted(_FORMATS))}.")
    return path, _FORMATS[suffix]


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
            lambda: _read_source(path, target, local, fmt, layer=layer, encoding=encoding, on_geometries=on_geometries,
                                 max_depth=limits.max_depth, xy=xy),
            limits.timeout_s, str(path),
        )


def _mac_resource(name: str) -> bool:
    """A macOS zip's resource-fork copy (``__MACOSX/...``, ``._name``), not a file of the data."""
    return name.startswith("__MACOSX/") or Path(name).name.startswith("._")


def _zip_folder(path: Path) -> str:
    """The folder inside a zip that holds its one .shp ('' at the top): a Shapefile zipped with its folder."""
    with zipfile.ZipFile(path) as zf:
        shp = next(n for n in zf.namelist() if n.lower().endswith(".shp") and not _mac_resource(n))
    return str(Path(shp).parent) if "/" in shp else ""


def _shapefile_files(shp: Path) -> list[Path]:
    """The files of a Shapefile set that GDAL reads (same name, any extension)."""
    stem = shp.stem.lower()
    return sorted({shp, *(p for p in shp.parent.iterdir() if p.stem.lower() == stem and p.suffix)})


def _read_source(path: Path, target: Path, local: str, fmt: str, *, layer, encoding, on_geometries, max_depth, xy) -> Source:
    # the checksum is computed on a thread while GDAL reads (hashlib releases the GIL)
    hashing = ThreadPoolExecutor(max_workers=1)
    sha = hashing.submit(file_sha256, path if path.is_file() else target)
    hashing.shutdown(wait=False)
    from geo.validate import geojson_problems

    parsed = None
    problems: list = []
    if fmt == "GeoJSON":
        raw = target.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(f"cannot read {path}: GeoJSON must be UTF-8 ({exc.reason} at byte {exc.start}). Save it as UTF-8.") from None
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
            raise ReadError(f"cannot read {path} as GeoParquet: {_first_line(exc)}. The file may be truncated or plain Parquet; export it again as GeoParquet.") from None
        return Source(path, fmt, gdf, gdf.crs, None, sha.result(), None, None, problems)
    from geo.validate import Problem

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
            kept.append(batch)
    attrs = pyarrow.Table.from_batches(kept, schema=schema).to_pandas()
    for subtype, field_name in zip(meta["ogr_subtypes"], meta["fields"], strict=True):
        if subtype == "OFSTJSON" and pd.api.types.infer_dtype(attrs[field_name]) == "string":
            with contextlib.suppress(ValueError):
                attrs[field_name] = attrs[field_name].map(json.loads, na_action="ignore")
    if not has_geometry:
        return attrs
    geoms = np.concatenate(parts) if parts else np.array([], dtype=object)
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index, crs=crs), crs=crs)


def _read_ogr(path, target, target_arg, fmt, sha, layer, encoding, parsed, problems, on_geometries=None, xy=None) -> Source:
    from geo.validate import Problem

    try:
        layers = pyogrio.list_layers(target_arg)
    except Exception as exc:
        raise ReadError(f"cannot read {path} as {fmt}: {_first_line(exc)}. The file may be truncated or damaged; export it again.") from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if not names:
        raise ReadError(f"cannot read {path}: the {fmt} file holds no layer (no features, folders or placemarks). "
                        "Export the layer again with its features.")
    if layer is not None and layer not in names:
        raise UsageError(f"--layer {layer!r} is not in {path.name}; its layers are: {', '.join(names)}.")
    if layer is None and len(names) > 1:
        raise UsageError(f"{path.name} holds {len(names)} layers ({', '.join(names)}); choose one with --layer NAME.")
    forced, guessed = (encoding, False) if encoding else (None, False)
    if fmt == "ESRI Shapefile" and not encoding:
        forced, guessed = _shapefile_encoding(target)
    from geo.progress import Progress

    geometry_type = str(layers[names.index(layer) if layer in names else 0, 1])
    retried = fmt.startswith("curved ")
    curved = any(word in geometry_type for word in _CURVED) or retried
    fmt = fmt.removeprefix("curved ")
    if curved and not retried:  # GDAL's Arrow stream keeps curves (GEOS cannot read them); pyogrio's plain read linearises them
        problems.append(Problem(path.name, "*", f"curved geometries ({geometry_type}) linearised: arcs approximated by "
                                "straight segments", "none needed; check the outline if exact arcs matter", "warning"))
    options = _csv_options(target, xy) if fmt == "CSV" else {}
    bar = Progress(f"reading {path.name}", 1)
    bar.update(0)
    try:
        size = target.stat().st_size if target.is_file() else 0
        if forced is None and _HAVE_ARROW and fmt in STREAMED_FORMATS and not curved:
            gdf = _read_streamed(target_arg, layer=layer, on_geometries=on_geometries)
        else:
            arrow = forced is None and _HAVE_ARROW and fmt not in _NO_ARROW and not curved
            gdf = pyogrio.read_dataframe(target_arg, layer=layer, encoding=forced, use_arrow=arrow, **options)
    except UnicodeDecodeError as exc:
        raise UsageError(f"cannot decode the text of {path.name} with encoding {forced!r}: {_first_line(exc)}. Pass the right --encoding.") from None
    except LookupError as exc:
        if forced is not None and "encoding" in str(exc):
            raise UsageError(f"--encoding {forced!r} is not a text encoding Python knows: {_first_line(exc)}. Pass e.g. --encoding cp1251.") from None
        raise ReadError(f"cannot read {path} as {fmt}: {_first_line(exc)}. The file may be truncated or damaged; export it again.") from None
    except Exception as exc:
        if "Nonlinear geometry" in str(exc) and not curved:  # curves the layer's declared type did not announce
            problems.append(Problem(path.name, "*", "curved geometries linearised: arcs approximated by straight segments",
                                    "none needed; check the outline if exact arcs matter", "warning"))
            return _read_ogr(path, target, target_arg, "curved " + fmt, sha, layer, encoding, parsed, problems, None, xy)
        if "closed linestring" not in str(exc):
            raise ReadError(f"cannot read {path} as {fmt}: {_first_line(exc)}. The file may be truncated or damaged; export it again.") from None
        gdf = _read_unclosed(path, target_arg, layer=layer, encoding=forced, problems=problems)
    finally:
        bar.update(1)
        bar.close()
    if size >= _TRIM_MIN_BYTES:
        _release_freed_memory()
    used = forced
    if guessed:
        text_cols = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype == object or str(gdf[c].dtype) in ("str", "string")]
        raw_values = [str(v).encode("latin1") for c in text_cols for v in gdf[c].dropna()]
        raw_names = [str(c).encode("latin1", "replace") for c in gdf.columns]
        used = _guess_dbf_encoding(raw_values + raw_names)
        if used is None:
            used = "latin1"
        else:
            from geo.validate import Problem

            gdf = gdf.rename(columns={c: c.encode("latin1").decode(used) for c in gdf.columns if c != gdf.geometry.name})
            for c in gdf.columns:
                if c != gdf.geometry.name and (gdf[c].dtype == object or str(gdf[c].dtype) in ("str", "string")):
                    gdf[c] = gdf[c].map(lambda v: v.encode("latin1").decode(used) if isinstance(v, str) else v)
            problems.append(Problem(path.name, "*", f"no .cpg file: attribute text decoded as {used} (detected)", "add a .cpg file, or pass --encoding if the names read wrong", "warning"))
    if not isinstance(gdf, gpd.GeoDataFrame):
        from geo.validate import Problem

        hint = (" (a CSV needs its geometry as WKT in a column named WKT, or x/y columns: lon/lat, longitude/latitude, "
                "x/y, or name them with --x and --y)") if fmt == "CSV" else ""
        problem = Problem(path.name, "*", f"the file holds no geometry column{hint}", "export the layer again with its geometries")
        raise DataError(f"{path.name} holds no geometry", [problem])
    if isinstance(parsed, dict) and parsed.get("type") == "FeatureCollection" and "id" not in gdf.columns:
        feats = parsed.get("features") or []
        if len(feats) == len(gdf) and feats and all("id" in f for f in feats):
            gdf.insert(0, "id", [str(f["id"]) for f in feats])  # RFC 7946 Feature ids (GDAL keeps them as FIDs)
    return Source(path, fmt, gdf, gdf.crs, layer or (names[0] if names else None), sha.result(), used, parsed, problems)


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
            raise UsageError(f"--x/--y: the CSV has no column {', '.join(map(repr, missing))}; its columns are: {', '.join(header)}.")
        pair = (lower[xy[0].lower()], lower[xy[1].lower()])
    elif "wkt" in lower:
        return {}
    else:
        pair = next(((lower[x], lower[y]) for x, y in _XY_NAMES if x in lower and y in lower), None)
        if pair is None:
            return {}
    return {"X_POSSIBLE_NAMES": pair[0], "Y_POSSIBLE_NAMES": pair[1], "KEEP_GEOM_COLUMNS": "NO"}


def _read_unclosed(path: Path, target_arg, *, layer, encoding, problems: list) -> gpd.GeoDataFrame:
    """Read a layer with unclosed polygon rings: each such feature is one reported problem (its ring closed to read it)."""
    from pyogrio.raw import read as read_raw

    from geo.validate import Problem

    try:
        meta, _fids, wkb, fields = read_raw(target_arg, layer=layer, encoding=encoding)
    except Exception as exc:
        raise ReadError(f"cannot read {path}: {_first_line(exc)}. The file may be truncated or damaged; export it again.") from None
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    geoms = shapely.from_wkb(wkb, on_invalid="fix")
    attrs = pd.DataFrame({str(n): v for n, v in zip(meta["fields"], fields, strict=True)})
    label = next((c for c in ("id", "Name", "name", "NAME") if c in attrs.columns and attrs[c].notna().any()), None)
    for i in np.flatnonzero(pd.isna(strict) & pd.notna(wkb)):
        what = f"{attrs[label].iloc[i]} (row {i + 1})" if label and pd.notna(attrs[label].iloc[i]) else f"row {i + 1}"
        problems.append(Problem(path.name, what, "a polygon ring is not closed (its last position is not its first)",
                                "close the ring at the source: repeat its first position at the end"))
    return gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=meta["crs"])


# -- export -----------------------------------------------------------------------------------------------

#: Shapefile attribute names (DBF allows 10 characters): canonical name -> field name.
#: Names of 10 characters or fewer are kept; the import maps these back.
SHP_FIELD_NAMES: dict[str, str] = {
    "country_iso3": "ctry_iso3",
    "designation": "desig",
    "status_year": "status_yr",
    "reported_area_ha": "rep_ha",
    "reported_area_source": "rep_src",
    "geometry_quality": "geom_qual",
    "geometry_method": "geom_meth",
    "reported_length_km": "rep_len_km",
    "reported_length_source": "rep_len_sr",
    "water_gaps_km": "wgaps_km",
    "sum_of_parks_ha": "sum_ha",
    "area_input_ha": "in_ha",
    "area_after_overlaps_ha": "net_ha",
}
EXPORT_FORMATS = ("geojson", "gpkg", "kml", "shp", "parquet", "csv")


def _shp_names(columns: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in columns:
        short = SHP_FIELD_NAMES.get(c, c)[:10]
        base, k = short, 1
        while short in out.values():
            short = f"{base[:8]}_{k}"
            k += 1
        out[c] = short
    return out


def export_layers(layers: dict[str, gpd.GeoDataFrame], out: str | Path, *, fmt: str) -> list[Path]:
    """Write layers in a format other tools open; every file written atomically.

    ``gpkg`` writes one GeoPackage at ``out`` (one table per layer); every other
    format writes one file per layer into the folder ``out``: RFC 7946 GeoJSON,
    KML (``name`` from ``name_en`` for Google Earth; ``id`` kept as ``feature_id``), a Shapefile set with a
    UTF-8 ``.cpg`` and attribute names cut to 10 characters (see
    :data:`SHP_FIELD_NAMES`, also written to ``SHAPEFILE_FIELDS.csv``),
    GeoParquet, and CSV with the geometry as WKT in a ``WKT`` column (EPSG:4326).

    Returns
    -------
    list of Path
        The files written.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format {fmt!r} is unknown; use one of {', '.join(EXPORT_FORMATS)}.")
    out = Path(out)
    layers = {name: gdf.to_crs("EPSG:4326") for name, gdf in layers.items()}
    if fmt == "gpkg":
        return [write_gpkg(layers, out)]
    out.mkdir(parents=True, exist_ok=True)
    # every layer is written into a staging folder first, then moved in: all layers or none
    stage = Path(tempfile.mkdtemp(prefix=".export.", dir=out))
    try:
        staged = _export_into(layers, stage, fmt=fmt)
        written = []
        for path in staged:
            final = out / path.relative_to(stage)
            if path.parent != stage:  # a Shapefile set in its own folder
                final.parent.mkdir(exist_ok=True)
                for part in sorted(path.parent.iterdir()):
                    os.replace(part, final.parent / part.name)
            else:
                os.replace(path, final)
            written.append(final)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _export_into(layers: dict[str, gpd.GeoDataFrame], out: Path, *, fmt: str) -> list[Path]:
    """Write each layer into the (staging) folder ``out``; see :func:`export_layers`."""
    written: list[Path] = []
    for name, gdf in layers.items():
        if fmt == "geojson":
            written.append(write_geojson(gdf, out / f"{name}.geojson"))
        elif fmt == "parquet":
            path = out / f"{name}.parquet"
            with atomic_path(path) as tmp:
                gdf.to_parquet(tmp, index=False)
            written.append(path)
        elif fmt == "csv":
            path = out / f"{name}.csv"
            frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            frame.insert(0, "WKT", shapely.to_wkt(gdf.geometry.array, rounding_precision=-1))
            with atomic_path(path) as tmp:
                frame.to_csv(tmp, index=False, encoding="utf-8")
            written.append(path)
        elif fmt == "kml":
            path = out / f"{name}.kml"
            named = gdf.copy()
            label = next((c for c in ("name_en", "id") if c in named.columns), None)
            if label:
                named.insert(0, "Name", named[label].astype(object).where(named[label].notna(), None))
            if "id" in named.columns:  # KML readers take "id" for the Placemark's own id; keep ours apart
                named = named.rename(columns={"id": "feature_id"})
            with atomic_path(path) as tmp:
                _gdal_write(path, lambda: pyogrio.write_dataframe(named, tmp, driver="KML", layer=name), tmp)
            written.append(path)
        elif fmt == "shp":
            columns = [c for c in gdf.columns if c != gdf.geometry.name]
            names = _shp_names(columns)
            renamed = gdf.rename(columns=names)
            folder = out / name
            folder.mkdir(exist_ok=True)
            final = folder / f"{name}.shp"
            tmpdir = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
            cut = {c for c in columns if renamed[names[c]].map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > 254).any()}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's truncation notice; recorded below instead
                    _gdal_write(final, lambda: pyogrio.write_dataframe(renamed, tmpdir / f"{name}.shp",
                                                                       driver="ESRI Shapefile", encoding="UTF-8"),
                                tmpdir / f"{name}.shp")
                with open(tmpdir / "SHAPEFILE_FIELDS.csv", "w", encoding="utf-8") as fh:
                    fh.write("field,column,note\n" + "".join(
                        f"{v},{k},{'text cut at 254 bytes (DBF limit); full text in the GeoPackage or GeoJSON export' if k in cut else ''}\n"
                        for k, v in names.items()))
                for part in sorted(tmpdir.iterdir()):
                    os.replace(part, folder / part.name)
            finally:
                for part in tmpdir.iterdir():
                    part.unlink()
                tmpdir.rmdir()
            written.append(final)
    return written
