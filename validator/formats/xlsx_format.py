"""Excel workbook: the report a data officer works through, keeps, and sends on.

Sheets: `Summary` (each return, then one row per rule with its count), `Findings` (one row per
finding, each value the rule read in its own column, and a `Reason` column for why a query is
right), `By child` (one row per child with findings) and `Indicators` (the preview figures beside
England's and last year's). With --baseline a `Fixed` sheet lists what was put right since.

The Reason column is read back by `--explanations report.xlsx` (validator/explanations.py), so a
reason written once is kept from one run to the next: the next workbook has it filled in again.
Every table has a bold, frozen, filterable header row and columns as wide as their text. The same
reports give the same bytes: the document dates and the timestamps inside the zip are fixed.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ..report import ERROR, QUERY, STAGES, Finding, Report
from ._common import MISSING, TOOL_NAME, codes_in_order, findings_by_code, related_text, rule_titles
from ._figures import indicator_lines

SUMMARY_SHEET, FINDINGS_SHEET, CHILD_SHEET, INDICATORS_SHEET, FIXED_SHEET = (
    "Summary", "Findings", "By child", "Indicators", "Fixed")
# The Findings columns the explanations are read back by (validator/explanations.py reads these names).
CODE, CHILD, RECORD, REASON = "Code", "LAchildID", "Record", "Reason"
# The file comes last here as on every sheet, so the first column stays narrow for the rule codes below.
RETURN_COLUMNS = ("Collection year", "LA", "Reference date", "Children", "Errors", "Queries", "Explained",
                  "Rules checked", "Previous return", "File")
RULE_COLUMNS = ("Code", "Title", "Severity", "Stage", "Findings", "Explained", "Provisional", "File")
# The Findings sheet: these, then one column per value read, then the closing columns.
FINDING_COLUMNS = ("Severity", CODE, "Title", CHILD, RECORD, "Element", "Line", "Path")
FINDING_CLOSING = ("Message", "Related", "Details")
CHILD_COLUMNS = (CHILD, "Errors", "Queries", "Codes", "First line", "File")
FIXED_COLUMNS = ("Code", "Title", "Severity", CHILD, RECORD, "Line", "Path", "Message", "File")
# Fixed dates, so that the file depends on the report alone.
_FIXED_DATE = datetime.datetime(2000, 1, 1)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MIN_WIDTH, _MAX_WIDTH, _WIDE = 8, 60, 50
_WRAPPED = {"Message", "Title", "Indicator", "Details", "Related", "Note"}
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CELL_LIMIT = 32767  # the most characters Excel keeps in one cell


def _clean(value: Any) -> Any:
    """Text a cell can hold: no control characters, and within Excel's limit on a cell's length."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value if len(value) <= _CELL_LIMIT else value[:_CELL_LIMIT - 1] + "\u2026"


