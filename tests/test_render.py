"""The map without a browser: display geometry, size budget, offline assets, escaping, language."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.errors import UsageError
from tests.common import geod_ha as _geodesic_ha

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "geo" / "render" / "assets"




@pytest.fixture(scope="module")
def measured():
    from geo.pipeline import area_report, measured_layers

    layers, parks, proposed, by_country = measured_layers(ROOT / "layers")
    return layers, parks, proposed, area_report(layers, parks, proposed, by_country)


@pytest.fixture(scope="module")
def shown(measured):
    from geo.render import display_layers

    layers, parks, _proposed, _report = measured
    return display_layers(layers, parks)


# ---------------------------------------------------------------- assets


def test_vendored_assets_match_the_pinned_manifest():
    manifest = json.loads((ASSETS / "MANIFEST.json").read_text())
    sys.path.insert(0, str(ROOT / "scripts"))
    from fetch_assets import PINNED

    assert {name: version for name, version, _sha, _files in PINNED} == {
        name: entry["version"] for name, entry in manifest["packages"].items()
    }
    for name, entry in manifest["packages"].items():
        for rel, sha in entry["files"].items():
            assert hashlib.sha256((ASSETS / name / rel).read_bytes()).hexdigest() == sha, f"{name}/{rel}"


def test_every_map_asset_is_a_vendored_file_of_its_pinned_version():
    from geo.render import ASSETS as MAP_ASSETS

    manifest = json.loads((ASSETS / "MANIFEST.json").read_text())["packages"]
    for url, rel in MAP_ASSETS.values():
        name, _, inner = rel.partition("/")
        assert inner in manifest[name]["files"], rel
        assert f"/{name}@{manifest[name]['version']}/{inner}" in url


# ---------------------------------------------------------------- display geometry


def test_display_areas_stay_within_half_a_percent(measured, shown):
    layers, parks, _proposed, _report = measured
    pairs = list(zip(layers["countries"].geometry, shown.countries.geometry, strict=True))
    pairs += list(zip(parks.geometry, shown.parks.geometry, strict=True))
    pairs.append((shapely.union_all(parks.geometry.values), shown.proposed.geometry.iloc[0]))
    for true_geom, display_geom in pairs:
        true_ha, display_ha = _geodesic_ha(true_geom), _geodesic_ha(display_geom)
        assert abs(display_ha / true_ha - 1) <= 0.005, (true_ha, display_ha)
    assert shown.tolerance_deg > 0  # it did simplify


def test_display_is_lighter_than_the_source(measured, shown):
    layers, parks, _proposed, _report = measured
    before = sum(shapely.get_num_coordinates(g) for g in [*layers["countries"].geometry, *parks.geometry])
    after = sum(shapely.get_num_coordinates(g) for g in [*shown.countries.geometry, *shown.parks.geometry])
    assert after < before / 3


def test_display_coverage_keeps_shared_edges(measured, shown):
    countries = dict(zip(shown.countries["country_iso3"], shown.countries.geometry, strict=True))
    # neither gaps nor slivers between neighbours: no overlap, and the border is on both outlines
    assert shapely.intersection(countries["RUS"], countries["CHN"]).area == pytest.approx(0, abs=1e-12)
    for iso3, park in zip(shown.parks["country_iso3"], shown.parks.geometry, strict=True):
        # the source parks stick out of their country by up to 1e-8 deg² (slivers the noding keeps);
        # 1e-6 deg² is about 1 ha: anything larger would be a visible gap or overlap
        assert shapely.difference(park, countries[iso3]).area < 1e-6
    parks = list(shown.parks.geometry)
    source = list(measured[1].set_index("id").loc[list(shown.parks["id"])].geometry)
    for i in range(len(parks)):
        for j in range(i + 1, len(parks)):
            if shapely.intersection(source[i], source[j]).area < 1e-12:  # apart in the source (not nested)
                assert shapely.intersection(parks[i], parks[j]).area == pytest.approx(0, abs=1e-12)
    border = shown.borders.set_index("id").geometry["RUS-CHN"]
    assert border.length > 5  # degrees of line: the whole shared edge, not a fragment
    vertices = shapely.points(shapely.get_coordinates(border))
    for iso3 in ("RUS", "CHN"):
        assert shapely.distance(vertices, shapely.boundary(countries[iso3])).max() == pytest.approx(0, abs=1e-9)


def test_displayed_countries_and_parks_stay_valid_coverages(measured, shown):
    layers, parks, _proposed, _report = measured
    from geo.render.display import _coverage_layers

    park_layer = _coverage_layers(parks.geometry.values)  # nested reserves are a layer of their own
    groups = [("countries", shown.countries.geometry.values)]
    groups += [(f"parks {k}", shown.parks.geometry.values[park_layer == k]) for k in np.unique(park_layer)]
    for name, geoms in groups:
        assert shapely.is_valid(geoms).all(), name
        assert shapely.coverage_is_valid(geoms), name
    # the countries do not overlap (the issue measured 3.7 ha of overlap before)
    countries = shown.countries.geometry.values
    assert sum(shapely.area(countries)) - shapely.union_all(countries).area < 1e-9



def test_the_displayed_stretch_lies_on_the_displayed_border_along_the_whole_stretch(measured, shown):
    layers = measured[0]
    assert shown.tolerance_deg > 0  # simplified, so the stretch is taken from the displayed border
    border = shown.borders.set_index("id").geometry["RUS-CHN"]
    for source, drawn in zip(layers["stretch"].geometry, shown.stretch.geometry, strict=True):
        vertices = shapely.points(shapely.get_coordinates(drawn))
        # every vertex on the displayed border (not on the source line), so stretch and border meet
        assert shapely.distance(vertices, border).max() == pytest.approx(0, abs=1e-9)
        # and it follows the whole stretch: no part of it far from the drawn line, nor the other way
        assert shapely.hausdorff_distance(source, drawn) < 3 * shown.tolerance_deg

def _lakes_and_tiles():
    """Two neighbours tiling 1 x 1 deg: one with six lakes of about 0.08 % of its area each, one with a long edge."""
    import geopandas as gpd

    edge = [(130.5 + 0.02 * np.sin(k), 42.0 + k / 200) for k in range(201)]  # a winding shared edge
    west = shapely.Polygon([(130.0, 42.0), *edge, (130.0, 43.0)])
    lakes = [shapely.box(130.05 + 0.06 * k, 42.5, 130.07 + 0.06 * k, 42.52).exterior for k in range(6)]
    west = shapely.Polygon(west.exterior, lakes)
    east = shapely.Polygon([*edge, (131.0, 43.0), (131.0, 42.0)])
    return gpd.GeoDataFrame({"id": ["W", "E"]}, geometry=[west, east], crs="EPSG:4326")


@pytest.mark.parametrize("budget", [0.005, 0.002])
def test_a_park_with_many_small_lakes_does_not_hold_the_map_at_full_resolution(budget):
    from geo.render.simplify import _display_geometries

    tiles = _lakes_and_tiles()
    originals = list(tiles.geometry)
    true_ha = np.array([_geodesic_ha(g) for g in originals])
    tolerance, _grid, geoms, error = _display_geometries(originals, true_ha, np.zeros(2, int), budget)
    assert tolerance > 0  # simplified, not sent back to full resolution
    assert sum(len(p.interiors) for p in shapely.get_parts(geoms[0])) < 6  # some lakes left out...
    for true, geom in zip(true_ha, geoms, strict=True):
        assert abs(_geodesic_ha(geom) / true - 1) <= budget  # ...within each feature's own budget
    assert error <= budget
    assert shapely.coverage_is_valid(np.array(geoms, dtype=object))
    assert sum(shapely.get_num_coordinates(geoms)) < sum(shapely.get_num_coordinates(originals))


def test_only_the_features_over_budget_are_tightened():
    from geo.render.simplify import TOLERANCES_DEG as _TOLERANCES_DEG
    from geo.render.simplify import _display_geometries

    # a large square and a small wiggly neighbour: at the large one's tolerance the small one
    # would lose far more than 0.5 %, yet the large one keeps the coarse tolerance
    edge = [(130.0 + k / 400, 42.0 + 0.004 * np.sin(k / 3)) for k in range(401)]
    small = shapely.Polygon([*edge, (131.0, 41.95), (130.0, 41.95)])
    large = shapely.Polygon([*edge, (131.0, 44.0), (130.0, 44.0)])
    originals = [large, small]
    true_ha = np.array([_geodesic_ha(g) for g in originals])
    tolerance, _grid, geoms, error = _display_geometries(originals, true_ha, np.zeros(2, int), 0.005)
    assert error <= 0.005
    assert tolerance == _TOLERANCES_DEG[0]
    assert shapely.coverage_is_valid(np.array(geoms, dtype=object))
    # the shared edge follows the small park's finer tolerance on both sides
    assert shapely.get_num_coordinates(geoms[0]) > 10


def test_display_coordinates_are_rounded_to_the_grid(shown):
    coords = np.concatenate([shapely.get_coordinates(g) for g in shown.parks.geometry])
    steps = coords / shown.grid_deg
    assert np.allclose(steps, np.round(steps), atol=1e-6)
    assert shown.grid_deg >= 1e-4


# ---------------------------------------------------------------- size budget and offline


def _plain_folium_html(layers_dir: Path) -> int:
    import folium

    from geo.layers import load_layers

    fmap = folium.Map()
    for role, gdf in load_layers(layers_dir).items():
        folium.GeoJson(gdf.to_json(), name=role).add_to(fmap)
    return len(fmap.get_root().render().encode("utf-8"))


def test_coverage_layers_put_nested_and_overlapping_parks_apart():
    from geo.render.display import _coverage_layers

    big = shapely.box(0, 0, 10, 10)
    inner, beside, across = shapely.box(2, 2, 3, 3), shapely.box(10, 0, 12, 2), shapely.box(9, 9, 11, 11)
    layers = _coverage_layers(np.array([big, inner, beside, across, shapely.box(2.5, 2.5, 2.7, 2.7)], dtype=object))
    assert list(layers) == [0, 1, 0, 1, 2]  # touching is no overlap; a box in big and inner goes third
    assert list(_coverage_layers(np.array([big, beside], dtype=object))) == [0, 0]


def test_html_size_budget(built, tmp_path):
    from geo.pipeline import build

    reference = _plain_folium_html(ROOT / "layers")
    cdn = build(ROOT / "layers", tmp_path, offline=False).files["land_of_big_cats.html"]
    html_bytes = cdn.stat().st_size
    assert html_bytes <= 0.2 * reference, (html_bytes, reference)
    offline = built.files["land_of_big_cats.html"]  # the default build: self-contained
    assert offline.stat().st_size < 1.5e6


def test_offline_html_is_self_contained(tmp_path):
    from geo.pipeline import build

    text = build(ROOT / "layers", tmp_path, offline=True).files["land_of_big_cats.html"].read_text(encoding="utf-8")
    assert not re.findall(r"<(?:script|link|img)[^>]*(?:src|href)=[\"']?https?:", text)
    assert "Leaflet 1.9.4" in text or '"1.9.4"' in text
    assert "L.Control.MiniMap" in text and "L.Control.MousePosition" in text
    assert "url(images/" not in text  # CSS images inlined as data URIs


def test_offline_without_assets_names_the_fix(measured, monkeypatch, tmp_path):
    import geo.render.page as page
    from geo.render import make_map

    layers, parks, proposed, report = measured
    fmap = make_map(layers, parks, proposed, areas=report)
    monkeypatch.setattr(page, "ASSETS_DIR", tmp_path)
    with pytest.raises(UsageError, match=r"map asset .* is missing: run 'make assets'"):
        page.map_html(fmap, offline=True)


# ---------------------------------------------------------------- safety and language


def test_hostile_attribute_values_never_reach_the_page_raw(measured):
    from geo.render import make_map, map_html

    layers, parks, proposed, report = measured
    parks = parks.copy()
    parks.loc[parks.index[0], "name_en"] = "<img src=x onerror=alert(1)>"
    parks.loc[parks.index[0], "source"] = "{{ 7*7 }}"
    text = map_html(make_map(layers, parks, proposed, areas=report))
    assert "<img src=x" not in text
    assert "{{ 7*7 }}" not in text and "7*7" in text  # present, but inert (escaped braces)


@pytest.mark.parametrize(("lang", "label"), [("en", "Chinese parks"), ("ru", "Парки Китая"), ("zh", "中国保护地")])
def test_language_of_labels(measured, lang, label):
    from geo.render import make_map, map_html

    layers, parks, proposed, report = measured
    text = map_html(make_map(layers, parks, proposed, areas=report, lang=lang))
    assert label in text or json.dumps(label)[1:-1] in text


def test_unknown_language_is_refused(measured):
    from geo.render import make_map

    layers, parks, proposed, report = measured
    with pytest.raises(UsageError, match=r"unknown language --lang 'fr': choose one of en, ru, zh"):
        make_map(layers, parks, proposed, areas=report, lang="fr")


def test_cli_build_offline_and_lang(tmp_path, capsys):
    from geo.cli import main

    assert main(["build", "--layers", str(ROOT / "layers"), "--out", str(tmp_path), "--offline", "--lang", "ru"]) == 0
    assert (tmp_path / "land_of_big_cats.html").stat().st_size > 300_000  # Leaflet inlined
    with pytest.raises(SystemExit) as exc:
        main(["build", "--lang", "fr"])
    assert exc.value.code == 2


def test_no_tolerance_small_enough_falls_back_to_full_resolution(measured):
    from geo.render import display_layers

    layers, parks, _proposed, _report = measured
    shown = display_layers(layers, parks, max_area_error=0.0)
    assert shown.tolerance_deg == 0.0
    assert all(a.equals(b) for a, b in zip(parks.geometry, shown.parks.geometry, strict=True))


def test_story_panel_in_each_language(measured):
    from geo.render import make_map, map_html

    layers, parks, proposed, report = measured
    story = {
        lang: re.search(r"<details id='bigcats-story'.*?</details>", map_html(
            make_map(layers, parks, proposed, areas=report, lang=lang)), re.S).group(0)
        for lang in ("en", "ru", "zh")
    }
    for lang, text in story.items():
        assert all(year in text for year in ("2001", "2004", "2007", "2010", "2012", "2017", "2019")), lang
        assert "WWF-Russia news, 12 March 2019" in text  # sourced (the source's own title, marked as English)
        assert "<cite lang='en'>WWF-Russia news" in text if lang != "en" else "<cite>WWF-Russia news" in text
        assert text.count("<rect") >= 6  # 3 leopard + 3 tiger bars
    assert "Land of the Leopard National Park created" in story["en"]
    ru_text = re.sub(r"<ol id='bigcats-sources'>.*?</ol>", "", story["ru"], flags=re.S)  # sources: quoted as titled
    assert "Земля леопарда" in ru_text and "Land of the Leopard" not in ru_text
    assert "东北虎豹国家公园" in story["zh"]
    for lang, text in story.items():
        assert all(year in text for year in ("1916", "1925", "2021", "1,406,500", "1,460,000")), lang
        assert "Changbaishan / Eastern Manchurian Mountains" in text, lang
        assert "https://wwf.ru/en/resources/news/amur/" in text and "en.wikipedia.org" in text, lang
        assert "DATA.md" not in text and "shared" not in text, lang


def test_story_takes_figures_and_sources_from_the_facts_passed_in(measured):
    import dataclasses

    from geo.facts import read_facts
    from geo.render import make_map, map_html

    layers, parks, proposed, report = measured
    facts = read_facts()
    changed = dict(facts)
    changed["park.CHN-NETLNP.reported_area_ha.2021"] = dataclasses.replace(
        facts["park.CHN-NETLNP.reported_area_ha.2021"], value="1234567", source_title="A test page",
        source_url="https://example.org/test-page",
    )
    changed["count.tigers"] = dataclasses.replace(facts["count.tigers"], value="11;22;33")
    html = map_html(make_map(layers, parks, proposed, areas=report, facts=changed))
    story = re.search(r"<details id='bigcats-story'.*?</details>", html, re.S).group(0)
    assert "1,234,567" in story and "1,406,500" not in story
    assert "A test page" in story and "https://example.org/test-page" in story
    assert "tigers: 33" in story


# ---------------------------------------------------------------- earlier versions and the schematic notice


def _two_version_store(root: Path) -> tuple[Path, object, object]:
    """A folder store whose parks_chn has version 1 (bundled) and version 2 (its eastern 70 %)."""
    import shutil

    from geo.store import open_store

    store_dir = root / "store"
    shutil.copytree(ROOT / "layers", store_dir)
    store = open_store(store_dir)
    v1 = store.read_layer("parks_chn")
    west, south, east, north = v1.total_bounds
    v2 = v1.copy()
    v2["geometry"] = v1.geometry.intersection(shapely.box(west + 0.3 * (east - west), south - 1, east + 1, north + 1))
    assert store.write_layer("parks_chn", v2, provenance={"source": "cut <east>.geojson"}) == 2
    return store_dir, v1, v2


def _feature_popups(page: str) -> list[str]:
    """Every popup the page's shared binder writes (geo/render/features.py): the table of strings,
    and each role layer's features with their popup rows as indices into it."""
    strings = json.loads(re.search(r"var S = (\[.*?\]), roles = \[\];", page).group(1))
    popups = []
    for data, options in re.findall(r"window\.bigcatsFeatures\.layer\((\{.*?\}), (\{.*?\}), \w+\)\.addTo", page):
        css = json.loads(options)["popup"]
        for feature in json.loads(data)["features"]:
            rows = feature["properties"].get("p", [])
            cells = "".join(f"<tr><th>{strings[a]}</th>{strings[b]}</tr>" for a, b in zip(rows[::2], rows[1::2]))
            popups.append(f"<table class='bigcats-popup {css}'>{cells}</table>")
    return popups


