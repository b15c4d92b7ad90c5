"""The panels beside the map: title, schematic notice, story with its count chart, legend, attribution."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from geo.project import Project
from geo.render.context import CONTEXT_COLOUR
from geo.render.style import (
    COMPARISON_COLOUR,
    LAND_COLOUR,
    OTHER_BORDER_COLOUR,
    PAIR_BORDER_COLOUR,
    PARK_FILL_OPACITY,
    PROPOSED_COLOUR,
    STRETCH_COLOUR,
    country_colours,
)
from geo.render.text import _e, _lang_attr, _script_lang, _t

#: Milestones of the story: (year, fact ids whose sources are cited). Their texts are the catalogue's
#: ``story:YEAR`` (``story_landscape`` for the line above them); ``{id}`` in a text is the value of that
#: row of the facts table, ``{name.ID}`` the name of the park ``ID`` in the page's language.
_MILESTONES = (
    ("1916", ("park.RUS-KPAD.protected_since", "park.RUS-KPAD.zapovednik_since")),
    ("2001", ("landscape",)),
    ("2004", ("landscape",)),
    ("2007", ("landscape",)),
    ("2010", ("landscape",)),
    ("2012", ("park.RUS-LOTL.established", "park.RUS-LOTL.reported_area_ha", "park.RUS-LOTL.critical_habitat_pct")),
    ("2017", ("park.CHN-NETLNP.reported_area_ha", "park.CHN-NETLNP.jilin_share_pct")),
    ("2019", ("landscape",)),
    ("2021", ("park.CHN-NETLNP.established", "park.CHN-NETLNP.reported_area_ha.2021")),
    ("next", ("total.proposed_park.reported_area_ha",)),
)


def _fact_text(fact) -> str:
    """A fact's value as shown: numbers with thousands separators, text as it is."""
    try:
        number = float(fact.value)
    except ValueError:
        return fact.value
    return f"{number:,.0f}" if number >= 10_000 else fact.value


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``{fact id}`` of a story template with the fact's value.

    ``{name.ID}`` is the park's name, its id where the layers have no such park.
    """
    return re.sub(r"\{([^{}]+)\}", lambda m: values[m.group(1)] if m.group(1) in values or not m.group(1).startswith(
        "name.") else m.group(1)[5:], template)


def _story_facts(facts):
    if facts is None:
        from geo.facts import read_facts

        facts = read_facts()
    return facts


def _counts(facts) -> dict:
    """Counts in the landscape (start / under the joint programme / 2019), from the facts table."""
    return {kind: tuple(int(v) for v in facts[f"count.{kind}"].value.split(";")) for kind in ("leopards", "tigers")}


_KINDS = ("surveyed", "schematic", "unverified")


def _quality_kind(quality) -> str:
    """How a park's ``geometry_quality`` is drawn: surveyed (solid), unverified or schematic (dashed)."""
    return quality if quality in ("surveyed", "unverified") else "schematic"


