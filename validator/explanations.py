"""Explanations: the reason an authority gives DfE for a query that stays in the return.

Explanations come from either of two files:

- YAML, a list of entries `{code, child_id, record, reason}` (child_id left out or null for a
  return-level query; record, the record's plain name as the reports give it, left out to cover every
  record of that child);
- the workbook cin-validate writes (`--format xlsx`): the officer fills in the Reason column of the
  Findings sheet, and that column is read back, each row by its Code, LAchildID and Record. Rows
  with an empty Reason are skipped. The next workbook shows the reasons again, so they are kept
  from one run to the next.

A query finding with a matching entry is shown as explained and no longer fails --strict. An entry
that matches no query is reported, and so is one naming an error: errors must be fixed, they cannot
be explained away.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .report import ERROR, QUERY, Report

_KEYS = {"code", "child_id", "record", "reason"}
# The Findings sheet of the workbook and the headings read from it (as validator/formats/xlsx_format.py
# writes them: that module is not imported here, the spreadsheet library being slow to load).
FINDINGS_SHEET = "Findings"
CODE, CHILD, RECORD, REASON = "Code", "LAchildID", "Record", "Reason"
_ZIP_MAGIC = b"PK\x03\x04"


class ExplanationsError(ValueError):
    """An explanations file that cannot be used."""


@dataclass(frozen=True)
class Explanation:
    code: str
    child_id: str | None
    reason: str
    record: str | None = None  # only this record of the child; None: any of its records

    def describe(self) -> str:
        who = f"child {self.child_id}" if self.child_id else "the return"
        record = f", {self.record}" if self.record else ""
        return f"{self.code} for {who}{record}"

    def matches(self, code: str, child_id: str | None, record: str | None) -> bool:
        return (self.code == code.upper() and self.child_id == child_id
                and (self.record is None or self.record == record))


def load_explanations(path: str | Path) -> list[Explanation]:
    """The entries of a YAML explanations file, or of the Reason column of a report workbook."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            start = stream.read(len(_ZIP_MAGIC))
    except OSError as exc:
        raise ExplanationsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if start == _ZIP_MAGIC:
        return _from_workbook(path)
    return _from_yaml(path)


def _from_yaml(path: Path) -> list[Explanation]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExplanationsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ExplanationsError(f"{path}: neither a YAML file (UTF-8 text) nor an Excel workbook (.xlsx)") from None
    except yaml.YAMLError as exc:
        raise ExplanationsError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ExplanationsError(f"{path}: must be a list of entries with code, child_id and reason")
    entries = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise ExplanationsError(f"{path}: entry {number} must be a mapping")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise ExplanationsError(f"{path}: entry {number} has unknown key(s): {', '.join(unknown)}")
        code, reason = item.get("code"), item.get("reason")
        if code is None or not str(code).strip():
            raise ExplanationsError(f"{path}: entry {number} needs a code")
        if not isinstance(reason, str) or not reason.strip():
            raise ExplanationsError(f"{path}: entry {number} needs a reason")
        child, record = item.get("child_id"), item.get("record")
        entries.append(Explanation(str(code).strip().upper(), None if child is None else str(child).strip(),
                                   " ".join(reason.split()), _text(record)))
    return entries


def _text(value: Any) -> str | None:
    """A cell or YAML value as trimmed text; None when empty. A whole number typed into a cell
    (Excel keeps 123 as 123.0) reads as 123."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text or None


def _from_workbook(path: Path) -> list[Explanation]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ExplanationsError(f"{path}: not an Excel workbook that can be read ({exc.__class__.__name__})") from None
    try:
        if FINDINGS_SHEET not in book.sheetnames:
            raise ExplanationsError(f"{path}: the workbook has no {FINDINGS_SHEET} sheet (write one with "
                                    "--format xlsx and fill in its Reason column)")
        rows = book[FINDINGS_SHEET].iter_rows(values_only=True)
        header = [_text(cell) for cell in next(rows, ())]
        missing = [name for name in (CODE, CHILD, REASON) if name not in header]
        if missing:
            raise ExplanationsError(f"{path}: the {FINDINGS_SHEET} sheet has no {' or '.join(missing)} column "
                                    "in its first row")
        # The first column of each heading: a value a rule read may be headed "LAchildID (value)".
        where = {name: header.index(name) for name in (CODE, CHILD, RECORD, REASON) if name in header}
        entries: dict[tuple, Explanation] = {}
        for row in rows:
            cells = {name: _text(row[index]) if index < len(row) else None for name, index in where.items()}
            if not cells[REASON] or not cells[CODE]:
                continue
            entry = Explanation(cells[CODE].upper(), cells[CHILD], cells[REASON], cells.get(RECORD))
            # Several rows of one record (a rule raised twice on it) give one entry, the first reason.
            entries.setdefault((entry.code, entry.child_id, entry.record), entry)
        return list(entries.values())
    except ExplanationsError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:  # a sheet openpyxl cannot read
        raise ExplanationsError(f"{path}: not an Excel workbook that can be read ({exc.__class__.__name__})") from None
    finally:
        book.close()


def apply(report: Report, explanations: list[Explanation]) -> Report:
    """Mark the queries each entry explains; note the entries that explain nothing."""
    used = set()
    for finding in report.findings:
        matching = [index for index, entry in enumerate(explanations)
                    if entry.matches(finding.code, finding.child_id, finding.record)]
        if not matching:
            continue
        used.update(matching)  # one entry explains every query of its code for its child (and record)
        # An entry naming the record wins over one for the child as a whole.
        entry = explanations[min(matching, key=lambda index: (explanations[index].record is None, index))]
        if finding.severity == QUERY:
            finding.explanation = entry.reason
        elif finding.severity == ERROR:
            note = f"{entry.describe()}: an error cannot be explained; it must be fixed"
            if note not in report.explanation_notes:
                report.explanation_notes.append(note)
    for index, entry in enumerate(explanations):
        if index not in used:
            report.explanation_notes.append(f"{entry.describe()}: matches no query in this return")
    return report
