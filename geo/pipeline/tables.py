"""The area report as files and text: areas.json, areas.csv, areas.md and the terminal table."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np

from geo.project import Project, bundled_project


def _json_safe(value):
    """``value`` with every NaN or infinity as None (JSON has no NaN; a ratio of nothing is undefined)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def areas_json(report: dict) -> str:
    """``areas.json``: the report as strict JSON (NaN written as null)."""
    return json.dumps(_json_safe(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"), and tab/CR.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value):
    """A text cell safe to open in a spreadsheet.

    A leading ``=``, ``+``, ``-``, ``@``, tab or CR gets a ``'`` before it.

    Numbers (and None) are returned as they are, so numeric columns stay numeric.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _md_text(value) -> str:
    """Attribute text for a Markdown table cell: HTML escaped, ``|`` and line breaks neutralised."""
    import html

    text = html.escape("" if value is None else str(value), quote=True)
    return re.sub(r"[\r\n]+", " ", text).replace("|", "\\|")


def _fmt(value, digits: int = 0) -> str:
    return "—" if value is None else f"{round(value, digits) + 0.0:,.{digits}f}"  # + 0.0: no "-0"


def areas_rows(report: dict) -> list[dict]:
    """The reconciliation rows of a report, parks first and totals last, ready to print."""
    return list(report["checks"]["reconciliation"]["rows"])


def areas_text(report: dict, *, project: Project | None = None) -> str:
    """The reconciliation as a terminal table (ha and km², thousands separated, totals last).

    ``project`` (default: the bundled one) names the countries of the border line.
    """
    project = bundled_project() if project is None else project
    header = ("", "id", "area ha", "area km²", "published ha", "diff ha", "diff %", "status", "quality")
    lines = [header]
    for row in areas_rows(report):
        lines.append(
            (
                row["level"],
                row["id"],
                _fmt(row["area_ha"]),
                _fmt(row["area_ha"] / 100, 1),
                _fmt(row["reported_area_ha"]),
                _fmt(row["difference_ha"]),
                _fmt(row["difference_pct"], 2),
                row["status"],
                row.get("geometry_quality") or "",
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    out = []
    quality = report["checks"].get("geometry_quality", {})
    if quality.get("built_to_published_area"):
        out.append(f"note: {quality['message'].rstrip('.')}.")
    for n, line in enumerate(lines):
        cells = [
            str(c).ljust(w) if i in (0, 1, 7, 8) else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    checks = report["checks"]
    out.append("")
    out.append(f"published units: {checks['published_units']['status']}: {checks['published_units']['message']}")
    cov = checks.get("coverage")
    if cov:
        out.append(
            f"coverage: overlap removed {cov['overlap_removed_ha']:,.1f} ha; gaps along the border "
            f"{cov['gaps_along_border_ha']:,.1f} ha in {cov['gaps_along_border_count']} pieces (narrower than "
            f"{cov['gap_width_m']:,.0f} m); clipped off the parks' own land {cov['clipped_to_wrong_side_ha']:,.2f} ha "
            f"({cov['clipped_across_border_ha']:,.2f} ha of it across the border); "
            f"snapped in {cov['snapped_gained_ha']:,.1f} ha"
        )
    for row in checks.get("clipped", {}).get("rows", []):
        if row["status"] != "ok":
            out.append(f"clipped {row['id']} ({row['country_iso3']}): {row['status']}: {row['message']}")
    border = report["border"]
    lengths = "; ".join(
        f"{project.country_name(p)}–{project.country_name(q)} {_fmt(pair['length_km'], 1)} km"
        for pair in border.get("pairs", [])
        for p, q in [pair["countries"]]
    )
    share = (
        f"parks of both countries share {_fmt(border['shared_edge_km'], 1)} km"
        if len(border.get("pairs", [])) == 1
        else "parks share "
        + ", ".join(
            f"{_fmt(pair['shared_edge_km'], 1)} km ({'–'.join(pair['countries'])})" for pair in border.get("pairs", [])
        )
        + f", {_fmt(border['shared_edge_km'], 1)} km in all"
    )
    out.append(f"border: {lengths}; stretch {_fmt(border['stretch_length_km'], 1)} km; {share}")
    out.append(f"tolerance: {checks['reconciliation']['tolerance']}")
    return "\n".join(out) + "\n"


def areas_markdown(report: dict, *, project: Project | None = None) -> str:
    """``areas.md``: a short human report of the areas and their checks."""
    project = bundled_project() if project is None else project
    lines = [
        f"# {_md_text(project.display_name('en'))}: areas",
        "",
        "Geodesic areas on the WGS84 ellipsoid. Boundaries marked schematic are built from the real border "
        "and the published area, not surveyed.",
        "",
        "| | id | name | area (ha) | area (km²) | published (ha) | difference (ha) | difference (%) | status |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in areas_rows(report):
        lines.append(
            f"| {row['level']} | {_md_text(row['id'])} | {_md_text(row['name_en'])} | {_fmt(row['area_ha'])} | "
            f"{_fmt(row['area_ha'] / 100, 1)} | {_fmt(row['reported_area_ha'])} | {_fmt(row['difference_ha'])} | "
            f"{_fmt(row['difference_pct'], 2)} | {row['status']} |"
        )
    lines += ["", "## Checks", ""]
    for line in areas_text(report, project=project).split("\n\n", 1)[1].strip().splitlines():
        lines.append(f"- {line}")
    lines.append(f"- geometry quality: {report['checks']['geometry_quality']['message']}")
    return "\n".join(lines) + "\n"


def areas_csv_rows(report: dict) -> str:
    """The reconciliation rows as CSV."""
    buf = io.StringIO()
    keys = [
        "level",
        "id",
        "name_en",
        "area_ha",
        "reported_area_ha",
        "difference_ha",
        "difference_pct",
        "status",
        "geometry_quality",
        "reported_area_source",
    ]
    writer = csv.DictWriter(
        buf, fieldnames=[*keys[:4], "area_km2", *keys[4:]], lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    for row in areas_rows(report):
        writer.writerow({**{k: csv_text(v) for k, v in row.items()}, "area_km2": row["area_ha"] / 100})
    return buf.getvalue()
