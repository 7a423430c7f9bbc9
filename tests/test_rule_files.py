"""The meta-test: every rule file, for every year it is in force, follows the house rules."""

import re

import pytest

from validator.engine import compile_rule
from validator.examples import example_years
from validator.privacy import SENSITIVE, is_sensitive
from validator.rules import RuleFileError, load_ruleset, parse_rule
from validator.schema import element_names
from validator.tables import SPECS
from validator.years import SUPPORTED, all_years

ALL_ELEMENTS = frozenset().union(*(element_names(name) for name in SUPPORTED))
GROUP_NAMES = {tag for spec in SPECS.values() for tag, _ in spec.groups}


def _rules_by_year():
    for year in all_years():
        for rule in load_ruleset(year.name).rules.values():
            yield pytest.param(rule, year, id=f"{year.name}-{rule.code}")


@pytest.mark.parametrize("rule, year", list(_rules_by_year()))
class TestEveryRule:
    def test_query_suffix_matches_severity(self, rule, year):
        assert rule.code.endswith("Q") == (rule.severity == "query")

    def test_has_pass_and_fail_examples_in_the_year(self, rule, year):
        examples = [e for e in rule.examples if example_years([year], e)]
        assert any(not e.expect for e in examples), "needs at least one example that passes"
        assert any(e.expect for e in examples), "needs at least one example that raises a finding"

    def test_fail_examples_expect_this_rule_only(self, rule, year):
        for example in rule.examples:
            for item in example.expect:
                code = item if isinstance(item, str) else item["code"]
                assert code == rule.code, f"example {example.name} expects {code}"

    def test_reads_exist_in_the_years_schema(self, rule, year):
        missing = [name for name in rule.reads if name not in element_names(year.name)]
        assert not missing, f"reads elements that {year.name}'s XSD does not declare: {missing}"

    def test_elements_in_the_condition_are_declared_in_reads(self, rule, year):
        texts = []
        for part in rule.parts():
            texts += [part.raise_when, *(e for _, e in part.values), *(e for _, e in part.let)]
            texts += [bit for item in part.related for bit in (item.when, item.element, item.at) if bit]
        used = set()
        for text in texts:
            for token in re.findall(r"[A-Za-z][A-Za-z0-9]*", text):
                if token in ALL_ELEMENTS and token not in GROUP_NAMES:
                    used.add(token)
        undeclared = sorted(used - set(rule.reads))
        assert not undeclared, f"the condition reads {undeclared}, which 'reads' does not list"

    def test_location_elements_belong_to_the_table(self, rule, year):
        if rule.table == "return":
            assert not rule.at
            return
        spec = SPECS[rule.table]
        known = {c.element for c in spec.columns} | {tag for tag, _ in spec.groups}
        assert set(rule.at) <= known

    def test_values_derived_from_personal_data_are_named_after_it(self, rule, year):
        """--redact hides values by name, so a value computed from a UPN or a date of birth must say so."""
        for part in rule.parts():
            for name, expression in part.values:
                for element in SENSITIVE:
                    if re.search(rf"\b{element}(_text)?\b", expression):
                        assert is_sensitive(name), f"value '{name}' is derived from {element}"

    def test_folded_elements_are_read(self, rule, year):
        assert set(rule.folds) <= set(rule.reads)

    def test_compiles(self, rule, year):
        assert "SELECT" in compile_rule(rule).sql

    def test_has_a_plain_fix_for_data_officers(self, rule, year):
        """2 to 5 sentences of plain guidance: no SQL, no element paths, no table aliases."""
        sentences = re.findall(r"[.!?](?:\s|$)", rule.fix)
        assert 2 <= len(sentences) <= 5, f"fix has {len(sentences)} sentence(s)"
        assert "/" not in rule.fix and not re.search(r"\b[tp]\.[A-Z]|\bIS (NOT )?NULL\b|\bSELECT\b", rule.fix)

    def test_provisional_only_for_new_draft_years(self, rule, year):
        if rule.provisional:
            assert rule.defined_in == "2026-27"


