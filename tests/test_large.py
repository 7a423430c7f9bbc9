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


@pytest.fixture(scope="module")
def sparse_return(tmp_path_factory):
    """A return of 1,100 children (under 65,536 lines, where libxml2's own lines are exact) with
    a few children broken."""
    from validator.synth import write

    path = tmp_path_factory.mktemp("sparse") / "sparse.xml"
    write(path, children=1100, seed=7, year="2025-26", error_rate=0.02)
    return path


def test_streaming_schema_stage_locates_sparse_breaches(monkeypatch, sparse_return):
    """One streaming pass finds the breaches; the children holding them are validated again to
    locate them: the same lines, paths and messages as validating the whole tree."""
    from validator import schema

    data = sparse_return.read_bytes()
    assert data.count(b"\n") < 65_535
    whole = _whole(data)
    assert 0 < len(whole) <= schema.STREAMING_BREACHES
    monkeypatch.setattr(schema, "_validate_in_runs", lambda *a: pytest.fail("fell back to runs"))
    streamed = [(f.line, f.path, f.message) for f in validate_file(str(sparse_return), "2025-26")]
    assert sorted(streamed) == sorted(whole)


def test_many_breaches_are_validated_in_runs(monkeypatch, sparse_return):
    """Past STREAMING_BREACHES the streaming pass gives up and runs of children are validated as
    small documents cut from the file: the same findings."""
    from validator import schema

    whole = _whole(sparse_return.read_bytes())
    monkeypatch.setattr(schema, "STREAMING_BREACHES", 3)
    monkeypatch.setattr(schema, "_locate", lambda *a: pytest.fail("the streaming pass went on"))
    streamed = [(f.line, f.path, f.message) for f in validate_file(str(sparse_return), "2025-26")]
    assert sorted(streamed) == sorted(whole)


def test_runs_of_a_broken_return_are_shared_with_the_main_process(monkeypatch, tmp_path):
    """The worker takes runs from the front, the main process from the back; together they give
    what validating the whole return gives, each run once."""
    import multiprocessing

    from validator import schema

    data = (FIXTURES / "every-rule-2025-26.xml").read_bytes()
    path = tmp_path / "return.xml"
    path.write_bytes(data)
    whole = _whole(data)
    monkeypatch.setattr(schema, "CHUNK", 7)
    share = multiprocessing.get_context("spawn").Array("i", 4)
    helped: list = []
    validate_run = schema._Runs.validate

    cut = schema._Runs(data, CollectionYear("2025-26"), *tables.member_spans(data))

    def worker_run(self, first, last, line):
        if self is cut and not helped:  # the main process arrives while the worker is on its first run
            helped.append(schema.help_validate(str(path), "2025-26", share))
        return validate_run(self, first, last, line)

    monkeypatch.setattr(schema._Runs, "validate", worker_run)
    assert cut.usual()
    mine = schema._validate_shared(cut, share)
    assert helped[0] and mine
    assert sorted((f.line, f.path, f.message) for f in mine + helped[0]) == sorted(whole)


def test_a_return_with_more_after_its_children_is_not_cut_into_runs(tmp_path):
    from validator import schema

    text = (FIXTURES / "every-rule-2025-26.xml").read_text().replace("</Children>", "</Children><Stray/>")
    data = text.encode()
    assert not schema._Runs(data, CollectionYear("2025-26"), *tables.member_spans(data)).usual()
    assert schema._Runs((FIXTURES / "every-rule-2025-26.xml").read_bytes(), CollectionYear("2025-26"),
                        *tables.member_spans((FIXTURES / "every-rule-2025-26.xml").read_bytes())).usual()


def test_streaming_schema_stage_reports_syntax_errors_as_the_parser_does(tmp_path):
    text = (FIXTURES / "every-rule-2025-26.xml").read_text()
    path = tmp_path / "bad.xml"
    path.write_text(text.replace("</UPN>", "</UPM>", 1))
    with pytest.raises(InputError) as streamed:
        validate_file(str(path), "2025-26", name="bad.xml")
    with pytest.raises(InputError) as whole:
        load(path.read_bytes(), name="bad.xml")
    assert str(streamed.value) == str(whole.value)


def test_a_program_read_from_standard_input_can_check_a_large_return():
    """The schema worker is a spawned process, which cannot start when the calling program has no
    file to import again (a script piped to python); the check then does the worker's part itself."""
    import subprocess
    import sys

    script = ("from validator import pipeline, validate\n"
              "pipeline.LARGE_FILE = 0\n"
              f"report = validate({str(FIXTURES / 'broken-2025-26.xml')!r})\n"
              "print(sorted((f.code, f.line, tuple(f.details)) for f in report.findings))\n")
    result = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = validate(FIXTURES / "broken-2025-26.xml", workers=False)
    assert any(f.details for f in expected.findings)  # the schema stage's breaches are in it
    assert result.stdout.strip() == str(sorted((f.code, f.line, tuple(f.details)) for f in expected.findings))