def _cell_value(value: Any) -> Any:
    """A value a rule read, as its own cell: numbers stay numbers, the rest reads as in the text report."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


class _Sheet:
    """A sheet written row by row, keeping count of its rows and of the width each column needs
    (asking openpyxl for the last row scans every cell, which made large workbooks slow)."""

    def __init__(self, sheet: Worksheet):
        self.sheet, self.row = sheet, 0
        self.widths: dict[int, int] = {}
        self.reason_columns: set[int] = set()

    def append(self, values: Iterable[Any], bold: bool = False, wrapped: frozenset[int] = frozenset()) -> None:
        """Add a row, keeping text as text: a value starting with '=' must not become a formula."""
        self.row += 1
        for column, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = self.sheet.cell(self.row, column, _clean(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            if bold:
                cell.font = _BOLD
            elif column in wrapped:
                cell.alignment = _WRAP
            # A header needs room for the filter button beside its name.
            need = len(str(cell.value)) + (4 if bold else 2)
            if column in wrapped and not bold:
                need = min(need, _WIDE)
            if need > self.widths.get(column, 0):
                self.widths[column] = need

    def skip(self) -> None:
        self.row += 1

    def fit(self) -> None:
        """Each column as wide as its longest cell, within limits (long text wraps instead)."""
        for column, width in self.widths.items():
            self.sheet.column_dimensions[get_column_letter(column)].width = max(_MIN_WIDTH, min(width, _MAX_WIDTH))
        for column in self.reason_columns:  # room to write in, even while empty
            self.sheet.column_dimensions[get_column_letter(column)].width = _WIDE


class _Table:
    """One table of a sheet: a bold header row, frozen and filtered, and its rows."""

    def __init__(self, sheet: _Sheet, columns: Iterable[str]):
        self.sheet, self.columns = sheet, tuple(columns)
        self.wrapped = frozenset(index for index, name in enumerate(self.columns, start=1)
                                 if name in _WRAPPED or name == REASON)
        sheet.append(self.columns, bold=True)
        self.header_row = sheet.row
        if REASON in self.columns:
            sheet.reason_columns.add(self.columns.index(REASON) + 1)

    def add(self, row: Iterable[Any]) -> None:
        self.sheet.append(row, wrapped=self.wrapped)

    def filter_and_freeze(self, columns: int = 0) -> None:
        """Filter the table, and keep its header row (and its first `columns`) in view when scrolling."""
        last = get_column_letter(len(self.columns))
        self.sheet.sheet.auto_filter.ref = f"A{self.header_row}:{last}{max(self.sheet.row, self.header_row)}"
        self.sheet.sheet.freeze_panes = f"{get_column_letter(columns + 1)}{self.header_row + 1}"


# -- Summary ----------------------------------------------------------------------------------------


def _summary(book_sheet: Worksheet, reports: list[Report]) -> None:
    sheet = _Sheet(book_sheet)
    returns = _Table(sheet, RETURN_COLUMNS)
    for report in reports:
        info, counts = report.return_info or {}, report.counts
        returns.add([report.collection_year, info.get("la"), info.get("reference_date"), info.get("children"),
                     counts[ERROR], counts[QUERY], report.explained, len(report.rules_run), report.previous_file or "",
                     report.file])
    sheet.skip()
    rules = _Table(sheet, RULE_COLUMNS)
    for report in reports:
        titles = rule_titles(report)
        grouped = findings_by_code(report)
        # The rules with findings first, then every other rule that was checked.
        codes = codes_in_order(report)
        for code in [c for c in codes if c in grouped] + [c for c in codes if c not in grouped]:
            found = grouped.get(code, [])
            first = found[0] if found else None
            rules.add([code, titles.get(code) or (first.message if first else ""),
                       first.severity if first else "", first.stage if first else "", len(found),
                       sum(1 for f in found if f.explanation is not None),
                       _yes_no(any(f.provisional for f in found)), report.file])
    rules.filter_and_freeze()
    sheet.fit()


# -- Findings ---------------------------------------------------------------------------------------


def _finding_order(finding: Finding) -> tuple:
    stage = STAGES.index(finding.stage) if finding.stage in STAGES else len(STAGES)
    return stage, finding.code, finding.line if finding.line is not None else -1, finding.path or ""


def _element(finding: Finding) -> str:
    """The element a finding is about: the schema's word for it, else the last step of its path."""
    if finding.element:
        return finding.element
    return re.sub(r"\[\d+\]$", "", finding.path.rsplit("/", 1)[-1]) if finding.path else ""


def _value_columns(findings: list[Finding], taken: set[str]) -> list[tuple[str, str]]:
    """(value name, column heading) for every value any finding read, in the order first met;
    a name that is already a column's heading (LAchildID) is headed `LAchildID (value)`."""
    names = dict.fromkeys(name for finding in findings for name in finding.values)
    return [(name, f"{name} (value)" if name in taken else name) for name in names]


def _findings(book_sheet: Worksheet, reports: list[Report]) -> None:
    sheet = _Sheet(book_sheet)
    ordered = [(report, finding) for report in reports for finding in sorted(report.findings, key=_finding_order)]
    findings = [finding for _, finding in ordered]
    extras = []  # columns shown only when some finding has something to put in them
    if any(f.baseline for f in findings):
        extras.append(("Since baseline", lambda f: f.baseline or ""))
    if any(f.in_previous for f in findings):
        extras.append(("In last year's return", lambda f: _yes_no(f.in_previous)))
    if any(f.provisional for f in findings):
        extras.append(("Provisional", lambda f: _yes_no(f.provisional)))
    fixed_names = {*FINDING_COLUMNS, *FINDING_CLOSING, *(name for name, _ in extras), "File", REASON}
    values = _value_columns(findings, fixed_names)
    table = _Table(sheet, [*FINDING_COLUMNS, *(heading for _, heading in values), *FINDING_CLOSING,
                           *(name for name, _ in extras), "File", REASON])
    titles: dict[int, dict[str, str]] = {}
    for report, finding in ordered:
        title = titles.setdefault(id(report), rule_titles(report)).get(finding.code, "")
        table.add([
            finding.severity, finding.code, title, finding.child_id or "", finding.record or "",
            _element(finding), finding.line, finding.path or "",
            *(_cell_value(finding.values[name]) if name in finding.values else None for name, _ in values),
            finding.message, related_text(finding.related), "; ".join(finding.details),
            *(cell(finding) for _, cell in extras), report.file,
            # A reason given before (--explanations) is written again, so it is never lost.
            finding.explanation or None,
        ])
    # Severity, code, title and child stay in view while the value columns scroll past.
    table.filter_and_freeze(columns=FINDING_COLUMNS.index(CHILD) + 1)
    sheet.fit()


