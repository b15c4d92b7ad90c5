"""The map on paper: PNG and PDF from ``bigcats build``, in each language, without tiles."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from geo.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shown_layers():
    from geo.pipeline import area_report, measured_layers
    from geo.render import display_layers

    layers, parks, proposed, by_country = measured_layers(ROOT / "layers")
    report = area_report(layers, parks, proposed, by_country)
    return display_layers(layers, parks), layers, parks, report


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_build_writes_the_png_and_the_pdf(built):
    from pypdf import PdfReader

    png, pdf = built.files["land_of_big_cats.png"], built.files["land_of_big_cats.pdf"]
    width, height = _png_size(png)
    assert width >= 2000 and width > height  # landscape
    page = PdfReader(pdf).pages[0]
    w_pt, h_pt = float(page.mediabox.width), float(page.mediabox.height)
    assert (w_pt, h_pt) == pytest.approx((841.7, 595.4), abs=1)  # A4 landscape
    text = page.extract_text()
    assert "Land of Big Cats: the proposed Sino-Russian transboundary park" in text
    assert "Schematic boundaries." in text and "OpenStreetMap" in text


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_pdf_text_is_in_the_language_and_the_extent_holds_the_proposed_park(shown_layers, lang, tmp_path):
    from pypdf import PdfReader

    from geo.render.paper import draw_static
    from geo.render.text import _fmt_ha, _label, _t

    shown, layers, parks, report = shown_layers
    png, pdf = tmp_path / "map.png", tmp_path / "map.pdf"
    west, south, east, north = draw_static(shown, layers, parks, report, lang=lang, png_path=png, pdf_path=pdf)
    p_west, p_south, p_east, p_north = shown.proposed.total_bounds
    assert west < p_west and south < p_south and east > p_east and north > p_north
    assert _png_size(png)[0] >= 2000
    text = "".join(PdfReader(pdf).pages[0].extract_text().split())  # wrapped lines joined
    t = _t(lang)
    for expected in [t["title"], t["notice_title"], t["legend"], t["north"], t["proposed_name"],
                     *(_label(row, lang) for _, row in parks.iterrows()),
                     *(_fmt_ha(area, lang) for area in parks["area_ha"])]:
        assert "".join(expected.split()) in text, expected
    if paper_module().CJK_FONT.is_file():  # the simplified Chinese face of Noto Sans CJK, not its Japanese one
        fonts = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([A-Za-z0-9-]+)", pdf.read_bytes()))
        assert fonts and all(b"CJKsc" in name for name in fonts if b"CJK" in name), fonts
        assert any(b"CJKsc" in name for name in fonts), fonts
        # the bold text (title, area labels) in the bold SC face, not the regular one drawn for bold
        assert any(b"CJKsc-Bold" in name for name in fonts), fonts


def paper_module():
    from geo.render import paper

    return paper


def test_chinese_without_the_cjk_font_names_the_fix(shown_layers, tmp_path, monkeypatch):
    import geo.render.paper as paper

    shown, layers, parks, report = shown_layers
    monkeypatch.setattr(paper, "CJK_FONT", tmp_path / "missing.ttc")
    with pytest.raises(UsageError, match=r"font for Chinese text .* is missing: run 'make fonts'"):
        paper.draw_static(shown, layers, parks, report, lang="zh", png_path=tmp_path / "a.png",
                          pdf_path=tmp_path / "a.pdf")
    # English and Russian fall back to matplotlib's own DejaVu Sans (Latin and Cyrillic)
    paper.draw_static(shown, layers, parks, report, lang="ru", png_path=tmp_path / "a.png", pdf_path=tmp_path / "a.pdf")
    assert (tmp_path / "a.pdf").stat().st_size > 10_000


def _disjoint(boxes) -> bool:
    return all(
        min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1])
        for i, a in enumerate(boxes) for b in boxes[i + 1:]
    )


@pytest.mark.parametrize("lang", ["en", "ru", "zh"])
def test_labels_on_paper_neither_overlap_nor_leave_the_frame(shown_layers, lang):
    from geo.render.labels import text_boxes
    from geo.render.paper import compose_static
    from geo.render.text import _label

    shown, layers, parks, report = shown_layers
    static = compose_static(shown, layers, parks, report, lang=lang)
    renderer = static.figure.canvas.get_renderer()
    boxes = text_boxes(static.labels, renderer)
    frame = static.axes.get_window_extent(renderer)
    assert _disjoint(boxes), [a.get_text() for a in static.labels]
    for (x0, y0, x1, y1), artist in zip(boxes, static.labels, strict=True):
        assert frame.x0 <= x0 and x1 <= frame.x1 and frame.y0 <= y0 and y1 <= frame.y1, artist.get_text()
    # no label placed after a leader line lies on it (drawn from its anchor to the middle of its text)
    import shapely

    for k, (box, artist) in enumerate(zip(boxes, static.labels, strict=True)):
        if artist.arrow_patch is None:
            continue
        anchor = static.axes.transData.transform(artist.xy)
        leader = shapely.LineString([anchor, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)])
        for other, name in zip(boxes[k + 1:], static.labels[k + 1:], strict=True):
            assert not shapely.box(*other).intersects(leader), (name.get_text(), artist.get_text())
    texts = ["".join(a.get_text().split()) for a in static.labels]
    # every park is named (with its area), the largest first
    for _, row in parks.iterrows():
        assert any("".join(_label(row, lang).split()) in t for t in texts), _label(row, lang)
    # every town of 100,000 people or more inside the map is named (Vladivostok's Chinese name on two lines)
    west, east = static.axes.get_xlim()
    south, north = static.axes.get_ylim()
    places = layers["places"]
    inside = places[(places.geometry.x.between(west, east)) & (places.geometry.y.between(south, north))]
    for _, row in inside[inside["population"] >= 100_000].iterrows():
        assert "".join(_label(row, lang).split()) in texts, _label(row, lang)


def test_label_placement_keeps_optional_labels_apart_and_inside(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from matplotlib.figure import Figure

    from geo.render.labels import Label, place_labels, text_boxes
    from geo.render.paper import _TOWN_OFFSETS

    towns = st.lists(
        st.tuples(st.floats(0, 10), st.floats(0, 10), st.text("abcdefgh XYZ", min_size=1, max_size=18)),
        min_size=1, max_size=25,
    )

    @settings(max_examples=25, deadline=None)
    @given(towns, st.booleans())
    def check(items, with_park):
        fig = Figure(figsize=(4, 3))
        ax = fig.add_axes((0.1, 0.1, 0.8, 0.8))
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        labels = [Label((5.0, 5.0), "A park\n1,000 ha", {"fontsize": 8}, required=True)] if with_park else []
        markers = []
        for x, y, name in items:
            (marker,) = ax.plot([x], [y], "o", markersize=3)
            markers.append(marker)
            labels.append(Label((x, y), name, {"fontsize": 7}, offsets=_TOWN_OFFSETS, marker=marker))
        placed = place_labels(ax, labels, obstacles=markers)
        renderer = fig.canvas.get_renderer()
        boxes = text_boxes(placed, renderer)
        frame = ax.get_window_extent(renderer)
        assert _disjoint(boxes)
        optional = boxes[1:] if with_park else boxes
        for x0, y0, x1, y1 in optional:
            assert frame.x0 <= x0 and x1 <= frame.x1 and frame.y0 <= y0 and y1 <= frame.y1
        if with_park:  # a label that must stay is always there
            assert placed[0].get_text() == "A park\n1,000 ha"
        # a town left unnamed loses its marker too
        assert len(ax.lines) == len(placed) - with_park

    check()


def test_a_label_keeps_off_the_leader_lines_drawn_before_it():
    from matplotlib.figure import Figure

    from geo.render.labels import Label, _Placer

    fig = Figure(figsize=(4, 3))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    b = Label((5.0, 3.0), "Park B\n10 ha", {"fontsize": 8}, required=True)
    placer = _Placer(ax, [])
    at_anchor = placer._draw(b, b.text, 0.0, 0.0, "center", "center")
    box = placer._box(at_anchor)
    assert placer._cost(b, at_anchor, box) == 0  # free
    middle = (box[1] + box[3]) / 2
    placer.leaders.append((0.0, middle, 400.0, middle))  # a leader drawn before, across its middle
    assert placer._cost(b, at_anchor, box) > 0
    placer.leaders[-1] = (0.0, box[3] + 5, 400.0, box[3] + 5)  # one just above it
    assert placer._cost(b, at_anchor, box) == 0
