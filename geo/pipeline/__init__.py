"""The use cases: build (read → validate → merge → measure → render/export), the area report and its tables.

The code lives in :mod:`geo.pipeline.builder`, :mod:`geo.pipeline.totals` (published totals, the
reconciliation and the checks), :mod:`geo.pipeline.tables` (areas.json/csv/md and the terminal table),
:mod:`geo.pipeline.export` and :mod:`geo.pipeline.newproject`; this module re-exports what others use.
"""

from __future__ import annotations

from geo.merge import GAP_WIDTH_M, SNAP_TOLERANCE_M  # the merge's tolerances, re-exported for the tests
from geo.pipeline.builder import (
    OUTPUT_FILES,
    BuildResult,
    area_report_for,
    area_table,
    build,
    comparisons_for,
    left_out_parks,
    measured_layers,
    merged_layers,
    output_layers,
)
from geo.pipeline.tables import areas_csv_rows, areas_json, areas_markdown, areas_rows, areas_text, csv_text
from geo.pipeline.totals import (
    OK_FRACTION,
    PUBLISHED_TOTALS,
    WARN_FRACTION,
    area_report,
    failed_checks,
)

__all__ = [
    "GAP_WIDTH_M",
    "OK_FRACTION",
    "OUTPUT_FILES",
    "PUBLISHED_TOTALS",
    "SNAP_TOLERANCE_M",
    "WARN_FRACTION",
    "BuildResult",
    "area_report",
    "area_report_for",
    "area_table",
    "areas_csv_rows",
    "areas_json",
    "areas_markdown",
    "areas_rows",
    "areas_text",
    "build",
    "comparisons_for",
    "csv_text",
    "failed_checks",
    "left_out_parks",
    "measured_layers",
    "merged_layers",
    "output_layers",
]
