"""The map in a real browser: headless Debian chromium driven by Playwright, other hosts blocked."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import shapely
from pyproj import Geod

sys.path.insert(0, str(Path(__file__).parent))
from browser import CHROMIUM, chromium_context, file_url, find_map_js  # noqa: E402
from tests.conftest import skip_or_fail  # noqa: E402

pytestmark = [pytest.mark.browser]


@pytest.fixture(autouse=True)
def _needs_chromium():
    if not Path(CHROMIUM).exists():
        skip_or_fail("Debian's chromium is not installed: run 'make test' (it installs it)")

ROOT = Path(__file__).resolve().parents[1]
XSS_NAME = "<img src=x onerror=alert(1)>"
TEMPLATE_NAME = "{{ 7*7 }}"
BACKTICK_NAME = "`${alert(2)}`"


@pytest.fixture(scope="module")
def offline_map(tmp_path_factory) -> Path:
    from geo.pipeline import build

    out = tmp_path_factory.mktemp("offline")
    return build(ROOT / "layers", out, offline=True).files["land_of_big_cats.html"]


@pytest.fixture(scope="module")
def xss_map(tmp_path_factory) -> Path:
    from geo.pipeline import build

    layers = tmp_path_factory.mktemp("xss") / "layers"
    shutil.copytree(ROOT / "layers", layers)
    path = layers / "parks_chn.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    props = data["features"][0]["properties"]
    props["name_en"], props["name_ru"], props["name_zh"] = XSS_NAME, TEMPLATE_NAME, BACKTICK_NAME
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = layers.parent / "out"
    return build(layers, out, offline=True).files["land_of_big_cats.html"]


def _open(context, path: Path):
    page = context.new_page()
    errors, requests, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(file_url(path))
    drawn = "document.querySelectorAll('path.leaflet-interactive').length > 0"
    page.wait_for_function(f"{find_map_js()} !== null && {drawn}")
    return page, errors, requests, dialogs


def _chn_park_point() -> tuple[float, float]:
    from geo.layers import read_layer

    chn = read_layer(ROOT / "layers", "parks_chn")
    point = shapely.point_on_surface(chn.geometry.iloc[0])
    return point.y, point.x


def _click_park(page, lat: float, lon: float) -> str:
    # Centre the map on the point; a view change still running from the page load (the initial
    # fitBounds) can undo the first setView, so it is repeated until the view holds.
    page.wait_for_function(
        f"([lat, lon]) => {{ const m = {find_map_js()}; const p = m.latLngToContainerPoint([lat, lon]);"
        " const h = m.getSize().divideBy(2);"  # at the same zoom, setView pans by whole pixels
        " if (m.getZoom() === 9 && Math.abs(p.x - h.x) <= 1 && Math.abs(p.y - h.y) <= 1) return true;"
        " m.stop(); m.setView([lat, lon], 9, {animate: false}); return false; }",
        arg=[lat, lon],
        timeout=10_000,
    )
    size = page.evaluate(
        f"(() => {{ const p = {find_map_js()}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    box = page.locator(".folium-map").bounding_box()
    x, y = box["x"] + size[0], box["y"] + size[1]
    # Click only once Leaflet has redrawn at the new view: the element under the point
    # is then a clickable vector path (a fixed sleep was flaky on a loaded machine).
    page.wait_for_function(
        "([x, y]) => { const e = document.elementFromPoint(x, y);"
        " return !!e && e.classList.contains('leaflet-interactive'); }",
        arg=[x, y],
        timeout=10_000,
    )
    page.mouse.click(x, y)
    # one popup: a popup closed just before still fades out for a moment
    page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1", timeout=5000)
    _settle(page)
    return page.locator(".leaflet-popup-content")


def _settle(page) -> None:
    """Wait until the map stands still (no pan or zoom animation, a popup's auto-pan included) and
    the URL hash shows the view it stands at."""
    page.wait_for_function(
        f"(() => {{ const m = {find_map_js()}; if ((m._panAnim && m._panAnim._inProgress) || m._animatingZoom) return false;"
        " const c = m.getCenter();"
        " return window.location.hash === '#' + Math.round(m.getZoom() * 100) / 100 + '/' + c.lat.toFixed(4)"
        " + '/' + c.lng.toFixed(4); })()",
        timeout=10_000,
    )


def test_page_loads_without_console_error_and_leaflet_initialised(offline_map):
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, offline_map)
        assert page.evaluate("L.version") == "1.9.4"
        assert page.evaluate(f"{find_map_js()}.getZoom()") >= 4
        for control in (".leaflet-control-scale", ".leaflet-control-measure", ".leaflet-control-minimap",
                        ".leaflet-control-mouseposition", ".leaflet-control-zoom-fullscreen", "#bigcats-legend",
                        "#bigcats-story", "#bigcats-chart", ".leaflet-control-attribution"):
            assert page.locator(control).first.is_visible(), control
        assert "OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
        assert "GeoNames" in page.locator(".leaflet-control-attribution").inner_text()
        page.wait_for_timeout(500)
        assert errors == []


def test_russian_map_loads_with_russian_interface(tmp_path):
    from geo.pipeline import build

    path = build(ROOT / "layers", tmp_path, offline=True, lang="ru").files["land_of_big_cats.html"]
    with chromium_context() as context:
        page, errors, requests, _dialogs = _open(context, path)
        names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert [n.strip() for n in names][:2] == ["Парки России", "Парки Китая"]
        assert "Схематичные границы" in page.locator("#schematic-notice").inner_text()
        assert errors == []


def test_offline_page_requests_nothing_from_another_host(offline_map):
    with chromium_context() as context:
        page, errors, requests, _dialogs = _open(context, offline_map)
        page.mouse.move(700, 450)
        page.wait_for_timeout(800)
        foreign = [u for u in requests if not u.startswith(("file:", "data:", "about:", "blob:"))]
        assert foreign == []
        assert requests[0].startswith("file:")


def test_each_layer_toggles_off_and_on(offline_map):
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, offline_map)
        count = f"Object.keys({find_map_js()}._layers).length"
        boxes = page.locator(".leaflet-control-layers-overlays input[type=checkbox]")
        names = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        assert len(names) == 6, names
        for i in range(boxes.count()):
            before = page.evaluate(count)
            boxes.nth(i).click()
            assert not boxes.nth(i).is_checked()
            assert page.evaluate(count) < before, names[i]
            boxes.nth(i).click()
            assert boxes.nth(i).is_checked()
            assert page.evaluate(count) == before, names[i]
        assert errors == []


def test_schematic_notice_follows_the_schematic_layers(offline_map):
    with chromium_context() as context:
        page, _errors, _requests, _dialogs = _open(context, offline_map)
        notice = page.locator("#schematic-notice")
        assert notice.is_visible()
        labels = page.locator(".leaflet-control-layers-overlays label")
        for i in range(3):  # Russian parks, Chinese parks, proposed park: all schematic
            labels.nth(i).locator("input").click()
        assert not notice.is_visible()
        labels.nth(1).locator("input").click()
        assert notice.is_visible()


def test_click_in_chinese_park_shows_its_computed_area(offline_map):
    from geo.layers import read_layer

    chn = read_layer(ROOT / "layers", "parks_chn").geometry.iloc[0]
    expected_ha = abs(Geod(ellps="WGS84").geometry_area_perimeter(chn)[0]) / 10_000
    lat, lon = _chn_park_point()
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, offline_map)
        popup = _click_park(page, lat, lon)
        text = popup.inner_text()
        assert "Northeast China Tiger and Leopard National Park" in text
        shown = re.search(r"Computed area \(geodesic, WGS84\)\s+([\d,]+) ha", text)
        assert shown, text
        assert float(shown.group(1).replace(",", "")) == pytest.approx(expected_ha, rel=1e-4)
        assert errors == []


def test_hostile_names_show_as_text_and_run_nothing(xss_map):
    lat, lon = _chn_park_point()
    with chromium_context() as context:
        page, errors, _requests, dialogs = _open(context, xss_map)
        popup = _click_park(page, lat, lon)
        text = popup.inner_text()
        assert XSS_NAME in text
        assert TEMPLATE_NAME in text and "49" not in text.split(TEMPLATE_NAME)[0][-5:]
        assert BACKTICK_NAME in text
        assert popup.locator("img").count() == 0
        page.mouse.move(10, 400)
        page.wait_for_timeout(500)
        assert dialogs == []
        assert errors == []


def test_screenshot_of_the_full_map(language_maps, tmp_path):
    """Screenshots at desktop and phone size (BIGCATS_UPDATE_SCREENSHOT=1 refreshes the README's pictures)."""
    shots = {"map.png": ("en", (1400, 900)), "map_desktop.png": ("en", (1920, 1080)),
             "map_phone_zh.png": ("zh", (390, 844))}
    for name, (lang, viewport) in shots.items():
        with chromium_context(viewport=viewport) as context:
            page, _errors, _requests, _dialogs = _open(context, language_maps[lang])
            page.wait_for_timeout(500)
            page.screenshot(path=str(tmp_path / name))
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    if os.environ.get("BIGCATS_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        for name in shots:
            shutil.copyfile(tmp_path / name, ROOT / "docs" / name)
        shutil.copyfile(language_maps["zh"].with_suffix(".png"), ROOT / "docs" / "map_paper_zh.png")


def test_measure_tool_and_fullscreen_work_offline(offline_map):
    with chromium_context() as context:
        page, errors, requests, _dialogs = _open(context, offline_map)
        page.locator(".leaflet-control-measure").hover()
        page.click(".js-start")
        page.mouse.click(700, 500)
        page.mouse.click(800, 550)
        page.click(".js-finish")
        result = page.locator(".leaflet-popup-content").first.inner_text()
        assert re.search(r"[\d.]+ Kilometers", result), result
        page.click(".leaflet-control-zoom-fullscreen")
        page.wait_for_timeout(300)
        foreign = [u for u in requests if not u.startswith(("data:", "about:", "blob:"))]
        assert foreign == [file_url(offline_map)]  # the page itself, nothing else (no missing icon files)
        assert errors == []


# ---------------------------------------------------------------- earlier version beside the current one


@pytest.fixture(scope="module")
def compare_map(tmp_path_factory):
    """A folder store whose parks_chn version 2 is the eastern 70 % of version 1; map built with --compare."""
    from geo.cli import main
    from geo.store import open_store

    root = tmp_path_factory.mktemp("compare")
    store_dir = root / "store"
    shutil.copytree(ROOT / "layers", store_dir)
    store = open_store(store_dir)
    v1 = store.read_layer("parks_chn")
    west, south, east, north = v1.total_bounds
    v2 = v1.copy()
    v2["geometry"] = v1.geometry.intersection(shapely.box(west + 0.3 * (east - west), south - 1, east + 1, north + 1))
    store.write_layer("parks_chn", v2, provenance={"source": "cut.geojson"})
    assert main(["build", "--layers", str(store_dir), "--out", str(root / "out"), "--offline",
                 "--compare", "parks_chn=1"]) == 0
    return root / "out" / "land_of_big_cats.html", v1.geometry.iloc[0], v2.geometry.iloc[0]


def test_earlier_version_toggles_and_its_popup_gives_the_hectares(compare_map):
    path, v1, v2 = compare_map
    geod = Geod(ellps="WGS84")
    lost_ha = abs(geod.geometry_area_perimeter(shapely.difference(v1, v2))[0]) / 10_000
    gained_ha = abs(geod.geometry_area_perimeter(shapely.difference(v2, v1))[0]) / 10_000
    inside_lost = shapely.point_on_surface(shapely.difference(v1, v2).buffer(-0.02))
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, path)
        labels = page.locator(".leaflet-control-layers-overlays label")
        names = [n.strip() for n in labels.all_inner_texts()]
        i = names.index("Chinese protected areas, version 1 (earlier)")
        box = labels.nth(i).locator("input")
        dotted = "document.querySelectorAll('.leaflet-bigcats-earlier-pane path').length"
        assert page.evaluate(dotted) > 0
        box.click()
        assert page.evaluate(dotted) == 0
        box.click()
        assert page.evaluate(dotted) > 0
        text = _click_park(page, inside_lost.y, inside_lost.x).inner_text()
        assert "version 1" in text and "cut.geojson" not in text  # the earlier version's own source
        shown = {k: float(v.replace(",", "")) for k, v in re.findall(r"(Gained|Lost)\s+([\d,.]+) ha", text)}
        assert shown["Lost"] == pytest.approx(lost_ha, rel=1e-5)
        assert shown["Gained"] == pytest.approx(gained_ha, abs=0.1)
        assert errors == []


def _quality_map(tmp_path, quality_chn: str, quality_rus: str) -> Path:
    from geo.pipeline import build

    layers = tmp_path / "layers"
    shutil.copytree(ROOT / "layers", layers)
    for name, quality in (("parks_chn", quality_chn), ("parks_rus", quality_rus)):
        path = layers / f"{name}.geojson"
        data = json.loads(path.read_text(encoding="utf-8"))
        for feature in data["features"]:
            feature["properties"]["geometry_quality"] = quality
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return build(layers, tmp_path / "out", offline=True).files["land_of_big_cats.html"]


def test_schematic_notice_names_the_schematic_parks_only(tmp_path):
    from geo.layers import read_layer

    path = _quality_map(tmp_path / "mixed", "surveyed", "schematic")
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, path)
        notice = page.locator("#schematic-notice")
        assert notice.is_visible()
        listed = [n.strip() for n in page.locator("#schematic-names li").all_inner_texts()]
        assert sorted(listed) == sorted(read_layer(ROOT / "layers", "parks_rus")["name_en"])
        for name in read_layer(ROOT / "layers", "parks_chn")["name_en"]:
            assert name not in notice.inner_text()
        assert errors == []
    path = _quality_map(tmp_path / "surveyed", "surveyed", "surveyed")
    with chromium_context() as context:
        page, errors, _requests, _dialogs = _open(context, path)
        assert page.locator("#schematic-notice").count() == 0
        assert page.locator("#bigcats-title").is_visible()
        assert errors == []


def test_panels_do_not_overlap_each_other_or_the_controls(offline_map):
    def box(page, selector):
        b = page.locator(selector).first.bounding_box()
        return b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]

    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    for viewport in ((1400, 900), (1024, 700)):
        with chromium_context(viewport=viewport) as context:
            page, _errors, _requests, _dialogs = _open(context, offline_map)
            boxes = {s: box(page, s) for s in ("#bigcats-title", "#schematic-notice", "#bigcats-story",
                                               "#bigcats-legend", ".leaflet-control-layers", ".leaflet-control-zoom",
                                               ".leaflet-control-measure", ".leaflet-control-minimap")}
            keys = list(boxes)
            for i, a in enumerate(keys):
                for b in keys[i + 1:]:
                    assert not overlap(boxes[a], boxes[b]), (viewport, a, b, boxes[a], boxes[b])


