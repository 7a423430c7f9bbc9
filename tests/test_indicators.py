"""Every indicator of indicators.md on a small synthetic return, against figures worked out by hand.

tests/data/indicators-2025-26.xml: census period P = 2025-04-01 .. 2026-03-31 (RD). Its previous
year, tests/data/indicators-2024-25.xml, has P' = 2024-04-01 .. 2025-03-31 (RD').
working_days(a, b) counts the England working days d with a < d <= b. Bank holidays in play:
2025-04-18 (Good Friday), 2025-04-21 (Easter Monday), 2025-08-25, 2025-12-25, 2025-12-26.

The referrals of the current return (25 CINdetails), with their class:
  IND01  a 2025-04-01 2A cin (open)            b 2026-03-02 1A cin (open)
  IND02  a 2025-03-31 6  cin (closed 2025-06-30) b 2026-03-31 6 cin (open)
  IND03  a 2024-06-01 1A cin: RC8 but has a CIN plan (closed 2025-05-15)   b 2025-06-02 3A nfa
  IND04  2025-05-01 2A assessed_not_in_need (RC8)     IND05  2025-07-01 3E assessed_not_in_need (RC9)
  IND06  2025-06-30 5D assessed_not_in_need (RC8, ReferralNFA missing: treated as not NFA)
  IND07  2025-10-01 6  cin (ReferralNFA "yes": neither, so not NFA; open)
  IND08  2025-11-03 2A cin (closed 2026-03-25)       IND09  2025-12-01 6  cin (open)
  IND10  2025-08-01 5C cin (closed 2026-03-15)       IND11  2023-12-01 6  cin (open)
  IND12  2024-03-01 1B cin (open)                    IND13  2023-05-01 8  cin (open)
  IND14  2025-08-20 1C cin (open)                    IND15  2025-04-02 7  cin (closed 2026-03-20)
  IND16  2024-05-01 6  cin (closed 2025-05-20)
  IND17  a 2025-02-30 (unusable) XX cin (open)  b 2025-09-01 no source nfa  c 2025-09-15 9 cin (open)
  IND18  (unborn) a 2026-01-15 3B cin (open)  b 2026-01-15 3B nfa ("TRUE")
  IND19  2020-06-01 6 cin, closure 2026-04-15 (after RD: open at RD)
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from validator import indicators
from validator.engine import Session
from validator.indicators import IndicatorFileError, compute, parse_definitions, percent, rate
from validator.load import load
from validator.pipeline import year_code_lists
from validator.tables import extract
from validator.years import CollectionYear

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CURRENT, PREVIOUS = DATA / "indicators-2025-26.xml", DATA / "indicators-2024-25.xml"
POPULATION = 8000  # a rate is then count x 1.25, which makes halves to round

SPEC_KEYS = [  # every key of indicators.md sections 1-30
    "children_in_need_at_31_march", "cin_episodes_in_year", "referrals", "children_referred",
    "re_referrals_within_12_months", "referrals_nfa", "assessed_not_in_need", "referrals_leading_to_cin",
    "referrals_by_source", "assessments_completed", "assessment_duration_bands",
    "assessments_within_45_working_days", "referral_to_assessment_completion", "factors_at_assessment",
    "s47_enquiries", "children_with_s47", "icpcs", "icpc_duration_bands", "icpcs_within_15_working_days",
    "cpp_started", "cpp_ended", "cpp_at_any_point", "cpp_open_at_31_march", "cpp_open_2_years_plus_at_31_march",
    "cpp_ended_duration_bands", "cpp_ended_2_years_plus", "cpp_by_initial_category",
    "cpp_open_at_31_march_by_category", "cpp_second_or_subsequent", "cin_episode_duration",
    "cin_closing_within_6_months_of_cpp_end",
]
RATE_KEYS = ["children_in_need_at_31_march_rate", "referrals_rate", "assessments_completed_rate",
             "s47_enquiries_rate", "icpcs_rate", "cpp_started_rate_by_category", "cpp_open_at_31_march_rate"]


def _compute(path: Path, previous: Path | None = None, **options) -> dict:
    document = load(path)
    with Session(document.year, extract(document.root), year_code_lists(document.year.name)) as session:
        if previous is not None:
            session.add_previous(extract(load(previous).root))
        return compute(session, previous=previous is not None, **options)


@pytest.fixture(scope="module")
def alone() -> dict:
    """The current return on its own: no previous return, no population."""
    return _compute(CURRENT)


@pytest.fixture(scope="module")
def both() -> dict:
    """With the previous year's return and a population of 8,000."""
    return _compute(CURRENT, PREVIOUS, population=POPULATION)


def at(results: dict, dotted: str) -> dict:
    key, *rest = dotted.split(".")
    item = results[key]
    for name in rest:
        item = item[name]
    return item


def figure(results: dict, dotted: str) -> tuple:
    """(value, numerator, denominator, percent, excluded) of one output object."""
    item = at(results, dotted)
    return (item["value"], item.get("numerator"), item.get("denominator"), item.get("percent"), item["excluded"])


def counts(item: dict) -> tuple:
    return item["value"], item["excluded"]


# -- keys and shape ----------------------------------------------------------------------------


def test_every_spec_key_is_computed(alone, both):
    assert list(alone) == SPEC_KEYS  # rates are left out without a population
    assert list(both) == SPEC_KEYS + RATE_KEYS
    for key, item in both.items():
        assert item["key"] == key and item["title"] and item["unit"]
        assert "national" in item and "excluded" in item and "value" in item


