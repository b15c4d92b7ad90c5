"""The reconciliation in areas.json and the `bigcats areas` command on the bundled layers."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import pytest
import shapely

from geo.cli import main
from geo.measure import geodesic_area_m2
from geo.pipeline import area_table


def test_reconciliation_rows(built):
    rows = built.report["checks"]["reconciliation"]["rows"]
    ids = [f["id"] for f in built.report["features"]]
    parks = [r for r in rows if r["level"] == "park"]
    assert [r["level"] for r in rows] == ["park"] * len(parks) + ["total"] * 3
    own = [r for r in parks if r["id"] in ids]
    assert [r["id"] for r in own] == ids
    for row in rows:
        diff = row["area_ha"] - row["reported_area_ha"]
        assert row["difference_ha"] == pytest.approx(diff)
        assert row["difference_pct"] == pytest.approx(100 * diff / row["reported_area_ha"])
        expected = (
            "ok"
            if abs(diff) <= 0.005 * row["reported_area_ha"]
            else "warn"
            if abs(diff) <= 0.05 * row["reported_area_ha"]
            else "fail"
        )
        assert row["status"] == expected
    assert all(r["status"] == "ok" for r in own)
    assert all(r["geometry_quality"] for r in rows)


def test_2021_figure_is_reconciled_beside_the_pilot_figure(built):
    from geo.facts import read_facts

    facts = read_facts()
    rows = {r["id"]: r for r in built.report["checks"]["reconciliation"]["rows"]}
    pilot, formal = rows["CHN-NETLNP"], rows["CHN-NETLNP (2021)"]
    assert pilot["reported_area_ha"] == facts["park.CHN-NETLNP.reported_area_ha"].number
    assert formal["reported_area_ha"] == facts["park.CHN-NETLNP.reported_area_ha.2021"].number
    assert formal["area_ha"] == pilot["area_ha"]
    assert formal["reported_area_source"].startswith(facts["park.CHN-NETLNP.reported_area_ha.2021"].source_title)
    # the sketch is built to the 2017 pilot area: the 2021 park is about 3.7 % smaller
    assert 3 < formal["difference_pct"] < 5 and formal["status"] == "warn"


def test_no_output_cites_a_project_file_or_module(built, layers_dir, capsys):
    import re

    module = r"(?<![\w.@/-])geo\.[a-z_]+"  # geo.construct.schematic, not map.geo.json
    banned = re.compile(r"DATA\.md|\bshared\b|\.py\b|" + module)
    sources = [f["reported_area_source"] for f in built.report["features"]]
    sources += [t["reported_area_source"] for t in built.report["totals"].values()]
    sources += [r["reported_area_source"] for r in built.report["checks"]["reconciliation"]["rows"]]
    for layer in ("parks_rus", "parks_chn", "countries", "borders", "border_stretch", "places"):
        gdf = gpd.read_file(built.out_dir / "land_of_big_cats.gpkg", layer=layer)
        for column in ("source", "reported_area_source", "reported_length_source", "geometry_method"):
            if column in gdf:
                sources += [str(v) for v in gdf[column]]
    assert sources and not [s for s in sources if banned.search(s)]
    html = (built.out_dir / "land_of_big_cats.html").read_text(encoding="utf-8")
    assert "DATA.md" not in html and "geo.construct.schematic" not in html
    for text in ((built.out_dir / "areas.csv").read_text(encoding="utf-8"),
                 (built.out_dir / "areas.md").read_text(encoding="utf-8")):
        assert "DATA.md" not in text and not re.search(module, text)


def test_unit_inconsistency_is_flagged(built):
    check = built.report["checks"]["published_units"]
    assert check["status"] == "warn"
    assert "180 thousands km2" in check["message"] and "18,000 km2" in check["message"]
    assert check["consistent_km2"] * 10 == check["published_km2_as_written"]


def test_proposed_park_is_sum_minus_overlap_removed(built):
    cov = built.report["checks"]["coverage"]
    parks_sum = sum(f["area_ha"] for f in built.report["features"])
    proposed = built.report["totals"]["proposed_park"]["area_ha"]
    assert proposed == pytest.approx(parks_sum - cov["overlap_removed_ha"], abs=1.0)
    gpkg = gpd.read_file(built.out_dir / "land_of_big_cats.gpkg", layer="proposed_park")
    union = shapely.union_all(
        gpd.read_file(built.out_dir / "land_of_big_cats.gpkg", layer="parks_rus").geometry.array.tolist()
        + gpd.read_file(built.out_dir / "land_of_big_cats.gpkg", layer="parks_chn").geometry.array.tolist()
    )
    assert proposed == pytest.approx(geodesic_area_m2(gpd.GeoSeries([union], crs=gpkg.crs))[0] / 1e4, abs=1.0)
    assert cov["status"] == "ok"
    for key in ("gaps_along_border_ha", "gaps_along_border_count", "clipped_to_wrong_side_ha"):
        assert cov[key] >= 0


def test_crosscheck_rows(built):
    rows = {r["id"]: r for r in built.report["checks"]["crosscheck"]["rows"]}
    proposed = rows["proposed_park"]
    assert proposed["area_ha"] == pytest.approx(built.report["totals"]["proposed_park"]["area_ha"], rel=1e-9)
    for name in ("behrmann", "mollweide"):
        assert abs(proposed[f"{name}_difference_pct"]) < 0.5


def test_areas_md_written(built):
    text = (built.out_dir / "areas.md").read_text(encoding="utf-8")
    assert "| total | proposed_park |" in text and "10 times too large" in text


def test_bigcats_areas_table(layers_dir, capsys):
    assert main(["areas", "--layers", str(layers_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # schematic parks: a line above the table says why their areas match
    assert lines[0].startswith("note:") and "only because each boundary was built to that figure" in lines[0]
    header = lines[1].split()
    assert header[:3] == ["id", "area", "ha"] and header[-1] == "quality"
    table = [line.split() for line in lines[3 : lines.index("")]]
    assert table[-1][1] == "proposed_park"
    assert [row[-1] for row in table if row[0] == "park"].count("point_buffer") >= 1
    assert "1,46" in out and "km²" in out


def test_no_note_when_every_park_is_surveyed(layers_copy, capsys):
    for role in ("parks_rus", "parks_chn"):
        path = layers_copy / f"{role}.geojson"
        gdf = gpd.read_file(path)
        gdf["geometry_quality"] = "surveyed"
        gdf.to_file(path, driver="GeoJSON")
    assert main(["areas", "--layers", str(layers_copy)]) == 0
    out = capsys.readouterr().out
    assert not out.startswith("note:") and out.splitlines()[0].split()[:3] == ["id", "area", "ha"]


def test_build_csv_and_areas_csv_are_the_same_table(built, layers_dir, capsys):
    assert main(["areas", "--layers", str(layers_dir), "--csv"]) == 0
    printed = capsys.readouterr().out
    written = (built.out_dir / "areas.csv").read_text(encoding="utf-8")
    assert printed.splitlines()[0] == written.splitlines()[0]
    assert "geometry_quality" in written.splitlines()[0].split(",")
    assert printed == written


def test_bigcats_areas_json_and_csv(layers_dir, capsys):
    assert main(["areas", "--layers", str(layers_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"features", "totals", "border", "checks"}
    assert main(["areas", "--layers", str(layers_dir), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[-1]["id"] == "proposed_park"
    assert float(rows[-1]["area_ha"]) == pytest.approx(report["totals"]["proposed_park"]["area_ha"])


def test_bigcats_areas_missing_folder(tmp_path, capsys):
    assert main(["areas", "--layers", str(tmp_path / "nowhere")]) == 2
    assert "layers folder not found" in capsys.readouterr().err


def test_area_table_for_notebooks(layers_dir):
    table = area_table(layers_dir)
    assert list(table.columns) == [
        "level",
        "id",
        "name",
        "area_ha",
        "area_km2",
        "published_ha",
        "difference_ha",
        "difference_pct",
        "status",
    ]
    assert table["id"].iloc[-1] == "proposed_park"
    assert (table["area_km2"] * 100).to_numpy() == pytest.approx(table["area_ha"].to_numpy(), rel=1e-12)
