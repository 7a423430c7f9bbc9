"""The engine's helpers, the tables it builds, and the year shifting of rule examples."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from validator.calendar import minus_working_days, working_days
from validator.engine import Session
from validator.examples import shift_dates
from validator.pipeline import year_code_lists
from validator.tables import extract
from validator.years import CollectionYear

from .helpers import message


def columns_of(tables):
    return {name: table.to_pydict() for name, table in tables.items()}


@pytest.fixture(scope="module")
def session():
    year = CollectionYear("2024-25")
    with Session(year, extract(etree.fromstring(message("2024-25"))), year_code_lists(year.name)) as opened:
        yield opened


days = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


def weekdays_between(a: date, b: date) -> int:
    step = 1 if b >= a else -1
    count, day = 0, a
    while day != b:
        day += timedelta(days=step)
        count += step * (day.weekday() < 5)
    return count


@pytest.mark.parametrize("a, b", [("1023-06-05", "2025-03-31"), ("1949-12-30", "1950-01-03"),
                                  ("2060-12-30", "2061-01-05"), ("2100-01-01", "2100-01-01")])
def test_working_days_outside_the_calendar_count_weekdays(session, a, b):
    first, last = date(1950, 1, 1), date(2060, 12, 31)
    a, b = date.fromisoformat(a), date.fromisoformat(b)
    inside_a, inside_b = min(max(a, first), last), min(max(b, first), last)
    expected = (weekdays_between(a, inside_a) + working_days(inside_a, inside_b)
                + weekdays_between(inside_b, b))
    assert session.scalar(f"SELECT working_days(DATE '{a}', DATE '{b}')") == expected


@settings(max_examples=200, deadline=None)
@given(a=days, b=days)
def test_sql_working_days_agree_with_python(session, a, b):
    assert session.scalar(f"SELECT working_days(DATE '{a}', DATE '{b}')") == working_days(a, b)


@settings(max_examples=100, deadline=None)
@given(d=days, n=st.integers(min_value=1, max_value=30))
def test_sql_minus_working_days_agree_with_python(session, d, n):
    assert session.scalar(f"SELECT minus_working_days(DATE '{d}', {n})") == minus_working_days(d, n)


@pytest.mark.parametrize("sql, expected", [
    ("reference_date()", date(2025, 3, 31)),
    ("period_start()", date(2024, 4, 1)),
    ("in_period(DATE '2024-04-01')", True),
    ("in_period(DATE '2025-03-31')", True),
    ("in_period(DATE '2024-03-31')", False),
    ("outside_period(DATE '2025-04-01')", True),
    ("outside_period(NULL)", None),
    ("is_weekend(DATE '2025-03-08')", True),
    ("is_weekend(DATE '2025-04-18')", False),  # Good Friday is a working-day matter, not a weekend
    ("add_years(DATE '2000-02-29', 25)", date(2025, 2, 28)),
    ("add_months(DATE '2025-01-31', 1)", date(2025, 2, 28)),
    ("is_code('WBRI', 'EthnicityCode')", True),
    ("is_code('wbri', 'EthnicityCode')", False),
    ("is_code('U', 'SexCode')", True),
    ("is_code('942', 'la_codes')", True),
    ("is_code('999', 'la_codes')", False),
    ("end_or_reference_date(NULL, NULL)", date(2025, 3, 31)),
    ("upn_check_letter('L303177624216')", "L"),
    ("upn_check_letter('X20141000010A')", "Z"),
    ("upn_check_letter('L30317762421I')", None),
    ("upn_check_letter('L3031776242')", None),
    ("end_or_reference_date('2024-02-30', NULL)", None),
])
def test_helpers(session, sql, expected):
    assert session.scalar(f"SELECT {sql}") == expected


ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


@settings(max_examples=200, deadline=None)
@given(body=st.text(alphabet="0123456789", min_size=11, max_size=11), last=st.sampled_from("0123456789" + ALPHABET))
def test_upn_check_letter_agrees_with_the_method(session, body, last):
    total = sum(k * int(c) for k, c in zip(range(2, 13), body))
    total += 13 * (int(last) if last.isdigit() else ALPHABET.index(last))
    assert session.scalar(f"SELECT upn_check_letter('A{body}{last}')") == ALPHABET[total % 23]


def test_typed_columns(session):
    year = CollectionYear("2024-25")
    text = message("2024-25").decode().replace(
        "<ReferralNFA>true</ReferralNFA>",
        "<ReferralNFA> TRUE </ReferralNFA></CINdetails><CINdetails><CINreferralDate>2024-02-30</CINreferralDate>"
        "<ReferralNFA>yes</ReferralNFA></CINdetails><CINdetails><CINreferralDate>  </CINreferralDate>"
        "<ReferralNFA>0</ReferralNFA>")
    with Session(year, extract(etree.fromstring(text.encode())), year_code_lists(year.name)) as other:
        rows = other.query("SELECT path, line, CINreferralDate, CINreferralDate_text, ReferralNFA, ReferralNFA_text "
                           "FROM cin_details ORDER BY id")
    assert [r["ReferralNFA"] for r in rows] == [True, None, False]
    assert [r["ReferralNFA_text"] for r in rows] == ["TRUE", "yes", "0"]
    assert [r["CINreferralDate"] for r in rows] == [date(2024, 6, 2), None, None]
    assert [r["CINreferralDate_text"] for r in rows] == ["2024-06-02", "2024-02-30", None]
    assert [r["path"] for r in rows] == [f"/Message/Children/Child[1]/CINdetails[{i}]" for i in (1, 2, 3)]


def test_tables_read_elements_by_name_whatever_their_order():
    text = ("<Message><Children><Child><CINdetails><ReferralNFA>1</ReferralNFA><CINreferralDate>2024-06-02"
            "</CINreferralDate></CINdetails><ChildIdentifiers><LAchildID> A1 </LAchildID></ChildIdentifiers>"
            "</Child></Children></Message>")
    columns = columns_of(extract(etree.fromstring(text)))
    assert columns["children"]["LAchildID_text"] == ["A1"]
    assert columns["cin_details"]["CINreferralDate_text"] == ["2024-06-02"]
    assert columns["cin_details"]["child_key"] == [1]
    assert columns["header"]["path"] == ["/Message"]  # no Header: one row, located at the root


def test_keys_join_through_nesting_not_position():
    child = ("<Child><ChildIdentifiers><LAchildID>{id}</LAchildID></ChildIdentifiers>"
             "<CINdetails><ChildProtectionPlans><Reviews><CPPreviewDate>2024-07-01</CPPreviewDate>"
             "<CPPreviewDate>2024-08-01</CPPreviewDate></Reviews></ChildProtectionPlans></CINdetails></Child>")
    text = f"<Message><Children>{child.format(id='A')}{child.format(id='B')}</Children></Message>"
    columns = columns_of(extract(etree.fromstring(text)))
    dates = columns["review_dates"]
    assert dates["child_key"] == [1, 1, 2, 2]
    assert dates["cpp_key"] == [1, 1, 2, 2]
    assert dates["path"][3] == ("/Message/Children/Child[2]/CINdetails[1]/ChildProtectionPlans[1]/Reviews[1]/"
                                "CPPreviewDate[2]")


@pytest.mark.parametrize("text, years, expected", [
    ("<D>2023-06-02</D>", 1, "<D>2024-06-02</D>"),
    ("<D>2024-02-29</D>", 1, "<D>2025-02-28</D>"),
    ("<D>2023-02-30</D>", 2, "<D>2025-02-30</D>"),  # an unusable date stays unusable
    ("<Year>2024</Year><ReferenceDate>2024-03-31</ReferenceDate>", 3,
     "<Year>2027</Year><ReferenceDate>2027-03-31</ReferenceDate>"),
    ("<UPN>A12345678901</UPN>", 1, "<UPN>A12345678901</UPN>"),
    ("<D>2023-06-02</D>", 0, "<D>2023-06-02</D>"),
])
def test_example_dates_move_with_the_year(text, years, expected):
    assert shift_dates(text, years) == expected


def test_shift_keeps_dates_within_their_census_period():
    start = date(2023, 4, 1)
    for offset in range(0, 366, 7):
        day = start + timedelta(days=offset)
        moved = date.fromisoformat(shift_dates(day.isoformat(), 3))
        assert date(2026, 4, 1) <= moved <= date(2027, 3, 31)
