"""Reading and writing layers: any source file in, RFC 7946 GeoJSON and GeoPackage out; atomic writes.

The jobs live in submodules: :mod:`geo.io.read` (any source file, as it is),
:mod:`geo.io.sources` (its format, Shapefile set, zip and code page),
:mod:`geo.io.geojson` (RFC 7946 out), :mod:`geo.io.write` (GeoPackage and the
export formats) and :mod:`geo.io.files` (atomic writes, checksums). This module
re-exports the names the rest of the package uses, each loaded on first use.
:mod:`geo.io.coverage_json` reads and writes a polygon coverage as GeoJSON with numpy and
shapely alone (``bigcats simplify``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_names

#: Where each name lives, loaded on first use (PEP 562): ``geo.io.coverage_json`` (the lean
#: GeoJSON coverage reader of ``bigcats simplify``) is reached without importing geopandas.
_NAMES: dict[str, str] = {
    "_first_line": "geo.io.files",
    "_gdal_write": "geo.io.files",
    "atomic_path": "geo.io.files",
    "file_sha256": "geo.io.files",
    "fsync_path": "geo.io.files",
    "_json_value": "geo.io.geojson",
    "to_geojson_dict": "geo.io.geojson",
    "write_geojson": "geo.io.geojson",
    "STREAMED_FORMATS": "geo.io.read",
    "Source": "geo.io.read",
    "read_source": "geo.io.read",
    "EXPORT_FORMATS": "geo.io.write",
    "SHP_FIELD_NAMES": "geo.io.write",
    "export_layers": "geo.io.write",
    "write_gpkg": "geo.io.write",
}

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads these on first use
    from geo.io.files import _first_line as _first_line
    from geo.io.files import _gdal_write as _gdal_write
    from geo.io.files import atomic_path, file_sha256, fsync_path
    from geo.io.geojson import _json_value as _json_value
    from geo.io.geojson import to_geojson_dict, write_geojson
    from geo.io.read import STREAMED_FORMATS, Source, read_source
    from geo.io.write import EXPORT_FORMATS, SHP_FIELD_NAMES, export_layers, write_gpkg

__all__ = [
    "EXPORT_FORMATS",
    "SHP_FIELD_NAMES",
    "STREAMED_FORMATS",
    "Source",
    "atomic_path",
    "export_layers",
    "file_sha256",
    "fsync_path",
    "read_source",
    "to_geojson_dict",
    "write_geojson",
    "write_gpkg",
]

__getattr__, __dir__ = lazy_names("geo.io", _NAMES, globals(), __all__)