def _legend_html(lang: str, *, comparisons: bool = False, styles: set | None = None, project: Project | None = None,
                 stretch_km: str = "", context: bool = False) -> str:
    """The legend; ``styles`` holds the (country, kind) park styles on the map (all when None).

    ``context``: the map draws the context layer (other protected areas, :mod:`geo.render.context`).

    ``kind`` is ``surveyed``, ``schematic`` or ``unverified`` (see :func:`_quality_kind`).
    """
    t = _t(lang, project)
    colours = country_colours(project)

    def line(colour: str, label: str, *, width: int = 3, dash: str = "", fill: str = "none") -> str:
        swatch = (
            f"<svg width='28' height='14'><rect x='2' y='2' width='24' height='10' "
            f"fill='{fill}' fill-opacity='0.3' stroke='{colour}' stroke-width='{width}' "
            f"stroke-dasharray='{dash}'/></svg>"
        )
        return f"<div>{swatch} {_e(label)}</div>"

    styles = styles or {(iso3, kind) for iso3 in colours for kind in _KINDS}
    rows = [
        line(colours[iso3], f"{t[f'parks_{iso3}']}: {t[kind]}",
             dash="6 4" if kind != "surveyed" else "", fill=colours[iso3])
        for iso3 in colours for kind in _KINDS if (iso3, kind) in styles
    ] + [
        line(PROPOSED_COLOUR, t["proposed"], dash="10 5" if any(k != "surveyed" for _i, k in styles) else ""),
        line(PAIR_BORDER_COLOUR, t["border_line"], width=2),
        line(STRETCH_COLOUR, f"{t['stretch']}, {stretch_km} {t['km']}" if stretch_km else t["stretch"], width=5),
        line(OTHER_BORDER_COLOUR, t["other_borders"], width=1),
        *([line(CONTEXT_COLOUR, t["context_layer"], width=1, fill=CONTEXT_COLOUR)] if context else []),
        line("#999", t["land"], width=1, fill=LAND_COLOUR),
        f"<div><svg width='28' height='14'><circle cx='14' cy='7' r='4' fill='#222'/>"
        f"</svg> {_e(t['towns'])}</div>",
    ]
    if comparisons:
        rows.append(line(COMPARISON_COLOUR, t["earlier_legend"], width=2, dash="2 4"))
    rows.append(
        f"<label class='bigcats-opacity'>{_e(t['opacity'])} <input id='bigcats-opacity' type='range' min='0' "
        f"max='100' value='{round(100 * PARK_FILL_OPACITY)}' aria-label='{_e(t['opacity'])}'></label>"
    )
    return (
        "<details id='bigcats-legend' class='bigcats-panel' open>"
        f"<summary><b>{_e(t['legend'])}</b></summary>{''.join(rows)}</details>"
    )


def _chart_svg(lang: str, facts=None) -> str:
    t = _t(lang)
    width, height, base = 300, 135, 110
    periods = (t["early"], t["later"], t["now"])
    bars = []
    for i, (kind, colour) in enumerate((("leopards", "#d68910"), ("tigers", "#a04000"))):
        for j, count in enumerate(_counts(_story_facts(facts))[kind]):
            x = 25 + j * 95 + i * 26
            h = count * 0.7
            label = f"{count}" if j < 2 else f">{count}" if kind == "leopards" else f"{count}"
            bars.append(
                f"<rect x='{x}' y='{base - h:.1f}' width='22' height='{h:.1f}' fill='{colour}'>"
                f"<title>{_e(t[kind])}: {_e(label)}</title></rect>"
                f"<text x='{x + 11}' y='{base - h - 2:.1f}' font-size='9' text-anchor='middle'>{_e(label)}</text>"
            )
    def two_lines(text: str, x: int) -> str:  # a long period name on two lines, split at the middle space
        spaces = [i for i, ch in enumerate(text) if ch == " "]
        if len(text) <= 16 or not spaces:
            return _e(text)
        cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
        return f"<tspan x='{x}'>{_e(text[:cut])}</tspan><tspan x='{x}' dy='9'>{_e(text[cut + 1:])}</tspan>"

    labels = "".join(
        f"<text x='{49 + j * 95}' y='{base + 10}' font-size='8' text-anchor='middle'>{two_lines(p, 49 + j * 95)}</text>"
        for j, p in enumerate(periods)
    )
    key = (
        f"<rect x='25' y='4' width='8' height='8' fill='#d68910'/><text x='36' y='11' font-size='9'>"
        f"{_e(t['leopards'])}</text><rect x='25' y='16' width='8' height='8' fill='#a04000'/>"
        f"<text x='36' y='23' font-size='9'>{_e(t['tigers'])}</text>"
    )
    return (
        f"<svg id='bigcats-chart' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{_e(t['count_title'])}'>{''.join(bars)}{labels}{key}</svg>"
    )


