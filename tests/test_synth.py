"""The synthetic return generator: clean by default, deterministic, and every breach it injects is
found by the validator exactly as its manifest says."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from lxml import etree

from validator import synth, validate
from validator.rules import load_ruleset
from validator.schema import code_lists
from validator.years import SUPPORTED


def _findings(xml: bytes) -> list:
    return validate(xml).findings


def _show(findings, limit: int = 10) -> str:
    return "\n".join(f"{f.code} {f.child_id} {f.path}: {f.message}" for f in findings[:limit])


# A few hundred children, and a small return where the last child must make up the disability
# codes (2887Q, 2888Q) and the pre-proceedings block (8995Q, 9000Q) the others did not bring.
@pytest.mark.parametrize("year, children, seed", [(year, 250, 1) for year in SUPPORTED]
                         + [("2023-24", 30, 2), ("2026-27", 30, 2)])
def test_generated_return_is_clean(year, children, seed):
    findings = _findings(synth.generate(children, seed, year).xml)
    assert findings == [], _show(findings)


@pytest.mark.parametrize("year, rate, seed", [(year, 0.3, 5) for year in SUPPORTED] + [("2026-27", 1.0, 6)])
def test_every_breach_is_found_and_nothing_else(year, rate, seed):
    result = synth.generate(250, seed, year, rate)
    assert result.breaches
    got = Counter((f.code, f.child_id) for f in _findings(result.xml))
    want = Counter((b["code"], b["child_id"]) for b in result.breaches)
    assert got - want == Counter(), f"findings no breach explains: {got - want}"
    assert want - got == Counter(), f"breaches not found: {want - got}"


def test_breaches_cover_a_spread_of_rules_and_the_schema():
    result = synth.generate(400, 3, "2026-27", 1.0)
    kinds = Counter(b["kind"] for b in result.breaches)
    codes = {b["code"] for b in result.breaches}
    assert len(kinds) >= 45
    assert len(codes) >= 42
    assert "SCHEMA" in codes
    assert {"8510", "8875", "2885", "8608", "8610", "4220", "8568", "8790", "1510"} <= codes
    for breach in result.breaches:
        assert set(breach) == {"kind", "code", "child_id", "description"}
        assert breach["description"]


def test_about_the_asked_share_of_children_is_breached():
    result = synth.generate(2000, 4, "2025-26", 0.1)
    breached = {b["child_id"] for b in result.breaches}
    assert 150 <= len(breached) <= 250


def test_same_arguments_give_the_same_bytes():
    first = synth.generate(120, 9, "2024-25", 0.2)
    again = synth.generate(120, 9, "2024-25", 0.2)
    assert first.xml == again.xml
    assert first.breaches == again.breaches
    assert synth.generate(120, 10, "2024-25", 0.2).xml != first.xml
    assert synth.generate(120, 9, "2024-25").xml != first.xml


def test_write_streams_the_same_return_and_its_manifest(tmp_path):
    path = tmp_path / "synthetic.xml"
    manifest = synth.write(path, 80, 12, "2026-27", error_rate=0.25)
    expected = synth.generate(80, 12, "2026-27", 0.25)
    assert path.read_bytes() == expected.xml
    assert manifest == tmp_path / "synthetic.xml.breaches.yaml"
    data = yaml.safe_load(manifest.read_text())
    assert data["collection_year"] == "2026-27" and data["seed"] == 12 and data["children"] == 80
    assert data["count"] == len(expected.breaches)
    assert data["breaches"] == expected.breaches

    clean = tmp_path / "clean.xml"
    assert synth.write(clean, 10, 1, "2023-24") is None
    assert clean.read_bytes() == synth.generate(10, 1, "2023-24").xml
    assert not (tmp_path / "clean.xml.breaches.yaml").exists()


@pytest.mark.parametrize("children", [1, 2, 17, 250])
def test_children_count_is_as_asked(children):
    root = etree.fromstring(synth.generate(children, 3, "2025-26", 0.2).xml)
    kids = root.findall("Children/Child")
    assert len(kids) == children


def test_header_is_fixed_by_the_year():
    for year in SUPPORTED:
        root = etree.fromstring(synth.generate(3, 1, year).xml)
        end = int(year[:4]) + 1
        assert root.findtext("Header/CollectionDetails/Year") == str(end)
        assert root.findtext("Header/CollectionDetails/ReferenceDate") == f"{end}-03-31"
        assert root.findtext("Header/Source/DateTime") == f"{end}-04-15T09:30:00"
        assert root.findtext("Header/Source/LEA") in synth.LA_CODES


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        synth.generate(0, 1, "2025-26")
    with pytest.raises(ValueError):
        synth.generate(5, 1, "2019-20")
    with pytest.raises(ValueError):
        synth.generate(5, 1, "2025-26", error_rate=1.5)


def test_reference_data_matches_the_years_lists():
    assert list(synth.LA_CODES) == load_ruleset("2023-24").code_lists["la_codes"]
    assert not set(synth._NOT_LA_CODES) & set(synth.LA_CODES)
    assert synth.upn_check_letter("303177624216") == "L"  # the worked example of the specification
    for year in SUPPORTED:
        lists = {name: set(c.codes) for name, c in code_lists(year).items()}
        assert set(synth.ETHNICITY.codes) == lists["EthnicityCode"]
        assert set(synth.REFERRAL_SOURCE.codes) == lists["ReferralSourceCode"]
        assert set(synth.PRIMARY_NEED.codes) == lists["PrimaryNeedCode"]
        assert set(synth.DISABILITY_CODES) | {"NONE"} == lists["DisabilityCode"]
        assert set(synth.FACTORS.codes) | {"21", "18A", "19A"} == lists["AssessmentFactorCode"]
        assert set(synth.CATEGORY.codes) == lists["CategoryOfAbuseCode"]


def test_returns_look_like_a_local_authoritys():
    root = etree.fromstring(synth.generate(3000, 8, "2026-27").xml)
    kids = root.findall("Children/Child")
    episodes = root.findall(".//CINdetails")
    nfa = sum(e.findtext("ReferralNFA") in ("true", "1") for e in episodes)
    assert 0.03 < nfa / len(episodes) < 0.12
    per_child = Counter(len(k.findall("CINdetails")) for k in kids)
    assert per_child[1] > per_child[2] > per_child[3] > 0
    assert 20 < sum(k.find("ChildIdentifiers/ExpectedPersonBirthDate") is not None for k in kids) < 120
    for child in kids:
        if child.find("ChildIdentifiers/ExpectedPersonBirthDate") is not None:
            assert child.findtext("ChildIdentifiers/Sex") == "U"
    assert len({k.findtext("ChildCharacteristics/Ethnicity") for k in kids}) >= 18
    assert len({e.findtext("ReferralSource") for e in episodes}) >= 20
    factors = Counter(f.text for f in root.iter("AssessmentFactors"))
    assert not {"8A", "18A", "19A"} & set(factors)
    assert {"8B", "8C", "8D", "8E", "8F", "24A", "21"} <= set(factors)
    for group in root.iter("FactorsIdentifiedAtAssessment"):
        codes = [f.text for f in group]
        if "21" in codes:
            assert codes == ["21"]
            episode = group.getparent().getparent()
            assert episode.findtext("ReasonForClosure") in ("RC8", "RC9")
    assert root.find(".//PreProceedingsandFGDM") is not None
    assert root.find(".//ChildProtectionPlans/NumberOfPreviousCPP[.='1']") is not None
    assert root.find("Children/Child/ChildIdentifiers/UPNunknown[.='UN7']") is not None
    ids = [k.findtext("ChildIdentifiers/LAchildID") for k in kids]
    assert len(set(ids)) == len(ids)
    assert all(i.isascii() and i.isalnum() and len(i) <= 20 for i in ids)