def test_output_shape_follows_section_0(alone):
    item = alone["referrals_nfa"]
    assert list(item)[:8] == ["key", "title", "unit", "value", "numerator", "denominator", "percent", "excluded"]
    assert item["serves"] == {"framework": ["N10"], "tables": ["C1"]}
    assert item["national"] == {"value": 41340, "percent": 6.5, "year": 2025}
    # sub-keys are nested objects named by their dotted key
    assert at(alone, "cpp_started.children")["key"] == "cpp_started.children"
    assert at(alone, "cpp_started.children")["unit"] == "children"


# -- 1-4: children in need, episodes, referrals -------------------------------------------------


def test_children_in_need_at_31_march(alone):
    # CIN episodes open at RD: IND01 a+b, IND02 b (referred on RD itself), IND07, IND09, IND11, IND12,
    # IND13, IND14, IND17 c, IND18 a (unborn, included), IND19 (closure after RD counts as open) = 12
    # episodes of 11 children. IND17 a (referral 2025-02-30, no closure) cannot be placed: excluded.
    assert counts(alone["children_in_need_at_31_march"]) == (11, 1)
    assert counts(at(alone, "children_in_need_at_31_march.episodes")) == (12, 1)
    # two referrals in the return have a ReferralNFA that is neither true nor false (IND06, IND07)
    assert alone["children_in_need_at_31_march"]["data_quality"] == {"referral_nfa_neither": 2}
    assert any("2 referral(s)" in note for note in alone["children_in_need_at_31_march"]["notes"])


def test_cin_episodes_in_year(alone):
    # open on some day of P: the 12 open at RD less the excluded... i.e. IND01 a b, IND02 a (closed
    # 2025-06-30) b, IND03 a (closed 2025-05-15), IND07, IND08, IND09, IND10, IND11, IND12, IND13, IND14,
    # IND15, IND16 (closed 2025-05-20), IND17 c, IND18 a, IND19 = 18 episodes, 16 children; IND17 a excluded
    assert counts(alone["cin_episodes_in_year"]) == (18, 1)
    assert counts(at(alone, "cin_episodes_in_year.episodes")) == (18, 1)
    assert counts(at(alone, "cin_episodes_in_year.children")) == (16, 1)
    # starting (referral in P): IND01 a b, IND02 b, IND07, IND08, IND09, IND10, IND14, IND15, IND17 c,
    # IND18 a = 11 episodes, 10 children (IND02 a on 2025-03-31 is not in P)
    assert counts(at(alone, "cin_episodes_in_year.starting")) == (11, 1)
    assert counts(at(alone, "cin_episodes_in_year.starting.episodes")) == (11, 1)
    assert counts(at(alone, "cin_episodes_in_year.starting.children")) == (10, 1)
    # ending (closure in P): IND02 a, IND03 a, IND08, IND10, IND15, IND16 = 6 (IND19's is after RD)
    assert counts(at(alone, "cin_episodes_in_year.ending.episodes")) == (6, 0)
    assert counts(at(alone, "cin_episodes_in_year.ending.children")) == (6, 0)


def test_referrals_and_children_referred(alone):
    # 25 referrals: 7 dated before P (IND02 a 2025-03-31, IND03 a, IND11, IND12, IND13, IND16, IND19),
    # 1 unusable (IND17 a), 17 in P, among them 2025-04-01 (IND01 a) and 2026-03-31 (IND02 b)
    assert counts(alone["referrals"]) == (17, 1)
    # children with a referral in P: IND01-IND10, IND14, IND15, IND17, IND18 = 14
    assert counts(alone["children_referred"]) == (14, 1)


# -- 5: re-referrals -----------------------------------------------------------------------------


def test_re_referrals_within_this_return(alone):
    # candidates: every usable referral of the child. IND01 b 335 days after a: yes. IND02 b 365
    # days after a (2025-03-31, before P but in the return): yes. IND03 b 366 days after a: no.
    # IND17 c 14 days after b (a unusable, not a candidate): yes. IND18 two on one day, gap 0: one.
    item = alone["re_referrals_within_12_months"]
    assert figure(alone, "re_referrals_within_12_months.within_return.re_referrals") == (4, 4, 17, 23.5, 1)
    # children IND01, IND02, IND17, IND18 of the 14 referred: 4/14 = 28.57
    assert figure(alone, "re_referrals_within_12_months.within_return.children_re_referred") == (4, 4, 14, 28.6, 1)
    # without the previous return the headline is the within-return figure, flagged
    assert (item["value"], item["numerator"], item["denominator"], item["percent"]) == (4, 4, 17, 23.5)
    assert item["within_return_only"] is True and "across_returns" not in item
    assert at(alone, "re_referrals_within_12_months.within_return")["within_return_only"] is True


def test_re_referrals_across_returns(both):
    # this period's referrals plus each child's latest referral of P' (by LAchildID):
    # IND01 b (335 days after a): yes. IND02 b: previous 2025-03-31, 365 days: yes. IND03 b: previous
    # 2024-06-01, 366 days: no. IND04: previous 2024-11-20 ("  IND04 " trimmed) to 2025-05-01 = 162
    # days: yes (it closed before P, so within the return it is invisible). IND08: previous
    # 2024-08-15, 445 days: no. IND17 c, IND18: yes. IND16's previous referral has nothing after it in P.
    assert figure(both, "re_referrals_within_12_months.across_returns.re_referrals") == (5, 5, 17, 29.4, 1)
    # children IND01, IND02, IND04, IND17, IND18: 5/14 = 35.71
    assert figure(both, "re_referrals_within_12_months.across_returns.children_re_referred") == (5, 5, 14, 35.7, 1)
    item = both["re_referrals_within_12_months"]
    assert (item["value"], item["percent"]) == (5, 29.4)  # the headline is now DfE's method
    assert "within_return_only" not in item
    # the within-return variant is unchanged and still labelled
    assert figure(both, "re_referrals_within_12_months.within_return.re_referrals") == (4, 4, 17, 23.5, 1)
    assert at(both, "re_referrals_within_12_months.within_return")["within_return_only"] is True


