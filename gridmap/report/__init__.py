"""The workbook departments file upward (:func:`write_report`) and its column labels."""

from __future__ import annotations

from gridmap.report.labels import COLUMN_LABELS, Lang, column_label
from gridmap.report.workbook import PERCENT_FORMAT, UNIT_COLUMNS, report_tables, write_report

__all__ = [
    "COLUMN_LABELS",
    "PERCENT_FORMAT",
    "UNIT_COLUMNS",
    "Lang",
    "column_label",
    "report_tables",
    "write_report",
]
