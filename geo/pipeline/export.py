"""Exporting the project's layers and the proposed park for other tools."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from geo.errors import UsageError
from geo.io import export_layers
from geo.pipeline.builder import left_out_parks, measured_layers, output_layers
from geo.project import Project, park_role, project_for
from geo.render import (
    LAND_COLOUR,
    OTHER_BORDER_COLOUR,
    PAIR_BORDER_COLOUR,
    PARK_FILL_OPACITY,
    PROPOSED_COLOUR,
    STRETCH_COLOUR,
    country_colours,
)

__all__ = ["SHP_TEXT_BYTES", "ExportResult", "export_project", "kml_styled", "shapefile_cuts"]

#: Longest text a Shapefile's DBF holds, in bytes (GDAL cuts a longer one).
SHP_TEXT_BYTES = 254


@dataclass(frozen=True)
class ExportResult:
    """What ``export_project`` wrote, and what the user must know about it (``notes``, one line each)."""

    files: list[Path]
    notes: list[str] = field(default_factory=list)


def export_project(layers_dir: str | Path, out: str | Path, *, fmt: str) -> ExportResult:
    """Write the build's layers in format ``fmt``: the same layers, names and columns as its GeoPackage.

    The layers are :func:`geo.pipeline.builder.output_layers` (areas included). A park clipped away
    wholly has no geometry and is left out; a Shapefile text longer than :data:`SHP_TEXT_BYTES`
    is cut by the format. Both are said in the result's ``notes``.

    Parameters
    ----------
    layers_dir : str or Path
        The layer store: a folder, a ``.gpkg`` store or a ``postgresql://`` URL.
    out : str or Path
        A ``.gpkg`` file for ``fmt="gpkg"``, else a folder (one file per layer).
    fmt : str
        One of ``geojson, gpkg, kml, shp, parquet, csv``.

    Returns
    -------
    ExportResult
        The files written and the notes.
    """
    _refuse_store_paths(layers_dir, out, fmt=fmt)
    layers, parks, proposed, by_country = measured_layers(layers_dir)
    handed = output_layers(layers, parks, proposed, by_country, project=project_for(layers_dir))
    notes = [
        f"park {pid} is left out: it was clipped away wholly (no area on its own country's land; see checks.clipped "
        "in areas.json)"
        for pid in left_out_parks(parks)
    ]
    if fmt == "kml":
        handed = kml_styled(handed, project=project_for(layers_dir))
    if fmt == "shp":
        notes += [
            f"{name}: column {column} is cut at {SHP_TEXT_BYTES} bytes in {count} feature(s) (the Shapefile limit); "
            "the full text is in the gpkg, geojson or parquet export"
            for name, column, count in shapefile_cuts(handed)
        ]
    return ExportResult(files=export_layers(handed, out, fmt=fmt), notes=notes)


def shapefile_cuts(layers: dict[str, gpd.GeoDataFrame]) -> list[tuple[str, str, int]]:
    """``(layer, column, features)`` for each text column a Shapefile would cut (over :data:`SHP_TEXT_BYTES`)."""
    out = []
    for name, gdf in layers.items():
        for column in gdf.columns:
            if column == gdf.geometry.name:
                continue
            long = gdf[column].map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > SHP_TEXT_BYTES)
            if long.any():
                out.append((name, str(column), int(long.sum())))
    return out


def _ogr_style(pen: str, width: float, fill: str | None = None, opacity: float = PARK_FILL_OPACITY) -> str:
    """An OGR style string (the KML writer turns it into the Placemark's ``<Style>``)."""
    brush = f"BRUSH(fc:{fill}{round(255 * opacity):02x});" if fill else ""
    return f"{brush}PEN(c:{pen},w:{width:g}px)"


def kml_styled(layers: dict[str, gpd.GeoDataFrame], *, project: Project) -> dict[str, gpd.GeoDataFrame]:
    """The layers with an ``OGR_STYLE`` column of the map's colours, for a KML export.

    Each country's parks and dissolved parks take the country's colour, the proposed park, the
    border stretch and the borders (between two of the project's countries, or others) theirs,
    the countries the land colour; the places keep the viewer's default pin.
    """
    colours = country_colours(project)
    by_role = {park_role(iso3): _ogr_style(colour, 2, colour) for iso3, colour in colours.items()}
    pairs = {f"{a}-{b}" for a in project.countries for b in project.countries if a != b}
    fixed = {
        **by_role,
        "proposed_park": _ogr_style(PROPOSED_COLOUR, 3),
        "border_stretch": _ogr_style(STRETCH_COLOUR, 6),
        "countries": _ogr_style("#999999", 0.6, LAND_COLOUR, 1.0),
    }
    out = {}
    for name, gdf in layers.items():
        styled = gdf.copy()
        if name in fixed:
            styled["OGR_STYLE"] = fixed[name]
        elif name == "parks_by_country":
            styled["OGR_STYLE"] = [by_role.get(park_role(str(iso3)), "") for iso3 in styled["country_iso3"]]
        elif name == "borders":
            styled["OGR_STYLE"] = [
                _ogr_style(PAIR_BORDER_COLOUR, 2) if fid in pairs else _ogr_style(OTHER_BORDER_COLOUR, 1)
                for fid in styled["id"]
            ]
        out[name] = styled
    return out


def _refuse_store_paths(layers_dir: str | Path, out: str | Path, *, fmt: str) -> None:
    """Refuse an ``--out`` that would overwrite the layer store: its folder, a file in it, or its GeoPackage."""
    spec = str(layers_dir)
    if "://" in spec or "=" in spec:
        return
    store, target = Path(spec).resolve(), Path(out).resolve()
    if target == store or store in target.parents:
        raise UsageError(
            f"--out {out} is inside the layer store {layers_dir}: the export would overwrite the store's own files. "
            "Export to a folder or file outside it, e.g. --out share/."
        )