# -- 6-9: what became of the referrals ----------------------------------------------------------


def test_referral_outcomes(alone):
    # of the 17 in P: nfa IND03 b, IND17 b, IND18 b ("TRUE" is true by meaning) = 3 (17.65%)
    assert figure(alone, "referrals_nfa") == (3, 3, 17, 17.6, 1)
    # assessed not in need: IND04 (RC8), IND05 (RC9), IND06 (RC8, missing flag) = 3
    assert figure(alone, "assessed_not_in_need") == (3, 3, 17, 17.6, 1)
    # the other 11 are CIN episodes (IND07's misspelt flag is not NFA): 11/17 = 64.71
    assert figure(alone, "referrals_leading_to_cin") == (11, 11, 17, 64.7, 1)
    # IND06 and IND07 are the referrals in P with a flag that is neither
    assert alone["referrals_nfa"]["data_quality"] == {"referral_nfa_neither_in_period": 2}


# referrals in P by source: (referrals, % of 17, nfa, % of the source, assessed not in need, %)
BY_SOURCE = {
    "1A": (1, 5.9, 0, 0.0, 0, 0.0),    # IND01 b
    "1C": (1, 5.9, 0, 0.0, 0, 0.0),    # IND14
    "2A": (3, 17.6, 0, 0.0, 1, 33.3),  # IND01 a, IND04 (assessed not in need), IND08
    "3A": (1, 5.9, 1, 100.0, 0, 0.0),  # IND03 b (nfa)
    "3B": (2, 11.8, 1, 50.0, 0, 0.0),  # IND18 a, IND18 b (nfa)
    "3E": (1, 5.9, 0, 0.0, 1, 100.0),  # IND05
    "5C": (1, 5.9, 0, 0.0, 0, 0.0),    # IND10
    "5D": (1, 5.9, 0, 0.0, 1, 100.0),  # IND06
    "6": (3, 17.6, 0, 0.0, 0, 0.0),    # IND02 b, IND07, IND09
    "7": (1, 5.9, 0, 0.0, 0, 0.0),     # IND15
    "9": (1, 5.9, 0, 0.0, 0, 0.0),     # IND17 c
    "missing_or_invalid": (1, 5.9, 1, 100.0, 0, 0.0),  # IND17 b has no source (IND17 a's XX is not in P)
}
BY_HEADING = {
    "individual": (2, 11.8, 0, 0.0, 0, 0.0),  # 1A + 1C
    "education": (3, 17.6, 0, 0.0, 1, 33.3),
    "health": (4, 23.5, 2, 50.0, 1, 25.0),    # 3A, 3B x2, 3E
    "la_services": (2, 11.8, 0, 0.0, 1, 50.0),  # 5C, 5D
    "police": (3, 17.6, 0, 0.0, 0, 0.0),
    "other_legal_agency": (1, 5.9, 0, 0.0, 0, 0.0),
    "anonymous": (1, 5.9, 0, 0.0, 0, 0.0),
    "missing_or_invalid": (1, 5.9, 1, 100.0, 0, 0.0),
}


def _source_cells(breakdown: dict, expected: dict) -> None:
    for key, cell in breakdown.items():
        n, pct, nfa, nfa_pct, anin, anin_pct = expected.get(key, (0, 0.0, 0, None, 0, None))
        assert cell["referrals"] == {"value": n, "denominator": 17, "percent": pct}, key
        # a source with no referrals has no percent of its own referrals
        assert cell["nfa"] == {"value": nfa, "denominator": n, "percent": nfa_pct}, key
        assert cell["assessed_not_in_need"] == {"value": anin, "denominator": n, "percent": anin_pct}, key


def test_referrals_by_source(alone):
    item = alone["referrals_by_source"]
    assert counts(item) == (17, 1)
    # the 22 codes of README 8.3 in their order, then missing_or_invalid, all listed
    assert list(item["breakdown"]) == ["1A", "1B", "1C", "1D", "2A", "2B", "3A", "3B", "3C", "3D", "3E", "3F",
                                       "4", "5A", "5B", "5C", "5D", "6", "7", "8", "9", "10", "missing_or_invalid"]
    _source_cells(item["breakdown"], BY_SOURCE)
    heading = item["by_heading"]
    assert list(heading["breakdown"]) == ["individual", "education", "health", "housing", "la_services", "police",
                                          "other_legal_agency", "other", "anonymous", "unknown",
                                          "missing_or_invalid"]
    _source_cells(heading["breakdown"], BY_HEADING)


# -- 10-14: assessments -------------------------------------------------------------------------


