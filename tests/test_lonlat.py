"""No silent reprojection after the import: code handed a layer in another CRS refuses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.cli import main
from geo.errors import CRSError
from geo.merge import combine_parks
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def _park(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    park = gpd.GeoDataFrame(
        {"id": ["p1"], "country_iso3": ["RUS"]}, geometry=[shapely.box(131.0, 43.0, 131.2, 43.1)], crs="EPSG:4326"
    )
    return park.to_crs(crs)


def test_combine_parks_refuses_a_projected_layer_and_names_it():
    with pytest.raises(CRSError, match=r"the park layer of RUS is in EPSG:32652, not EPSG:4326.*bigcats import"):
        combine_parks(_park(), _park("EPSG:32652"))


def test_combine_parks_takes_lonlat_and_crs84_as_they_are():
    crs84 = _park().set_crs("OGC:CRS84", allow_override=True)
    parks = combine_parks(_park(), crs84)
    assert parks.crs.to_epsg() == 4326
    # the same coordinates: CRS84 is only relabelled, never transformed
    assert shapely.equals_exact(parks.geometry.iloc[0], parks.geometry.iloc[1], tolerance=0)


def test_a_store_refuses_a_projected_layer_and_writes_nothing(tmp_path, capsys):
    layers = tmp_path / "layers"
    shutil.copytree(ROOT / "layers", layers)
    store = open_store(str(layers))
    before = list(store.history("parks_rus")["version"])
    projected = store.read_layer("parks_rus").to_crs("EPSG:32652")
    with pytest.raises(CRSError, match="layer 'parks_rus' is in EPSG:32652"):
        store.write_layer("parks_rus", projected, provenance={"source": "utm.shp"})
    assert list(open_store(str(layers)).history("parks_rus")["version"]) == before
    # the CLI path to the same store still builds (exit 0): nothing was left half-written
    assert main(["areas", "--layers", str(layers)]) == 0
    capsys.readouterr()
