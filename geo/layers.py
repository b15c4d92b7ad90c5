"""The layer catalogue: roles, file names, canonical schemas and reading a layer folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.errors import LayerNotFoundError, ReadError
from geo.limits import gdal_path

__all__ = [
    "GEOMETRY_QUALITIES",
    "LAYERS",
    "PARK_COLUMNS",
    "LayerSpec",
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


LAYERS: dict[str, LayerSpec] = {
    spec.role: spec
    for spec in (
        LayerSpec("countries", "countries.geojson", "polygon", True, "Country land (OpenStreetMap)"),
        LayerSpec("border", "borders.geojson", "line", True, "International borders (OpenStreetMap)"),
        LayerSpec("stretch", "border_stretch.geojson", "line", True, "270 km border stretch"),
        LayerSpec("places", "places.geojson", "point", False, "Towns (GeoNames)"),
        # Park layers may be absent or empty (a project with one country's parks so far);
        # a build needs at least one park (geo.pipeline).
        LayerSpec("parks_rus", "parks_rus.geojson", "polygon", False, "Russian protected areas"),
        LayerSpec("parks_chn", "parks_chn.geojson", "polygon", False, "Chinese protected areas"),
    )
}


def park_layers(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """The park layers (roles ``parks_*``) among ``layers``, in catalogue order; absent ones left out."""
    return {role: layers[role] for role in LAYERS if role.startswith("parks_") and role in layers}


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
        One entry per role present; every required role is present.

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
    for role, spec in LAYERS.items():
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
