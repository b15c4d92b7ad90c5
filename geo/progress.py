"""A tiny progress bar for long work: drawn on a terminal's stderr, silent otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Count work done and draw ``label [#####     ] 42%`` on a terminal.

    Nothing is written when ``stream`` is not a terminal (pipes, logs, tests),
    so outputs that are captured stay clean.

    Parameters
    ----------
    label : str
        What is being done ("checking geometries").
    total : int
        Units of work expected.
    stream : file, optional
        Where to draw; ``sys.stderr`` by default.
    """

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(int(total), 1)
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self._drawn = -1
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, n: int = 1) -> None:
        """Add ``n`` units of finished work and redraw."""
        self.done = min(self.done + n, self.total)
        pct = 100 * self.done / self.total
        if self.enabled and (int(pct) != self._drawn or self.done == self.total):
            self._drawn = int(pct)
            filled = int(self.width * self.done / self.total)
            self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (self.width - filled)}] {pct:3.0f}%")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line (only on a terminal)."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
