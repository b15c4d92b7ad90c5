"""Exporting the project's layers and the proposed park for other tools."""

from __future__ import annotations

from pathlib import Path

from geo.errors import UsageError
from geo.io import export_layers
from geo.layers import park_layers
from geo.merge import combine_parks, proposed_park

__all__ = ["export_project"]


def export_project(layers_dir: str | Path, out: str | Path, *, fmt: str) -> list[Path]:
    """Write every layer of a layer folder and the proposed park in format ``fmt``.

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
    list of Path
        The files written.
    """
    from geo.store import open_store

    _refuse_store_paths(layers_dir, out, fmt=fmt)
    layers = open_store(layers_dir).read_layers()
    layers["proposed_park"] = proposed_park(combine_parks(*park_layers(layers).values()))
    return export_layers(layers, out, fmt=fmt)


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
