"""Collection years: which are supported and the dates each one fixes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

SUPPORTED = ("2023-24", "2024-25", "2025-26", "2026-27")


class UnknownYear(ValueError):
    """A collection year that this version of cin-validate does not support."""


@dataclass(frozen=True)
class CollectionYear:
    """One census collection: 1 April to the following 31 March."""

    name: str  # "2025-26"

    @property
    def end_year(self) -> int:
        return int(self.name[:4]) + 1

    @property
    def reference_date(self) -> date:
        return date(self.end_year, 3, 31)

    @property
    def period_start(self) -> date:
        return date(self.end_year - 1, 4, 1)

    @property
    def index(self) -> int:
        return SUPPORTED.index(self.name)

    def __str__(self) -> str:
        return self.name


_NAME = re.compile(r"^(?:cin)?(\d{4})[-_/](\d{2}|\d{4})$", re.IGNORECASE)


def parse_year(text: str) -> CollectionYear:
    """Read a year as a user may type it: 2025-26, 2025/26, cin2025_26 or 2025-2026."""
    match = _NAME.match(text.strip())
    if match:
        start, end = int(match.group(1)), match.group(2)
        if int(end[-2:]) == (start + 1) % 100:
            name = f"{start}-{(start + 1) % 100:02d}"
            if name in SUPPORTED:
                return CollectionYear(name)
    raise UnknownYear(
        f"unknown collection year '{text}'; supported years are {', '.join(SUPPORTED)}"
    )


def year_ending(end_year: int) -> CollectionYear | None:
    """The supported collection whose census ends on 31 March of end_year, if any."""
    name = f"{end_year - 1}-{end_year % 100:02d}"
    return CollectionYear(name) if name in SUPPORTED else None


def all_years() -> list[CollectionYear]:
    return [CollectionYear(name) for name in SUPPORTED]