# -- By child ---------------------------------------------------------------------------------------


def _by_child(book_sheet: Worksheet, reports: list[Report]) -> None:
    sheet = _Sheet(book_sheet)
    table = _Table(sheet, CHILD_COLUMNS)
    for report in reports:
        children: dict[str, list[Finding]] = {}
        for finding in report.findings:
            if finding.child_id:
                children.setdefault(finding.child_id, []).append(finding)
        rows = []
        for child, found in children.items():
            lines = [f.line for f in found if f.line is not None and not f.in_previous]
            codes = ", ".join(dict.fromkeys(f.code for f in sorted(found, key=_finding_order)))
            rows.append([child, sum(1 for f in found if f.severity == ERROR),
                         sum(1 for f in found if f.severity == QUERY), codes, min(lines) if lines else None,
                         report.file])
        rows.sort(key=lambda row: (row[4] is None, row[4] or 0, row[0]))
        for row in rows:
            table.add(row)
    table.filter_and_freeze()
    sheet.fit()


# -- Indicators -------------------------------------------------------------------------------------


def _indicators(book_sheet: Worksheet, reports: list[Report]) -> None:
    sheet = _Sheet(book_sheet)
    lines_of = [(report, indicator_lines(report.indicators)) for report in reports]
    rates = any(line.rate is not None for _, lines in lines_of for line in lines)
    last_year = any(line.last_year.value is not None for _, lines in lines_of for line in lines)
    columns = ["Indicator", "This return", "%"]
    columns += ["Per 10,000 children"] if rates else []
    columns += ["England", "England %", "England per 10,000", "England year"]
    columns += ["Last year", "Last year %"] if last_year else []
    columns += ["Note", "Key", "File"]
    table = _Table(sheet, columns)
    for report, lines in lines_of:
        for line in lines:
            national = line.national
            england_rate = line.england.value if line.england_rate else national.get("rate")
            row = [line.title, line.this_year.value, line.this_year.percent]
            row += [line.rate] if rates else []
            row += [national.get("value"), national.get("percent"), england_rate,
                    line.england_year if (national.get("value") is not None or england_rate is not None) else None]
            row += [line.last_year.value, line.last_year.percent] if last_year else []
            notes = [line.note] if line.note else []
            if line.england.about:
                notes.append("England's rate is approximate (derived)" if line.england_rate
                             else "England's figure is approximate (derived)")
            row += ["; ".join(notes), line.key, report.file]
            table.add(row)
    table.filter_and_freeze()
    sheet.fit()


# -- Fixed (with --baseline) ------------------------------------------------------------------------


def _fixed(book_sheet: Worksheet, reports: list[Report]) -> None:
    sheet = _Sheet(book_sheet)
    table = _Table(sheet, FIXED_COLUMNS)
    for report in reports:
        titles = rule_titles(report)
        for item in report.fixed or []:
            code = str(item.get("code", ""))
            table.add([code, titles.get(code, ""), item.get("severity", ""), item.get("child_id") or "",
                       item.get("record") or "", item.get("line"), item.get("path") or "",
                       item.get("message", ""), report.file])
    table.filter_and_freeze()
    sheet.fit()


def _workbook(reports: list[Report]) -> Workbook:
    book = Workbook()
    book.active.title = SUMMARY_SHEET
    _summary(book.active, reports)
    _findings(book.create_sheet(FINDINGS_SHEET), reports)
    _by_child(book.create_sheet(CHILD_SHEET), reports)
    _indicators(book.create_sheet(INDICATORS_SHEET), reports)
    if any(report.fixed is not None for report in reports):
        _fixed(book.create_sheet(FIXED_SHEET), reports)
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
