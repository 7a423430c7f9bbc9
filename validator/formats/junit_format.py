"""JUnit XML, for the test reports of CI systems (Jenkins, GitLab, GitHub test reporters).

One <testsuite> per file; in it one <testcase> for the header check (YEAR), one for the schema stage
(SCHEMA) and one per rule that ran. A check with errors fails, its <failure> listing every record. A
check with only queries passes and lists its records in <system-out>, unless rendered strict, where
queries fail as well (as `--strict` makes them fail the exit code).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ..report import Finding, Report
from ._common import (
    SCHEMA_CODE, STAGE_DESCRIPTIONS, TOOL_NAME, YEAR_CODE, codes_in_order, findings_by_code, is_error, record_lines,
    rule_description,
)

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CLASSNAMES = {YEAR_CODE: "header", SCHEMA_CODE: "schema"}


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {name: _xml_text(str(value)) for name, value in attributes.items()})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _records(code: str, findings: list[Finding]) -> str:
    """Every record, one per line; each carries its own message where the check has no single one."""
    with_message = code in STAGE_DESCRIPTIONS or len({finding.message for finding in findings}) > 1
    return "\n".join(line for finding in findings for line in record_lines(finding, with_message)) + "\n"


def _mark_provisional(case: ET.Element, findings: list[Finding]) -> str:
    """Say so on a provisional rule's testcase (as a property, so its name stays the same from run to run).

    The report knows a rule is provisional only from its findings, so a provisional rule that found
    nothing is not marked. Returns the note for the rule's messages.
    """
    if not any(finding.provisional for finding in findings):
        return ""
    properties = _element(case, "properties")
    _element(properties, "property", name="provisional", value="true")
    return " (provisional rule)"


def _failure_message(code: str, failing: list[Finding], note: str) -> str:
    errors = sum(1 for finding in failing if is_error(finding))
    queries = len(failing) - errors
    counted = ", ".join(part for part in (f"{errors} error(s)" if errors else "",
                                          f"{queries} query(ies)" if queries else "") if part)
    return f"{code}{note}: {rule_description(failing[0])} [{counted}]"


def _testcase(suite: ET.Element, report: Report, code: str, findings: list[Finding], strict: bool) -> bool:
    """Add the testcase for one code; True when it fails."""
    case = _element(suite, "testcase", name=code, classname=f"{TOOL_NAME}.{_CLASSNAMES.get(code, 'rule')}",
                    file=report.file)
    note = _mark_provisional(case, findings)
    failing = [finding for finding in findings if strict or is_error(finding)]
    passing = [finding for finding in findings if not (strict or is_error(finding))]
    if failing:
        _element(case, "failure", _records(code, failing), message=_failure_message(code, failing, note),
                 type="error" if any(map(is_error, failing)) else "query")
    if passing:
        heading = f"{code}{note}: {rule_description(passing[0])} [{len(passing)} query(ies), to fix or explain]\n"
        _element(case, "system-out", heading + _records(code, passing))
    return bool(failing)


def _testsuite(parent: ET.Element, report: Report, strict: bool) -> tuple[int, int]:
    suite = _element(parent, "testsuite", name=report.file)
    properties = _element(suite, "properties")
    _element(properties, "property", name="collection_year", value=report.collection_year or "")
    _element(properties, "property", name="tool_version", value=report.tool_version)
    _element(properties, "property", name="strict", value="true" if strict else "false")
    grouped = findings_by_code(report)
    codes = codes_in_order(report)
    failures = sum(_testcase(suite, report, code, grouped.get(code, []), strict) for code in codes)
    _set_counts(suite, len(codes), failures)
    return len(codes), failures


def _set_counts(element: ET.Element, tests: int, failures: int) -> None:
    element.set("tests", str(tests))
    element.set("failures", str(failures))
    element.set("errors", "0")
    element.set("skipped", "0")


def render(reports: list[Report], colour: bool = False, strict: bool = False) -> str:
    root = ET.Element("testsuites", {"name": TOOL_NAME})
    tests = failures = 0
    for report in reports:
        suite_tests, suite_failures = _testsuite(root, report, strict)
        tests, failures = tests + suite_tests, failures + suite_failures
    _set_counts(root, tests, failures)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_strict(reports: list[Report], colour: bool = False) -> str:
    """`render` with queries failing too, in the two-argument shape the renderer table uses."""
    return render(reports, colour, strict=True)