def _notice(text: str) -> str | None:
    found = re.search(r"<div id='schematic-notice'.*?</div>", text, re.S)
    return found.group(0) if found else None


def test_earlier_version_is_its_own_group_with_escaped_gained_and_lost_ha(measured, tmp_path):
    from geo.pipeline import comparisons_for
    from geo.render import make_map, map_html
    from geo.store import open_store

    layers, parks, proposed, report = measured
    store_dir, v1, v2 = _two_version_store(tmp_path)
    (comparison,) = comparisons_for(store_dir, [("parks_chn", 1)])
    assert (comparison.version, comparison.current_version) == (1, 2)
    text = map_html(make_map(layers, parks, proposed, areas=report, comparisons=[comparison]))
    assert "Chinese protected areas, version 1 (earlier)" in text
    lost_ha = _geodesic_ha(shapely.difference(v1.geometry.iloc[0], v2.geometry.iloc[0]))
    gained_ha = _geodesic_ha(shapely.difference(v2.geometry.iloc[0], v1.geometry.iloc[0]))
    assert lost_ha > 100_000 and gained_ha < 1

    def popup_of(page: str, name: str = "Northeast China Tiger and Leopard National Park") -> tuple[str, dict]:
        popups = _feature_popups(page)
        (popup,) = [p for p in popups if "comparison-popup" in p and f"<td>{name}</td>" in p]  # the cut park's
        pattern = r"<th[^>]*>(Gained|Lost)</th><td>([\d,.]+) ha"
        return popup, {k: float(v.replace(",", "")) for k, v in re.findall(pattern, popup)}

    _popup, shown = popup_of(text)
    assert shown["Lost"] == pytest.approx(lost_ha, rel=1e-5) and shown["Gained"] == pytest.approx(gained_ha, abs=0.1)
    assert "earlier version (grey dotted, no fill)" in text  # legend
    plain = map_html(make_map(layers, parks, proposed, areas=report))
    assert "version 1 (earlier)" not in plain and "earlier version (grey dotted" not in plain

    # version 3 restores version 1: version 2 (hostile name and source) is now the earlier one
    hostile = open_store(store_dir).read_layer("parks_chn", version=2)
    hostile.loc[0, "name_en"] = "<img src=x onerror=alert(1)>"
    store = open_store(store_dir)
    assert store.write_layer("parks_chn", hostile, provenance={"source": "cut <east>.geojson"}) == 3
    assert store.write_layer("parks_chn", v1, provenance={"source": "restored"}) == 4
    (comparison,) = comparisons_for(store_dir, [("parks_chn", 3)])
    popup, shown = popup_of(map_html(make_map(layers, parks, proposed, areas=report, comparisons=[comparison])),
                            "&lt;img src=x onerror=alert(1)&gt;")
    assert shown["Gained"] == pytest.approx(lost_ha, rel=1e-5) and shown["Lost"] == pytest.approx(gained_ha, abs=0.1)
    assert "cut &lt;east&gt;.geojson" in popup and "&lt;img src=x" in popup
    assert "<east>" not in popup and "<img" not in popup


