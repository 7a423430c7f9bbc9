"""Valid returns damaged at random: the checker reports, it does not break.

Hypothesis takes the clean 2025-26 and 2026-27 fixtures and drops, duplicates, reorders, moves and
retypes their elements, or puts random values (text, dates, huge numbers, unicode, blank space,
nothing) in their fields, or damages their bytes. Whatever it makes, validate() raises nothing but
InputError (in one line), every report serialises to strict JSON and renders in every format, and
the exit code follows the findings: 1 when there is an error, else 0 (under strict: 1 when there
is any finding).

Each example runs every rule and the indicators (about 1.5 seconds), so the example counts are
kept small and each example makes several changes at once. CIN_MUTATION_EXAMPLES sets the count
of the two slow tests for a longer hunt (e.g. CIN_MUTATION_EXAMPLES=500).
"""

from __future__ import annotations

import copy
import json
import os
import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from validator import validate
from validator.formats import RENDERERS
from validator.load import InputError
from validator.report import SEVERITIES, STAGES
from validator.years import SUPPORTED

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = {name: (FIXTURES / name).read_bytes() for name in ("clean-2025-26.xml", "clean-2026-27.xml")}
NAME = "mutated.xml"

pytestmark = pytest.mark.usefixtures("no_network")

# Every run is a full check: no deadline, few examples, nothing stored between runs (no .hypothesis).
EXAMPLES = settings(max_examples=int(os.environ.get("CIN_MUTATION_EXAMPLES", "40")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def _trees():
    return {name: etree.fromstring(data) for name, data in SOURCES.items()}


TAGS = sorted({el.tag for root in _trees().values() for el in elements(root)})
# Fields: the elements that hold a value rather than other elements.
FIELDS = sorted({el.tag for root in _trees().values() for el in elements(root) if len(el) == 0})

# Characters XML can carry (no control characters, surrogates or the two non-characters).
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
                   max_size=40)
VALUES = st.one_of(
    st.just(""),
    st.sampled_from([" ", "\t\n  ", "\u00a0", "\u3000", " 2025-06-02 ", " N1 "]),
    XML_TEXT,
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
    st.sampled_from(["2025-02-29", "2024-02-29", "2025-13-01", "2025-00-10", "0000-00-00", "9999-12-31",
                     "0001-01-01", "2025-6-2", "02/06/2025", "2025-06-02T00:00:00", "-2025-06-02",
                     "+12025-06-02", "2025-06-02Z", "1900-01-01"]),
    st.integers().map(str),
    st.sampled_from(["9" * 40, "-1", "-0", "0", "00000", "1e309", "-1e309", "NaN", "inf", "0x1F", "+5",
                     "1.5", "١٢٣", "２０２５", "9223372036854775808", "-9223372036854775809"]),
    st.sampled_from(["true", "false", "TRUE", "False", "1", "0", "yes", "N1", "RC1", "1A", "UN1", "PLO",
                     "WBRI", "M", "F", "U", "X"]),
    st.sampled_from(["x" * 5000, "é" * 300, "\U0001f600" * 50, "<not a tag>", "&amp;", "'; DROP TABLE t; --",
                     "%s %d {0} {}", "\\N", "NULL", "null"]),
)
YEARS = st.sampled_from([None, *SUPPORTED])


def check(data: bytes, year: str | None, formats=("text", "json", "csv", "junit", "sarif", "github"), **options):
    """Validate and hold the report to its contract; None when the file cannot be checked."""
    try:
        report = validate(data, year=year, name=NAME, **options)
    except InputError as exc:
        message = str(exc)
        assert message.startswith(f"{NAME}: ") and "\n" not in message, message
        return None
    dumped = json.dumps(report.to_dict(), allow_nan=False)
    assert json.loads(dumped)["counts"] == report.counts
    for name in formats:
        RENDERERS[name]([report], False)
    for finding in report.findings:
        assert finding.severity in SEVERITIES and finding.stage in STAGES, finding
        assert isinstance(finding.code, str) and finding.code and finding.message, finding
        assert finding.line is None or isinstance(finding.line, int), finding
    errors = any(finding.severity == "error" for finding in report.findings)
    assert report.exit_code() == (1 if errors else 0)
    assert report.exit_code(strict=True) == (1 if report.findings else 0)
    return report


# -- the structure --------------------------------------------------------------------------

def _drop(root, target, other, rng, tag):
    if target is not root:
        target.getparent().remove(target)


def _duplicate(root, target, other, rng, tag):
    if target is not root:
        parent = target.getparent()
        parent.insert(parent.index(target) + rng.randint(0, len(parent) - parent.index(target)),
                      copy.deepcopy(target))


def _reorder(root, target, other, rng, tag):
    children = list(target)
    rng.shuffle(children)
    target[:] = children


def _retype(root, target, other, rng, tag):
    target.tag = tag


def _move(root, target, other, rng, tag):
    """Put an element somewhere else in the return (not inside itself)."""
    if target is root or other is target or target in other.iterancestors():
        return
    other.insert(rng.randint(0, len(other)), target)


def _nest(root, target, other, rng, tag):
    """A field becomes a group holding a field, or a group loses its members and holds text."""
    if len(target):
        text = "".join(target.itertext())
        target[:] = []
        target.text = text
    else:
        inner = etree.SubElement(target, tag)
        inner.text, target.text = target.text, None


OPERATIONS = {"drop": _drop, "duplicate": _duplicate, "reorder": _reorder, "retype": _retype, "move": _move,
              "nest": _nest}


@EXAMPLES
@given(source=st.sampled_from(sorted(SOURCES)), year=YEARS,
       steps=st.lists(st.tuples(st.sampled_from(sorted(OPERATIONS)), st.integers(0, 10 ** 6),
                                st.integers(0, 10 ** 6), st.sampled_from(TAGS), st.integers(0, 10 ** 6)),
                      min_size=1, max_size=8))
def test_dropped_duplicated_reordered_moved_and_retyped_elements(source, year, steps):
    root = etree.fromstring(SOURCES[source])
    for operation, first, second, tag, seed in steps:
        nodes = elements(root)
        target, other = nodes[first % len(nodes)], nodes[second % len(nodes)]
        OPERATIONS[operation](root, target, other, random.Random(seed), tag)
    check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), year)


