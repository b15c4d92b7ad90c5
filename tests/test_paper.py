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
