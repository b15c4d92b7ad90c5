"""The dask engine gives the in-memory totals (issue 7: past one machine)."""

from __future__ import annotations

import pytest

from benchmarks.datagen import wdpa_like, write_gpkg_sample
from geo.errors import UsageError
from geo.scale import area_totals, area_totals_dask


@pytest.fixture(scope="module")
def wdpa_100k(tmp_path_factory):
    gdf = wdpa_like(100_000, seed=7).rename(columns={"ISO3": "country_iso3"})
    return write_gpkg_sample(gdf, tmp_path_factory.mktemp("scale") / "wdpa100k.gpkg")


@pytest.mark.slow
def test_dask_totals_equal_in_memory_totals(wdpa_100k):
    memory = area_totals(wdpa_100k)
    dask = area_totals_dask(wdpa_100k, npartitions=8)
    assert list(dask.index) == list(memory.index) == ["CHN", "RUS"]
    assert (dask["features"] == memory["features"]).all()
    assert int(memory["features"].sum()) == 100_000
    for column in ("sum_area_ha", "union_area_ha"):
        for key in memory.index:
            assert dask.loc[key, column] == pytest.approx(memory.loc[key, column], rel=1e-9), (key, column)
    # Overlaps exist in the synthetic layer, so the union is smaller than the sum.
    assert (memory["union_area_ha"] < memory["sum_area_ha"]).all()


def test_in_memory_totals_against_independent_sum(tmp_path):
    gdf = wdpa_like(200, seed=3, invalid_every=0).rename(columns={"ISO3": "country_iso3"})
    path = write_gpkg_sample(gdf, tmp_path / "small.gpkg")
    totals = area_totals_dask(path, npartitions=3)
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    def ring_ha(ring) -> float:
        lon, lat = ring.xy
        return abs(geod.polygon_area_perimeter(lon, lat)[0]) / 1e4

    expected = {}
    for iso3, geom in zip(gdf["country_iso3"], gdf.geometry):
        for poly in getattr(geom, "geoms", [geom]):
            area = ring_ha(poly.exterior) - sum(ring_ha(hole) for hole in poly.interiors)
            expected[iso3] = expected.get(iso3, 0.0) + area
    # The vectorised area (geo.measure) is proven against pyproj.Geod to 1e-6.
    for iso3, value in expected.items():
        assert totals.loc[iso3, "sum_area_ha"] == pytest.approx(value, rel=1e-6)


def test_dask_engine_names_a_missing_column(tmp_path):
    path = write_gpkg_sample(wdpa_like(20, seed=1), tmp_path / "x.gpkg")
    with pytest.raises(UsageError, match="no column 'country_iso3'"):
        area_totals_dask(path)
