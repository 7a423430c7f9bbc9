"""The committed fixtures give exactly the findings their manifest lists."""

from collections import Counter
from pathlib import Path

import pytest
import yaml

from validator import validate
from validator.rules import load_ruleset
from validator.years import SUPPORTED

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MANIFEST = yaml.safe_load((FIXTURES / "expected.yaml").read_text())


def test_every_fixture_is_in_the_manifest():
    assert sorted(MANIFEST) == sorted(path.name for path in FIXTURES.glob("*.xml"))


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_gives_exactly_its_manifest(name):
    expected = MANIFEST[name]
    report = validate(FIXTURES / name)
    assert report.collection_year == expected["collection_year"]
    assert report.exit_code() == expected["exit"]
    found = Counter((f.code, f.stage, f.line, f.child_id) for f in report.findings)
    wanted = Counter((str(f["code"]), f["stage"], f["line"], f["child_id"]) for f in expected["findings"])
    assert found - wanted == Counter(), "findings the manifest does not list"
    assert wanted - found == Counter(), "findings the manifest lists that were not raised"


@pytest.mark.parametrize("year", SUPPORTED)
def test_clean_fixture_is_clean_under_every_rule(year):
    report = validate(FIXTURES / f"clean-{year}.xml")
    assert report.findings == []
    assert set(report.rules_run) == set(load_ruleset(year).rules)


@pytest.mark.parametrize("year", SUPPORTED)
def test_every_rule_fires_in_the_years_every_rule_fixtures(year):
    fired = {str(f["code"]) for name, entry in MANIFEST.items() if name.startswith(f"every-rule-{year}")
             for f in entry["findings"]}
    assert set(load_ruleset(year).rules) - fired == set()
