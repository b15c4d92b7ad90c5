"""The vocabulary of checks: a :class:`Problem` (where, what, the fix) and the :class:`Report` on one source."""

from __future__ import annotations

from geo.problems import Problem, Report

__all__ = ["GEOMETRY_TYPES", "Problem", "Report", "format_report"]

#: The geometry types each geometry kind of a role accepts.
GEOMETRY_TYPES: dict[str, set[str]] = {
    "polygon": {"Polygon", "MultiPolygon"},
    "line": {"LineString", "MultiLineString"},
    "point": {"Point", "MultiPoint"},
}


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