def _story_html(lang: str, facts=None, park_names: Mapping[str, str] | None = None) -> str:
    """The story panel.

    The count chart first (always in view when the story is open), then the landscape, the
    milestones with their figures from the facts table, and the numbered sources.
    """
    t = _t(lang)
    facts = _story_facts(facts)
    values = {fid: _fact_text(fact) for fid, fact in facts.items()}
    values.update({f"name.{pid}": name for pid, name in (park_names or {}).items()})
    cited: list = []

    def cite(ids) -> str:
        marks = []
        for fid in ids:
            key = (facts[fid].source_title, facts[fid].source_url)
            if key not in cited:
                cited.append(key)
            marks.append(cited.index(key) + 1)
        return "".join(f"<sup>{n}</sup>" for n in sorted(set(marks)))

    items = "".join(
        f"<li><b>{_e(t.get(year, year))}</b> {_e(_fill(t[f'story:{year}'], values))}{cite(ids)}</li>"
        for year, ids in _MILESTONES
    )
    # the landscape's name is the source's own (in English): marked as such
    before, _, after = t["story_landscape"].partition("{landscape}")
    landscape = f"{_e(before)}<span lang='en'>{_e(values['landscape'])}</span>{_e(after)}{cite(['landscape'])}"
    counts = cite(["count.leopards", "count.tigers"])
    sources = "".join(
        f"<li><cite{_lang_attr(_script_lang(title), lang)}>{_e(title)}</cite>, "
        f"<a href='{_e(url)}' target='_blank' rel='noopener' lang='zxx'>{_e(url)}</a></li>"
        for title, url in cited
    )
    return (
        "<details id='bigcats-story' class='bigcats-panel' open>"
        f"<summary><b>{_e(t['story'])}</b></summary>"
        f"<b>{_e(t['count_title'])}</b>{counts}<br>{_chart_svg(lang, facts)}"
        f"<div id='bigcats-landscape'>{landscape}</div><ol>{items}</ol>"
        f"<div class='bigcats-source'>{_e(t['source'])}:<ol id='bigcats-sources'>{sources}</ol></div></details>"
    )


def _panels_html(lang: str, notice: str, facts=None, park_names: Mapping[str, str] | None = None,
                 project: Project | None = None) -> str:
    """Title, schematic notice, tile message and story stacked in one column, so they never overlap.

    On a wide screen the column stands left of the map and stops above the legend; on a narrow
    one it spans the top between the control columns, and the story starts closed.
    """
    t = _t(lang, project)
    facts = _story_facts(facts)
    # the story is the bundled project's (its milestones name its facts); a project without them has none
    story = _story_html(lang, facts, park_names) if all(
        fid in facts for _year, ids in _MILESTONES for fid in ids) and all(
        f"count.{kind}" in facts for kind in ("leopards", "tigers")) else ""
    return (
        "<div id='bigcats-panels'>"
        f"<div id='bigcats-title' class='bigcats-panel'>{_e(t['title'])}</div>"
        f"{notice}<div id='bigcats-tile-error' class='bigcats-panel' role='alert' hidden>{_e(t['tiles_failed'])}</div>"
        f"{story}</div>"
        f"<div id='bigcats-no-library' class='bigcats-panel'>{_e(t['no_library'])}</div>"
    )


def _notice_html(lang: str, names: Sequence[str], unverified: Sequence[str] = ()) -> str:
    """The schematic-boundaries notice, naming the schematic and the unverified features on the map (escaped HTML)."""
    t = _t(lang)
    items = "".join(f"<li>{name}</li>" for name in names)
    schematic = (
        f"<b>{_e(t['notice_title'])}</b> {_e(t['notice'])} <ul id='schematic-names'>{items}</ul>" if names else ""
    )
    more = "".join(f"<li>{name}</li>" for name in unverified)
    more = f"{_e(t['notice_unverified'])} <ul id='unverified-names'>{more}</ul>" if unverified else ""
    return f"<div id='schematic-notice' class='bigcats-panel'>{schematic}{more}</div>"


def _attribution_html(lang: str) -> str:
    t = _t(lang)
    return f"<span id='attribution-note'>{_e(t['attribution'].format(data=t['data'], article=t['article']))}</span>"