def test_assessments_completed(alone):
    # authorised in P: IND01 (2025-04-22), IND02 (2025-04-30, started before P), IND04, IND05, IND06,
    # IND07, IND17 x2 (one authorised before its start, one with no start) = 8, of 7 children. IND03's
    # (2024-06-28) is before P; IND18's is not authorised; IND17's third (2025-10-32) is excluded.
    assert counts(alone["assessments_completed"]) == (8, 1)
    assert counts(at(alone, "assessments_completed.assessments")) == (8, 1)
    assert counts(at(alone, "assessments_completed.children")) == (7, 1)


def test_assessment_duration_bands(alone):
    # durations: IND04 0 (same day); IND01 13 (2025-04-01 to 04-22: 15 weekdays less Good Friday and
    # Easter Monday); IND02 20 (2025-03-31 to 04-30); IND07 30 (2025-10-01 to 11-12); IND05 45
    # (2025-07-01 to 09-03, over the August bank holiday); IND06 46 (to 09-04). IND17's two are
    # invalid (start after authorisation; no start). 6 banded.
    item = alone["assessment_duration_bands"]
    assert item["value"] == 6 and item["excluded"] == {"invalid_duration": 2}
    expected = {"same_day": (1, 16.7), "1_10": (0, 0.0), "11_20": (2, 33.3), "21_30": (1, 16.7),
                "31_40": (0, 0.0), "41_45": (1, 16.7), "46_50": (1, 16.7), "51_60": (0, 0.0), "61_plus": (0, 0.0)}
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == expected
    assert all(c["denominator"] == 6 for c in item["breakdown"].values())
    # sorted 0, 13, 20, 30, 45, 46; nearest rank: p25 rank ceil(1.5) = 2, median rank 3, p75 rank ceil(4.5) = 5
    assert item["percentiles"] == {"p25": 13, "median": 20, "p75": 45}
    assert all(type(v) is int for v in item["percentiles"].values())  # whole working days
    assert item["national"]["median"] == 33


def test_assessments_within_45_working_days(alone):
    # 0, 13, 20, 30 and 45 are within 45; 46 is not: 5/6 = 83.33
    assert figure(alone, "assessments_within_45_working_days") == (5, 5, 6, 83.3, {"invalid_duration": 2})


def test_referral_to_assessment_completion(alone):
    # from the episode's referral: IND04 0; IND17 (ref 2025-09-15) to 10-01 = 12 and to 10-20 = 25
    # (the start plays no part here); IND01 13; IND02 20; IND07 30; IND05 45; IND06 47 (referred
    # 2025-06-30, a day before the assessment started). 8 banded, none invalid.
    item = alone["referral_to_assessment_completion"]
    assert item["value"] == 8 and item["excluded"] == {"invalid_duration": 0}
    expected = {"same_day": (1, 12.5), "1_10": (0, 0.0), "11_20": (3, 37.5), "21_30": (2, 25.0),
                "31_40": (0, 0.0), "41_45": (1, 12.5), "46_50": (1, 12.5), "51_60": (0, 0.0), "61_plus": (0, 0.0)}
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == expected
    # sorted 0, 12, 13, 20, 25, 30, 45, 47: ranks 2, 4, 6
    assert item["percentiles"] == {"p25": 12, "median": 20, "p75": 30}


def test_factors_at_assessment(alone):
    # completed assessments and their present factors:
    #   IND01 3B 16A | IND02 4B | IND04 21 | IND05 1B 3B | IND06 none | IND07 16A 17A 17A
    #   IND17 c: first 99Z, (empty), 8A, 20; second 20 (both in the same episode)
    item = alone["factors_at_assessment"]
    assert item["value"] == 7  # episodes with a completed assessment
    assert item["excluded"] == {"unusable_authorisation_date": 1, "empty_factor_entries": 1}
    assert len(item["breakdown"]) == 45  # all 44 codes (18A and 19A included) and invalid
    assert list(item["breakdown"])[-1] == "invalid" and "18A" in item["breakdown"] and "19A" in item["breakdown"]
    expected = {  # (episodes, assessments, children)
        "1B": (1, 1, 1),  # IND05 (IND03's 1B was authorised before P)
        "3B": (2, 2, 2),  # IND01, IND05
        "4B": (1, 1, 1),
        "16A": (2, 2, 2),  # IND01, IND07
        "17A": (1, 1, 1),  # repeated on one assessment: counted once
        "20": (1, 2, 1),  # two assessments of one episode: one episode
        "21": (1, 1, 1),
        "invalid": (1, 1, 1),  # 99Z and 8A (there is no 8A), on IND17's first assessment
    }
    got = {k: (c["episodes"]["value"], c["assessments"]["value"], c["children"]["value"])
           for k, c in item["breakdown"].items()}
    assert got == {k: expected.get(k, (0, 0, 0)) for k in got}
    assert at(alone, "factors_at_assessment.episodes_with_completed_assessment")["value"] == 7
    assert at(alone, "factors_at_assessment.assessments_completed")["value"] == 8
    assert at(alone, "factors_at_assessment.children_assessed")["value"] == 7
    assert at(alone, "factors_at_assessment.assessments_without_factors")["value"] == 1  # IND06
    invalid = at(alone, "factors_at_assessment.invalid_values")
    assert invalid["value"] == 2 and invalid["breakdown"] == {"8A": {"value": 1}, "99Z": {"value": 1}}


# -- 15-19: Section 47 enquiries and conferences ------------------------------------------------


