"""Land of Big Cats: maps and geodesic areas of transboundary protected areas.

The public API, loaded lazily (PEP 562): ``import geo`` is instant (``bigcats --version``
stays fast) and ``geo.build`` imports :mod:`geo.pipeline` only when first used.
Everything listed in ``__all__`` is public; any other module attribute is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_names


def _version() -> str:
    """The installed distribution's version (importlib.metadata costs about 40 ms: read on first use)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bigcats")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"

#: Public name -> the module that defines it.
_API: dict[str, str] = {
    "BigCatsError": "geo.errors",
    "CRSError": "geo.errors",
    "DataError": "geo.errors",
    "GEOD": "geo.measure",
    "LAYERS": "geo.layers",
    "LayerNotFoundError": "geo.errors",
    "PARK_COLUMNS": "geo.layers",
    "Project": "geo.project",
    "ProjectError": "geo.project",
    "ReadError": "geo.errors",
    "UsageError": "geo.errors",
    "WriteError": "geo.errors",
    "area_report": "geo.pipeline",
    "area_report_for": "geo.pipeline",
    "area_table": "geo.pipeline",
    "build": "geo.pipeline",
    "bundled_project": "geo.project",
    "check_coverage": "geo.merge",
    "combine_parks": "geo.merge",
    "failed_checks": "geo.pipeline",
    "geodesic_area_m2": "geo.measure",
    "geodesic_length_m": "geo.measure",
    "import_layer": "geo.normalise",
    "load_layers": "geo.layers",
    "make_map": "geo.render",
    "map_html": "geo.render",
    "measured_layers": "geo.pipeline",
    "merge_parks": "geo.merge",
    "new_project": "geo.pipeline.newproject",
    "open_store": "geo.store",
    "park_role": "geo.project",
    "prepare_layer": "geo.normalise",
    "project_for": "geo.project",
    "read_facts": "geo.facts",
    "read_layer": "geo.layers",
    "read_project": "geo.project",
    "shared_edge": "geo.merge",
    "write_geojson": "geo.io",
}

__all__ = sorted([*_API, "__version__"])

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ loads these on first use
    from geo.errors import BigCatsError, CRSError, DataError, LayerNotFoundError, ReadError, UsageError, WriteError
    from geo.facts import read_facts
    from geo.io import write_geojson
    from geo.layers import LAYERS, PARK_COLUMNS, load_layers, read_layer
    from geo.measure import GEOD, geodesic_area_m2, geodesic_length_m
    from geo.merge import check_coverage, combine_parks, merge_parks, shared_edge
    from geo.normalise import import_layer, prepare_layer
    from geo.pipeline import area_report, area_report_for, area_table, build, failed_checks, measured_layers
    from geo.pipeline.newproject import new_project
    from geo.project import Project, ProjectError, bundled_project, park_role, project_for, read_project
    from geo.render import make_map, map_html
    from geo.store import open_store


_getattr, __dir__ = lazy_names("geo", _API, globals(), __all__, "; the public names are geo.__all__")


def __getattr__(name: str):
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    return _getattr(name)
