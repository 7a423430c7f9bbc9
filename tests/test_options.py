"""Explanations, redaction, settings and the Python API."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from validator import Report, validate
from validator.explanations import ExplanationsError, load_explanations
from validator.settings import SettingsError, find_settings

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "fixtures" / "broken-2025-26.xml"
EVERY = ROOT / "fixtures" / "every-rule-2025-26.xml"


def run(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "validator", *map(str, args)], capture_output=True, text=True,
                            cwd=cwd, env={**os.environ, "GITHUB_ACTIONS": ""})
    return result.returncode, result.stdout, result.stderr


def first_query(report: Report):
    return next(f for f in report.findings if f.severity == "query" and f.child_id)


def test_python_api_returns_the_report_model():
    report = validate(BROKEN, indicators=False)
    assert isinstance(report, Report)
    assert report.collection_year == "2025-26" and report.counts["error"] == 6
    assert report.indicators is None
    assert validate(BROKEN).indicators["referrals"]["value"] == 12


def test_explained_queries_do_not_fail_strict(tmp_path):
    plain = validate(EVERY, indicators=False)
    queries = [f for f in plain.findings if f.severity == "query"]
    entries = [{"code": f.code, "child_id": f.child_id, "reason": "Checked with the team"} for f in queries]
    explained = validate(EVERY, indicators=False, explanations=load_explanations(_yaml(tmp_path, entries)))
    assert explained.explained == len(queries)
    assert all(f.explanation == "Checked with the team" for f in explained.findings if f.severity == "query")
    assert not explained.explanation_notes


def test_explanations_that_match_nothing_or_an_error_are_reported(tmp_path):
    report = validate(BROKEN, indicators=False)
    error = report.findings[0]
    path = _yaml(tmp_path, [{"code": "8610Q", "child_id": "NOBODY", "reason": "x"},
                            {"code": error.code, "child_id": error.child_id, "reason": "please"}])
    explained = validate(BROKEN, indicators=False, explanations=path)
    assert explained.exit_code(strict=True) == 1
    assert any("matches no query" in note for note in explained.explanation_notes)
    assert any("an error cannot be explained" in note for note in explained.explanation_notes)
    assert all(f.explanation is None for f in explained.findings)


def test_strict_exit_codes_with_explanations(tmp_path):
    plain = validate(EVERY, indicators=False)
    only_queries = tmp_path / "queries.xml"
    only_queries.write_bytes(EVERY.read_bytes())
    query = first_query(plain)
    path = _yaml(tmp_path, [{"code": query.code, "child_id": query.child_id, "reason": "known"}])
    code, out, _ = run(EVERY, "--select", query.code, "--strict", "--explanations", path, "--format", "json",
                       "--no-indicators")
    data = json.loads(out)
    assert data["queries_explained"] >= 1
    unexplained = [f for f in data["findings"] if f["severity"] == "query" and not f["explanation"]]
    assert code == (1 if unexplained else 0)


@pytest.mark.parametrize("content, complaint", [
    ("- {code: 8610, reason: x, colour: red}", "unknown key"),
    ("- {code: 8610}", "needs a reason"),
    ("code: 8610", "must be a list"),
])
def test_explanations_files_are_read_strictly(tmp_path, content, complaint):
    path = tmp_path / "e.yaml"
    path.write_text(content)
    with pytest.raises(ExplanationsError, match=complaint):
        load_explanations(path)


def _yaml(tmp_path, entries):
    path = tmp_path / "explanations.yaml"
    path.write_text(json.dumps(entries))  # JSON is YAML
    return path


def test_redaction_keeps_identifying_values_out_of_every_format(tmp_path):
    source = tmp_path / "return.xml"
    text = EVERY.read_text()
    source.write_text(text)
    upns = [f.values.get("UPN") for f in validate(source, indicators=False).findings if f.values.get("UPN")]
    births = [f.values.get("PersonBirthDate") for f in validate(source, indicators=False).findings
              if f.values.get("PersonBirthDate")]
    assert upns and births
    for fmt in ("json", "csv", "text", "sarif", "junit", "github", "xlsx"):
        out = tmp_path / f"report.{fmt}"
        code, _, err = run(source, "--redact", "--format", fmt, "--output", out, "--no-indicators")
        assert code == 1, err
        written = out.read_bytes()
        if fmt == "xlsx":
            from openpyxl import load_workbook
            book = load_workbook(out)
            written = "\n".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
                                if cell.value is not None).encode()
        for value in upns + births:
            assert value.encode() not in written, (fmt, value)


def test_default_shows_only_what_the_rule_read():
    for finding in validate(BROKEN, indicators=False).findings:
        assert "PersonBirthDate" not in finding.values or finding.code in {"8520", "8525Q", "8535Q"}


def test_settings_from_pyproject_and_unknown_keys(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cin-validate]\nformat = "json"\nselect = ["8610"]\n'
                                             'indicators = false\n')
    nested = tmp_path / "returns"
    nested.mkdir()
    assert find_settings(nested)[1] == {"format": "json", "select": ["8610"], "indicators": False}
    code, out, _ = run(BROKEN, cwd=nested)
    data = json.loads(out)
    assert code == 1 and data["rules_run"] == ["8610"] and "indicators" not in data
    code, out, _ = run(BROKEN, "--format", "csv", cwd=nested)  # the command line wins
    assert out.startswith("file,collection_year,code")
    (tmp_path / "cin-validate.toml").write_text("strict = true\nshout = true\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        find_settings(nested)
    code, _, err = run(BROKEN, cwd=nested)
    assert code == 2 and "unknown setting(s): shout" in err


def test_several_files_one_report_each_and_one_exit_code(tmp_path):
    clean = ROOT / "fixtures" / "clean-2024-25.xml"
    code, out, _ = run(clean, BROKEN, "--format", "json", "--no-indicators")
    data = json.loads(out)
    assert code == 1 and [d["file"] for d in data] == [str(clean), str(BROKEN)]
    missing = tmp_path / "absent.xml"
    code, out, err = run(clean, missing, "--format", "json", "--no-indicators")
    assert code == 2 and "no such file" in err and json.loads(out)["file"] == str(clean)


DATA = ROOT / "tests" / "data"


def test_previous_return_and_population_on_the_command_line():
    current, previous = DATA / "indicators-2025-26.xml", DATA / "indicators-2024-25.xml"
    code, out, err = run(current, "--format", "json", "--select", "100")
    alone = json.loads(out)["indicators"]
    assert alone["re_referrals_within_12_months"]["within_return_only"] is True
    assert "children_in_need_at_31_march_rate" not in alone  # no population: rates left out
    code, out, err = run(current, "--format", "json", "--select", "100", "--previous", previous,
                         "--population", "8000")
    both = json.loads(out)["indicators"]
    assert not both["re_referrals_within_12_months"].get("within_return_only")
    assert "across_returns" in both["re_referrals_within_12_months"]
    assert both["children_in_need_at_31_march_rate"]["value"] == round(
        both["children_in_need_at_31_march"]["value"] / 8000 * 10000 + 1e-9, 1)
    code, _, err = run(current, "--previous", current)
    assert code == 2 and "previous return must be for 2024-25" in err
