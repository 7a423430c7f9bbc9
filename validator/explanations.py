"""Explanations: the reason an authority gives DfE for a query that stays in the return.

An explanations file is YAML, a list of entries `{code, child_id, reason}` (child_id left out or
null for a return-level query). A query finding with a matching entry is shown as explained and
no longer fails --strict. An entry that matches no query is reported, and so is one naming an
error: errors must be fixed, they cannot be explained away.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .report import ERROR, QUERY, Report

_KEYS = {"code", "child_id", "reason"}


class ExplanationsError(ValueError):
    """An explanations file that cannot be used."""


@dataclass(frozen=True)
class Explanation:
    code: str
    child_id: str | None
    reason: str

    def describe(self) -> str:
        who = f"child {self.child_id}" if self.child_id else "the return"
        return f"{self.code} for {who}"


def load_explanations(path: str | Path) -> list[Explanation]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExplanationsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
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
        child = item.get("child_id")
        entries.append(Explanation(str(code).strip().upper(), None if child is None else str(child).strip(),
                                   " ".join(reason.split())))
    return entries


def apply(report: Report, explanations: list[Explanation]) -> Report:
    """Mark the queries each entry explains; note the entries that explain nothing."""
    used = set()
    for finding in report.findings:
        matching = [index for index, entry in enumerate(explanations)
                    if entry.code == finding.code.upper() and entry.child_id == finding.child_id]
        if not matching:
            continue
        used.update(matching)  # one entry explains every query of its code for its child
        entry = explanations[matching[0]]
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