# ---------------------------------------------------------------- every screen, every language (issue 13)

SCREENS = {"phone": (390, 844), "laptop": (1280, 720), "desktop": (1920, 1080)}

#: In the page: every text the reader can meet (text nodes, hidden ones too, titles, placeholders,
#: aria-labels, and every popup's and tooltip's content, opened or not), each with the language it
#: is marked as (the nearest ``lang`` attribute).
_TEXTS_JS = """() => {
  const out = [], map = (%s);
  function walk(root, fallback) {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = it.currentNode; n; n = it.nextNode()) {
      if (n.nodeType === 3) {
        const p = n.parentElement;
        if (p.closest('script,style')) continue;
        const t = n.textContent.trim();
        if (t) out.push([t, (p.closest('[lang]') || {}).lang || fallback]);
      } else {
        for (const a of ['title', 'placeholder', 'aria-label', 'alt']) {
          const v = n.getAttribute(a);
          if (v && v.trim()) out.push([v.trim(), (n.closest('[lang]') || {}).lang || fallback]);
        }
      }
    }
  }
  walk(document.body, document.documentElement.lang);
  out.push([document.title, document.documentElement.lang]);
  map.eachLayer(function (l) {
    for (const o of [l.getPopup && l.getPopup(), l.getTooltip && l.getTooltip()]) {
      if (!o || typeof o.getContent() !== 'string') continue;
      const div = document.createElement('div');
      div.lang = document.documentElement.lang; div.innerHTML = o.getContent();
      document.body.appendChild(div); walk(div, div.lang); div.remove();
    }
  });
  return out;
}"""


