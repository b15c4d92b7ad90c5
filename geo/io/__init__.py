"""Reading and writing layers: any source file in, RFC 7946 GeoJSON and GeoPackage out; atomic writes.

The jobs live in submodules: :mod:`geo.io.read` (any source file, as it is),
:mod:`geo.io.sources` (its format, Shapefile set, zip and code page),
:mod:`geo.io.geojson` (RFC 7946 out), :mod:`geo.io.write` (GeoPackage and the
export formats) and :mod:`geo.io.files` (atomic writes, checksums). This module
re-exports the names the rest of the package uses.
"""

from __future__ import annotations

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
