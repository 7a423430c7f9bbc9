"""What counts as identifying personal data in a report, and taking it out (--redact).

Findings always carry the LAchildID, line and path needed to find a record. By default they also
show the values the rule read; with redaction, the values that identify a child outside the
authority's own systems (UPNs and dates of birth, expected birth and death) never appear in any
output, in values, messages or details.
"""

from __future__ import annotations

from .report import Report

SENSITIVE = ("UPN", "FormerUPN", "PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate")
REDACTED = "redacted"


def is_sensitive(name: str) -> bool:
    """A value named after a sensitive element, or derived from one (named Element_...)."""
    return any(name == element or name.startswith(f"{element}_") for element in SENSITIVE)


def redact(report: Report) -> Report:
    for finding in report.findings:
        hidden = [str(value) for name, value in finding.values.items() if is_sensitive(name) and value is not None]
        for name in finding.values:
            if is_sensitive(name) and finding.values[name] is not None:
                finding.values[name] = REDACTED
        for value in sorted(hidden, key=len, reverse=True):
            finding.message = finding.message.replace(f"'{value}'", f"'{REDACTED}'")
            finding.details = [detail.replace(f"'{value}'", f"'{REDACTED}'") for detail in finding.details]
    return report