def _write(tmp_path, text, name="8610.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = """
code: "8610"
severity: error
scope: record
title: t
message: m
fix: f
reads: [ReferralNFA]
table: cin_details
raise_when: t.ReferralNFA IS FALSE
examples:
  - {name: a, expect: [], episode: "<CINdetails/>"}
"""


def test_a_good_file_loads(tmp_path):
    assert parse_rule(_write(tmp_path, GOOD), "2023-24").code == "8610"


@pytest.mark.parametrize(
    "change, complaint",
    [
        (("title: t", "title: t\ncolour: blue"), "unknown key"),
        (("severity: error", "severity: query"), "Q if and only if"),
        (("table: cin_details", "table: episodes"), "is not one of"),
        (("scope: record", "scope: family"), "scope must be"),
        (("{name: a, expect: [],", "{name: a, expect: [], flavour: x,"), "unknown key"),
        (("{name: a, expect: [],", "{name: a,"), "needs 'expect'"),
        (("reads: [ReferralNFA]\n", ""), "missing required key 'reads'"),
        (('code: "8610"', "code: 8610"), "'code' must be a str"),
        (("fix: f\n", ""), "missing required key 'fix'"),
        (("fix: f", "fix: '  '"), "'fix' must tell a data officer"),
    ],
)
def test_rule_files_are_read_strictly(tmp_path, change, complaint):
    old, new = change
    with pytest.raises(RuleFileError, match=complaint):
        parse_rule(_write(tmp_path, GOOD.replace(old, new)), "2023-24")


def test_no_two_codes_share_a_fix_text():
    """Guidance copied from rule to rule would not tell an officer what this finding needs."""
    codes_by_fix: dict[str, set[str]] = {}
    for year in all_years():
        for rule in load_ruleset(year.name).rules.values():
            codes_by_fix.setdefault(rule.fix, set()).add(rule.code)
    shared = {fix[:60]: sorted(codes) for fix, codes in codes_by_fix.items() if len(codes) > 1}
    assert not shared, f"the same fix text is given for different codes: {shared}"


def test_file_name_must_match_code(tmp_path):
    with pytest.raises(RuleFileError, match="must be named 8610.yaml"):
        parse_rule(_write(tmp_path, GOOD, "8611.yaml"), "2023-24")


def test_later_years_declare_only_changes(tmp_path):
    """A later year's folder replaces rules by code and can remove them; the rest carries forward."""
    for year, extra in (("2023-24", ""), ("2024-25", "extends: 2023-24\nremove: ['8610']\n")):
        folder = tmp_path / year
        folder.mkdir()
        (folder / "_ruleset.yaml").write_text(f"year: {year}\n{extra}")
    _write(tmp_path / "2023-24", GOOD)
    _write(tmp_path / "2023-24", GOOD.replace('"8610"', '"8611"'), "8611.yaml")
    load_ruleset.cache_clear()
    try:
        assert set(load_ruleset("2023-24", tmp_path).rules) == {"8610", "8611"}
        assert set(load_ruleset("2024-25", tmp_path).rules) == {"8611"}
    finally:
        load_ruleset.cache_clear()


# The DfE rule codes per year, as the specification lists them.
BASE_CODES = """100 1103 1104 1105 1510 1520 1530 1540 1550 1560Q 2883 2884 2885 2886Q 2887Q 2888Q 2889 2990 2991Q
4000 4001 4003 4004 4008 4009Q 4010 4011 4012Q 4013 4014 4015 4016 4017 4180 4220 8500 8510 8520 8525Q
8530Q 8535Q 8540 8545Q 8555Q 8565 8568 8569Q 8585Q 8590 8600 8606 8608 8610 8614 8615 8620 8630 8640 8650
8670Q 8675Q 8696 8715 8720 8730 8736 8740 8750 8770Q 8772 8775Q 8790 8794 8805 8810 8815 8816 8820 8825Q
8831 8832 8839 8840 8841 8842Q 8863Q 8866 8867 8868 8869 8870Q 8873Q 8875 8890 8896 8897Q 8898 8905 8910
8915 8920 8925 8930 8935 8940""".split()
NEW_2024_25 = ["1570", "1580", "8945Q", "8950Q"]
CHANGED_2024_25 = ["2886Q", "4180", "8750", "8770Q"]
DRAFT_2026_27 = "8995Q 9000Q 9005 9006 9007 9008 9009 9010Q 9011 9012 9013 9015Q".split()
EXPECTED_CODES = {
    "2023-24": set(BASE_CODES),
    "2024-25": set(BASE_CODES + NEW_2024_25),
    "2025-26": set(BASE_CODES + NEW_2024_25),
    "2026-27": set(BASE_CODES + NEW_2024_25 + DRAFT_2026_27),
}


@pytest.mark.parametrize("year, count", [("2023-24", 105), ("2024-25", 109), ("2025-26", 109), ("2026-27", 121)])
def test_resolved_rules_match_the_specification(year, count):
    ruleset = load_ruleset(year)
    assert set(ruleset.rules) == EXPECTED_CODES[year]
    assert len(ruleset.rules) == count
    for code in CHANGED_2024_25 + NEW_2024_25:
        if code in ruleset.rules:
            assert ruleset.rules[code].defined_in == ("2023-24" if year == "2023-24" else "2024-25")
    for code in DRAFT_2026_27:
        if code in ruleset.rules:
            assert ruleset.rules[code].provisional
    assert not any(rule.provisional for code, rule in ruleset.rules.items() if code not in DRAFT_2026_27)