def _untranslated(texts: list, lang: str) -> list[str]:
    """Texts marked as the page's language that are not in it.

    In a Russian or Chinese page a Latin word is allowed only where that language's own
    catalogue keeps it (OpenStreetMap, GeoNames, WGS84...); in the English page no Cyrillic
    or Chinese character may stand unmarked. Names and data values in another language are
    marked with their ``lang`` and not counted.
    """
    from geo.render import messages

    if lang == "en":
        return [text for text, tl in texts if tl == lang and re.search(r"[\u0400-\u04ff\u3400-\u9fff]", text)]
    allowed = {w.lower() for m in messages().values() for w in re.findall(r"[A-Za-z]+", m[lang])}
    return sorted({text for text, tl in texts if tl == lang
                   and any(w.lower() not in allowed for w in re.findall(r"[A-Za-z]+", text))})


@pytest.fixture(scope="module")
def language_maps(tmp_path_factory) -> dict:
    """The default build (self-contained) in each language, built once for the module."""
    from geo.pipeline import build
    from geo.render import display_layers
    from geo.pipeline import measured_layers
    from geo.render.display import _label_point

    maps = {}
    for lang in ("en", "ru", "zh"):
        out = tmp_path_factory.mktemp(f"map_{lang}")
        maps[lang] = build(ROOT / "layers", out, lang=lang).files["land_of_big_cats.html"]
    layers, parks, proposed, _by_country = measured_layers(ROOT / "layers")
    shown = display_layers(layers, parks)
    chn = shown.parks[shown.parks["country_iso3"] == "CHN"].geometry.iloc[0]
    point = _label_point(chn)
    maps["park_point"] = (point.y, point.x)
    maps["proposed_bounds"] = tuple(shown.proposed.total_bounds)
    maps["park_count"] = len(parks)
    return maps


