"""The rule documentation in docs/rules/ is generated from the rule files and must be current."""

from pathlib import Path

import pytest

from validator.ruledoc import all_codes, documentation, explain, years_in_force
from validator.years import SUPPORTED

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def test_committed_rule_docs_are_current():
    wanted = documentation()
    present = {path.name: path.read_text(encoding="utf-8") for path in DOCS.glob("*.md")}
    stale = sorted(name for name in wanted if present.get(name) != wanted[name])
    extra = sorted(set(present) - set(wanted))
    assert not stale and not extra, (
        f"docs/rules is out of date (stale: {stale[:10]}, extra: {extra[:10]}); "
        "run: python -m validator.ruledoc docs/rules")


SECTIONS = ["## What it checks", "## Why DfE asks", "## How to fix", "## Examples"]


def _positions(text, headings):
    return [text.index(heading) for heading in headings]


@pytest.mark.parametrize("code", all_codes())
def test_explain_gives_the_officer_sections_in_order_without_sql(code):
    text = explain(code)
    assert text.startswith(f"# {code}:")
    positions = _positions(text, SECTIONS)
    assert positions == sorted(positions)
    assert "```sql" not in text and "## Technical" not in text and "Raised when" not in text


@pytest.mark.parametrize("code", all_codes())
def test_explain_technical_adds_the_condition_after_the_examples(code):
    plain, technical = explain(code), explain(code, technical=True)
    rule = years_in_force(code)[-1][1]
    assert technical.startswith(plain.rstrip("\n"))
    tail = technical[technical.index("## Technical"):]
    assert "### Raised when" in tail and rule.raise_when in tail
    assert technical.index("## Examples") < technical.index("## Technical")


def test_explain_prints_the_rules_own_fix_and_reading():
    rule = dict(years_in_force("8610"))["2023-24"]
    text = explain("8610", "2023-24")
    how_to_fix = text[text.index("## How to fix"):text.index("## Reading chosen")]
    assert rule.fix in how_to_fix and "primary need" in rule.fix
    assert rule.interpretation in text[text.index("## Reading chosen"):text.index("## Examples")]
    assert "8610 · error · in force 2023-24, 2024-25, 2025-26, 2026-27" in text


def test_rule_pages_carry_the_fix_and_the_sql_under_technical_at_the_end():
    pages = documentation()
    for code in all_codes():
        page = pages[f"{code}.md"]
        latest = years_in_force(code)[-1][1]
        first_version = page[:page.find("## Earlier version")] if "## Earlier version" in page else page
        assert latest.fix in first_version
        assert first_version.index("## How to fix") < first_version.index("## Technical")
        assert latest.raise_when in first_version[first_version.index("## Technical"):]
    assert "### How to fix" in pages["4180.md"].split("## Earlier version")[1]


def test_explain_by_year_picks_that_years_version():
    assert "GenderCurrent" in explain("4180", "2023-24") and "Sex" in explain("4180", "2024-25")
    with pytest.raises(KeyError, match="not in force in 2023-24"):
        explain("1570", "2023-24")


def test_every_year_has_a_documented_rule_count():
    index = (DOCS / "README.md").read_text()
    for year in SUPPORTED:
        assert f"- {year}: " in index
