"""The memory engine: the whole layer read into one GeoDataFrame and totalled at once."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.areas.common import _check, _read_error, frame_totals_memory
from geo.limits import check_local_file, gdal_path


def area_totals(path: str | Path, *, by: str = "country_iso3", layer: str | None = None) -> pd.DataFrame:
    """In-memory totals per group: features, sum of feature areas and area of their union (ha).

    Parameters
    ----------
    path : str or Path
        A vector file pyogrio reads.
    by : str, default "country_iso3"
        Column to group by.
    layer : str, optional
        Layer name inside a multi-layer file.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``by``; columns ``features``, ``sum_area_ha``, ``union_area_ha``.
        ``attrs["total"]`` holds the same three figures over every group
        (the union there is the union of all groups' unions).

    Raises
    ------
    ReadError
        If the file is missing or is not a readable vector layer.
    UsageError
        If the layer has no column ``by``.
    """
    path = Path(path)
    if not path.exists():
        _check(path, by, [])
    check_local_file(path)
    try:
        with gdal_path(path) as local:  # a local file, never a remote or virtual GDAL path
            gdf = gpd.read_file(local, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise several types for a bad file
        raise _read_error(path, exc) from None
    _check(path, by, gdf.columns, gdf.geometry.name)
    return frame_totals_memory(gdf, by)
