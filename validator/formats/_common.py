"""Small pieces of wording several renderers share, so a finding reads the same everywhere."""

from __future__ import annotations

import json
from typing import Any, Iterable

from ..report import ERROR, QUERY, STAGES, Finding, Location, Report

TOOL_NAME = "cin-validate"
SCHEMA_CODE, YEAR_CODE = "SCHEMA", "YEAR"
# Schema and header findings each carry their own wording; these describe the check as a whole.
STAGE_DESCRIPTIONS = {
    SCHEMA_CODE: "The return breaks the collection year's XSD schema.",
    YEAR_CODE: "The Header Year disagrees with the collection year the return is checked as.",
}
# Short names of the header and schema checks, beside the rules' titles.
STAGE_TITLES = {SCHEMA_CODE: "Breaks the year's XSD schema",
                YEAR_CODE: "Header Year differs from the year being checked"}
MISSING = "(missing)"


def value_text(value: Any) -> str:
    """One value as a person reads it: booleans in lower case, an absent value as (missing)."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def values_text(values: dict[str, Any], separator: str = "; ") -> str:
    """`ReferralNFA=false; PrimaryNeedCode=(missing)`."""
    return separator.join(f"{name}={value_text(value)}" for name, value in values.items())


def values_json(values: dict[str, Any]) -> str:
    """The values as compact JSON, in the order the rule names them (empty text when none)."""
    if not values:
        return ""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), default=str)


def location_text(location: Location) -> str:
    """`/Message/Children/Child[7]/CINdetails[3] (line 815)`, or whichever half is known."""
    if location.path and location.line is not None:
        return f"{location.path} (line {location.line})"
    if location.path:
        return location.path
    return f"line {location.line}" if location.line is not None else ""


def related_text(related: Iterable[Location], separator: str = "; ") -> str:
    return separator.join(text for text in map(location_text, related) if text)


def rule_description(finding: Finding) -> str:
    """What a code checks: the rule's own message, or a general line for the schema and header stages."""
    return STAGE_DESCRIPTIONS.get(finding.code, finding.message)


def rule_titles(report: Report) -> dict[str, str]:
    """Code -> the rule's title in the report's collection year, and a title for the header and
    schema checks; a code neither knows (or a year without rules) is left out."""
    from ..rules import RuleFileError, load_ruleset
    from ..years import UnknownYear

    titles = dict(STAGE_TITLES)
    if report.collection_year:
        try:
            rules = load_ruleset(report.collection_year).rules
        except (RuleFileError, UnknownYear):
            rules = {}
        titles.update((code, rule.title) for code, rule in rules.items())
    return titles


def is_error(finding: Finding) -> bool:
    return finding.severity == ERROR


def is_query(finding: Finding) -> bool:
    return finding.severity == QUERY


def codes_in_order(report: Report) -> list[str]:
    """Every code a report covers: the header and schema checks, the rules run, then any other code found."""
    codes = [YEAR_CODE, SCHEMA_CODE, *report.rules_run]
    for finding in sorted(report.findings, key=_stage_then_code):
        codes.append(finding.code)
    return list(dict.fromkeys(codes))


def findings_by_code(report: Report) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in report.findings:
        grouped.setdefault(finding.code, []).append(finding)
    return grouped


def _stage_then_code(finding: Finding) -> tuple:
    stage = STAGES.index(finding.stage) if finding.stage in STAGES else len(STAGES)
    return stage, finding.code


def record_text(finding: Finding, with_message: bool = False) -> str:
    """One finding on one line: where it is, whose record it is and the values involved."""
    parts = [f"line {finding.line}" if finding.line is not None else "return"]
    if finding.child_id:
        parts.append(f"LAchildID {finding.child_id}")
    if finding.path:
        parts.append(finding.path)
    if with_message:
        parts.append(finding.message)
    if finding.values:
        parts.append(values_text(finding.values, ", "))
    return "  ".join(parts)


def record_lines(finding: Finding, with_message: bool = False) -> list[str]:
    """`record_text` followed by indented lines for related records and folded schema messages."""
    lines = [record_text(finding, with_message)]
    lines += [f"    with {location_text(location)}" for location in finding.related]
    lines += [f"    {detail}" for detail in finding.details]
    return lines