def test_s47_enquiries(alone):
    # distinct (child, start) in P: IND07 2025-10-01 (twice: once), IND08, IND09 2025-12-01, 12-15,
    # 12-30, 2026-02-10, 03-16 (its 2026-02-30 is unusable: excluded), IND14, IND15 = 9.
    # IND11 and IND12 started before P.
    assert counts(alone["s47_enquiries"]) == (9, 1)
    assert counts(alone["children_with_s47"]) == (5, 1)  # IND07, IND08, IND09, IND14, IND15


def test_icpcs(alone):
    # from Section 47, distinct per child: IND07 2025-10-22 (twice: once), IND08 11-25, IND09 12-29
    # (three times: once), 2026-02-05, 03-02, IND14 2025-09-10, IND15 04-10 = 7. From the episode:
    # IND07 2025-10-22 (the same conference) and IND10 2025-08-05 (transfer in) = 8 conferences.
    assert counts(alone["icpcs"]) == (8, 0)
    assert counts(at(alone, "icpcs.conferences")) == (8, 0)
    assert at(alone, "icpcs.from_s47")["value"] == 7
    assert at(alone, "icpcs.transfer_in_only")["value"] == 1
    assert counts(at(alone, "icpcs.children")) == (6, 0)  # IND07, IND08, IND09, IND10, IND14, IND15


def test_icpc_duration_bands(alone):
    # IND15 2025-04-02 -> 04-10: 6; IND09 12-29 held by starts 12-01, 12-15 and 12-30: the latest on or
    # before it is 12-15 -> 8 (Christmas Day and Boxing Day skipped); IND14 2025-08-20 -> 09-10: 14 (the
    # August bank holiday skipped); IND07 2025-10-01 -> 10-22: 15; IND08 2025-11-03 -> 11-25: 16.
    # Not banded: IND09 2026-02-05 (its only start is 02-10, later); IND09 2026-03-02 (start
    # 2026-02-30 unusable); IND10 (transfer in).
    item = alone["icpc_duration_bands"]
    assert item["value"] == 5
    assert item["excluded"] == {"no_usable_start": 1, "icpc_before_start": 1, "transfer_in_only": 1}
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == {
        "0_10": (2, 40.0), "11_15": (2, 40.0), "16_20": (1, 20.0), "21_plus": (0, 0.0)}
    assert item["percentiles"] == {"median": 14}  # 6, 8, 14, 15, 16: rank ceil(2.5) = 3


def test_icpcs_within_15_working_days(alone):
    # 6, 8, 14 and 15 are within 15; 16 is not: 4/5
    assert figure(alone, "icpcs_within_15_working_days") == (
        4, 4, 5, 80.0, {"no_usable_start": 1, "icpc_before_start": 1, "transfer_in_only": 1})


# -- 20-27: child protection plans --------------------------------------------------------------
# plans: IND07 2025-10-22 open NEG/EMO | IND08 2025-11-25..2026-03-20 PHY (NumberOfPreviousCPP 1) |
# IND09 2025-12-29 open MUL | IND10 2025-08-05..09-15 SAB | IND11 2024-01-10..2026-01-10 NEG |
# IND12 2024-03-31 open EMO/NEG | IND13 2023-06-01..2025-05-01 NEG, 2025-06-10 open PHY |
# IND14 2025-09-10 open emo(invalid)/EMO | IND15 2025-04-10..07-10 NEG, 2025-07-14..07-31 NEG (1) |
# IND16 2024-06-01..2024-12-10 NEG | IND17 2025-13-01(unusable)..2026-01-05 NEG | IND19 2024-04-01 open PHY/NEG


def test_cpp_counts(alone):
    # started in P: IND07, IND08, IND09, IND10, IND13 second, IND14, IND15 x2 = 8 plans, 7 children;
    # IND17's start is unusable
    assert counts(alone["cpp_started"]) == (8, 1)
    assert counts(at(alone, "cpp_started.plans")) == (8, 1)
    assert counts(at(alone, "cpp_started.children")) == (7, 1)
    # ended in P: IND08, IND10, IND11, IND13 first, IND15 x2, IND17 (its end is usable) = 7 plans, 6 children
    assert counts(at(alone, "cpp_ended.plans")) == (7, 0)
    assert counts(at(alone, "cpp_ended.children")) == (6, 0)
    # at any point: all but IND16 (ended before P) and IND17 (start unusable) = 12 plans, 10 children
    assert counts(at(alone, "cpp_at_any_point.plans")) == (12, 1)
    assert counts(at(alone, "cpp_at_any_point.children")) == (10, 1)
    # open at RD: IND07, IND09, IND12, IND13 second, IND14, IND19 = 6 (IND17's ended: not open, whatever its start)
    assert counts(at(alone, "cpp_open_at_31_march.plans")) == (6, 0)
    assert counts(at(alone, "cpp_open_at_31_march.children")) == (6, 0)
    assert alone["cpp_open_at_31_march"]["value"] == 6


def test_cpp_open_2_years_plus(alone):
    # IND12 started 2024-03-31: plus 2 years is RD itself, so it counts; IND19 started 2024-04-01: not
    assert figure(alone, "cpp_open_2_years_plus_at_31_march") == (1, 1, 6, 16.7, 0)


def test_cpp_ended_duration_bands(alone):
    # IND10 2025-08-05..09-15, IND15 04-10..07-10 (exactly 3 months: still "up to") and 07-14..07-31:
    # up to 3 months. IND08 2025-11-25..2026-03-20: over 3 up to 6. IND13 2023-06-01..2025-05-01: 1 to
    # under 2 years. IND11 2024-01-10..2026-01-10: exactly 2 years, so 2 years plus. IND17 excluded.
    item = alone["cpp_ended_duration_bands"]
    assert counts(item) == (6, 1)
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == {
        "up_to_3_months": (3, 50.0), "over_3_up_to_6_months": (1, 16.7), "over_6_months_under_1_year": (0, 0.0),
        "1_to_under_2_years": (1, 16.7), "2_years_plus": (1, 16.7)}
    assert figure(alone, "cpp_ended_2_years_plus") == (1, 1, 6, 16.7, 1)


