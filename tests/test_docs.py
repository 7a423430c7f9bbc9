"""The rule documentation in docs/rules/ is generated from the rule files and must be current."""

from pathlib import Path

import pytest

from validator.ruledoc import all_codes, documentation, explain
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


@pytest.mark.parametrize("code", all_codes())
def test_explain_works_for_every_code(code):
    text = explain(code)
    assert text.startswith(f"# {code}:") and "## Raised when" in text and "## Examples" in text


def test_explain_by_year_picks_that_years_version():
    assert "GenderCurrent" in explain("4180", "2023-24") and "Sex" in explain("4180", "2024-25")
    with pytest.raises(KeyError, match="not in force in 2023-24"):
        explain("1570", "2023-24")


def test_every_year_has_a_documented_rule_count():
    index = (DOCS / "README.md").read_text()
    for year in SUPPORTED:
        assert f"- {year}: " in index
