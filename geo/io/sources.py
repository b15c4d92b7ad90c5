"""Finding what to read: a source's format by its suffix, its Shapefile set or zip, its text code page."""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

from geo.errors import ReadError

__all__: list[str] = []

_FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".topojson": "TopoJSON",
    ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile (zip)",
    ".gpkg": "GeoPackage",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
}


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
    scores: dict[str, float] = {}
    for enc, lo, hi in (("cp1251", 0x0400, 0x04FF), ("gbk", 0x4E00, 0x9FFF)):
        try:
            scores[enc] = _script_score(blob.decode(enc), lo, hi)
        except UnicodeDecodeError:
            scores[enc] = -1.0
    best = max(scores, key=scores.__getitem__)
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
        inner = [n for n in names if n.lower().endswith(".shp") and not _mac_resource(n)]
        if not inner:
            raise ReadError(
                f"cannot read {path}: the zip holds no .shp file (it holds {', '.join(names[:5]) or 'nothing'}). "
                "Zip the .shp with its .shx, .dbf, .prj and .cpg."
            )
        if len(inner) > 1:
            raise ReadError(
                f"cannot read {path}: the zip holds {len(inner)} .shp files ({', '.join(inner)}); "
                "unzip it and pass one."
            )
        return path, "ESRI Shapefile (zip)"
    if suffix not in _FORMATS:
        raise ReadError(
            f"cannot read {path}: unknown file type {suffix or '(none)'}; use one of {', '.join(sorted(_FORMATS))}."
        )
    return path, _FORMATS[suffix]


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


#: Tables of a GeoPackage that are its own machinery (the GeoPackage's, GDAL's, SQLite's), not layers.
_GPKG_MACHINERY = ("gpkg_", "rtree_", "sqlite_")
#: The GeoPackage's plain 2D geometry types, by the names GDAL gives them (curves and the rest go to GDAL).
_GPKG_TYPES = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
               "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon"}


def _geopackage_layer(path: str) -> tuple[list[str], str] | None:
    """The one feature table of a plain GeoPackage and its geometry type, read from its SQLite tables.

    Asking SQLite directly takes a fraction of a millisecond, where GDAL's listing opens the
    whole GeoPackage (1.5-3.5 ms, a tenth of importing 1,000 parks). Only the plain case is
    answered: one registered table of features, its geometry column of a plain 2D type (no
    curves, no Z or M), and no other table or view but the GeoPackage's own; anything else
    (several layers, attribute tables, tables GDAL might also list, curves, a file SQLite
    cannot open read-only) gives None, and GDAL is asked. The file is opened read-only.
    """
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as conn:
            contents = conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall()
            columns = conn.execute("SELECT table_name, geometry_type_name, z, m FROM gpkg_geometry_columns").fetchall()
    except (sqlite3.Error, OSError, ValueError):
        return None
    if len(contents) != 1 or str(contents[0][1]).lower() != "features" or len(columns) != 1:
        return None
    name, geometry_type = str(contents[0][0]), _GPKG_TYPES.get(str(columns[0][1]).upper())
    others = [str(t) for (t,) in tables if str(t) != name and not str(t).lower().startswith(_GPKG_MACHINERY)]
    if others or str(columns[0][0]) != name or name not in {str(t) for (t,) in tables}:
        return None
    if geometry_type is None or columns[0][2] != 0 or columns[0][3] != 0:
        return None
    return [name], geometry_type
