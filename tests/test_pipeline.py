"""The whole path on small returns: stages together, and one finding per problem."""

from validator import validate
from validator.examples import default_child
from validator.years import CollectionYear

from .helpers import message


def episode(nfa="false", source="<ReferralSource>1A</ReferralSource>"):
    return (f"<CINdetails><CINreferralDate>2024-06-03</CINreferralDate>{source}<PrimaryNeedCode>N1"
            f"</PrimaryNeedCode><ReferralNFA>{nfa}</ReferralNFA></CINdetails>")


def check(children, year="2024-25", **options):
    # A one-child return always breaks the return-wide disability queries; they are beside the point.
    options.setdefault("ignore", ["2887Q", "2888Q"])
    report = validate(message(year, children), **options)
    return [(f.stage, f.code, f.path) for f in report.findings], report


def test_bad_boolean_spelling_is_reported_once_by_8568():
    found, report = check(default_child(CollectionYear("2024-25"), episode(nfa="TRUE")))
    assert found == [("rule", "8568", "/Message/Children/Child[1]/CINdetails[1]/ReferralNFA")]
    assert report.findings[0].details and "ReferralNFA has 'TRUE'" in report.findings[0].details[0]


def test_missing_element_folds_into_the_rule_reporting_it():
    found, _ = check(default_child(CollectionYear("2024-25"), episode(source="")))
    assert found == [("rule", "8866", "/Message/Children/Child[1]/CINdetails[1]")]


def test_schema_finding_stays_when_the_rule_does_not_fire_on_that_instance():
    # An invalid disability code on a child whose referrals were all NFA is outside 8540's scope.
    child = default_child(CollectionYear("2024-25"), episode(nfa="true")).replace(
        "<Disability>NONE</Disability>", "<Disability>XYZ</Disability>")
    found, _ = check(child)
    assert found == [("schema", "SCHEMA",
                      "/Message/Children/Child[1]/ChildCharacteristics/Disabilities/Disability[1]")]
    found, _ = check(child.replace("<ReferralNFA>true", "<ReferralNFA>false"))
    assert ("rule", "8540", "/Message/Children/Child[1]/ChildCharacteristics/Disabilities") in found
    assert not [f for f in found if f[0] == "schema"]


def test_an_element_of_another_year_keeps_its_own_finding():
    child = default_child(CollectionYear("2023-24"), episode())  # GenderCurrent, in a 2024-25 return
    found, _ = check(child)
    assert ("schema", "SCHEMA", "/Message/Children/Child[1]/ChildIdentifiers/GenderCurrent") in found
    assert ("rule", "4180", "/Message/Children/Child[1]/ChildIdentifiers") in found


def test_select_and_ignore():
    child = default_child(CollectionYear("2024-25"), episode(nfa="TRUE")).replace("WBRI", "wbri")
    found, report = check(child, select=["8568"])
    assert sorted(code for _, code, _ in found) == ["8568", "SCHEMA"] and report.rules_run == ["8568"]
    found, report = check(child, ignore=["8568", "4220", "2887Q", "2888Q"])
    assert "8568" not in report.rules_run and [code for _, code, _ in found] == ["SCHEMA", "SCHEMA"]
    found, report = check(child, ignore=["8568", "2887Q", "2888Q"])
    assert sorted(code for _, code, _ in found) == ["4220", "SCHEMA"]
