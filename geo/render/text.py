"""The map's words: the message catalogue per language, and values written for the page.

Numbers as each language writes them, areas in hectares, names in the page's language (or in
English, marked so), and the escaping every attribute value goes through before it reaches the
page (:func:`_e` for HTML, :func:`_js` for a script).
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import SupportsFloat

import geopandas as gpd

from geo.errors import UsageError
from geo.project import Project, bundled_project

LANGUAGES = ("en", "ru", "zh")

#: The message catalogue: every string of the page, of the static map and of the plugins'
#: options, keyed, each in every language of :data:`LANGUAGES` (``tests/test_render.py`` checks).
MESSAGES_PATH = Path(__file__).with_name("messages.json")


@functools.cache
def messages() -> dict[str, dict[str, str]]:
    """The message catalogue (``geo/render/messages.json``): key -> {language: text}."""
    return json.loads(MESSAGES_PATH.read_text(encoding="utf-8"))


@functools.cache
def _catalogue(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in messages().items()}


def _t(lang: str, project: Project | None = None) -> dict:
    """The catalogue in ``lang`` with the project's own texts (default: the bundled project)."""
    if lang not in LANGUAGES:
        raise UsageError(f"unknown language --lang {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return _bundled_t(lang) if project is None else _project_t(lang, project)


@functools.cache
def _bundled_t(lang: str) -> dict:
    return _project_t(lang, bundled_project())


def _project_t(lang: str, project: Project) -> dict:
    """The catalogue, then the texts that name the project, its countries and borders.

    Each is the project's own (``[texts]`` of project.toml) or the catalogue's template filled
    with its names.
    """
    base = _catalogue(lang)
    name = project.display_name(lang)
    out = dict(base)
    out["title"] = project.text("title", lang) or base["title_of"].format(name=name)
    out["proposed_name"] = project.text("proposed_name", lang) or base["proposed_of"].format(name=name)
    for iso3 in project.all_countries:
        country = project.country_name(iso3, lang)
        out[f"parks_{iso3}"] = project.text(f"parks_{iso3}", lang) or base["parks_of"].format(country=country)
        out[f"computed_{iso3}"] = project.text(f"computed_{iso3}", lang) or base["computed_of"].format(country=country)
    out["border_group"] = project.text("border_group", lang) or base["border_group_of"]
    out["border_line"] = project.text("border_line", lang) or base["border_line_of"]
    out.update({key: text for key in project.texts if (text := project.text(key, lang))})
    return out


def _stretch_km(stretch: gpd.GeoDataFrame, lang: str) -> str:
    """The stretches' published length (else their length), as the legend writes it."""
    values = []
    for _, row in stretch.iterrows():
        km = row.get("reported_length_km")
        km = row.get("length_km") if km is None or (isinstance(km, float) and math.isnan(km)) else km
        if km is not None and not (isinstance(km, float) and math.isnan(km)):
            values.append(_num(km, lang))
    return " / ".join(values)


def _num(value: float, lang: str, digits: int = 0, *, sign: bool = False) -> str:
    """A number as the language writes it; never ``-0`` (a value that rounds to zero has no sign)."""
    value = round(float(value), digits)
    if value == 0:
        value, sign = 0.0, False
    text = f"{value:{'+' if sign else ''},.{digits}f}"
    if lang == "ru":  # 1 460 000,5 (narrow no-break space, decimal comma)
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _value(kind: str, value: object, lang: str) -> tuple[str, str | None]:
    """A data value translated through the catalogue (``kind:value``), else as it is, in English."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", None
    text = _t(lang).get(f"{kind}:{value}")
    return (text, lang) if text is not None else (str(value), "en")


def _e(value: object) -> str:
    """HTML-escape any attribute value (None and NaN become an empty string).

    Braces become character references too: folium renders each element's output a second
    time as a Jinja template, so a value such as ``{{ 7*7 }}`` would otherwise be evaluated.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


#: Inside ``<script>`` only ``<`` can end the element or open a comment (``</script``, ``<!--``), and
#: the HTML parser decodes no entity there, so ``>``, ``&`` and quotes stay as they are (a JSON string
#: is double-quoted); braces and ``%`` would be read by folium's second Jinja pass.
_JS_ESCAPES = {"<": "\\u003c", "{": "\\u007b", "}": "\\u007d",
               "%": "\\u0025", "`": "\\u0060", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _js(value: object) -> str:
    """A JSON literal safe inside ``<script>`` and inert to folium's second Jinja pass."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(_JS_ESCAPES.get(ch, ch) for ch in text)


def _js_texts(texts: Mapping[str, str]) -> str:
    """A JS object of our own keys to texts, each text through :func:`_js`."""
    return "{" + ", ".join(f"{json.dumps(key)}: {_js(text)}" for key, text in texts.items()) + "}"


def _fmt_ha(value: SupportsFloat | str | None, lang: str) -> str:
    t = _t(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t["not_published"]
    value = float(value)
    return f"{_num(value, lang)} {t['ha']} ({_num(value / 100, lang)} {t['km2']})"


def _difference(area_ha: SupportsFloat | str, reported: SupportsFloat | str | None, lang: str = "en") -> str:
    if reported is None or (isinstance(reported, float) and math.isnan(reported)) or not reported:
        return "–"
    diff = float(area_ha) - float(reported)
    share = _num(100 * diff / float(reported), lang, 2, sign=True)
    return f"{_num(diff, lang, sign=True)} {_t(lang)['ha']} ({share} %)"


def _lang_attr(text_lang: str | None, lang: str) -> str:
    """``lang='xx'`` on text that is not in the page's language (a name or a data value in English)."""
    return f" lang='{text_lang}'" if text_lang and text_lang != lang else ""


def _given(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
        return None
    return str(value)


def _name(row, lang: str) -> tuple[str, str]:
    """The feature's name in ``lang`` and the language it is in (English where none is given)."""
    name = _given(row.get(f"name_{lang}"))
    if name is not None:
        return name, lang
    return str(_given(row.get("name_en")) or row.get("id")), "en"


def _label(row, lang: str) -> str:
    return _name(row, lang)[0]


def _label_html(row, lang: str) -> str:
    """The escaped name, marked with its language where it falls back to English."""
    name, name_lang = _name(row, lang)
    attr = _lang_attr(name_lang, lang)
    return f"<span{attr}>{_e(name)}</span>" if attr else _e(name)


def _script_lang(text: str) -> str:
    """The language a citation is written in, by its script (a source title is quoted as it is)."""
    if re.search(r"[\u3400-\u9fff]", text):
        return "zh"
    return "ru" if re.search(r"[\u0400-\u04ff]", text) else "en"
