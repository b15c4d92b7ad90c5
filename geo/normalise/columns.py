"""Columns of a source layer: found by name in any letter case, and their text as pandas or Arrow values.

The attribute mapping (:mod:`geo.normalise.attributes`) works on whole columns at once; these are its
conversions between pandas's dtypes (pandas 3's Arrow-backed ``str``, NumPy, Python objects) and Arrow.
"""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "STR_DTYPE",
    "arrow_text",
    "as_objects",
    "as_years",
    "find_column",
    "is_arrow_str",
    "kept_where",
    "lower_names",
    "matches",
    "str_series",
    "to_strings",
]


def find_column(gdf: gpd.GeoDataFrame, names, columns: tuple | None = None) -> str | None:
    """The first of ``names`` that is a column of ``gdf``, else the first found in any letter case; None.

    ``columns`` is ``tuple(gdf.columns)`` when the caller holds it (iterating pandas 3's Arrow-backed column
    index costs a call per name: 10 us a lookup, some twenty lookups an import).
    """
    columns = tuple(gdf.columns) if columns is None else columns
    exact, lower = lower_names(columns)
    for name in names:
        if name in exact:
            return name
        if name.lower() in lower:
            return lower[name.lower()]
    return None


@functools.lru_cache(maxsize=8)
def lower_names(columns: tuple) -> tuple[frozenset, dict[str, Any]]:
    """A layer's column names, and the same by their lower-case spelling (looked up some twenty times per import)."""
    return frozenset(columns), {str(c).lower(): c for c in columns}


#: pandas's own string dtype (pandas 3's ``str``, Arrow-backed): what a column of Python strings becomes in a frame.
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def str_series(values: pa.Array | pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """Arrow strings as a pandas ``str`` column on ``index``, without a copy."""
    chunked = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    return pd.Series(pd.arrays.ArrowStringArray(chunked, dtype=STR_DTYPE), index=index, copy=False)


def is_arrow_str(series: pd.Series) -> bool:
    """Whether ``series`` holds pandas's ``str`` dtype (Arrow strings), which the layer's frame keeps without a copy."""
    return series.dtype == STR_DTYPE


def kept_where(series: pd.Series, keep: np.ndarray) -> pd.Series:
    """``series.where(keep, None)``; Arrow text in Arrow (pandas's ``where`` took a quarter of a millisecond)."""
    if not is_arrow_str(series):
        return series.where(keep, None)
    text = series.array.__arrow_array__()
    return str_series(pc.if_else(pa.array(keep, type=pa.bool_()), text, pa.scalar(None, text.type)), series.index)


def as_years(series: pd.Series) -> pd.Series:
    """Years as nullable integers; 0 and below are missing (WDPA writes 0 for "not reported")."""
    years = pd.to_numeric(series, errors="coerce")
    if isinstance(years.dtype, np.dtype) and years.dtype.kind in "iu":  # NumPy integers, as WDPA's STATUS_YR reads
        # (pandas's where took 0.3 ms); nullable integers (Int64, which may hold NA) go the general way
        value = years.to_numpy()
        return pd.Series(pd.arrays.IntegerArray(value.astype(np.int64), value <= 0), index=series.index)
    return years.where(years > 0).astype("Int64")


def as_objects(series: pd.Series) -> pd.Series:
    """The values as Python objects, every missing value (NaN, NA, NaT) as None."""
    values = np.array(series.to_numpy(dtype=object, na_value=None), dtype=object, copy=True)  # Arrow data: read-only
    values[series.isna().to_numpy()] = None  # NaT is not replaced by na_value
    return pd.Series(values, index=series.index, dtype=object)


def to_strings(series: pd.Series) -> pd.Series:
    """The values as Python strings (whole floats without ``.0``: ids), missing as None, in an object column."""
    if series.dtype.kind in "iu":  # NumPy integers (WDPAID, osm_id): no missing values
        return pd.Series([str(v) for v in series.tolist()], index=series.index, dtype=object)
    if pd.api.types.is_integer_dtype(series.dtype):  # nullable integers
        return series.astype("string").astype(object).where(series.notna(), None)
    text = as_objects(series).map(
        lambda v: None if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    )
    # pandas 3 infers its string dtype for the mapped values, where None becomes NaN (a WDPAID missing
    # from a GeoPackage became the id "WDPA:nan"): back to Python objects, missing as None
    return text.astype(object).where(text.notna(), None)


def arrow_text(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The string values of a column (others as null), as Arrow strings for vectorised checks.

    Arrow text is not copied.
    """
    if isinstance(series.array, pd.arrays.ArrowStringArray) or (
        isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_string(series.dtype.pyarrow_dtype)
    ):
        return pa.array(series.array)
    return pa.array([v if isinstance(v, str) else None for v in series.tolist()], type=pa.large_string())


def matches(text, pattern: str, *, regex: bool = True) -> np.ndarray:
    """Which values of Arrow ``text`` hold ``pattern`` (RE2 syntax; a literal with ``regex=False``); null: False."""
    found = pc.match_substring_regex(text, pattern) if regex else pc.match_substring(text, pattern)
    return np.asarray(pc.fill_null(found, False), dtype=bool).copy()
