"""The progress bar draws on a terminal and stays silent elsewhere."""

from __future__ import annotations

import io

from geo.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal():
    stream = io.StringIO()
    with Progress("checking geometries", 10, stream=stream) as bar:
        for _ in range(10):
            bar.update()
    assert stream.getvalue() == ""


def test_draws_on_a_terminal():
    stream = _Terminal()
    with Progress("checking geometries", 4, stream=stream) as bar:
        bar.update(2)
        bar.update(2)
    text = stream.getvalue()
    assert "\rchecking geometries [" in text and " 50%" in text and "100%" in text and text.endswith("\n")
