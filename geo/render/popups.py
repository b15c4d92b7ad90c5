"""The popups and tooltips of the map's features: escaped HTML tables in the page's language."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import geopandas as gpd

from geo.project import Project, bundled_project
from geo.render.text import (
    LANGUAGES,
    _difference,
    _e,
    _fmt_ha,
    _given,
    _lang_attr,
    _name,
    _num,
    _script_lang,
    _t,
    _value,
)


class _Html(str):
    """A table cell already written as HTML (its parts escaped and marked by language)."""


_CITATION = re.compile(r"^(?P<title>.+), (?P<url>https?://\S+) \(read (?P<date>\d{4}-\d{2}-\d{2})\)$", re.S)


def _citation(source: object, lang: str) -> _Html | str:
    """A source ``title, address (read DATE)`` as HTML.

    The title is quoted in its own language, the address is a link in no language, the date
    read is in the page's language.
    """
    text = _given(source)  # None, NaN and blank: no source
    if text is None:
        return ""
    match = _CITATION.match(text)
    if match is None:
        return _Html(f"<span{_lang_attr(_script_lang(text), lang)}>{_e(text)}</span>")
    title, url = match["title"], match["url"]
    return _Html(
        f"<cite{_lang_attr(_script_lang(title), lang)}>{_e(title)}</cite>, "
        f"<a href='{_e(url)}' target='_blank' rel='noopener' lang='zxx'>{_e(url)}</a> "
        f"({_e(_t(lang)['read_on'])} {_e(match['date'])})"
    )


def _cell(value: object) -> str:
    return value if isinstance(value, _Html) else _e(value)


def _cells(rows: Sequence[tuple], lang: str = "en") -> list[tuple[str, str]]:
    """Rows (label, value) or (label, value, language of the value) as escaped (label, ``<td>`` cell) HTML.

    A value that is already HTML (a citation) is kept as it is.
    """
    return [(_e(row[0]), f"<td{_lang_attr(row[2] if len(row) > 2 else None, lang)}>{_cell(row[1])}</td>")
            for row in rows]


def _table(rows: Sequence[tuple], css_class: str, lang: str = "en") -> str:
    """An HTML table of rows (label, value) or (label, value, language of the value), escaped (:func:`_cells`).

    The page's shared popup binder (:mod:`geo.render.features`) writes the same table from the same cells.
    """
    cells = "".join(f"<tr><th>{th}</th>{td}</tr>" for th, td in _cells(rows, lang))
    return f"<table class='bigcats-popup {css_class}'>{cells}</table>"


def _names(row, lang: str) -> list[tuple]:
    """The feature's name in the page's language, then its names in the other languages."""
    t = _t(lang)
    name, name_lang = _name(row, lang)
    rows = [(t["name"], name, name_lang)]
    for other in LANGUAGES:
        text = _given(row.get(f"name_{other}"))
        if other != lang and text and text != name:
            rows.append((t[f"name_{other}"], text, other))
    return rows


def _park_popup(row, lang: str, proposed: str | None = None) -> str:
    return _table(_park_rows(row, lang, proposed), "park-popup", lang)


def _park_rows(row, lang: str, proposed: str | None = None) -> list[tuple]:
    """A park's popup rows (:func:`_table`): names, designation, areas and their sources, quality, licence."""
    t = _t(lang)
    rows = _names(row, lang) + [
        (t["designation"], *_value("designation", row.get("designation"), lang)),
        (t["iucn"], row.get("iucn_cat"), "zxx"),  # a code (Ia, II...): no language
        (t["year"], row.get("status_year")),
        (t["computed"], _fmt_ha(row["area_ha"], lang)),
        (t["published"], _fmt_ha(row.get("reported_area_ha"), lang)),
        (t["difference"], _difference(row["area_ha"], row.get("reported_area_ha"), lang)),
        (t["published_source"], _citation(row.get("reported_area_source"), lang)),
        (t["quality"], *_value("quality", row.get("geometry_quality"), lang)),
        (t["method"], row.get("geometry_method"), "en"),
        (t["source"], row.get("source"), "en"),
        (t["licence"], row.get("licence"), "en"),
    ]
    if proposed:
        rows.append((t["in_proposed"], proposed))
    return rows


def _proposed_popup(areas: Mapping, lang: str, project: Project | None = None) -> str:
    t = _t(lang, project)
    project = bundled_project() if project is None else project
    totals = areas["totals"]
    total = totals["proposed_park"]
    return _table(
        [
            (t["name"], t["proposed_name"]),
            (t["union"], _fmt_ha(total["area_ha"], lang)),
            (t["published"], _fmt_ha(total.get("reported_area_ha"), lang)),
            (t["difference"], _difference(total["area_ha"], total.get("reported_area_ha"), lang)),
            (t["published_source"], _citation(total.get("reported_area_source"), lang)),
            *((t[f"computed_{iso3}"], _fmt_ha(totals[iso3]["area_ha"], lang)) for iso3 in project.countries
              if iso3 in totals),
        ],
        "proposed-popup",
        lang,
    )


def _town_popup(row, lang: str, countries: Mapping[str, tuple[str, str]]) -> str:
    t = _t(lang)
    rows = _names(row, lang)
    iso3 = row.get("country_iso3")
    if iso3 in countries:
        rows.append((t["country"], *countries[iso3]))
    population = row.get("population")
    if population is not None and not (isinstance(population, float) and math.isnan(population)) and population > 0:
        rows.append((t["population"], _num(population, lang)))
    return _table(rows, "town-popup", lang)  # source and licence: the attribution (the same for every town)


def _country_names(countries: gpd.GeoDataFrame, lang: str) -> dict[str, tuple[str, str]]:
    return {
        str(row["country_iso3"]): _name(row, lang) for _, row in countries.iterrows() if "country_iso3" in row
    }


def _border_name(row, countries: Mapping[str, tuple[str, str]], lang: str) -> str:
    """A border's human name (escaped HTML): 'Border: Russia – China', country names from the layer."""
    a, _, b = str(row["id"]).partition("-")
    if a not in countries or b not in countries:
        return _e(row["id"])
    parts = {}
    for key, iso3 in (("a", a), ("b", b)):
        name, name_lang = countries[iso3]
        attr = _lang_attr(name_lang, lang)
        parts[key] = f"<span{attr}>{_e(name)}</span>" if attr else _e(name)
    template = _e(_t(lang)["border_of"].replace("{a}", "\0a").replace("{b}", "\0b"))
    return template.replace("\0a", parts["a"]).replace("\0b", parts["b"])