def _boxes(page, selector: str) -> list[tuple]:
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).filter(e => {
             const s = getComputedStyle(e); const r = e.getBoundingClientRect();
             return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0;
           }).map(e => { const r = e.getBoundingClientRect();
             return [e.id || e.className.toString().slice(0, 60), r.left, r.top, r.right, r.bottom]; })""",
        selector,
    )


def _overlap(a, b) -> bool:
    return a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]


def _proposed_on_screen(page, bounds) -> list:
    west, south, east, north = bounds
    return page.evaluate(
        f"""() => {{ const m = {find_map_js()};
            return [m.getZoom(), m.latLngToContainerPoint([{north}, {west}]), m.latLngToContainerPoint([{south}, {east}]),
                    m.getSize()]; }}"""
    )


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_screen_and_language(language_maps, screen, lang):
    """Fitted finite view, notice clear of every control, a tap opens a popup on screen, all in the language."""
    width, height = SCREENS[screen]
    path = language_maps[lang]
    with chromium_context(viewport=(width, height), touch=screen == "phone") as context:
        page, errors, requests, _dialogs = _open(context, path)
        # finite zoom, fitted to the proposed park: its whole box on screen, and not a speck
        zoom, top_left, bottom_right, size = _proposed_on_screen(page, language_maps["proposed_bounds"])
        assert zoom is not None and 4 <= zoom <= 12, zoom
        assert -2 <= top_left["x"] and -2 <= top_left["y"], (top_left, size)
        assert bottom_right["x"] <= size["x"] + 2 and bottom_right["y"] <= size["y"] + 2, (bottom_right, size)
        spans = ((bottom_right["x"] - top_left["x"]) / size["x"], (bottom_right["y"] - top_left["y"]) / size["y"])
        assert max(spans) >= 0.3, spans
        # the notice: visible, on screen, overlapped by no control or panel
        (notice,) = _boxes(page, "#schematic-notice")
        assert notice[1] >= 0 and notice[2] >= 0 and notice[3] <= width and notice[4] <= height, notice
        others = _boxes(page, ".leaflet-control, #bigcats-legend, #bigcats-story, #bigcats-title")
        assert len(others) >= 6
        hits = [o for o in others if _overlap(notice, o)]
        assert hits == [], hits
        # a tap (a click on a desktop) on the Chinese park opens its popup, inside the viewport
        lat, lon = language_maps["park_point"]
        x, y = page.evaluate(f"(() => {{ const p = {find_map_js()}.latLngToContainerPoint([{lat}, {lon}]);"
                             " return [p.x, p.y]; })()")
        box = page.locator(".folium-map").bounding_box()
        x, y = box["x"] + x, box["y"] + y
        assert page.evaluate(f"document.elementFromPoint({x}, {y}).classList.contains('leaflet-interactive')")
        if screen == "phone":
            page.tap(f"body", position={"x": x, "y": y}) if False else page.touchscreen.tap(x, y)
        else:
            page.mouse.click(x, y)
        page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        page.wait_for_timeout(100)  # the popup's pan into view starts on the next frames ...
        _settle(page)  # ... and the map stands still once it is done (a fixed wait lost the race under load)
        (popup,) = _boxes(page, ".leaflet-popup")
        assert popup[1] >= 0 and popup[2] >= 0 and popup[3] <= width and popup[4] <= height, (popup, width, height)
        close = page.locator(".leaflet-popup-close-button").bounding_box()
        cx, cy = close["x"] + close["width"] / 2, close["y"] + close["height"] / 2
        assert page.evaluate(f"!!document.elementFromPoint({cx}, {cy}).closest('.leaflet-popup-close-button')")
        # every string of the page, popups and tooltips included, in the page's language
        texts = page.evaluate(_TEXTS_JS % find_map_js())
        assert len(texts) > 100
        assert _untranslated(texts, lang) == []
        assert page.evaluate("document.documentElement.lang") == lang
        foreign = [u for u in requests if not u.startswith(("file:", "data:", "about:", "blob:"))]
        assert foreign == []
        assert errors == []


def _layer_names(page) -> list[str]:
    return [n.strip() for n in page.locator(".leaflet-control-layers-base label, .leaflet-control-layers-overlays label")
            .all_inner_texts()]


def test_blemishes_stay_fixed(language_maps):
    """Sea colour, no focus rectangle, the proposed park's popup from its inside, popups clear of the layer list."""
    from geo.render import WATER_COLOUR

    path = language_maps["en"]
    with chromium_context(viewport=(1400, 900)) as context:
        page, errors, _requests, _dialogs = _open(context, path)
        rgb = "rgb({}, {}, {})".format(*(int(WATER_COLOUR[i:i + 2], 16) for i in (1, 3, 5)))
        assert page.evaluate("getComputedStyle(document.querySelector('.leaflet-container')).backgroundColor") == rgb
        lat, lon = language_maps["park_point"]
        popup = _click_park(page, lat, lon)
        assert "Northeast China Tiger and Leopard National Park" in popup.inner_text()
        assert "Part of the proposed park" in popup.inner_text()
        outline = page.evaluate("(() => { const e = document.activeElement;"
                                " return e && e.tagName === 'path' ? getComputedStyle(e).outlineStyle : 'none'; })()")
        assert outline == "none"  # no black focus rectangle around the clicked park
        page.keyboard.press("Escape")  # closes the popup although the clicked path has the focus
        page.wait_for_function("document.querySelectorAll('.leaflet-popup').length === 0", timeout=3000)
        # with both countries' parks switched off, a click inside the proposed park opens its popup
        names = _layer_names(page)
        boxes = page.locator(".leaflet-control-layers-selector")
        for name in ("Russian parks", "Chinese parks"):
            boxes.nth(names.index(name)).click()
        text = _click_park(page, lat, lon).inner_text()
        assert "Land of Big Cats (proposed)" in text and "Computed area (union, geodesic)" in text
        # a popup opened under the layer list is moved clear of it: its close button can be clicked
        page.evaluate(f"""(() => {{ const m = {find_map_js()}; m.closePopup();
            const s = m.getSize(); L.popup().setLatLng(m.containerPointToLatLng([s.x - 40, 40]))
              .setContent('<table class="bigcats-popup"><tr><th>x</th><td>' + 'y '.repeat(80) + '</td></tr></table>')
              .openOn(m); }})()""")
        page.wait_for_timeout(600)
        close = page.locator(".leaflet-popup-close-button").bounding_box()
        cx, cy = close["x"] + close["width"] / 2, close["y"] + close["height"] / 2
        assert page.evaluate(f"!!document.elementFromPoint({cx}, {cy}).closest('.leaflet-popup-close-button')")
        (layers_box,) = _boxes(page, ".leaflet-control-layers")
        (popup_box,) = _boxes(page, ".leaflet-popup")
        assert not _overlap(layers_box, popup_box), (layers_box, popup_box)
        assert errors == []


