"""The build end to end, and the foundation's contracts (shared DESIGN.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.cli import main
from geo.measure import GEOD, geodesic_area_m2
from geo.pipeline import OUTPUT_FILES, build

ROOT = Path(__file__).resolve().parents[1]


def test_build_writes_the_four_files(layers_copy, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--layers", str(layers_copy), "--out", str(out)]) == 0
    for name in OUTPUT_FILES:
        assert (out / name).stat().st_size > 0, name
    assert "land_of_big_cats.html" in capsys.readouterr().out


def test_areas_json_contract(built):
    report = json.loads((built.out_dir / "areas.json").read_text(encoding="utf-8"))
    assert {"features", "totals", "border", "checks"} <= set(report)
    for feature in report["features"]:
        assert {"id", "name_en", "country_iso3", "reported_area_ha", "area_ha"} <= set(feature)
    for key in ("RUS", "CHN", "proposed_park"):
        assert report["totals"][key]["area_ha"] > 0
    assert {"rus_chn_length_km", "shared_edge_km"} <= set(report["border"])


def test_parks_match_published_areas(built):
    for feature in built.report["features"]:
        assert feature["area_ha"] == pytest.approx(feature["reported_area_ha"], rel=5e-3), feature["id"]


def test_shared_edge_is_the_stretch_within_the_chinese_extent(built, layers_dir):
    # The Chinese park is held inside its published extent, whose south edge (42°31'N) lies north of the
    # tri-point: the parks share the stretch north of it, less the gaps the settlement rule leaves.
    from geo.facts import read_facts
    from geo.layers import read_layer

    facts = read_facts()
    stretch = read_layer(layers_dir, "stretch").geometry.iloc[0]
    box = shapely.box(*(facts[f"park.CHN-NETLNP.{k}"].number for k in ("lon_min", "lat_min", "lon_max", "lat_max")))
    inside_km = GEOD.geometry_length(shapely.intersection(stretch, box)) / 1000
    assert 230 < inside_km < 270
    assert built.report["border"]["shared_edge_km"] == pytest.approx(inside_km, abs=10)
    assert built.report["border"]["stretch_length_km"] == pytest.approx(270, abs=1e-3)


def test_areas_agree_with_the_geopackage(built):
    gpkg = built.out_dir / "land_of_big_cats.gpkg"
    by_id = {}
    for layer in ("parks_rus", "parks_chn"):
        gdf = gpd.read_file(gpkg, layer=layer)
        by_id.update(dict(zip(gdf["id"], geodesic_area_m2(gdf) / 1e4)))
    for feature in built.report["features"]:
        assert feature["area_ha"] == pytest.approx(by_id[feature["id"]], rel=1e-6)
    proposed = gpd.read_file(gpkg, layer="proposed_park")
    assert built.report["totals"]["proposed_park"]["area_ha"] == pytest.approx(geodesic_area_m2(proposed)[0] / 1e4, rel=1e-6)


def test_proposed_park_is_the_union_without_double_counting(built):
    total = built.report["totals"]
    # The bundled parks do not overlap, so the union equals the sum (to rounding).
    assert total["proposed_park"]["area_ha"] == pytest.approx(total["RUS"]["area_ha"] + total["CHN"]["area_ha"], rel=1e-6)


def test_union_counts_an_overlap_once(layers_copy, tmp_path):
    # Move a copy of the Chinese park so it overlaps itself: add a second feature
    # equal to the first shifted by nothing (a full overlap), the union must not grow.
    chn = gpd.read_file(layers_copy / "parks_chn.geojson")
    dup = chn.iloc[[0]].copy()
    dup["id"] = "CHN-DUP"
    both = gpd.GeoDataFrame(__import__("pandas").concat([chn, dup], ignore_index=True), crs=chn.crs)
    both.to_file(layers_copy / "parks_chn.geojson", driver="GeoJSON")
    result = build(layers_copy, tmp_path / "out")
    totals = result.report["totals"]
    rus_sum = sum(f["area_ha"] for f in result.report["features"] if f["country_iso3"] == "RUS")
    # the component reserves lie inside the national park: the union is the national park alone
    assert totals["CHN"]["area_ha"] == pytest.approx(chn_area := geodesic_area_m2(chn)[0] / 1e4, rel=1e-6)
    assert totals["proposed_park"]["area_ha"] == pytest.approx(rus_sum + chn_area, rel=1e-6)


def test_map_says_boundaries_are_schematic(built):
    text = (built.out_dir / "land_of_big_cats.html").read_text(encoding="utf-8")
    assert "Schematic boundaries" in text
    assert "OpenStreetMap contributors" in text


def test_build_leaves_the_layers_untouched(layers_copy, tmp_path):
    before = {p.name: p.read_bytes() for p in layers_copy.iterdir()}
    build(layers_copy, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in layers_copy.iterdir()} == before


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geo.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_missing_layers_folder(tmp_path):
    proc = _run_cli("build", "--layers", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "layers folder not found" in proc.stderr and "--layers" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_missing_layer(layers_copy, tmp_path):
    # A park layer may be absent (tests/test_arrangements.py); the border may not.
    (layers_copy / "borders.geojson").unlink()
    proc = _run_cli("build", "--layers", str(layers_copy), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "layer 'border' is missing" in proc.stderr and "make layers" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreadable_layer(layers_copy, tmp_path):
    (layers_copy / "parks_rus.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    proc = _run_cli("build", "--layers", str(layers_copy), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "cannot read layer 'parks_rus'" in proc.stderr and "git checkout" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_usage_exits_2():
    proc = _run_cli("build", "--no-such-option")
    assert proc.returncode == 2
    assert "unrecognized arguments" in proc.stderr and "Traceback" not in proc.stderr


def test_failed_build_keeps_previous_outputs(layers_copy, tmp_path):
    out = tmp_path / "out"
    build(layers_copy, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (layers_copy / "parks_rus.geojson").write_text("not json", encoding="utf-8")
    assert main(["build", "--layers", str(layers_copy), "--out", str(out)]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_invalid_park_geometry_is_a_data_error(layers_copy, tmp_path, capsys):
    rus = gpd.read_file(layers_copy / "parks_rus.geojson")
    rus.loc[0, "geometry"] = shapely.Polygon([(131, 43), (131.5, 43.5), (131.5, 43), (131, 43.5)])  # bow-tie
    rus.to_file(layers_copy / "parks_rus.geojson", driver="GeoJSON")
    assert main(["build", "--layers", str(layers_copy), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "RUS-LOTL" in err and "Self-intersection" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["build", "--out", "/dev/null/out"],
        ["export", "--format", "geojson", "--out", "/dev/null/x"],
    ],
)
def test_unwritable_output_is_one_line_exit_2(argv, layers_copy):
    proc = _run_cli(*argv, "--layers", str(layers_copy))
    assert proc.returncode == 2
    assert "cannot use /dev/null" in proc.stderr and "writable" in proc.stderr
    assert "Traceback" not in proc.stderr
