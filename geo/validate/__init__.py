"""Checks on layers: every problem collected into one report, raised once.

Submodules: :mod:`geo.validate.problems` (Problem, Report, format_report),
:func:`geo.io.lint.geojson_problems` (RFC 7946 structure, re-exported), :mod:`geo.validate.scan` (the threaded
geometry scan), :mod:`geo.validate.checks` (check_layers, check_geometries).
"""

from geo.io.lint import geojson_problems
from geo.validate.checks import check_geometries, check_layers
from geo.validate.problems import GEOMETRY_TYPES, Problem, Report, format_report
from geo.validate.scan import (
    MAX_REPAIR_AREA_CHANGE,
    ROLE_GEOMETRY_TYPES,
    GeometryScan,
    GeometryScanner,
    scan_geometries,
)

__all__ = [
    "GEOMETRY_TYPES",
    "MAX_REPAIR_AREA_CHANGE",
    "ROLE_GEOMETRY_TYPES",
    "GeometryScan",
    "GeometryScanner",
    "Problem",
    "Report",
    "check_geometries",
    "check_layers",
    "format_report",
    "geojson_problems",
    "scan_geometries",
]
