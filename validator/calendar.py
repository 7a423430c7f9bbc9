"""England working days and the census calendar.

A working day is Monday to Friday and not a bank holiday in England (the `holidays` package,
country GB, subdivision ENG: computed offline from rules, so a new one-off bank holiday arrives
with a package upgrade rather than an edit here).

working_days(a, b) counts the working days d with a < d <= b: the days after a, up to and
including b. It is negative when b is before a.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# The span the engine's calendar table covers. Dates outside it (long before any child in a
# return could have been referred, or far after the census) give NULL working-day counts.
FIRST_YEAR = 1950
LAST_YEAR = 2060


@lru_cache(maxsize=None)
def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> frozenset[date]:
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return frozenset(days.keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays()


def working_days(a: date, b: date) -> int:
    """Working days after a, up to and including b (negative when b < a)."""
    if b < a:
        return -working_days(b, a)
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def minus_working_days(day: date, n: int) -> date:
    """Step back from `day` (not counted) until the n-th working day is reached."""
    found = 0
    while found < n:
        day -= timedelta(days=1)
        found += is_working_day(day)
    return day
