"""Normalising a source layer: CRS to EPSG:4326, canonical attributes, checks, provenance.

An imported park without a statement of its quality is ``geometry_quality =
"unverified"`` (drawn like a schematic boundary), unless ``--quality`` says what it
is (``surveyed`` for a WDPA or cadastre boundary). A ``geometry_quality`` column in
the data (or ``--map geometry_quality=COLUMN``) is kept; its empty values take the
same default; unknown values are an error. The report says which was chosen.

Submodules: :mod:`geo.normalise.crs` (the one reprojection, :func:`to_wgs84`, and the
:func:`require_lonlat` guard), :mod:`geo.normalise.attributes` (attribute mapping and its
checks), :mod:`geo.normalise.imports` (:func:`prepare_layer`, :func:`import_layer`).
"""

from geo.lonlat import require_lonlat
from geo.normalise.attributes import IMPORT_ROLES, MAX_TEXT_CHARS, ROLE_COLUMNS, map_attributes, role_columns
from geo.normalise.crs import LONLAT_ROUNDING_DEG, to_wgs84
from geo.normalise.imports import ImportResult, import_layer, prepare_layer

__all__ = [
    "IMPORT_ROLES",
    "LONLAT_ROUNDING_DEG",
    "MAX_TEXT_CHARS",
    "ROLE_COLUMNS",
    "ImportResult",
    "import_layer",
    "map_attributes",
    "prepare_layer",
    "require_lonlat",
    "role_columns",
    "to_wgs84",
]
