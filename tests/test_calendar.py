"""Working days: the holidays package's England dates and the counting convention."""

from datetime import date

import pytest

from validator.calendar import bank_holidays, minus_working_days, working_days

# England and Wales bank holidays falling on a weekday, 2022 to 2027.
WEEKDAY_HOLIDAYS = {
    2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26", "12-27"],
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(WEEKDAY_HOLIDAYS))
def test_weekday_bank_holidays_match_the_published_list(year):
    found = sorted(d for d in bank_holidays() if d.year == year and d.weekday() < 5)
    assert found == [date.fromisoformat(f"{year}-{md}") for md in WEEKDAY_HOLIDAYS[year]]


@pytest.mark.parametrize(
    "start, end, expected",
    [
        ("2025-03-07", "2025-03-31", 16),  # Friday
        ("2025-03-08", "2025-03-31", 16),  # Saturday
        ("2025-03-10", "2025-03-31", 15),  # Monday
        ("2025-01-24", "2025-03-31", 46),
        ("2025-01-27", "2025-03-31", 45),
        ("2024-01-24", "2024-03-31", 46),  # a Sunday reference date
        ("2024-01-25", "2024-03-31", 45),
        ("2027-03-07", "2027-03-31", 16),  # Good Friday and Easter Monday inside the window
        ("2027-03-08", "2027-03-31", 15),
        ("2025-03-07", "2025-03-07", 0),  # same day
        ("2025-03-07", "2025-03-09", 0),  # Friday to Sunday
        ("2025-03-07", "2025-03-10", 1),  # Friday to Monday
        ("2025-03-10", "2025-03-07", -1),
    ],
)
def test_working_days(start, end, expected):
    assert working_days(date.fromisoformat(start), date.fromisoformat(end)) == expected


@pytest.mark.parametrize(
    "day, expected",
    [("2023-04-01", "2023-03-31"), ("2024-04-01", "2024-03-28"), ("2025-04-01", "2025-03-31"),
     ("2026-04-01", "2026-03-31")],
)
def test_last_working_day_before_the_period(day, expected):
    assert minus_working_days(date.fromisoformat(day), 1) == date.fromisoformat(expected)


def test_bank_holiday_file_is_what_the_holidays_package_gives():
    """validator/bank_holidays.txt is written by `python -m validator.calendar`; run it again when
    this fails after an upgrade of the holidays package (a new one-off bank holiday, say)."""
    from validator.calendar import FIRST_YEAR, LAST_YEAR, computed_bank_holidays

    assert sorted(bank_holidays()) == computed_bank_holidays(FIRST_YEAR, LAST_YEAR)
    assert bank_holidays(2025, 2025) == frozenset(d for d in bank_holidays() if d.year == 2025)
