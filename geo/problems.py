"""The vocabulary of a check: a :class:`Problem` found in a layer and the :class:`Report` on one source file.

It sits on the lowest floor so that every stage (reading, checking, normalising,
the store) can name a problem without importing the stage that finds most of them;
:mod:`geo.validate` re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem", "Report"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a layer: where, what, and how to fix it."""

    layer: str
    feature: str
    problem: str
    fix: str
    level: str = "error"  # "error" refuses the import; "warning" is shown and accepted; "note" informs

    def __str__(self) -> str:
        head = f"{self.level}: " if self.level != "error" else ""
        return f"{head}{self.layer}: feature {self.feature}: {self.problem} (fix: {self.fix})"


@dataclass
class Report:
    """The verdict on one source file: every problem found and every repair made."""

    source: str
    role: str | None
    features: int = 0
    problems: list[Problem] = field(default_factory=list)
    repairs: list[dict] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that refuse the import."""
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems shown but accepted."""
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing refuses the import."""
        return not self.errors
