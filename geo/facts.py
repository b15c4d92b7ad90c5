"""Published facts: one table of figures, each with the public page it comes from.

The table (``facts.csv`` in a layer folder; the bundled one is ``layers/facts.csv``)
has the columns ``id, value, unit, source_title, source_url, date_read, note``.
The build, the reports and the map take every published figure and every source
from it, so a figure shown to users always carries its public source.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from geo.errors import ReadError

__all__ = [
    "COLUMNS",
    "FACTS_FILE",
    "Fact",
    "bundled_facts_path",
    "facts_for",
    "read_facts",
    "read_facts_text",
    "register_store_reader",
]

#: Columns of the facts table, in order.
COLUMNS: tuple[str, ...] = ("id", "value", "unit", "source_title", "source_url", "date_read", "note")

#: File name of the facts table inside a layer folder.
FACTS_FILE = "facts.csv"


@dataclass(frozen=True)
class Fact:
    """One published fact and where it was read.

    Attributes
    ----------
    id, value, unit, source_title, source_url, date_read, note : str
        As in the table; ``value`` is text (see :attr:`number`).
    """

    id: str
    value: str
    unit: str
    source_title: str
    source_url: str
    date_read: str
    note: str

    @property
    def number(self) -> float:
        """The value as a number (raises ValueError for a text value)."""
        return float(self.value)

    @property
    def citation(self) -> str:
        """``title, address (read DATE)``: how a figure's source is shown to users."""
        return f"{self.source_title}, {self.source_url} (read {self.date_read})"


def bundled_facts_path() -> Path:
    """The facts table bundled with the project (``layers/facts.csv`` beside the package)."""
    return Path(__file__).resolve().parents[1] / "layers" / FACTS_FILE


def read_facts(path: str | Path | None = None) -> dict[str, Fact]:
    """Read a facts table into a dict keyed by ``id``.

    Parameters
    ----------
    path : str or Path, optional
        The CSV file; default the bundled table.

    Raises
    ------
    ReadError
        If the file is missing, has other columns, a duplicate id, or a row without a source.
    """
    path = Path(path) if path is not None else bundled_facts_path()
    if not path.is_file():
        raise ReadError(f"facts table not found: {path}. Restore it with 'git checkout -- {path}'.")
    with path.open(encoding="utf-8", newline="") as fh:
        return _parse_facts(fh, str(path))


def read_facts_text(text: str, where: str) -> dict[str, Fact]:
    """Read the text of a facts table (a store keeps it in a table); ``where`` names it in messages."""
    return _parse_facts(io.StringIO(text, newline=""), where)


def _parse_facts(fh: TextIO, path: str) -> dict[str, Fact]:
    """The facts of an open CSV table; ``path`` names it in messages."""
    reader = csv.DictReader(fh)
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ReadError(
            f"facts table {path} has columns {reader.fieldnames}; expected {', '.join(COLUMNS)}."
        )
    facts: dict[str, Fact] = {}
    problems = []
    for n, row in enumerate(reader, start=2):
        if None in row or any(row[c] is None for c in COLUMNS):
            problems.append(f"line {n}: wrong number of fields (quote values that hold commas)")
            continue
        fact = Fact(**{c: row[c].strip() for c in COLUMNS})
        if fact.id in facts:
            problems.append(f"line {n}: duplicate id {fact.id!r}")
        if not fact.source_title or not fact.source_url.startswith(("http://", "https://")):
            problems.append(f"line {n}: {fact.id!r} has no public source (title and http(s) address)")
        facts[fact.id] = fact
    if problems:
        raise ReadError(f"facts table {path} has problems: " + "; ".join(problems) + ".")
    return facts


#: Readers of the facts table a store keeps with its project (GeoPackage, PostGIS): each takes the
#: ``--layers`` spec and returns the facts, or None. geo.store registers one (it is on a higher floor).
_STORE_READERS: list[Callable[[str], dict[str, Fact] | None]] = []


def register_store_reader(reader: Callable[[str], dict[str, Fact] | None]) -> None:
    """Let :func:`facts_for` read the facts table a store keeps in a table (see ``_STORE_READERS``)."""
    if reader not in _STORE_READERS:
        _STORE_READERS.append(reader)


def facts_for(layers: str | Path | None) -> dict[str, Fact]:
    """The facts of a layer store: its own (a folder's ``facts.csv``, a store's table), else the bundled table."""
    if layers is not None and not isinstance(layers, dict):
        for reader in _STORE_READERS:
            found = reader(str(layers))
            if found is not None:
                return found
        candidate = Path(str(layers)) / FACTS_FILE
        if candidate.is_file():
            return read_facts(candidate)
    return read_facts()
