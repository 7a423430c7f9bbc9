"""The report model: what a check found, independent of how it is shown.

Every output format renders a `Report`; none of them looks at the return or the rules again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

ERROR, QUERY = "error", "query"
SEVERITIES = (ERROR, QUERY)
# Stages, in the order a return passes through them (continuity: checks against last year's return).
STAGES = ("header", "schema", "rule", "continuity")
# How a finding stands against an earlier report of the same return (--baseline).
BASELINE_NEW, BASELINE_STILL = "new", "still"


@dataclass(frozen=True)
class Location:
    line: int | None
    path: str | None


@dataclass
class Finding:
    code: str
    severity: str
    stage: str
    message: str
    line: int | None = None
    path: str | None = None
    child_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    related: list[Location] = field(default_factory=list)
    provisional: bool = False
    details: list[str] = field(default_factory=list)  # schema messages folded into a rule finding
    explanation: str | None = None  # the authority's reason for a query it keeps (--explanations)
    element: str | None = None  # for schema findings: the element the breach is about
    # For schema findings: every element the breach may be about (an out-of-place element and the
    # ones expected in its place), used to fold it into a rule finding. Not part of the output.
    candidates: tuple[str, ...] = field(default=(), repr=False, compare=False)
    # The record in plain words, from its dates ("episode referred 2025-06-02"); None for child- and
    # return-level findings.
    record: str | None = None
    baseline: str | None = None  # BASELINE_NEW or BASELINE_STILL when --baseline is given
    in_previous: bool = False  # line, path and child are in last year's return (continuity checks)

    def sort_key(self) -> tuple:
        return (STAGES.index(self.stage), self.line if self.line is not None else -1, self.code, self.path or "")

    def to_dict(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict, which copies deeply and is slow enough to
        # matter for a report with tens of thousands of findings.
        return {
            "code": self.code, "severity": self.severity, "stage": self.stage, "message": self.message,
            "line": self.line, "path": self.path, "child_id": self.child_id, "values": dict(self.values),
            "related": [{"line": location.line, "path": location.path} for location in self.related],
            "provisional": self.provisional, "details": list(self.details), "explanation": self.explanation,
            "element": self.element, "record": self.record, "baseline": self.baseline,
            "in_previous": self.in_previous,
        }


# Every field of a finding but the internal one is output; a test holds to_dict to this list.
OUTPUT_FIELDS = tuple(f.name for f in fields(Finding) if f.name != "candidates")


@dataclass
class Report:
    file: str
    collection_year: str | None
    findings: list[Finding] = field(default_factory=list)
    rules_run: list[str] = field(default_factory=list)
    tool_version: str = ""
    explanation_notes: list[str] = field(default_factory=list)  # explanations that explained nothing
    indicators: dict[str, Any] | None = None
    # What the return is: {"la": "201", "reference_date": "2026-03-31", "children": 118} (keys may be None).
    return_info: dict[str, Any] = field(default_factory=dict)
    # With --baseline: findings of the earlier report no longer raised, as they were in that report.
    fixed: list[dict[str, Any]] | None = None
    previous_file: str | None = None  # the --previous return, when one was given

    @property
    def counts(self) -> dict[str, int]:
        counts = {severity: 0 for severity in SEVERITIES}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    @property
    def explained(self) -> int:
        return sum(1 for finding in self.findings if finding.explanation is not None)

    def exit_code(self, strict: bool = False) -> int:
        """0 when nothing must be fixed; 1 for any error, or any unexplained query under --strict."""
        counts = self.counts
        if counts[ERROR] or (strict and counts[QUERY] > self.explained):
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": "cin-validate", "version": self.tool_version},
            "file": self.file,
            "collection_year": self.collection_year,
            "counts": self.counts,
            "rules_run": list(self.rules_run),
            "findings": [finding.to_dict() for finding in self.findings],
            **({"queries_explained": self.explained} if self.explained else {}),
            **({"explanation_notes": list(self.explanation_notes)} if self.explanation_notes else {}),
            **({"return": dict(self.return_info)} if self.return_info else {}),
            **({"fixed": list(self.fixed)} if self.fixed is not None else {}),
            **({"previous_file": self.previous_file} if self.previous_file else {}),
            **({"indicators": self.indicators} if self.indicators is not None else {}),
        }
