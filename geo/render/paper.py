"""The map on paper: a PNG and a PDF drawn with matplotlib from the display layers, without tiles.

The same layers as the interactive map (:func:`geo.render.display_layers`), in the same
language and from the same message catalogue: title, parks with their names and geodesic
areas, the proposed park, borders, the 270 km stretch, towns, legend, scale bar, north arrow,
the schematic notice and the attribution. The map is drawn in longitude/latitude with the
aspect of the map's middle latitude (a plate carrée true to scale there); the scale bar's
length is geodesic (WGS84). matplotlib is imported only here, when the static map is drawn.

Text is drawn with Noto Sans CJK (Debian's ``fonts-noto-cjk``, installed by ``make map``),
which covers Latin, Cyrillic and Chinese; without it, English and Russian fall back to
matplotlib's own DejaVu Sans, and Chinese is refused with the fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from geo.errors import UsageError
from geo.forked import call_forked
from geo.project import bundled_project
from geo.render.display import _label_point
from geo.render.labels import Label, place_labels
from geo.render.style import (
    LAND_COLOUR,
    OTHER_BORDER_COLOUR,
    PAIR_BORDER_COLOUR,
    PARK_FILL_OPACITY,
    PROPOSED_COLOUR,
    STRETCH_COLOUR,
    WATER_COLOUR,
    _pair_ids,
    country_colours,
)
from geo.render.text import _fmt_ha, _label, _stretch_km, _t

if TYPE_CHECKING:  # matplotlib is imported only when the static map is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CJK_FONT", "StaticMap", "compose_static", "draw_static", "warm_up"]

#: Noto Sans CJK (Latin, Cyrillic, CJK) as Debian's fonts-noto-cjk installs it.
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
#: Its bold weight (the title, the legend's heading), a collection of the same faces.
CJK_BOLD_FONT = CJK_FONT.with_name("NotoSansCJK-Bold.ttc")
#: Its face with the simplified Chinese glyph forms (the collection's first face is the Japanese one,
#: whose forms of some shared characters differ from those Chinese readers expect).
CJK_FACE = "Noto Sans CJK SC"
#: The PDF's fonts: Type 3 (the glyphs used, drawn from the font's outlines, with a ToUnicode map, so
#: the text can still be searched, selected and copied). TrueType embedding (42) made matplotlib
#: subset the 20 MB Noto Sans CJK collections with fontTools: 1.6-2.4 s of the build against
#: 0.4-0.6 s, for a PDF 15 % smaller.
PDF_FONTTYPE = 3
#: A4 landscape, inches; the PNG is drawn at 200 dpi (2339 px wide).
PAGE_IN = (11.69, 8.27)
PNG_DPI = 200
#: Where a town's name may go, in order: right of its marker, left, above, below, then the four corners
#: (points from the marker, alignment).
_TOWN_OFFSETS = ((3.0, 0.0, "left", "center"), (-3.0, 0.0, "right", "center"), (0.0, 3.0, "center", "bottom"),
                 (0.0, -3.0, "center", "top"), (2.0, 2.0, "left", "bottom"), (-2.0, 2.0, "right", "bottom"),
                 (2.0, -2.0, "left", "top"), (-2.0, -2.0, "right", "top"))


def _font_family(lang: str) -> list[str]:
    from matplotlib import font_manager

    faces = _register_cjk()
    if faces:
        first = CJK_FACE if CJK_FACE in faces else font_manager.FontProperties(fname=str(CJK_FONT)).get_name()
        return [first, "DejaVu Sans"]
    if lang == "zh":
        raise UsageError(
            f"the font for Chinese text ({CJK_FONT}) is missing: run 'make fonts' "
            "(it installs Debian's fonts-noto-cjk) or build with --lang en or ru"
        )
    return ["DejaVu Sans"]


def warm_up() -> None:
    """Import matplotlib's figure and its PNG and PDF backends, and register the font.

    What :func:`draw_static` needs before it draws: a process that will draw (see
    :class:`geo.forked.Forked`) runs this while the inputs are still being made.
    """
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_pdf
    import matplotlib.figure  # noqa: F401 - the import is the work
    _register_cjk()


def _register_cjk() -> set[str]:
    """Register every face of the CJK font, regular and bold, with matplotlib once; the names of its faces.

    None when the font is missing. matplotlib's own scan of the system fonts finds only the
    first (Japanese) face of each collection, so without the bold collection's faces the bold
    text of :data:`CJK_FACE` would fall back to the regular weight.
    """
    from matplotlib import font_manager

    if not CJK_FONT.is_file():
        return set()
    faces = {entry.name for entry in font_manager.fontManager.ttflist if entry.fname == str(CJK_FONT)}
    if not faces:
        for path in (CJK_FONT, CJK_BOLD_FONT):  # every face of each collection (matplotlib >= 3.10)
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
        faces = {entry.name for entry in font_manager.fontManager.ttflist if entry.fname == str(CJK_FONT)}
    return faces


def _wrap(text: str, width: int) -> str:
    """Lines of at most ``width`` characters (Chinese, without spaces, is cut between characters)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False))


