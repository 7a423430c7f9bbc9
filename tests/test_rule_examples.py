"""Every example of every rule, in every year the rule is in force, with only that rule enabled.

A fail example must give exactly the findings it names, a pass example none. Ids read
<year>-<code>-<example>, e.g. 2025-26-8610-nfa-false-no-need-code.
"""

import pytest

from validator.examples import example_years, mismatches, run_example
from validator.rules import load_ruleset
from validator.years import all_years


def _cases():
    cases = []
    for year in all_years():
        for rule in load_ruleset(year.name).rules.values():
            for example in rule.examples:
                if year in example_years([year], example):
                    cases.append(pytest.param(rule, example, year, id=f"{year.name}-{rule.code}-{example.name}"))
    return cases


@pytest.mark.parametrize("rule, example, year", _cases())
def test_example(rule, example, year):
    findings = run_example(rule, example, year)
    problems = mismatches(findings, example.expect)
    assert not problems, "\n".join(problems)
