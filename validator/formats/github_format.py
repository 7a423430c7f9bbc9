"""GitHub Actions workflow commands: one `::error` (or, for a query, `::warning`) line per finding.

Printed in a workflow step, each line becomes an annotation on the return file at its line. The message
names the LAchildID, the element path and the values. Workflow-command escaping applies: in the message
`%`, CR and LF are escaped; in the properties `:` and `,` are too.
"""

from __future__ import annotations

from ..report import Finding, Report
from ._common import is_error, location_text, values_text


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _message(finding: Finding) -> str:
    """The rule's message, then one line each for whose record it is, its values and its related records."""
    lines = [finding.message]
    where = [f"LAchildID {finding.child_id}" if finding.child_id else "", finding.path or ""]
    if any(where):
        lines.append(" at ".join(part for part in where if part))
    if finding.values:
        lines.append(values_text(finding.values))
    lines += [f"with {location_text(location)}" for location in finding.related]
    lines += list(finding.details)
    return "\n".join(lines)


def _title(finding: Finding) -> str:
    return f"{finding.code} (provisional)" if finding.provisional else finding.code


def command(file: str, finding: Finding) -> str:
    """The workflow command for one finding; a finding without a line names the file alone."""
    properties = [("file", file)]
    if finding.line is not None:
        properties.append(("line", str(finding.line)))
    properties.append(("title", _title(finding)))
    joined = ",".join(f"{name}={escape_property(value)}" for name, value in properties)
    return f"::{'error' if is_error(finding) else 'warning'} {joined}::{escape_data(_message(finding))}"


def render(reports: list[Report], colour: bool = False) -> str:
    lines = [command(report.file, finding) for report in reports for finding in report.findings]
    return "".join(line + "\n" for line in lines)