@pytest.mark.parametrize("viewport", [(1400, 900), (1280, 720)])
def test_story_chart_is_whole_when_the_story_is_open(language_maps, viewport):
    with chromium_context(viewport=viewport) as context:
        page, errors, _requests, _dialogs = _open(context, language_maps["en"])
        assert page.locator("#bigcats-story").get_attribute("open") is not None
        ((_c, *chart),) = [[b[0], *b[1:]] for b in _boxes(page, "#bigcats-chart")]
        ((_s, *story),) = _boxes(page, "#bigcats-story")
        assert story[0] <= chart[0] and story[1] <= chart[1] and chart[2] <= story[2] and chart[3] <= story[3], (
            chart, story)
        assert chart[3] <= viewport[1]
        cx, cy = (chart[0] + chart[2]) / 2, (chart[1] + chart[3]) / 2
        assert page.evaluate(f"!!document.elementFromPoint({cx}, {cy}).closest('#bigcats-chart')")
        assert errors == []


def test_what_map_users_expect(language_maps):
    """Park labels with areas, hover, fill opacity, search, fit control, view in the hash, town popups,
    tiles marked online that fall back to the built-in map when they fail."""
    path = language_maps["en"]
    with chromium_context(viewport=(1400, 900)) as context:
        page, errors, _requests, _dialogs = _open(context, path)
        labels = page.eval_on_selector_all(".bigcats-park-label div", "els => els.map(e => e.textContent)")
        assert len(labels) == language_maps["park_count"] and all(re.search(r"[\d,]+ ha", label) for label in labels), labels
        # no two park labels drawn over each other: where they would be, the smaller park's waits for a
        # closer zoom, at which each label shows
        shown_js = ("Array.from(document.querySelectorAll('.bigcats-park-label div'))"
                    ".filter(e => getComputedStyle(e).visibility !== 'hidden')"
                    ".map(e => { const r = e.getBoundingClientRect(); return [0, r.left, r.top, r.right, r.bottom]; })")
        shown = page.evaluate(shown_js)
        assert shown and all(not _overlap(a, b) for i, a in enumerate(shown) for b in shown[i + 1:]), shown
        for i in range(len(labels)):
            page.evaluate(f"(() => {{ const m = {find_map_js()}; m.setView(window.bigcats.labels[{i}].getLatLng(), 12,"
                          " {animate: false}); })()")
            page.wait_for_function(f"getComputedStyle(window.bigcats.labels[{i}].getElement().firstChild).visibility"
                                   " !== 'hidden'", timeout=3000)
            shown = page.evaluate(shown_js)
            assert all(not _overlap(a, b) for j, a in enumerate(shown) for b in shown[j + 1:]), (i, shown)
        page.locator(".bigcats-fit a").click()
        page.wait_for_timeout(500)
        # hover highlight and the fill-opacity slider
        lat, lon = language_maps["park_point"]
        x, y = page.evaluate(f"(() => {{ const p = {find_map_js()}.latLngToContainerPoint([{lat}, {lon}]);"
                             " return [p.x, p.y]; })()")
        page.mouse.move(x, y)
        hovered = "document.elementFromPoint(%s, %s).getAttribute('stroke-width')" % (x, y)
        page.wait_for_function(f"{hovered} === '4'", timeout=3000)
        page.mouse.move(5, 5)
        page.wait_for_function(f"{hovered} === '2'", timeout=3000)
        page.locator("#bigcats-opacity").fill("80")
        assert page.evaluate("document.elementFromPoint(%s, %s).getAttribute('fill-opacity')" % (x, y)) == "0.8"
        # search: a town by name opens its popup; a park fits the view to it
        search = page.locator(".bigcats-search input")
        search.fill("Hunchun")
        search.press("Enter")
        page.wait_for_selector(".leaflet-popup-content .town-popup", timeout=5000)
        assert "Hunchun" in page.locator(".leaflet-popup-content").inner_text()
        assert "Population" in page.locator(".leaflet-popup-content").inner_text()
        search.fill("Kedrovaya")
        search.press("Enter")
        page.wait_for_selector(".leaflet-popup-content .park-popup", timeout=5000)
        # the town's popup, closed, fades out for a moment
        page.wait_for_function("document.querySelectorAll('.leaflet-popup-content').length === 1", timeout=5000)
        assert "Kedrovaya Pad" in page.locator(".leaflet-popup-content").inner_text()
        # the view is in the URL: the same link reopens the same view
        _settle(page)
        hash_, zoom = page.evaluate(f"[window.location.hash, {find_map_js()}.getZoom()]")
        other = context.new_page()
        other.goto(file_url(path) + hash_)
        other.wait_for_function(f"{find_map_js()} !== null")
        assert other.evaluate(f"{find_map_js()}.getZoom()") == pytest.approx(zoom)
        _z, lat_s, lon_s = (float(v) for v in hash_[1:].split("/"))
        centre = other.evaluate(f"(() => {{ const c = {find_map_js()}.getCenter(); return [c.lat, c.lng]; }})()")
        assert centre == pytest.approx([lat_s, lon_s], abs=1e-3)
        other.close()
        # fit to the proposed park
        page.keyboard.press("Escape")
        page.locator(".bigcats-fit a").click()
        page.wait_for_timeout(800)
        _zoom, top_left, bottom_right, size = _proposed_on_screen(page, language_maps["proposed_bounds"])
        assert top_left["x"] >= -2 and bottom_right["x"] <= size["x"] + 2 and bottom_right["y"] <= size["y"] + 2
        # tiles are marked online; when they fail (other hosts are blocked here) the page says so
        names = _layer_names(page)
        assert [n for n in names if "(online)" in n] == [
            "OpenStreetMap (online)", "OpenTopoMap (online)", "Satellite, Esri World Imagery (online)"]
        assert not page.locator("#bigcats-tile-error").is_visible()
        page.locator(".leaflet-control-layers-selector").nth(names.index("OpenStreetMap (online)")).click()
        page.wait_for_selector("#bigcats-tile-error", state="visible", timeout=5000)
        assert page.locator(".leaflet-control-layers-selector").nth(0).is_checked()  # back on the built-in map
        errors = [e for e in errors if "ERR_FAILED" not in e]  # the blocked tiles themselves
        assert errors == []


def test_print_layout_fits_the_park_and_hides_the_controls(language_maps):
    with chromium_context(viewport=(1047, 740)) as context:  # A4 landscape less 8 mm margins, CSS px
        page, errors, _requests, _dialogs = _open(context, language_maps["ru"])
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        page.wait_for_timeout(500)
        for hidden in (".leaflet-control-zoom", ".leaflet-control-layers", ".leaflet-control-measure",
                       ".leaflet-control-minimap", ".bigcats-search", "#bigcats-story"):
            assert not page.locator(hidden).first.is_visible(), hidden
        for shown in ("#schematic-notice", "#bigcats-legend", ".leaflet-control-attribution", "#bigcats-title"):
            assert page.locator(shown).first.is_visible(), shown
        _zoom, top_left, bottom_right, size = _proposed_on_screen(page, language_maps["proposed_bounds"])
        assert top_left["x"] >= -2 and top_left["y"] >= -2, top_left
        assert bottom_right["x"] <= size["x"] + 2 and bottom_right["y"] <= size["y"] + 2, (bottom_right, size)
        pdf = page.pdf(landscape=True, format="A4")
        assert pdf[:4] == b"%PDF"
        assert errors == []
