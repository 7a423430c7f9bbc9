"""Large returns take the two-process path; it must give exactly what the one-process path gives."""

from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from validator import pipeline, validate
from validator.load import InputError
from validator.schema import validate_tree
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
