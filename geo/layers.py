"""The layer catalogue: roles, file names, canonical schemas and reading a layer folder.

The base roles (countries, border, stretch, places, context_pa) are the same in every project; the
park roles follow from the project's countries (:mod:`geo.project`): ``parks_<iso3>``
for each. :data:`LAYERS` is the bundled project's catalogue; :func:`catalogue` gives any
project's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.errors import LayerNotFoundError, ReadError
from geo.limits import gdal_path
from geo.project import Project, country_of_role, park_role, project_for

__all__ = [
    "CONTEXT_ROLE",
    "GEOMETRY_QUALITIES",
    "LAYERS",
    "PARK_COLUMNS",
    "Catalogue",
    "LayerSpec",
    "catalogue",
    "load_layers",
    "park_layers",
    "read_layer",
]

#: Canonical attributes of every park feature (see shared DATA.md).
PARK_COLUMNS: tuple[str, ...] = (
    "id",
    "name_en",
    "name_ru",
    "name_zh",
    "country_iso3",
    "designation",
    "iucn_cat",
    "status_year",
    "reported_area_ha",
    "reported_area_source",
    "geometry_quality",
    "geometry_method",
    "source",
    "licence",
)

#: Allowed values of ``geometry_quality``; ``unverified``: imported without a statement of quality.
GEOMETRY_QUALITIES: tuple[str, ...] = ("surveyed", "unverified", "schematic", "point_buffer")


@dataclass(frozen=True)
class LayerSpec:
    """What one role of the catalogue holds.

    Attributes
    ----------
    role : str
        Name used on the command line (``--role``) and in the GeoPackage.
    filename : str
        File name inside a layer folder.
    geometry : str
        ``"polygon"``, ``"line"`` or ``"point"``.
    required : bool
        Whether ``bigcats build`` refuses to run without it.
    title : str
        Human title used in maps and reports.
    """

    role: str
    filename: str
    geometry: str
    required: bool
    title: str


#: The roles of every project.
BASE_LAYERS: dict[str, LayerSpec] = {
    spec.role: spec
    for spec in (
        LayerSpec("countries", "countries.geojson", "polygon", True, "Country land (OpenStreetMap)"),
        LayerSpec("border", "borders.geojson", "line", True, "International borders (OpenStreetMap)"),
        LayerSpec("stretch", "border_stretch.geojson", "line", True, "Border stretch"),
        LayerSpec("places", "places.geojson", "point", False, "Towns (GeoNames)"),
        LayerSpec("context_pa", "context_pa.geojson", "polygon", False, "Protected areas around the project"),
    )
}

#: The role of the context layer: every protected area of the countries around the project (WDPA, say),
#: drawn on the map for orientation only. Never a park of the project: not merged, clipped or measured.
CONTEXT_ROLE = "context_pa"


def park_spec(role: str, title: str | None = None) -> LayerSpec | None:
    """The spec of a park role ``parks_<iso3>`` (None for any other name).

    Park layers may be absent or empty (a project with one country's parks so far);
    a build needs at least one park (:mod:`geo.pipeline`).
    """
    iso3 = country_of_role(role)
    if iso3 is None:
        return None
    return LayerSpec(role, f"{role}.geojson", "polygon", False, title or f"Protected areas of {iso3}")


class Catalogue(Mapping[str, LayerSpec]):
    """The roles of a project: the base roles, then ``parks_<iso3>`` for each of its countries.

    Iteration gives those roles in order; a lookup also accepts any other well-formed
    park role (``parks_<iso3>``), so that a layer of a country outside the project can be
    read and named in a message.
    """

    def __init__(self, park_roles: tuple[str, ...], titles: Mapping[str, str] | None = None) -> None:
        self._roles = (*BASE_LAYERS, *park_roles)
        self.park_roles = tuple(park_roles)
        self._titles = dict(titles or {})

    def __getitem__(self, role: str) -> LayerSpec:
        spec = BASE_LAYERS.get(role) or park_spec(role, self._titles.get(role))
        if spec is None:
            raise KeyError(role)
        return spec

    def __contains__(self, role: object) -> bool:
        return isinstance(role, str) and (role in BASE_LAYERS or park_spec(role) is not None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def __repr__(self) -> str:
        return f"Catalogue({', '.join(self._roles)})"


def catalogue(project: Project | str | Path | None = None) -> Catalogue:
    """The catalogue of a project (or of the layer store at a path: its ``project.toml``, else the bundled one)."""
    if not isinstance(project, Project):
        project = project_for(project)
    return Catalogue(project.park_roles, {park_role(c): project.park_layer_title(c) for c in project.countries})


#: The bundled project's catalogue (its park roles come from ``layers/project.toml``).
LAYERS: Catalogue = catalogue(None)


def park_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The park layers (roles ``parks_*``) among ``layers``, in their order; absent ones left out."""
    return {role: gdf for role, gdf in layers.items() if country_of_role(role) is not None}


def read_layer(folder: str | Path, role: str) -> gpd.GeoDataFrame:
    """Read one layer of a layer folder as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    folder : str or Path
        The layer folder (for example the bundled ``layers/``).
    role : str
        A key of :data:`LAYERS`.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    LayerNotFoundError
        If the file of that role is not in the folder.
    ReadError
        If the file cannot be read.
    """
    if role not in LAYERS:
        raise LayerNotFoundError(f"unknown layer role {role!r}: use one of {', '.join(LAYERS)} or parks_<iso3>.")
    spec = LAYERS[role]
    path = Path(folder) / spec.filename
    if not path.is_file():
        raise LayerNotFoundError(
            f"layer '{role}' is missing: {path} does not exist. "
            f"Run 'make layers' to rebuild the bundled layers, or import one with "
            f"'bigcats import FILE --role {role}'."
        )
    try:
        with gdal_path(path) as local:  # the local file, whatever its folder is called (never a remote path)
            gdf = gpd.read_file(local, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
        raise ReadError(
            f"cannot read layer '{role}' from {path}: {_first_line(exc)}. "
            f"Restore the file (git checkout -- {path}) or rebuild it with 'make layers'."
        ) from None
    if gdf.crs is None:
        # RFC 7946: GeoJSON coordinates are WGS84 longitude/latitude.
        gdf = gdf.set_crs("OGC:CRS84")
    return gdf.to_crs("EPSG:4326")


def load_layers(folder: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Read every layer of a layer folder.

    Parameters
    ----------
    folder : str or Path
        The layer folder.

    Returns
    -------
    dict of str to GeoDataFrame
        One entry per role of the folder's project present (the park roles of its
        ``project.toml``, else the bundled project's); every required role is present.

    Raises
    ------
    ReadError
        If the folder does not exist.
    LayerNotFoundError
        If a required layer is missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(
            f"layers folder not found: {folder}. Run from the project folder, "
            f"or pass --layers with the folder that holds the GeoJSON layers."
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    for role, spec in catalogue(folder).items():
        if not spec.required and not (folder / spec.filename).is_file():
            continue
        layers[role] = read_layer(folder, role)
    return layers


def read_provenance(folder: str | Path) -> dict:
    """Return the layer folder's ``provenance.json`` (an empty dict if absent)."""
    path = Path(folder) / "provenance.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReadError(f"cannot read {path}: {exc}. Rebuild it with 'make layers'.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
