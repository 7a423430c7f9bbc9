"""Large returns take the two-process path; it must give exactly what the one-process path gives."""

import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from validator import pipeline, tables, validate
from validator.load import InputError, load
from validator.schema import validate_file, validate_tree
from validator.years import CollectionYear

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _key(report):
    return Counter((f.code, f.stage, f.line, f.path, f.child_id, f.message, tuple(f.details))
                   for f in report.findings)


@pytest.mark.parametrize("name", ["broken-2025-26.xml", "every-rule-2024-25.xml", "every-rule-2026-27-apart.xml"])
def test_streamed_path_matches_the_parsed_path(monkeypatch, name):
    whole = validate(FIXTURES / name)
    monkeypatch.setattr(pipeline, "LARGE_FILE", 0)
    streamed = validate(FIXTURES / name)
    assert _key(streamed) == _key(whole)
    assert streamed.rules_run == whole.rules_run


def test_streamed_path_reports_a_truncated_file(monkeypatch, tmp_path):
    monkeypatch.setattr(pipeline, "LARGE_FILE", 0)
    text = (FIXTURES / "clean-2025-26.xml").read_text()
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="not well-formed XML at line"):
        validate(path)


def test_chunked_schema_validation_matches_whole_validation(monkeypatch):
    """Validating a return in parts gives the same breaches, lines and paths as validating it whole."""
    text = (FIXTURES / "every-rule-2025-26.xml").read_bytes()
    whole = validate_tree(etree.fromstring(text).getroottree(), CollectionYear("2025-26"))
    monkeypatch.setattr("validator.schema.CHUNK", 7)
    parts = validate_tree(etree.fromstring(text).getroottree(), CollectionYear("2025-26"), consume=True)
    assert [(f.line, f.path, f.message) for f in parts] == [(f.line, f.path, f.message) for f in whole]
    assert len(whole) > 5


def _whole(data: bytes, year: str = "2025-26"):
    return [(f.line, f.path, f.message)
            for f in validate_tree(etree.fromstring(data).getroottree(), CollectionYear(year))]


def _streamed(tmp_path, data: bytes, year: str = "2025-26", **options):
    path = tmp_path / "return.xml"
    path.write_bytes(data)
    return [(f.line, f.path, f.message) for f in validate_file(str(path), year, **options)]


def test_streamed_schema_stage_matches_whole_validation(monkeypatch, tmp_path):
    """The worker reads the file a run of children at a time: same breaches, lines and paths."""
    data = (FIXTURES / "every-rule-2025-26.xml").read_bytes()
    whole = _whole(data)
    monkeypatch.setattr("validator.schema.CHUNK", 7)
    assert _streamed(tmp_path, data) == whole
    assert len(whole) > 5


@pytest.mark.parametrize("change", [
    ("<Header>", "<Stray/><Header>"),  # something before the Header
    ("</Children>", "</Children><Children><Child/></Children>"),  # a second group of children
    ("</Children>", "</Children><Stray/>"),  # something after the children
])
def test_streamed_schema_stage_handles_unusual_shapes(monkeypatch, tmp_path, change):
    """A return whose shape turns out unusual after runs were validated is validated whole."""
    data = (FIXTURES / "every-rule-2025-26.xml").read_text().replace(*change, 1).encode()
    whole = _whole(data)
    monkeypatch.setattr("validator.schema.CHUNK", 7)
    streamed = _streamed(tmp_path, data)
    assert streamed == whole
    assert any("Stray" in message or "Children" in message for _, _, message in whole)


def test_streamed_schema_stage_without_a_header(monkeypatch, tmp_path):
    text = (FIXTURES / "every-rule-2025-26.xml").read_text()
    data = re.sub(r"<Header>.*?</Header>", "", text, count=1, flags=re.S).encode()
    whole = _whole(data)
    monkeypatch.setattr("validator.schema.CHUNK", 7)
    assert _streamed(tmp_path, data) == whole


def test_schema_worker_is_the_well_formedness_check(tmp_path):
    text = (FIXTURES / "clean-2025-26.xml").read_text()
    path = tmp_path / "cut.xml"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError) as streamed:
        validate_file(str(path), "2025-26", name="cut.xml", validate=False)
    with pytest.raises(InputError) as whole:
        load(path.read_bytes(), name="cut.xml")
    assert str(streamed.value) == str(whole.value)
    assert _streamed(tmp_path, text.encode(), validate=False) == []


def test_a_file_the_compiled_reader_takes_but_libxml2_rejects_is_refused(monkeypatch, tmp_path):
    """The compiled reader does not check well-formedness (an undefined XML character here); the
    parse beside it does, and its verdict stands."""
    monkeypatch.setattr(pipeline, "LARGE_FILE", 0)
    text = (FIXTURES / "clean-2025-26.xml").read_text()
    path = tmp_path / "control.xml"
    path.write_text(text.replace("</LAchildID>", "\x01</LAchildID>", 1))
    assert tables.read_bytes(path.read_bytes()) is not None or tables._native is None
    for workers in (True, False):
        with pytest.raises(InputError, match="not well-formed XML at line"):
            validate(path, workers=workers)