@pytest.mark.parametrize(
    ("compare", "message"),
    [
        ([("parks_chn", 7)], r"--compare parks_chn=7: no such version; versions of 'parks_chn' are 1, 2"),
        ([("places", 1)], r"--compare places=1: unknown or non-polygon role; use one of countries, parks_rus, parks_chn"),
    ],
)
def test_unknown_version_or_role_to_compare_is_refused(tmp_path, compare, message):
    from geo.pipeline import comparisons_for

    store_dir, _v1, _v2 = _two_version_store(tmp_path)
    with pytest.raises(UsageError, match=message):
        comparisons_for(store_dir, compare)


def test_schematic_notice_names_only_the_schematic_parks(measured):
    from geo.render import make_map, map_html

    layers, parks, proposed, report = measured
    everything = _notice(map_html(make_map(layers, parks, proposed, areas=report)))
    for name in parks["name_en"]:
        assert html_escape(name) in everything
    mixed = parks.copy()
    chinese = mixed["country_iso3"] == "CHN"
    mixed.loc[chinese, "geometry_quality"] = "surveyed"
    russian = mixed.index[~chinese][0]
    mixed.loc[russian, "name_en"] = "<b>Leopard & Co</b>"
    mixed_text = map_html(make_map(layers, mixed, proposed, areas=report))
    notice = _notice(mixed_text)
    legend = re.search(r"<details id='bigcats-legend'.*", mixed_text).group(0)
    assert "Chinese parks: surveyed boundary (solid)" in legend and "Chinese parks: schematic" not in legend
    assert "Russian parks: schematic boundary (dashed)" in legend and "Russian parks: surveyed" not in legend
    assert "&lt;b&gt;Leopard &amp; Co&lt;/b&gt;" in notice and "<b>Leopard" not in notice
    for name in mixed.loc[chinese, "name_en"]:
        assert html_escape(name) not in notice
    assert "No surveyed park boundary was available" not in notice
    surveyed = parks.assign(geometry_quality="surveyed")
    text = map_html(make_map(layers, surveyed, proposed, areas=report))
    assert _notice(text) is None and "id='schematic-notice'" not in text.split("<body>", 1)[-1].split("<script>", 1)[0]


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def test_cli_build_compare_on_a_folder_store(tmp_path, capsys):
    from geo.cli import main
    from geo.pipeline import OUTPUT_FILES

    store_dir, _v1, v2 = _two_version_store(tmp_path)
    out, plain = tmp_path / "out", tmp_path / "plain"
    assert main(["build", "--layers", str(store_dir), "--out", str(out), "--compare", "parks_chn=1"]) == 0
    assert main(["build", "--layers", str(store_dir), "--out", str(plain)]) == 0
    for name in ("land_of_big_cats.html", "areas.json", "areas.csv", "land_of_big_cats.gpkg"):
        assert name in OUTPUT_FILES and (out / name).is_file()
    areas = json.loads((out / "areas.json").read_text())
    assert areas == json.loads((plain / "areas.json").read_text())  # areas are of the current version
    chn = next(f for f in areas["features"] if f["country_iso3"] == "CHN")
    assert chn["area_ha"] < 0.8 * 1_460_000  # version 2, not the earlier one
    assert "Chinese protected areas, version 1 (earlier)" in (out / "land_of_big_cats.html").read_text()
    capsys.readouterr()
    assert main(["build", "--layers", str(store_dir), "--out", str(out), "--compare", "parks_chn=9"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "versions of 'parks_chn' are 1, 2" in err
    assert main(["build", "--layers", str(store_dir), "--out", str(out), "--compare", "parks_chn"]) == 2
    assert "must be ROLE=VERSION" in capsys.readouterr().err


# ---------------------------------------------------------------- catalogue, numbers, variants (issue 13)


def test_the_catalogue_has_every_message_in_every_language_with_the_same_fields():
    import string

    from geo.render import LANGUAGES, messages

    for key, texts in messages().items():
        assert set(texts) == set(LANGUAGES), key
        fields = {lang: {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f} for lang, text in
                  texts.items()}
        assert all(text.strip() for text in texts.values()), key
        assert fields["ru"] == fields["en"] == fields["zh"], (key, fields)


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(area=st.floats(0, 5e6, allow_nan=False), reported=st.floats(1, 5e6, allow_nan=False),
       lang=st.sampled_from(["en", "ru", "zh"]))
def test_a_difference_that_rounds_to_zero_has_no_sign(area, reported, lang):
    from geo.render.text import _difference

    text = _difference(area, reported, lang)
    for sign, digits in re.findall(r"([+-]?)([\d\u202f,.]+)", text):
        value = float(digits.replace("\u202f", "").replace(",", "." if lang == "ru" else ""))
        assert (value == 0) == (sign == ""), text  # never "-0 ha (-0.00 %)", never "+0"


def test_default_build_is_self_contained_cdn_is_the_light_variant(tmp_path, capsys):
    from geo.cli import main
    from geo.render import ASSETS

    layers = str(ROOT / "layers")
    assert main(["build", "--layers", layers, "--out", str(tmp_path / "default")]) == 0
    assert main(["build", "--layers", layers, "--out", str(tmp_path / "cdn"), "--cdn"]) == 0
    assert main(["build", "--layers", layers, "--out", str(tmp_path / "offline"), "--offline"]) == 0  # kept, a no-op
    default = (tmp_path / "default" / "land_of_big_cats.html").read_text(encoding="utf-8")
    cdn = (tmp_path / "cdn" / "land_of_big_cats.html").read_text(encoding="utf-8")
    def plain(text: str) -> str:  # folium's element ids are random
        return re.sub(r"_[0-9a-f]{32}", "", text)

    assert plain((tmp_path / "offline" / "land_of_big_cats.html").read_text(encoding="utf-8")) == plain(default)
    assert not re.findall(r"<(?:script|link)[^>]*(?:src|href)=[\"']?https?:", default)
    assert ASSETS["leaflet_js"][0] in cdn and len(cdn) < len(default) / 2
    with pytest.raises(SystemExit) as exc:
        main(["build", "--cdn", "--offline"])
    assert exc.value.code == 2


def test_the_page_style_comes_after_leaflets(measured):
    from geo.render import ASSETS, WATER_COLOUR, make_map, map_html

    layers, parks, proposed, report = measured
    fmap = make_map(layers, parks, proposed, areas=report)
    for text in (map_html(fmap), map_html(fmap, offline=True)):
        ours = text.index(f".leaflet-container {{ background:{WATER_COLOUR};}}")
        leaflet = text.index(ASSETS["leaflet_css"][0]) if ASSETS["leaflet_css"][0] in text else text.index(
            ".leaflet-container {")  # inlined: Leaflet's own rule
        assert leaflet < ours
