"""The attribute mapping of WDPA fields, held equal row by row to a plain reading of each row.

``geo.normalise.attributes`` maps whole columns at once (Arrow and NumPy, to meet
the import's speed budget at 1,000 polygons): a plain name column is split by
script, ``REP_AREA`` (km²) becomes hectares with its source, ``STATUS_YR`` 0 is
"not reported", and shared ids are reported once each. Here random layers, with
their text as pandas's Arrow-backed strings and as plain Python objects, are
held equal to what each row says on its own.
"""

from __future__ import annotations

import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo.normalise.attributes import _attribute_problems, map_attributes
from geo.normalise.columns import as_years

_NAMES = ["Land of the Leopard", "Земля леопарда", "东北虎豹", "Leopard Земля", "虎 tiger", "", "Kedrovaya Pad", None]
_CYRILLIC, _CJK = re.compile("[\u0400-\u04ff]"), re.compile("[\u4e00-\u9fff]")

_rows = st.lists(
    st.tuples(
        st.sampled_from(_NAMES),
        st.one_of(st.sampled_from([0, -1, 0.0, 12.5, 2620.5]), st.integers(-3, 5000), st.just(float("nan"))),
        st.sampled_from([0, -7, 1916, 2012, 2019]),
        st.integers(1, 12),  # a WDPAID: drawn from a few, so ids repeat
    ),
    min_size=1,
    max_size=40,
)


def _layer(rows, *, float_years: bool, plain_objects: bool) -> gpd.GeoDataFrame:
    names, areas, years, ids = zip(*rows, strict=True)
    gdf = gpd.GeoDataFrame(
        {
            "WDPAID": np.array(ids, dtype=np.int64),
            "NAME": list(names),
            "REP_AREA": np.array(areas, dtype=float),
            "STATUS_YR": np.array(years, dtype=float if float_years else np.int64),
            "ISO3": ["CHN"] * len(rows),
        },
        geometry=[shapely.box(130 + i * 0.01, 43, 130.005 + i * 0.01, 43.005) for i in range(len(rows))],
        crs="EPSG:4326",
    )
    if plain_objects:  # as a frame built from Python objects holds its text
        for col in ("NAME", "ISO3"):
            gdf[col] = pd.Series(gdf[col].tolist(), index=gdf.index, dtype=object)
    return gdf


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


@pytest.mark.parametrize("plain_objects", [False, True], ids=["arrow-text", "object-text"])
@pytest.mark.parametrize("float_years", [False, True], ids=["int-years", "float-years"])
@given(rows=_rows)
def test_wdpa_fields_mapped_as_each_row_says(rows, float_years, plain_objects):
    gdf = _layer(rows, float_years=float_years, plain_objects=plain_objects)
    mapped, _, used, _ = map_attributes(gdf, role="parks_chn", source_name="wdpa.gpkg")
    problems = _attribute_problems(gdf, mapped, role="parks_chn", used=used)
    any_ru = any(isinstance(n, str) and _CYRILLIC.search(n) for n, *_ in rows)
    any_zh = any(isinstance(n, str) and _CJK.search(n) for n, *_ in rows)
    for i, (name, area, year, wdpaid) in enumerate(rows):
        row = mapped.iloc[i]
        assert row["id"] == f"WDPA:{wdpaid}"
        ru = isinstance(name, str) and bool(_CYRILLIC.search(name))
        zh = isinstance(name, str) and bool(_CJK.search(name))
        expected = {
            "name_ru": name if ru else None,
            "name_zh": name if zh else None,
            "name_en": name if isinstance(name, str) and not ru and not zh else None,
        }
        for key, want in expected.items():
            got = row[key]
            assert (want is None and _missing(got)) or got == want, (key, name, got)
        if not any_ru:  # no value in the script: the column holds nothing
            assert _missing(row["name_ru"])
        if not any_zh:
            assert _missing(row["name_zh"])
        if area > 0:
            assert row["reported_area_ha"] == area * 100.0
            assert row["reported_area_source"] == "WDPA REP_AREA (km²) in wdpa.gpkg"
        else:  # 0: not reported; NaN: missing
            assert math.isnan(row["reported_area_ha"]) and _missing(row["reported_area_source"])
        assert (row["status_year"] == year) if year > 0 else _missing(row["status_year"])
    assert str(mapped["status_year"].dtype) == "Int64"
    shared = {f"WDPA:{w}": n for w in {w for *_, w in rows} if (n := sum(1 for *_, v in rows if v == w)) > 1}
    said = {p.feature: p.problem for p in problems if p.problem.startswith("duplicate id")}
    assert said == {fid: f"duplicate id: {n} features share it" for fid, n in shared.items()}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([0, 1990, -3, 2012], dtype="int64"), [None, 1990, None, 2012]),
        (pd.Series([0.0, 1990.0, float("nan"), 2012.0]), [None, 1990, None, 2012]),
        (pd.Series([0, 1990, None, 2012], dtype="Int64"), [None, 1990, None, 2012]),
        (pd.Series(["0", "1990", "x", None], dtype=object), [None, 1990, None, None]),
    ],
    ids=["int64", "float", "nullable", "text"],
)
def test_years_of_every_dtype(values, expected):
    """0 and below, missing and unreadable years are missing; the rest are kept, as nullable integers."""
    years = as_years(values)
    assert str(years.dtype) == "Int64"
    assert [None if v is pd.NA else int(v) for v in years] == expected