def _nice_km(km: float) -> float:
    """The largest 1, 2 or 5 × 10^n not above ``km``."""
    power = 10 ** math.floor(math.log10(km))
    return max(step * power for step in (1, 2, 5) if step * power <= km)


def _plot_geom(ax, geom, **style) -> None:
    """Draw a (multi)polygon's parts as one patch (their rings one path: its parts never overlap).

    Added as an artist, not with ``add_patch``: the axes' limits are set already, and
    ``add_patch`` would walk every segment of the outline to update data limits no one reads.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    rings = [
        np.asarray(ring.coords)[:, :2]
        for poly in shapely.get_parts(geom)
        if poly.geom_type == "Polygon" and not poly.is_empty
        for ring in (poly.exterior, *poly.interiors)
    ]
    if not rings:
        return
    codes = np.full(sum(len(r) for r in rings), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.cumsum([0, *(len(r) for r in rings)])
    codes[starts[:-1]] = MplPath.MOVETO
    codes[starts[1:] - 1] = MplPath.CLOSEPOLY
    ax.add_artist(PathPatch(MplPath(np.concatenate(rings), codes), **style))


def _plot_lines(ax, geom, **style) -> None:
    """Draw a (multi)line's parts as one collection (one artist, not one per part)."""
    from matplotlib.collections import LineCollection

    lines = [
        np.asarray(line.coords)[:, :2]
        for line in shapely.get_parts(geom)
        if line.geom_type == "LineString" and not line.is_empty
    ]
    if lines:
        import matplotlib

        style = {("colors" if k == "color" else "linewidths" if k == "linewidth" else k): v for k, v in style.items()}
        # the ends and corners of plain lines (a collection's own default is butt ends, mitred corners)
        style.setdefault("capstyle", matplotlib.rcParams["lines.solid_capstyle"])
        style.setdefault("joinstyle", matplotlib.rcParams["lines.solid_joinstyle"])
        ax.add_collection(LineCollection(lines, **style), autolim=False)


def draw_static(
    shown,
    layers: Mapping,
    parks,
    areas: Mapping,
    *,
    lang: str,
    png_path: str | Path,
    pdf_path: str | Path,
    project=None,
) -> tuple[float, float, float, float]:
    """Draw the map to a PNG (at least 2000 px wide) and a one-page A4 landscape PDF.

    Parameters
    ----------
    shown, layers, parks, areas, lang, project
        As for :func:`compose_static`.
    png_path, pdf_path : str or Path
        Where to write (the caller makes the writes atomic).

    Returns
    -------
    tuple of float
        The drawn extent (west, south, east, north), degrees, as the map's axes hold it.
    """
    import matplotlib

    static = compose_static(shown, layers, parks, areas, lang=lang, project=project)
    with matplotlib.rc_context(_rc(lang)):
        # the PDF (font subsetting, most of the time) in a forked copy of this process, the PNG here
        pdf_done = call_forked(static.figure.savefig, pdf_path, format="pdf", metadata={"Title": static.title})
        static.figure.savefig(png_path, dpi=PNG_DPI, format="png")
        pdf_done()
    (west, east), (south, north) = static.axes.get_xlim(), static.axes.get_ylim()
    return west, south, east, north


def _rc(lang: str) -> dict:
    """The settings of matplotlib for the paper map in ``lang`` (its fonts; Type 3 fonts in the PDF)."""
    return {"font.family": _font_family(lang), "pdf.fonttype": PDF_FONTTYPE, "svg.fonttype": "none",
            "axes.unicode_minus": False}


@dataclass(frozen=True)
class StaticMap:
    """The paper map composed (:func:`compose_static`), not yet saved."""

    figure: Figure  # matplotlib's
    axes: Axes  # the map's
    labels: list  # the label artists placed on the map (parks first, then towns), see geo.render.labels
    title: str


