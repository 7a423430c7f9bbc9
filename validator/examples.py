"""Rule examples: turning a fragment in a rule file into a whole return, and checking the result.

An example is written for the collection year of the folder its rule file sits in. When the rule
carries forward to a later year, the example runs there too with every date moved on by the
same number of years (29 February becoming 28 February), unless the example names its years.
"""

from __future__ import annotations

import re
from datetime import date

from .load import load
from .pipeline import Options, check_document
from .report import Finding
from .rules import Example, Rule
from .years import CollectionYear

_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?!\d)")
_YEAR_ELEMENT = re.compile(r"<Year>\s*(\d{4})\s*</Year>")


def shift_dates(text: str, years: int) -> str:
    """Move every YYYY-MM-DD in the text on by whole years (invalid dates keep their month and day)."""
    if years == 0:
        return text

    def move(match: re.Match) -> str:
        year, month, day = (int(part) for part in match.groups())
        try:
            date(year, month, day)
        except ValueError:
            return f"{year + years:04d}-{match.group(2)}-{match.group(3)}"
        new_year = year + years
        if month == 2 and day == 29:
            try:
                date(new_year, 2, 29)
            except ValueError:
                day = 28
        return f"{new_year:04d}-{month:02d}-{day:02d}"

    text = _DATE.sub(move, text)
    return _YEAR_ELEMENT.sub(lambda m: f"<Year>{int(m.group(1)) + years}</Year>", text)


def header_xml(year: CollectionYear) -> str:
    return (
        "<Header><CollectionDetails><Collection>CIN</Collection>"
        f"<Year>{year.end_year}</Year><ReferenceDate>{year.reference_date.isoformat()}</ReferenceDate>"
        "</CollectionDetails><Source><SourceLevel>L</SourceLevel><LEA>201</LEA>"
        "<SoftwareCode>cin-validate examples</SoftwareCode></Source></Header>"
    )


def default_child(year: CollectionYear, episodes: str) -> str:
    """A plain, valid child (aged 9, no UPN needed by any example) around the given episodes."""
    gender = "<GenderCurrent>1</GenderCurrent>" if year.name == "2023-24" else "<Sex>M</Sex>"
    return (
        "<Child><ChildIdentifiers><LAchildID>EX0001</LAchildID>"
        f"<UPNunknown>UN2</UPNunknown><PersonBirthDate>{year.end_year - 10}-05-10</PersonBirthDate>{gender}"
        "</ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity>"
        "<Disabilities><Disability>NONE</Disability></Disabilities></ChildCharacteristics>"
        f"{episodes}</Child>"
    )


def example_years(rule_years: list[CollectionYear], example: Example) -> list[CollectionYear]:
    if example.years is None:
        return rule_years
    return [year for year in rule_years if year.name in example.years]


def example_document(rule: Rule, example: Example, year: CollectionYear) -> bytes:
    shift = year.end_year - CollectionYear(rule.defined_in).end_year
    body = shift_dates(example.xml.strip(), shift)
    if example.kind == "message":
        xml = body
    else:
        if example.kind == "episode":
            children = default_child(year, body)
        else:
            children = body
        xml = f"<Message>{header_xml(year)}<Children>{children}</Children></Message>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode("utf-8")


def run_example(rule: Rule, example: Example, year: CollectionYear) -> list[Finding]:
    """The findings of the one rule on the example, as the full engine produces them."""
    data = example_document(rule, example, year)
    document = load(data, year=year.name, name=f"{rule.code}:{example.name}")
    report = check_document(document, Options(select=(rule.code,), schema=False))
    return [finding for finding in report.findings if finding.stage == "rule"]


def mismatches(findings: list[Finding], expect: tuple) -> list[str]:
    """What differs between the findings and the example's expectations (empty when they agree)."""
    problems = []
    remaining = list(findings)
    for item in expect:
        wanted = {"code": item} if isinstance(item, str) else item
        for index, finding in enumerate(remaining):
            if finding.code != wanted["code"]:
                continue
            if "path" in wanted and finding.path != wanted["path"]:
                continue
            if "child_id" in wanted and finding.child_id != wanted["child_id"]:
                continue
            if "related" in wanted and sorted(loc.path for loc in finding.related) != sorted(wanted["related"]):
                continue
            del remaining[index]
            break
        else:
            problems.append(f"expected a finding {wanted} that was not raised")
    for finding in remaining:
        problems.append(
            f"unexpected finding {finding.code} at {finding.path} (line {finding.line}), "
            f"related {[loc.path for loc in finding.related]}"
        )
    return problems
