"""Writing layers other tools open: GeoPackage, and the export formats (one file per layer)."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from geo.errors import UsageError
from geo.io.files import _gdal_write, atomic_path
from geo.io.geojson import write_geojson

__all__ = ["EXPORT_FORMATS", "SHP_FIELD_NAMES", "export_layers", "write_gpkg"]


def write_gpkg(layers: dict[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write several layers into one GeoPackage (one table each), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, gdf in layers.items():
            # GeoPackage 1.2: opened without a version warning by the GDAL inside older QGIS/ogrinfo releases
            write = partial(
                pyogrio.write_dataframe, gdf, tmp, layer=name, driver="GPKG", dataset_options={"VERSION": "1.2"}
            )
            _gdal_write(path, write, tmp)
    return path


# -- export -----------------------------------------------------------------------------------------------

#: Shapefile attribute names (DBF allows 10 characters): canonical name -> field name.
#: Names of 10 characters or fewer are kept; the import maps these back.
SHP_FIELD_NAMES: dict[str, str] = {
    "country_iso3": "ctry_iso3",
    "designation": "desig",
    "status_year": "status_yr",
    "reported_area_ha": "rep_ha",
    "reported_area_source": "rep_src",
    "geometry_quality": "geom_qual",
    "geometry_method": "geom_meth",
    "reported_length_km": "rep_len_km",
    "reported_length_source": "rep_len_sr",
    "water_gaps_km": "wgaps_km",
    "sum_of_parks_ha": "sum_ha",
    "area_input_ha": "in_ha",
    "area_after_overlaps_ha": "net_ha",
}
#: The note of ``SHAPEFILE_FIELDS.csv`` on a column whose text the DBF cut.
_CUT_NOTE = "text cut at 254 bytes (DBF limit); full text in the GeoPackage or GeoJSON export"
EXPORT_FORMATS = ("geojson", "gpkg", "kml", "shp", "parquet", "csv")


def _shp_names(columns: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in columns:
        short = SHP_FIELD_NAMES.get(c, c)[:10]
        base, k = short, 1
        while short in out.values():
            short = f"{base[:8]}_{k}"
            k += 1
        out[c] = short
    return out


def export_layers(layers: dict[str, gpd.GeoDataFrame], out: str | Path, *, fmt: str) -> list[Path]:
    """Write layers in a format other tools open; every file written atomically.

    ``gpkg`` writes one GeoPackage at ``out`` (one table per layer); every other
    format writes one file per layer into the folder ``out``: RFC 7946 GeoJSON,
    KML (``name`` from ``name_en`` for Google Earth; ``id`` kept as ``feature_id``), a Shapefile set with a
    UTF-8 ``.cpg`` and attribute names cut to 10 characters (see
    :data:`SHP_FIELD_NAMES`, also written to ``SHAPEFILE_FIELDS.csv``),
    GeoParquet, and CSV with the geometry as WKT in a ``WKT`` column (EPSG:4326).

    Returns
    -------
    list of Path
        The files written.
    """
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format {fmt!r} is unknown; use one of {', '.join(EXPORT_FORMATS)}.")
    out = Path(out)
    layers = {name: gdf.to_crs("EPSG:4326") for name, gdf in layers.items()}
    if fmt == "gpkg":
        return [write_gpkg(layers, out)]
    out.mkdir(parents=True, exist_ok=True)
    # every layer is written into a staging folder first, then moved in: all layers or none
    stage = Path(tempfile.mkdtemp(prefix=".export.", dir=out))
    try:
        staged = _export_into(layers, stage, fmt=fmt)
        written = []
        for path in staged:
            final = out / path.relative_to(stage)
            if path.parent != stage:  # a Shapefile set in its own folder
                final.parent.mkdir(exist_ok=True)
                for part in sorted(path.parent.iterdir()):
                    os.replace(part, final.parent / part.name)
            else:
                os.replace(path, final)
            written.append(final)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _export_into(layers: dict[str, gpd.GeoDataFrame], out: Path, *, fmt: str) -> list[Path]:
    """Write each layer into the (staging) folder ``out``; see :func:`export_layers`."""
    written: list[Path] = []
    for name, gdf in layers.items():
        if fmt == "geojson":
            written.append(write_geojson(gdf, out / f"{name}.geojson"))
        elif fmt == "parquet":
            path = out / f"{name}.parquet"
            with atomic_path(path) as tmp:
                gdf.to_parquet(tmp, index=False)
            written.append(path)
        elif fmt == "csv":
            path = out / f"{name}.csv"
            frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            frame.insert(0, "WKT", shapely.to_wkt(gdf.geometry.array, rounding_precision=-1))
            with atomic_path(path) as tmp:
                frame.to_csv(tmp, index=False, encoding="utf-8")
            written.append(path)
        elif fmt == "kml":
            path = out / f"{name}.kml"
            named = gdf.copy()
            label = next((c for c in ("name_en", "id") if c in named.columns), None)
            if label:
                named.insert(0, "Name", named[label].astype(object).where(named[label].notna(), None))
            if "id" in named.columns:  # KML readers take "id" for the Placemark's own id; keep ours apart
                named = named.rename(columns={"id": "feature_id"})
            with atomic_path(path) as tmp:
                _gdal_write(path, partial(pyogrio.write_dataframe, named, tmp, driver="KML", layer=name), tmp)
            written.append(path)
        elif fmt == "shp":
            columns = [c for c in gdf.columns if c != gdf.geometry.name]
            names = _shp_names(columns)
            renamed = gdf.rename(columns=names)
            folder = out / name
            folder.mkdir(exist_ok=True)
            final = folder / f"{name}.shp"
            tmpdir = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
            cut = {
                c
                for c in columns
                if renamed[names[c]].map(lambda v: isinstance(v, str) and len(v.encode("utf-8")) > 254).any()
            }
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's truncation notice; recorded below instead
                    staged = tmpdir / f"{name}.shp"
                    write = partial(pyogrio.write_dataframe, renamed, staged, driver="ESRI Shapefile", encoding="UTF-8")
                    _gdal_write(final, write, staged)
                with open(tmpdir / "SHAPEFILE_FIELDS.csv", "w", encoding="utf-8") as fh:
                    fh.write(
                        "field,column,note\n"
                        + "".join(f"{v},{k},{_CUT_NOTE if k in cut else ''}\n" for k, v in names.items())
                    )
                for part in sorted(tmpdir.iterdir()):
                    os.replace(part, folder / part.name)
            finally:
                for part in tmpdir.iterdir():
                    part.unlink()
                tmpdir.rmdir()
            written.append(final)
    return written