def compose_static(shown, layers: Mapping, parks, areas: Mapping, *, lang: str, project=None) -> StaticMap:
    """Compose the paper map: A4 landscape, the map on the left, legend and notice on the right.

    Parameters
    ----------
    shown : geo.render.DisplayLayers
        Display geometry of countries, parks, proposed park, borders and stretch.
    layers : mapping of role to GeoDataFrame
        The layers as read (``places`` for the towns).
    parks : GeoDataFrame
        Both countries' parks with ``area_ha`` (same index as ``shown.parks``).
    areas : mapping
        The area report (``areas.json`` content).
    lang : {"en", "ru", "zh"}
        Language of every text.
    project : geo.project.Project, optional
        Names the countries, the title and the borders; default the bundled project.
    """
    import matplotlib
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from pyproj import Geod


    t = _t(lang, project)
    project = bundled_project() if project is None else project
    colours, pair_ids = country_colours(project), _pair_ids(project)
    stretch_km = _stretch_km(layers["stretch"], lang)
    with matplotlib.rc_context(_rc(lang)):
        fig = Figure(figsize=PAGE_IN)
        fig.text(0.02, 0.965, t["title"], fontsize=15, weight="bold", va="top")
        ax = fig.add_axes((0.02, 0.1, 0.66, 0.83))
        ax.set_facecolor(WATER_COLOUR)
        framed = shown.proposed if not shown.proposed.geometry.is_empty.all() else shown.stretch  # no park left
        west, south, east, north = framed.total_bounds
        lat0 = (south + north) / 2
        aspect = 1 / math.cos(math.radians(lat0))
        pad_x, pad_y = 0.08 * (east - west), 0.08 * (north - south)
        x0, x1, y0, y1 = west - pad_x, east + pad_x, south - pad_y, north + pad_y
        # widen the extent to the axes' shape, so the aspect never crops the proposed park
        box_w, box_h = 0.66 * PAGE_IN[0], 0.83 * PAGE_IN[1]
        want = box_w / box_h  # ground width / height in display units: (dx / aspect) / dy
        dx, dy = (x1 - x0) / aspect, y1 - y0
        if dx / dy < want:
            extra = (want * dy - dx) * aspect / 2
            x0, x1 = x0 - extra, x1 + extra
        else:
            extra = (dx / want - dy) / 2
            y0, y1 = y0 - extra, y1 + extra
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(aspect)
        ax.set_xticks([])
        ax.set_yticks([])

        for geom in shown.countries.geometry:
            _plot_geom(ax, geom, facecolor=LAND_COLOUR, edgecolor="#999", linewidth=0.4, zorder=1)
        schematic_names = []
        for idx, row in parks.iterrows():
            colour = colours.get(row["country_iso3"], "#555")
            schematic = row.get("geometry_quality") != "surveyed"
            _plot_geom(ax, shown.parks.geometry.loc[idx], facecolor=(*to_rgb(colour), PARK_FILL_OPACITY),
                       edgecolor=colour, linewidth=1.2, linestyle=(0, (4, 3)) if schematic else "-", zorder=2)
            if schematic:
                schematic_names.append(_label(row, lang))
        proposed_dash = (0, (6, 3)) if schematic_names else "-"
        _plot_geom(ax, shown.proposed.geometry.iloc[0], facecolor="none", edgecolor=PROPOSED_COLOUR, linewidth=2,
                   linestyle=proposed_dash, zorder=3)
        for _, row in shown.borders.iterrows():
            between = row["id"] in pair_ids
            _plot_lines(ax, row.geometry, color=PAIR_BORDER_COLOUR if between else OTHER_BORDER_COLOUR,
                        linewidth=1.2 if between else 0.7, zorder=4)
        for geom in shown.stretch.geometry:
            _plot_lines(ax, geom, color=STRETCH_COLOUR, linewidth=3, alpha=0.85, zorder=4)
        # Labels: every park's name and area (largest park first), then the towns' names, each
        # where it covers no other label, no town marker, and is not cut by the frame
        # (geo.render.labels); a town whose name finds no room is left out, marker and all.
        town_labels, markers = [], []
        if "places" in layers:
            places = layers["places"]
            if "population" in places.columns:  # the largest towns are named first
                places = places.sort_values("population", ascending=False, kind="stable", na_position="last")
            for _, row in places.iterrows():
                x, y = row.geometry.x, row.geometry.y
                if x0 <= x <= x1 and y0 <= y <= y1:
                    (marker,) = ax.plot([x], [y], "o", color="#222", markersize=3, zorder=5)
                    markers.append(marker)
                    name = _label(row, lang)
                    # a name with another in brackets, "符拉迪沃斯托克（海参崴）", may take two lines
                    two_lines = re.sub(r"\s*([（(])", r"\n\1", name, count=1)
                    town_labels.append(Label((x, y), name, {"fontsize": 7, "zorder": 5}, offsets=_TOWN_OFFSETS,
                                             marker=marker, alternatives=(two_lines,) if two_lines != name else ()))
        park_labels = [
            Label((point.x, point.y),
                  f"{_wrap(_label(row, lang), 16 if lang == 'zh' else 30)}\n{_fmt_ha(row['area_ha'], lang)}",
                  {"fontsize": 8, "weight": "bold", "zorder": 6,
                   "bbox": {"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0}},
                  required=True)
            for point, (_, row) in sorted(
                ((_label_point(shown.parks.geometry.loc[idx]), (idx, row)) for idx, row in parks.iterrows()),
                key=lambda item: -float(item[1][1]["area_ha"] or 0))
        ]

        # scale bar (geodesic length on WGS84) and north arrow
        geod = Geod(ellps="WGS84")
        km_per_deg = geod.line_length([x0, x0 + 1], [y0, y0]) / 1000
        km = _nice_km((x1 - x0) * km_per_deg / 5)
        sx, sy = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
        (bar,) = ax.plot([sx, sx + km / km_per_deg], [sy, sy], color="#111", linewidth=3, solid_capstyle="butt",
                         zorder=7)
        bar_text = ax.text(sx + km / km_per_deg / 2, sy + 0.012 * (y1 - y0), f"{km:g} {t['km']}", ha="center",
                           va="bottom", fontsize=8, zorder=7)
        north_arrow = ax.annotate(t["north"], xy=(0.95, 0.95), xytext=(0.95, 0.86), xycoords="axes fraction",
                                  ha="center", va="center", fontsize=11, weight="bold", zorder=7,
                                  arrowprops={"facecolor": "#111", "width": 3, "headwidth": 10, "headlength": 10})
        placed = place_labels(ax, [*park_labels, *town_labels], obstacles=[*markers, bar, bar_text, north_arrow])

        # legend, notice and attribution in the right-hand column and along the bottom
        handles = [
            *(Patch(facecolor=(*to_rgb(colours[iso3]), PARK_FILL_OPACITY), edgecolor=colours[iso3], linestyle="--",
                    label=t[f"parks_{iso3}"]) for iso3 in project.countries),
            Line2D([], [], color=PROPOSED_COLOUR, linewidth=2, linestyle="--" if schematic_names else "-",
                   label=t["proposed"]),
            Line2D([], [], color=PAIR_BORDER_COLOUR, linewidth=1.2, label=t["border_line"]),
            Line2D([], [], color=STRETCH_COLOUR, linewidth=3,
                   label=f"{t['stretch']}, {stretch_km} {t['km']}" if stretch_km else t["stretch"]),
            Line2D([], [], color=OTHER_BORDER_COLOUR, linewidth=0.7, label=t["other_borders"]),
            Patch(facecolor=LAND_COLOUR, edgecolor="#999", label=t["land"]),
            Line2D([], [], marker="o", color="#222", linestyle="", markersize=3, label=t["towns"]),
        ]
        fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.93), fontsize=8, title=t["legend"],
                   title_fontsize=9, frameon=True, alignment="left")
        total = areas["totals"]["proposed_park"]["area_ha"]
        width = 24 if lang == "zh" else 44  # characters a line in the right-hand column
        fig.text(0.70, 0.50, _wrap(f"{t['proposed_name']}: {_fmt_ha(total, lang)}", width), fontsize=9,
                 weight="bold", va="top")
        if schematic_names:
            notice = _wrap(f"{t['notice_title']} {t['notice']}", width) + "\n" + "\n".join(
                _wrap(f"• {n}", width) for n in schematic_names)
            fig.text(0.70, 0.44, notice, fontsize=8, va="top",
                     bbox={"boxstyle": "round,pad=0.5", "facecolor": "#fff3cd", "edgecolor": "#d4a017"})
        attribution = t["attribution"].format(data=t["data"], article=t["article"])
        fig.text(0.02, 0.085, _wrap(f"{attribution}. {t['made_with']}.", 110 if lang == "zh" else 190),
                 fontsize=6.5, va="top")
        return StaticMap(fig, ax, placed, t["title"])
