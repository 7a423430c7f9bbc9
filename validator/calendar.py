"""England working days and the census calendar.

A working day is Monday to Friday and not a bank holiday in England. The bank holidays are
those of the `holidays` package (country GB, subdivision ENG), written once into
validator/bank_holidays.txt by `python -m validator.calendar`: loading the package and working out
111 years of holidays took a quarter of a second of every check, and a fixed list keeps a given
version of the tool counting the same days. A test compares the file with the package, so a
package upgrade that adds a one-off bank holiday shows up there, to be written in.

working_days(a, b) counts the working days d with a < d <= b: the days after a, up to and
including b. It is negative when b is before a.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().with_name("bank_holidays.txt")
# The span the engine's calendar table covers. Dates outside it (long before any child in a
# return could have been referred, or far after the census) give NULL working-day counts.
FIRST_YEAR = 1950
LAST_YEAR = 2060


@lru_cache(maxsize=None)
def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> frozenset[date]:
    days = (date.fromisoformat(line) for line in HOLIDAYS_FILE.read_text(encoding="ascii").split())
    return frozenset(day for day in days if first_year <= day.year <= last_year)


def computed_bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[date]:
    """England's bank holidays as the `holidays` package works them out (a test dependency)."""
    import holidays

    return sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1)))


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


if __name__ == "__main__":  # python -m validator.calendar: write the bank holidays file again
    HOLIDAYS_FILE.write_text("".join(f"{day.isoformat()}\n" for day in computed_bank_holidays()), encoding="ascii")
    print(f"wrote {HOLIDAYS_FILE}")
