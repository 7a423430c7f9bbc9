"""The preview indicators as every renderer shows them: one line per headline figure.

A rate per 10,000 is folded into the line of the count it is the rate of, so that with a population
the authority's rate stands beside England's rate rather than a count beside England's count. Last
year's figure (with the previous return) and the year of England's figure come with each line.
Chart labels read a code with its words from the year's XSD ("6 Police").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

RATE_UNIT = "per_10000_children"


@dataclass(frozen=True)
class Figure:
    """A value with its percent or rate, as one cell shows it."""

    value: Any = None
    percent: float | None = None
    rate: float | None = None  # for England's figure: its rate per 10,000 beside the count
    about: bool = False  # England's figure is derived or approximate

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> "Figure":
        if not data:
            return cls()
        return cls(data.get("value"), data.get("percent"), data.get("rate"),
                   bool(data.get("derived") or data.get("approximate")))

    def text(self) -> str:
        """`1,234 (22.6%)`, `402,400 (330.3 per 10k)` or `-` when there is no value."""
        if self.value is None:
            return "-"
        text = ("about " if self.about else "") + number_text(self.value)
        if self.percent is not None:
            text += f" ({self.percent:.1f}%)"
        elif self.rate is not None:
            text += f" ({self.rate:.1f} per 10k)"
        return text


@dataclass(frozen=True)
class IndicatorLine:
    key: str
    title: str
    this_year: Figure
    rate: float | None  # this return's rate per 10,000 children (with a population)
    england: Figure  # England's rate where both have one, else England's figure
    england_year: int | None
    last_year: Figure  # the previous return's figure (with --previous)
    note: str
    national: dict[str, Any]  # England's figures for the count, as the indicators give them
    england_rate: bool = False  # `england` is England's rate per 10,000, set beside this return's rate

    @property
    def rate_text(self) -> str:
        return "-" if self.rate is None else f"{self.rate:,.1f}"


def number_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _rates_by_count(indicators: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each headline key whose count has a rate among the figures -> the rate figure, with the
    dotted key of the count it is of (from the definitions: the output names only its numerator)."""
    from ..indicators import load_definitions

    definitions = load_definitions()
    found = {}
    for key, figure in indicators.items():
        if figure.get("unit") != RATE_UNIT:
            continue
        try:
            node = definitions.node(key)
        except KeyError:
            continue
        if node.rate is not None and node.rate.of.split(".")[0] in indicators:
            found[node.rate.of.split(".")[0]] = {"figure": figure, "of": node.rate.of}
    return found


def _counted_path(key: str) -> str | None:
    from ..indicators import load_definitions

    try:
        node = load_definitions().node(key)
    except KeyError:
        return None
    return node.value_of[0] if node.value_of else key


def indicator_lines(indicators: dict[str, dict[str, Any]] | None) -> list[IndicatorLine]:
    """The headline figures in the file's order, each rate on the line of the count it is of."""
    indicators = indicators or {}
    rates = _rates_by_count(indicators)
    folded = {id(entry["figure"]) for entry in rates.values()}
    lines = []
    for key, figure in indicators.items():
        if id(figure) in folded:
            continue
        notes = []
        if figure.get("within_return_only"):
            notes.append("within this return only")
        if figure.get("lower_bound"):
            notes.append("lower bound")
        national = count_national = figure.get("national") or {}
        england = Figure.of(national)
        rate, england_rate = None, False
        if key in rates:
            rate_figure, of = rates[key]["figure"], rates[key]["of"]
            rate = rate_figure.get("value")
            # England's rate: the rate figure's own national value, else the rate beside the count.
            rate_national = rate_figure.get("national") or {}
            if rate_national.get("value") is not None:
                england, england_rate = Figure(rate_national["value"], about=Figure.of(rate_national).about), True
                national = rate_national
            elif national.get("rate") is not None:
                england, england_rate = Figure(national["rate"]), True
            # else England has no rate for it: its count stays, the only figure there is
            if of != _counted_path(key):
                counted = indicators[key]
                for step in of.split(".")[1:]:
                    counted = counted.get(step) or {}
                notes.append(f"rate counts {counted.get('unit', of.rsplit('.', 1)[-1])}")
        lines.append(IndicatorLine(
            key=key, title=figure.get("title") or key, this_year=Figure.of(figure), rate=rate, england=england,
            england_year=national.get("year") if england.value is not None else None,
            last_year=Figure.of(figure.get("last_year")), note=", ".join(notes), national=count_national,
            england_rate=england_rate))
    return lines


def has_rates(lines: list[IndicatorLine]) -> bool:
    return any(line.rate is not None for line in lines)


def has_last_year(lines: list[IndicatorLine]) -> bool:
    return any(line.last_year.value is not None for line in lines)


def england_year(lines: list[IndicatorLine]) -> int | None:
    """The year most of England's figures are for (named in a column's heading)."""
    years = Counter(line.england_year for line in lines if line.england_year is not None)
    return years.most_common(1)[0][0] if years else None


def england_text(line: IndicatorLine, heading_year: int | None) -> str:
    """England's figure, naming its year when that is not the year in the heading."""
    if line.england.value is None:
        return "-"
    if line.england_rate:  # the line compares rates: England's is a rate too
        text = ("about " if line.england.about else "") + f"{line.england.value:,.1f} per 10k"
    else:
        text = line.england.text()
    if line.england_year is not None and line.england_year != heading_year:
        text += f" in {line.england_year}"
    return text


def england_heading(lines: list[IndicatorLine]) -> str:
    year = england_year(lines)
    return f"England {year}" if year else "England"


# -- chart labels ---------------------------------------------------------------------------------


def band_label(key: Any) -> str:
    """A band key as a person reads it: 1_10 as 1-10, over_3_up_to_6_months as over 3 up to 6 months."""
    return re.sub(r"(?<=\d)_(?=\d)", "\u2013", str(key)).replace("_", " ")


def code_labels(collection_year: str | None, key: str) -> dict[str, str]:
    """Code -> "code words" for a breakdown by one of the year's code lists ("6" -> "6 Police"),
    the words read from the XSD's annotations; empty when the breakdown is not by a code list."""
    from ..indicators import load_definitions
    from ..schema import code_lists

    try:
        breakdown = load_definitions().node(key).breakdown
        listed = code_lists(collection_year) if collection_year and breakdown and breakdown.code_list else {}
    except (KeyError, ValueError, OSError):
        return {}
    code_list = listed.get(breakdown.code_list) if listed else None
    if code_list is None:
        return {}
    return {code: f"{code} {code_list.labels[code]}" if code in code_list.labels else code
            for code in code_list.codes}