def test_cpp_by_category(alone):
    item = alone["cpp_by_initial_category"]
    assert counts(item) == (8, 1)
    cells = {k: (c["plans"]["value"], c["children"]["value"]) for k, c in item["breakdown"].items()}
    # NEG: IND07, IND15 x2 (one child); PHY: IND08, IND13; SAB: IND10; MUL: IND09; "emo": IND14
    assert cells == {"NEG": (3, 2), "PHY": (2, 2), "SAB": (1, 1), "EMO": (0, 0), "MUL": (1, 1),
                     "missing_or_invalid": (1, 1)}
    companion = alone["cpp_open_at_31_march_by_category"]
    assert companion["value"] == 6
    initial = {k: c["plans"]["value"] for k, c in companion["initial"]["breakdown"].items()}
    # open plans' initial categories: IND07 NEG, IND09 MUL, IND12 EMO, IND13 PHY, IND14 emo, IND19 PHY
    assert initial == {"NEG": 1, "PHY": 2, "SAB": 0, "EMO": 1, "MUL": 1, "missing_or_invalid": 1}
    latest = {k: c["children"]["value"] for k, c in companion["latest"]["breakdown"].items()}
    # latest: IND07 EMO, IND09 MUL, IND12 NEG, IND13 PHY, IND14 EMO, IND19 NEG
    assert latest == {"NEG": 2, "PHY": 1, "SAB": 0, "EMO": 2, "MUL": 1, "missing_or_invalid": 0}


def test_cpp_second_or_subsequent_within_this_return(alone):
    # of the 7 children starting a plan: IND08 (NumberOfPreviousCPP 1), IND13 (an earlier plan in the
    # return), IND15 (its second plan: both ways) = 3 children, 3 plans
    item = alone["cpp_second_or_subsequent"]
    assert figure(alone, "cpp_second_or_subsequent.children") == (3, 3, 7, 42.9, 1)
    assert counts(at(alone, "cpp_second_or_subsequent.plans")) == (3, 1)
    assert (item["value"], item["percent"], item["within_return_only"]) == (3, 42.9, True)
    # within 2 years of the latest earlier plan's end: IND13 (2025-05-01 -> 2025-06-10), IND15
    # (2025-07-10 -> 07-14); IND08's earlier plan is known only by its count, so not dated
    within = at(alone, "cpp_second_or_subsequent.within_2_years")
    assert figure(alone, "cpp_second_or_subsequent.within_2_years") == (2, 2, 7, 28.6, 1)
    assert within["lower_bound"] is True and within["within_return_only"] is True


def test_cpp_second_or_subsequent_with_previous_plans(both):
    # IND14's plan of 2022-01-04 is in the previous return only: now subsequent too (4 children);
    # IND08's previous plan ended 2025-01-15, and 2025-11-25 is within two years of it; IND14's ended
    # 2023-02-01, more than two years before 2025-09-10
    item = both["cpp_second_or_subsequent"]
    assert figure(both, "cpp_second_or_subsequent.children") == (4, 4, 7, 57.1, 1)
    assert counts(at(both, "cpp_second_or_subsequent.plans")) == (4, 1)
    assert figure(both, "cpp_second_or_subsequent.within_2_years") == (3, 3, 7, 42.9, 1)
    assert "within_return_only" not in item and "within_return_only" not in item["within_2_years"]


# -- 28-29: CIN episode duration; closure after a plan ------------------------------------------


def test_cin_episode_duration(alone):
    # open at RD (12), time from referral to RD: under 3 months IND01 b, IND02 b, IND18 a; 3 to 6
    # IND07 (2025-10-01), IND09 (2025-12-01); 6 months to 1 year IND01 a (2025-04-01), IND14, IND17 c;
    # 2 to 5 years IND11, IND12 (2024-03-01: exactly 2 years), IND13; 5 years plus IND19 (2020-06-01)
    item = at(alone, "cin_episode_duration.at_31_march")
    assert counts(item) == (12, 1)
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == {
        "under_3_months": (3, 25.0), "3_months_to_under_6": (2, 16.7), "6_months_to_under_1_year": (3, 25.0),
        "1_to_under_2_years": (0, 0.0), "2_to_under_5_years": (3, 25.0), "5_years_plus": (1, 8.3)}
    # ended in P (6): IND02 a 2025-03-31..06-30 (exactly 3 months: not under 3), IND08 2025-11-03..
    # 2026-03-25: 3 to 6; IND03 a, IND10, IND15: 6 months to 1 year; IND16 2024-05-01..2025-05-20: 1 to 2
    item = at(alone, "cin_episode_duration.ended")
    assert counts(item) == (6, 0)
    assert {k: (c["value"], c["percent"]) for k, c in item["breakdown"].items()} == {
        "under_3_months": (0, 0.0), "3_months_to_under_6": (2, 33.3), "6_months_to_under_1_year": (3, 50.0),
        "1_to_under_2_years": (1, 16.7), "2_to_under_5_years": (0, 0.0), "5_years_plus": (0, 0.0)}
    assert counts(alone["cin_episode_duration"]) == (12, 1)


