"""Label placement on the paper map: no label over another, none cut by the frame.

Greedy, in the order given (most important first), as cartographic label placers do: each
label tries its candidate positions in turn and takes the first whose text box lies inside
the map's frame and clear of the boxes already placed (and of the obstacles: town markers,
the scale bar, the north arrow). A label that must stay (a park's name and area) and finds
no free position takes the one that overlaps least; one that may go (a town's name) is left
out, with its marker. A label moved off its anchor is tied to it by a thin leader line, which
the labels placed after it keep clear of.
Boxes are measured in display units by matplotlib's renderer, so the decision holds at any
DPI the figure is saved at (text sizes and offsets are in points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import shapely

if TYPE_CHECKING:
    from matplotlib.artist import Artist

__all__ = ["Label", "place_labels", "text_boxes"]

#: Room kept around each label's box, in points.
PAD_PT = 2.0


@dataclass
class Label:
    """One label to place.

    ``xy`` is its anchor (data coordinates); ``offsets`` its candidate positions in order of
    preference, each ``(dx, dy, ha, va)`` in points from the anchor, or None for positions
    around the anchor at one and two label sizes (:func:`_around`); ``required`` labels are
    always placed; ``marker`` is an artist drawn at the anchor, removed with a label left out.
    """

    xy: tuple[float, float]
    text: str
    style: dict = field(default_factory=dict)
    offsets: Sequence[tuple[float, float, str, str]] | None = None
    required: bool = False
    marker: Artist | None = None
    #: Other forms of the text (a long name on two lines), tried in turn when ``text`` finds no room.
    alternatives: Sequence[str] = ()


def _around(w_pt: float, h_pt: float) -> list[tuple[float, float, str, str]]:
    """The anchor itself, then the eight positions around it at one label size and at two (centred)."""
    out = [(0.0, 0.0, "center", "center")]
    for k in (1.0, 2.0):
        for sx, sy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)):
            out.append((sx * k * (w_pt + 2 * PAD_PT), sy * k * (h_pt + 2 * PAD_PT), "center", "center"))
    return out


def _overlap(a, b) -> float:
    """Area (display units²) shared by two boxes ``(x0, y0, x1, y1)``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _crossing(box, segment) -> float:
    """A cost for a box and a leader line ``segment`` (x0, y0, x1, y1) through it: the box's area, else 0."""
    line = shapely.LineString([segment[:2], segment[2:]])
    return (box[2] - box[0]) * (box[3] - box[1]) if shapely.box(*box).intersects(line) else 0.0


def text_boxes(artists, renderer) -> list[tuple[float, float, float, float]]:
    """The text boxes of placed labels (display units, without the padding), in order."""
    from matplotlib.text import Text

    boxes = []
    for artist in artists:
        if hasattr(artist, "update_positions"):  # an annotation: where its text goes is worked out first
            artist.update_positions(renderer)
        box = Text.get_window_extent(artist, renderer)  # the text only, not an annotation's leader line
        boxes.append((box.x0, box.y0, box.x1, box.y1))
    return boxes


def place_labels(ax, labels: Sequence[Label], *, obstacles: Sequence = ()):
    """Place ``labels`` on ``ax`` (in their order) and return the text artists placed, in that order.

    ``obstacles`` are artists (markers, the scale bar, the north arrow) no label should cover.
    The axes' limits and aspect must be final: positions are measured once, with the figure's
    renderer.
    """
    placer = _Placer(ax, obstacles)
    return [artist for artist in map(placer.place, labels) if artist is not None]


Box = tuple[float, float, float, float]


class _Placer:
    """The state of one placement: what is taken on the axes (boxes, leader lines)."""

    def __init__(self, ax, obstacles: Sequence) -> None:
        fig = ax.figure
        if not hasattr(fig.canvas, "get_renderer"):
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            FigureCanvasAgg(fig)
        self.ax, self.dpi, self.renderer = ax, fig.dpi, fig.canvas.get_renderer()
        ax.apply_aspect()
        self.frame = tuple(ax.get_window_extent(self.renderer).extents)
        self.pad = PAD_PT * fig.dpi / 72
        # (box, owner): a town's label may touch its own marker
        self.taken: list[tuple[Box, object]] = [
            (tuple(artist.get_window_extent(self.renderer).extents), artist) for artist in obstacles
        ]
        self.leaders: list[Box] = []  # the leader lines drawn, as segments (x0, y0, x1, y1)

    def _display(self, xy) -> tuple[float, float]:
        x, y = self.ax.transData.transform(xy)
        return float(x), float(y)

    def _box(self, artist) -> Box:
        (x0, y0, x1, y1), = text_boxes([artist], self.renderer)
        return x0 - self.pad, y0 - self.pad, x1 + self.pad, y1 + self.pad

    def _draw(self, label: Label, text: str, dx: float, dy: float, ha: str, va: str):
        leader = {"arrowstyle": "-", "color": "#444", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 0} \
            if (dx, dy) != (0.0, 0.0) and label.offsets is None else None
        return self.ax.annotate(text, label.xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                                arrowprops=leader, annotation_clip=False,
                                multialignment="center" if "\n" in text else None, **label.style)

    def _tries(self, label: Label) -> list[tuple[str, float, float, str, str]]:
        """Every (text, dx, dy, ha, va) to try, in order: each form of the text at each position."""
        tries = []
        for text in (label.text, *label.alternatives):
            offsets = label.offsets
            if offsets is None:  # around the anchor, in steps of the label's own size
                probe = self._draw(label, text, 0.0, 0.0, "center", "center")
                x0, y0, x1, y1 = self._box(probe)
                probe.remove()
                offsets = _around((x1 - x0) * 72 / self.dpi, (y1 - y0) * 72 / self.dpi)
            tries += [(text, *offset) for offset in offsets]
        return tries

    def _cost(self, label: Label, artist, box: Box) -> float:
        """How much the label at ``box`` is in the way: outside the frame, over what is taken; 0 when free.

        A leader line may still pass under a label placed before it: near its anchor (a small
        park's pole close to a larger park's label) it often cannot do otherwise, and ruling it
        out sent such labels far from their parks, over the other country.
        """
        cost = (box[2] - box[0]) * (box[3] - box[1]) - _overlap(box, self.frame)
        cost += sum(_overlap(box, other) for other, owner in self.taken if owner is not label.marker)
        return cost + sum(_crossing(box, line) for line in self.leaders)  # on a leader line placed before

    def place(self, label: Label):
        """The label's artist at its first free position (a required one: the least in the way); else None."""
        best, best_cost = None, float("inf")
        for text, dx, dy, ha, va in self._tries(label):
            artist = self._draw(label, text, dx, dy, ha, va)
            box = self._box(artist)
            cost = self._cost(label, artist, box)
            if (cost <= 0 or label.required) and cost < best_cost:
                if best is not None:
                    best[0].remove()
                best, best_cost = (artist, box), cost
            else:
                artist.remove()
            if cost <= 0:
                break
        if best is None:  # a label that may go, with nowhere to go
            if label.marker is not None:
                label.marker.remove()
            return None
        artist, (x0, y0, x1, y1) = best
        self.taken.append(((x0, y0, x1, y1), artist))
        if artist.arrow_patch is not None:  # its leader line: from the anchor to the middle of its text
            self.leaders.append((*self._display(label.xy), (x0 + x1) / 2, (y0 + y1) / 2))
        return artist
