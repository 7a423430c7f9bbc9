"""Excel workbook: a Summary sheet (one row per file and rule) and a Findings sheet (one row per finding).

The Findings sheet ends with an empty Reason column: the place to write why a query is right, ready to
send to DfE. Both sheets have a bold, frozen header row and a filter. The same reports give the same
bytes: the document dates and the timestamps inside the zip are fixed.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ..report import STAGES, Finding, Report
from ._common import TOOL_NAME, codes_in_order, findings_by_code, related_text, rule_description, values_text

SUMMARY_COLUMNS = ("file", "code", "severity", "stage", "count", "message", "provisional")
FINDINGS_COLUMNS = ("file", "code", "severity", "stage", "LAchildID", "line", "path", "message", "values",
                    "related", "details", "provisional", "Reason")
# Fixed dates, so that the file depends on the report alone.
_FIXED_DATE = datetime.datetime(2000, 1, 1)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MIN_WIDTH, _MAX_WIDTH, _REASON_WIDTH = 8, 70, 50
_CELL_LIMIT = 32767  # the most characters Excel keeps in one cell


def _clean(value: Any) -> Any:
    """Text a cell can hold: no control characters, and within Excel's limit on a cell's length."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value if len(value) <= _CELL_LIMIT else value[:_CELL_LIMIT - 1] + "\u2026"


def _append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Add a row, keeping text as text: a value starting with '=' must not become a formula."""
    sheet.append([_clean(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _summary_rows(report: Report) -> list[list[Any]]:
    grouped = findings_by_code(report)
    if not grouped:
        return [[report.file, "", "", "", 0, f"No problems found ({len(report.rules_run)} rules checked).", ""]]
    rows = []
    for code in codes_in_order(report):
        found = grouped.get(code)
        if found:
            first = found[0]
            rows.append([report.file, code, first.severity, first.stage, len(found), rule_description(first),
                         _yes_no(first.provisional)])
    return rows


def _finding_row(report: Report, finding: Finding) -> list[Any]:
    return [report.file, finding.code, finding.severity, finding.stage, finding.child_id or "", finding.line,
            finding.path or "", finding.message, values_text(finding.values), related_text(finding.related),
            "; ".join(finding.details), _yes_no(finding.provisional), ""]


def _finding_order(finding: Finding) -> tuple:
    stage = STAGES.index(finding.stage) if finding.stage in STAGES else len(STAGES)
    return stage, finding.code, finding.line if finding.line is not None else -1, finding.path or ""


def _fill(sheet: Worksheet, columns: tuple[str, ...], rows: Iterable[list[Any]]) -> None:
    _append(sheet, columns)
    for row in rows:
        _append(sheet, row)
    _style(sheet, columns)


def _style(sheet: Worksheet, columns: tuple[str, ...]) -> None:
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{sheet.max_row}"
    for index, name in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(sheet, index, name)
    if "Reason" in columns:
        reason = columns.index("Reason") + 1
        for row in sheet.iter_rows(min_row=2, min_col=reason, max_col=reason):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _width(sheet: Worksheet, column: int, name: str) -> float:
    if name == "Reason":
        return _REASON_WIDTH
    longest = max((len(str(cell.value)) for (cell,) in sheet.iter_rows(min_col=column, max_col=column)
                   if cell.value is not None), default=0)
    # The header needs room for the filter button beside its name.
    return min(max(longest + 2, len(name) + 4, _MIN_WIDTH), _MAX_WIDTH)


def _workbook(reports: list[Report]) -> Workbook:
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _fill(summary, SUMMARY_COLUMNS, (row for report in reports for row in _summary_rows(report)))
    findings = book.create_sheet("Findings")
    _fill(findings, FINDINGS_COLUMNS, (_finding_row(report, finding) for report in reports
                                       for finding in sorted(report.findings, key=_finding_order)))
    book.properties.creator = TOOL_NAME
    book.properties.title = "CIN census validation report"
    book.properties.created = book.properties.modified = _FIXED_DATE
    return book


def _save(book: Workbook) -> bytes:
    """The workbook as xlsx bytes, with the dates openpyxl would set to 'now' fixed instead."""
    raw = io.BytesIO()
    # ExcelWriter is what Workbook.save uses, less the line that stamps the current time.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _fixed_timestamps(raw.getvalue())


def _fixed_timestamps(data: bytes) -> bytes:
    """The same zip, every member dated alike, so equal workbooks are equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(member))
    return out.getvalue()


def render(reports: list[Report], colour: bool = False) -> bytes:
    return _save(_workbook(reports))
