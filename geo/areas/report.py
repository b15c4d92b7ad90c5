"""The totals as text: JSON, CSV and a terminal table."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd


def _records(table: pd.DataFrame) -> list[dict]:
    by = table.index.name
    return [
        {
            by: key.item() if hasattr(key, "item") else key,
            "features": int(row.features),
            "sum_area_ha": float(row.sum_area_ha),
            "union_area_ha": float(row.union_area_ha),
        }
        for key, row in zip(table.index, table.itertuples(index=False), strict=True)
    ]


def _overlap_ha(row: dict) -> float:
    """Area counted more than once (sum minus union); rounding noise below zero shows as 0."""
    return max(0.0, row["sum_area_ha"] - row["union_area_ha"])


def totals_json(table: pd.DataFrame, *, engine: str, source: str) -> str:
    """The totals as JSON: ``by``, ``engine``, ``source``, ``groups`` (one object each) and ``total``."""
    doc = {
        "by": table.index.name,
        "engine": engine,
        "source": source,
        "groups": _records(table),
        "total": table.attrs.get("total"),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _csv_text(value):
    """A group key safe in a spreadsheet (see :func:`geo.pipeline.csv_text`)."""
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def totals_csv(table: pd.DataFrame) -> str:
    """The totals as CSV: one ``group`` row per group and a last ``total`` row (union of everything)."""
    by = table.index.name
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["level", by, "features", "sum_area_ha", "union_area_ha", "overlap_ha"])
    rows = [("group", r) for r in _records(table)]
    total = table.attrs.get("total")
    if total is not None:
        rows.append(("total", {by: "", **total}))
    for level, r in rows:
        overlap = _overlap_ha(r)
        writer.writerow(
            [
                level,
                _csv_text(r[by]),
                r["features"],
                f"{r['sum_area_ha']:.6f}",
                f"{r['union_area_ha']:.6f}",
                f"{overlap:.6f}",
            ]
        )
    return buf.getvalue()


def totals_text(table: pd.DataFrame, *, engine: str, source: str) -> str:
    """The totals as a terminal table (ha, thousands separated, the total last)."""
    by = table.index.name
    header = (by, "features", "sum of areas ha", "union ha", "overlap ha")
    body = [
        (
            str(r[by]),
            f"{r['features']:,}",
            f"{r['sum_area_ha']:,.1f}",
            f"{r['union_area_ha']:,.1f}",
            f"{_overlap_ha(r):,.1f}",
        )
        for r in _records(table)
    ]
    total = table.attrs.get("total")
    if total is not None:
        body.append(
            (
                "total",
                f"{total['features']:,}",
                f"{total['sum_area_ha']:,.1f}",
                f"{total['union_area_ha']:,.1f}",
                f"{_overlap_ha(total):,.1f}",
            )
        )
    lines = [header, *body]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("")
    out.append(f"geodesic areas (WGS84) of {source}, engine {engine}; the union counts overlapping features once.")
    return "\n".join(out) + "\n"