# -- the values -------------------------------------------------------------------------------

@EXAMPLES
@given(source=st.sampled_from(sorted(SOURCES)), year=YEARS, data=st.data())
def test_random_values_in_the_fields(source, year, data):
    """Some fields get a random value in every place they appear; some single places get one too."""
    root = etree.fromstring(SOURCES[source])
    for tag in data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True), label="fields"):
        for element in root.iter(tag):
            element.text = data.draw(VALUES, label=tag)
    places = [el for el in elements(root) if len(el) == 0]
    for index, value in data.draw(st.lists(st.tuples(st.integers(0, 10 ** 6), VALUES), max_size=10), label="places"):
        places[index % len(places)].text = value
    check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), year)


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("value", ["", "9" * 40, "\U0001f600" + "x" * 5000])
def test_one_value_in_every_field_at_once(source, value):
    """Every field of the return holds the same odd value: every rule meets it at once, and the
    report renders in every format."""
    root = etree.fromstring(SOURCES[source])
    for element in elements(root):
        if len(element) == 0:
            element.text = value
    report = check(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), "2025-26", formats=RENDERERS)
    assert report is not None and report.exit_code() == 1


# -- the bytes --------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(sorted(SOURCES)),
       damage=st.lists(st.tuples(st.sampled_from(["cut", "flip", "insert", "delete"]), st.integers(0, 10 ** 6),
                                 st.binary(min_size=1, max_size=8)), min_size=1, max_size=4))
def test_damaged_bytes(source, damage):
    """Bytes cut off, changed, added or taken out: an InputError or a report, nothing else.
    Only the header rule runs, to keep this quick; the parse is what is under test."""
    data = bytearray(SOURCES[source])
    for kind, position, chunk in damage:
        at = position % (len(data) + 1)
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at:at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = chunk
        else:
            del data[at:at + len(chunk)]
    check(bytes(data), None, select=["100"], indicators=False)
