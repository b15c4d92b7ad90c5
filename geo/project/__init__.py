"""The project of a layer store, as data: ``project.toml``.

A project names the transboundary area (in its languages), its countries (ISO 3166
alpha-3, two or more), the countries drawn only as context, the border stretch or
stretches and the published totals. Every figure is the id of a row of the store's
facts table (``facts.csv``, each row with its public source), never a number typed
here. Park roles follow from the countries: ``parks_<iso3>`` (lower case) for each.

The bundled project is ``layers/project.toml``; ``bigcats new`` writes one for any
countries. A GeoPackage or PostGIS store keeps it in a table, versioned like its layers
(:mod:`geo.store`). A store without a project uses the bundled one.
"""

from __future__ import annotations

from geo.project.model import FORMAT, PROJECT_FILE, Project, ProjectError, StretchSpec, country_of_role, park_role
from geo.project.read import (
    bundled_project,
    bundled_project_path,
    parse_project,
    project_for,
    read_project,
    read_project_text,
    register_store_reader,
    stretch_from_text,
)
from geo.project.write import project_toml

__all__ = [
    "FORMAT",
    "PROJECT_FILE",
    "Project",
    "ProjectError",
    "StretchSpec",
    "bundled_project",
    "bundled_project_path",
    "country_of_role",
    "park_role",
    "parse_project",
    "project_for",
    "project_toml",
    "read_project",
    "read_project_text",
    "register_store_reader",
    "stretch_from_text",
]
