"""CSV: one row per finding across every file checked, with a header row (RFC 4180 quoting, UTF-8 text).

A file with no findings adds no rows. The text is returned as it is; whoever writes it writes UTF-8.
"""

from __future__ import annotations

import csv
import io

from ..report import Finding, Report
from ._common import related_text, values_json

COLUMNS = ("file", "collection_year", "code", "severity", "stage", "provisional", "line", "path",
           "child_id", "message", "values", "related", "details")


def _row(report: Report, finding: Finding) -> list[str]:
    return [
        report.file,
        report.collection_year or "",
        finding.code,
        finding.severity,
        finding.stage,
        "true" if finding.provisional else "false",
        "" if finding.line is None else str(finding.line),
        finding.path or "",
        finding.child_id or "",
        finding.message,
        values_json(finding.values),
        related_text(finding.related, ";"),
        "; ".join(finding.details),
    ]


def render(reports: list[Report], colour: bool = False) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")  # RFC 4180: CRLF, quotes doubled
    writer.writerow(COLUMNS)
    for report in reports:
        for finding in report.findings:
            writer.writerow(_row(report, finding))
    return buffer.getvalue()