def test_cin_closing_within_6_months_of_cpp_end(alone, both):
    # episodes with a plan ended in P and none open: IND08 (E 2026-03-20, closed 03-25: yes), IND10
    # (E 2025-09-15, closed 2026-03-15 = E + 6 months: yes), IND11 (E 2026-01-10, open: no), IND15
    # (E 2025-07-31, closed 2026-03-20, after 2026-01-31: no), IND17 c (E 2026-01-05, open: no).
    # IND13 still has an open plan.
    assert figure(alone, "cin_closing_within_6_months_of_cpp_end") == (2, 2, 5, 40.0, 0)
    # mature: E on or before 2025-09-30: IND10 (yes) and IND15 (no)
    assert figure(alone, "cin_closing_within_6_months_of_cpp_end.mature") == (1, 1, 2, 50.0, 0)
    assert alone["cin_closing_within_6_months_of_cpp_end"]["within_return_only"] is True
    assert "across_returns" not in alone["cin_closing_within_6_months_of_cpp_end"]
    # across returns: previous episodes whose latest plan ended from 2024-10-01 to 2025-03-31 with none
    # open: IND08 (E 2025-01-15; closed 2025-02-10, before this period, so not found here: not
    # counted) and IND16 (E 2024-12-10; found here, closed 2025-05-20 <= 2025-06-10: counted)
    assert figure(both, "cin_closing_within_6_months_of_cpp_end.across_returns") == (1, 1, 2, 50.0, 0)
    assert figure(both, "cin_closing_within_6_months_of_cpp_end")[:4] == (2, 2, 5, 40.0)
    assert "within_return_only" not in both["cin_closing_within_6_months_of_cpp_end"]


# -- 30: rates -----------------------------------------------------------------------------------


def test_rates_per_10000(both):
    # count / 8,000 x 10,000 = count x 1.25, halves rounded up
    expected = {
        "children_in_need_at_31_march_rate": (13.8, 11),  # 13.75
        "referrals_rate": (21.3, 17),  # 21.25
        "assessments_completed_rate": (10.0, 8),
        "s47_enquiries_rate": (11.3, 9),  # 11.25
        "icpcs_rate": (10.0, 8),
        "cpp_started_rate_by_category": (8.8, 7),  # all children starting a plan: 8.75
        "cpp_open_at_31_march_rate": (7.5, 6),
    }
    for key, (value, count) in expected.items():
        item = both[key]
        assert (item["value"], item["numerator"], item["denominator"]) == (value, count, POPULATION), key
    # children per initial category: NEG 2, PHY 2, SAB 1, EMO 0, MUL 1, missing_or_invalid 1
    by_category = {k: c["value"] for k, c in both["cpp_started_rate_by_category"]["breakdown"].items()}
    assert by_category == {"NEG": 2.5, "PHY": 2.5, "SAB": 1.3, "EMO": 0.0, "MUL": 1.3, "missing_or_invalid": 1.3}


def test_within_return_only_list(alone, both):
    assert indicators.within_return_only(alone) == [
        "re_referrals_within_12_months", "re_referrals_within_12_months.within_return",
        "cpp_second_or_subsequent", "cpp_second_or_subsequent.within_2_years",
        "cin_closing_within_6_months_of_cpp_end"]
    assert indicators.within_return_only(both) == ["re_referrals_within_12_months.within_return"]


# -- helpers, loading, other returns --------------------------------------------------------------


def test_rounding_and_zero_denominators():
    assert percent(1, 8) == 12.5 and percent(1, 6) == 16.7 and percent(5, 0) is None
    assert percent(1, 40) == 2.5  # 2.5 stays; 0.125 -> 0.1 below
    assert percent(1, 800) == 0.1 and percent(3, 1600) == 0.2  # 0.1875
    assert rate(17, 8000) == 21.3 and rate(9, 8000) == 11.3  # halves up, not to even


def test_a_return_with_nothing_to_count_gives_zeros_and_null_percents():
    from .helpers import message

    year = CollectionYear("2025-26")
    root = load(message("2025-26")).root  # one child, one NFA referral dated 2025-06-02
    with Session(year, extract(root), year_code_lists(year.name)) as session:
        results = compute(session)
    assert figure(results, "referrals_nfa") == (1, 1, 1, 100.0, 0)
    assert figure(results, "cpp_open_2_years_plus_at_31_march") == (0, 0, 0, None, 0)
    assert results["assessment_duration_bands"]["percentiles"] == {"p25": None, "median": None, "p75": None}
    assert results["assessment_duration_bands"]["breakdown"]["same_day"] == {"value": 0, "denominator": 0,
                                                                             "percent": None}


@pytest.mark.parametrize("fixture", sorted((ROOT / "fixtures").glob("*.xml")), ids=lambda p: p.name)
def test_every_fixture_computes_and_bands_add_up(fixture):
    results = _compute(fixture)
    assert list(results) == SPEC_KEYS
    for key in ("assessment_duration_bands", "referral_to_assessment_completion", "icpc_duration_bands",
                "cpp_ended_duration_bands", "cin_episode_duration.at_31_march", "cin_episode_duration.ended"):
        item = at(results, key)
        assert sum(cell["value"] for cell in item["breakdown"].values()) == item["value"], key
    by_class = sum(results[k]["value"] for k in ("referrals_nfa", "assessed_not_in_need", "referrals_leading_to_cin"))
    assert by_class == results["referrals"]["value"]


