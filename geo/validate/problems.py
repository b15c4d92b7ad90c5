"""The vocabulary of checks: a :class:`Problem` (where, what, the fix) and the :class:`Report` on one source."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The geometry types each geometry kind of a role accepts.
GEOMETRY_TYPES: dict[str, set[str]] = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


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


def format_report(report: Report, *, verdict: str) -> str:
    """Render the report as text: one line per problem, then the one-line verdict."""
    lines = [f"report on {report.source} (role: {report.role or 'any'}, {report.features} feature(s))"]
    if not report.problems:
        lines.append("  no problems found")
    for p in report.problems:
        lines.append(
            f"  - {'ERROR' if p.level == 'error' else p.level}: feature {p.feature}: {p.problem}; fix: {p.fix}"
        )
    lines.append(verdict)
    return "\n".join(lines)
