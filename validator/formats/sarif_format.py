"""SARIF 2.1.0: one run per file, for code-scanning dashboards and editors that read static-analysis logs.

Errors are level "error" and queries "warning". Each result points at the return file and line, names the
element path as a logical location, and carries the LAchildID and values as properties.
"""

from __future__ import annotations

import json
from pathlib import PureWindowsPath
from typing import Any
from urllib.parse import quote

from ..report import Finding, Location, Report
from ._common import TOOL_NAME, codes_in_order, findings_by_code, is_error, location_text, rule_description

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def artifact_uri(file: str) -> str:
    """The file as a URI reference: a relative path stays relative, an absolute one becomes file:///."""
    windows = PureWindowsPath(file)
    if windows.drive and windows.is_absolute():
        return "file:///" + quote(windows.as_posix(), safe="/:")
    if file.startswith("/"):
        return "file://" + quote(file, safe="/")
    return quote(file, safe="/")  # ':' is escaped too, so no part of a name reads as a scheme


def _level(finding: Finding) -> str:
    return "error" if is_error(finding) else "warning"


def _physical(uri: str, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if isinstance(line, int) and line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _logical(path: str | None) -> list[dict[str, str]]:
    return [{"fullyQualifiedName": path, "kind": "element"}] if path else []


def _location(uri: str, line: int | None, path: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _physical(uri, line)}
    logical = _logical(path)
    if logical:
        location["logicalLocations"] = logical
    return location


def _related(uri: str, index: int, related: Location) -> dict[str, Any]:
    location = _location(uri, related.line, related.path)
    location["id"] = index
    location["message"] = {"text": f"Related record: {location_text(related)}"}
    return location


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.code,
        "shortDescription": {"text": rule_description(finding)},
        "defaultConfiguration": {"level": _level(finding)},
        "properties": {"severity": finding.severity, "stage": finding.stage, "provisional": finding.provisional},
    }


def _result(uri: str, finding: Finding, rule_index: int) -> dict[str, Any]:
    properties: dict[str, Any] = {"child_id": finding.child_id, "values": finding.values,
                                  "severity": finding.severity, "stage": finding.stage,
                                  "provisional": finding.provisional}
    if finding.details:
        properties["details"] = list(finding.details)
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _level(finding),
        "message": {"text": finding.message},
        "locations": [_location(uri, finding.line, finding.path)],
        "properties": properties,
    }
    if finding.related:
        result["relatedLocations"] = [_related(uri, index, location)
                                      for index, location in enumerate(finding.related, start=1)]
    return result


def _run(report: Report) -> dict[str, Any]:
    grouped = findings_by_code(report)
    found_codes = [code for code in codes_in_order(report) if code in grouped]
    rule_index = {code: index for index, code in enumerate(found_codes)}
    driver: dict[str, Any] = {"name": TOOL_NAME, "rules": [_rule(grouped[code][0]) for code in found_codes]}
    if report.tool_version:
        driver["version"] = report.tool_version
    uri = artifact_uri(report.file)
    return {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True}],
        "artifacts": [{"location": {"uri": uri}, "roles": ["analysisTarget"]}],
        "results": [_result(uri, finding, rule_index[finding.code]) for finding in report.findings],
        "properties": {"file": report.file, "collection_year": report.collection_year,
                       "rules_run": list(report.rules_run), "counts": report.counts},
    }


def render(reports: list[Report], colour: bool = False) -> str:
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [_run(report) for report in reports]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