def test_population_must_be_positive():
    document = load(CURRENT)
    with Session(document.year, extract(document.root), year_code_lists(document.year.name)) as session:
        for bad in (0, -5, 2.5, True):
            with pytest.raises(ValueError):
                compute(session, population=bad)


def test_previous_year_must_be_the_one_before():
    assert indicators.previous_year_problem(CollectionYear("2025-26"), CollectionYear("2024-25")) is None
    assert "2024-25" in indicators.previous_year_problem(CollectionYear("2025-26"), CollectionYear("2023-24"))
    assert indicators.previous_year_problem(CollectionYear("2025-26"), CollectionYear("2025-26"))


def _definitions_text() -> str:
    return indicators.INDICATORS_FILE.read_text(encoding="utf-8")


def test_definitions_load_strictly():
    definitions = indicators.load_definitions()
    assert definitions.keys() == SPEC_KEYS + RATE_KEYS
    text = _definitions_text()
    bad = {
        "unknown key": text.replace("    title: Referrals in the year\n",
                                    "    title: Referrals in the year\n    colour: red\n"),
        "key given twice": text.replace("    title: Referrals in the year\n",
                                        "    title: Referrals in the year\n    title: again\n"),
        "number as a band key": text.replace('"1_10": duration BETWEEN 1 AND 10', '1_10: duration BETWEEN 1 AND 10'),
        "reference to a later node": text.replace("denominator_of: referrals\n", "denominator_of: cpp_started\n", 1),
        "reference to nothing": text.replace("value_of: cpp_started.plans", "value_of: cpp_started.trains"),
        "two ways to a value": text.replace("    value: SELECT count(DISTINCT child_key) FROM referral WHERE "
                                            "referred_in_period\n",
                                            "    value: SELECT 1\n    value_of: referrals\n", 1),
        "unknown relation key": text.replace("  referral:\n", "  referral:\n    materialise: true\n", 1),
        "no national year": text.replace("\nnational_year: 2025\n", "\n", 1),
        "a national year that is no year": text.replace("\nnational_year: 2025\n", "\nnational_year: soon\n", 1),
        "sub-key named like a field": text.replace("      episodes:\n        unit: episodes\n        value: SELECT "
                                                   "count(*) FROM referral WHERE class = 'cin_episode' AND open_at_rd",
                                                   "      percent:\n        unit: episodes\n        value: SELECT "
                                                   "count(*) FROM referral WHERE class = 'cin_episode' AND open_at_rd"),
    }
    for name, changed in bad.items():
        assert changed != text, name
        with pytest.raises(IndicatorFileError):
            parse_definitions(changed)


def test_indicators_file_ships_in_the_wheel():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "indicators.yaml" in pyproject["tool"]["setuptools"]["package-data"]["validator"]
    assert indicators.INDICATORS_FILE.parent == Path(indicators.__file__).resolve().parent


def test_computing_twice_in_one_session_gives_the_same_answer():
    document = load(CURRENT)
    with Session(document.year, extract(document.root), year_code_lists(document.year.name)) as session:
        session.add_previous(extract(load(PREVIOUS).root))
        with_previous = compute(session, previous=True)
        alone_again = compute(session)
    assert "across_returns" in with_previous["re_referrals_within_12_months"]
    assert "across_returns" not in alone_again["re_referrals_within_12_months"]
    assert copy.deepcopy(alone_again) == _compute(CURRENT)


def test_previous_needs_the_previous_return_loaded():
    document = load(CURRENT)
    with Session(document.year, extract(document.root), year_code_lists(document.year.name)) as session:
        with pytest.raises(ValueError, match="add_previous"):
            compute(session, previous=True)


# -- the year of England's figures, and last year's figures ----------------------------------------


def test_every_national_figure_names_its_year(alone):
    definitions = indicators.load_definitions()
    assert definitions.national_year == 2025
    for key, item in alone.items():
        if item["national"] is not None:
            assert item["national"]["year"] == 2025, key
    text = _definitions_text().replace("national: {value: 41340, percent: 6.5}",
                                       "national: {value: 40000, percent: 6.4, year: 2024}")
    assert text != _definitions_text()
    node = parse_definitions(text).node("referrals_nfa")
    assert node.national["year"] == 2024  # a figure from another year keeps its own


def test_last_years_figures_come_from_the_previous_return_by_the_same_definitions():
    from validator import validate

    report = validate(CURRENT, previous=PREVIOUS, select=["100"])
    last = _compute(PREVIOUS)
    for key, item in report.indicators.items():
        if key in last:
            earlier = {name: last[key][name] for name in indicators.LAST_YEAR_FIELDS if name in last[key]}
            assert item["last_year"] == earlier, key
    assert report.indicators["referrals"]["last_year"]["value"] != report.indicators["referrals"]["value"]
    assert "last_year" not in validate(CURRENT, select=["100"]).indicators["referrals"]


def test_add_last_year_leaves_out_figures_last_year_did_not_give():
    results = {"a": {"key": "a", "value": 3}, "b": {"key": "b", "value": 4}, "c": {"key": "c", "value": 5}}
    indicators.add_last_year(results, {"a": {"value": 1, "numerator": 1, "denominator": 4, "percent": 25.0,
                                             "breakdown": {}}, "b": {"value": None}})
    assert results["a"]["last_year"] == {"value": 1, "numerator": 1, "denominator": 4, "percent": 25.0}
    assert "last_year" not in results["b"] and "last_year" not in results["c"]
