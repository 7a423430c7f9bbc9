"""The preview indicators as the renderers show them: rates beside England's rates, England's year,
last year's figure, and codes read with their words from the year's XSD."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator import validate
from validator.formats import text_format
from validator.formats._figures import code_labels, england_heading, england_text, indicator_lines
from validator.report import Report
from validator.schema import code_lists

ROOT = Path(__file__).resolve().parent.parent
BROKEN, LAST_YEAR = ROOT / "fixtures" / "broken-2025-26.xml", ROOT / "fixtures" / "clean-2024-25.xml"


@pytest.fixture(scope="module")
def with_everything():
    return validate(BROKEN, population=100000, previous=LAST_YEAR, select=["100"])


@pytest.fixture(scope="module")
def plain():
    return validate(BROKEN, select=["100"])


def _line(report: Report, key: str):
    return next(line for line in indicator_lines(report.indicators) if line.key == key)


def test_with_a_population_a_count_shows_its_rate_beside_englands_rate(with_everything):
    line = _line(with_everything, "children_in_need_at_31_march")
    assert line.rate == with_everything.indicators["children_in_need_at_31_march_rate"]["value"] == 0.5
    assert england_text(line, 2025) == "330.3 per 10k"  # England's rate, not England's count
    line = _line(with_everything, "referrals")
    assert line.rate == 1.2 and england_text(line, 2025) == "about 519.4 per 10k"
    # A figure with no national rate keeps England's figure, its percent beside it.
    assert england_text(_line(with_everything, "referrals_nfa"), 2025) == "41,340 (6.5%)"
    # A count whose rate England does not publish keeps England's count: the only figure there is.
    line = _line(with_everything, "cpp_started")
    assert line.rate == 0.2 and not line.england_rate and england_text(line, 2025) == "61,840"
    keys = [line.key for line in indicator_lines(with_everything.indicators)]
    assert not any(key.endswith("_rate") for key in keys)  # each rate sits on its count's line


def test_without_a_population_there_are_no_rates(plain):
    lines = indicator_lines(plain.indicators)
    assert all(line.rate is None for line in lines)
    assert england_text(_line(plain, "children_in_need_at_31_march"), 2025) == "402,400 (330.3 per 10k)"


def test_englands_figures_name_their_year(plain):
    lines = indicator_lines(plain.indicators)
    assert england_heading(lines) == "England 2025"
    line = _line(plain, "referrals_nfa")
    assert line.england_year == 2025
    assert england_text(line, 2024) == "41,340 (6.5%) in 2025"  # a year other than the heading's is named


def test_last_years_figure_is_the_previous_returns(with_everything):
    line = _line(with_everything, "re_referrals_within_12_months")
    last = with_everything.indicators["re_referrals_within_12_months"]["last_year"]
    assert (line.last_year.value, line.last_year.percent) == (last["value"], last["percent"])
    assert line.last_year.text() == f"{last['value']} ({last['percent']:.1f}%)"


def test_code_labels_are_the_xsds_words():
    labels = code_labels("2025-26", "referrals_by_source")
    assert labels["6"] == "6 Police" and labels["2A"] == "2A Education: school"
    factors = code_labels("2025-26", "factors_at_assessment")
    assert factors["3B"] == "3B Domestic abuse: parent or carer is a victim"
    # One source for the words: the year's XSD annotations.
    words = code_lists("2025-26")["ReferralSourceCode"].labels
    assert all(labels[code] == f"{code} {text}" for code, text in words.items())
    assert code_labels("2025-26", "assessment_duration_bands") == {}  # banded, not coded
    assert code_labels(None, "referrals_by_source") == {}


def test_the_text_report_shows_rate_england_and_last_year_columns(with_everything, plain):
    text = text_format.render([with_everything])
    table = text[text.index("Preview indicators"):]
    header = table.splitlines()[1]
    for column in ("this return", "per 10k", "England 2025", "last year"):
        assert column in header
    row = next(line for line in table.splitlines() if line.startswith("Children in need at 31 March"))
    last = with_everything.indicators["children_in_need_at_31_march"]["last_year"]["value"]
    assert row[len("Children in need at 31 March"):].split() == ["5", "0.5", "330.3", "per", "10k", str(last)]
    assert "402,400" not in row  # England's count is not set beside the rate
    plain_header = text_format.render([plain]).split("Preview indicators")[1].splitlines()[1]
    assert "per 10k" not in plain_header and "last year" not in plain_header
