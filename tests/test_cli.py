"""The command line: exit codes, the JSON contract, output files and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import message

ROOT = Path(__file__).resolve().parent.parent
CLEAN = ROOT / "fixtures" / "clean-2025-26.xml"


def run(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "validator", *map(str, args)], capture_output=True, text=True,
                            cwd=cwd, env={**os.environ, "GITHUB_ACTIONS": ""})
    return result.returncode, result.stdout, result.stderr


def test_clean_return_exits_0():
    code, out, err = run(CLEAN)
    assert code == 0, err
    assert "No problems found" in out


def test_json_contract(tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes(CLEAN.read_bytes().replace(b"<PrimaryNeedCode>N1</PrimaryNeedCode>", b"", 1))
    code, out, _ = run(broken, "--format", "json", "--select", "8610")
    data = json.loads(out)
    assert code == 1
    assert data["tool"]["name"] == "cin-validate" and data["tool"]["version"]
    assert data["file"] == str(broken)
    assert data["collection_year"] == "2025-26"
    assert data["counts"] == {"error": 1, "query": 0}
    (finding,) = data["findings"]
    assert finding["code"] == "8610" and isinstance(finding["code"], str)
    assert finding["severity"] == "error" and finding["stage"] == "rule"
    assert finding["message"]
    assert isinstance(finding["line"], int)
    assert finding["path"].startswith("/Message/Children/Child[")
    assert finding["child_id"]
    assert finding["values"] == {"ReferralNFA": "false", "PrimaryNeedCode": None}


def test_not_xml_exits_2_with_one_line(tmp_path):
    path = tmp_path / "notes.xml"
    path.write_text("this is not xml")
    code, out, err = run(path)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "not well-formed XML at line 1, column 1" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args, words", [
    (["--year", "2019-20"], "supported years are 2023-24, 2024-25, 2025-26, 2026-27"),
    (["--format", "pdf"], "unknown format 'pdf'"),
])
def test_bad_options_exit_2(args, words):
    code, _, err = run(CLEAN, *args)
    assert code == 2 and words in err


def test_missing_file_and_directory(tmp_path):
    assert run(tmp_path / "nope.xml")[0] == 2
    code, _, err = run(tmp_path)
    assert code == 2 and "is a directory" in err


def test_header_year_disagreeing_with_the_option(tmp_path):
    code, out, _ = run(CLEAN, "--year", "2024-25", "--format", "json", "--select", "100")
    data = json.loads(out)
    assert code == 1
    assert ("YEAR", "header") in {(f["code"], f["stage"]) for f in data["findings"]}


def test_strict_fails_on_queries(tmp_path):
    path = tmp_path / "query.xml"
    # An NFA referral dated before the census period: 8569Q, a query.
    text = message("2025-26").decode().replace("2025-06-02", "2024-06-02")
    path.write_text(text)
    assert run(path, "--select", "8569Q")[0] == 0
    assert run(path, "--select", "8569Q", "--strict")[0] == 1


def test_output_file_and_refusal_to_overwrite_input(tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run(CLEAN, "--format", "json", "--output", target)
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["counts"] == {"error": 0, "query": 0}
    copy = tmp_path / "return.xml"
    copy.write_bytes(CLEAN.read_bytes())
    before = copy.read_bytes()
    code, _, err = run(copy, "--output", copy)
    assert code == 2 and "refusing to write the report over the input" in err
    assert copy.read_bytes() == before


def test_schema_stage_does_not_stop_the_rules(tmp_path):
    path = tmp_path / "both.xml"
    text = CLEAN.read_text().replace("<PrimaryNeedCode>N1</PrimaryNeedCode>", "", 1)
    text = text.replace("<ReferralNFA>false</ReferralNFA>", "<ReferralNFA>FALSE</ReferralNFA>", 1)
    path.write_text(text)
    data = json.loads(run(path, "--format", "json", "--select", "8610")[1])
    assert {f["stage"] for f in data["findings"]} == {"schema", "rule"}
    data = json.loads(run(path, "--format", "json", "--select", "8610", "--fail-fast")[1])
    assert {f["stage"] for f in data["findings"]} == {"schema"}


def test_explain_and_list_rules():
    code, out, _ = run("--explain", "8610")
    assert code == 0 and out.startswith("# 8610:") and "## How to fix" in out and "## Examples" in out
    assert "```sql" not in out
    code, technical, _ = run("--explain", "8610", "--technical")
    assert code == 0 and technical.startswith(out.rstrip("\n")) and "PrimaryNeedCode_text IS NULL" in technical
    code, _, err = run("--explain", "1234")
    assert code == 2 and "no rule with code 1234" in err
    code, out, _ = run("--list-rules", "--year", "2024-25")
    assert code == 0 and "8610" in out


def test_module_and_console_script_agree():
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("cin-validate ")


def test_synth_command_writes_a_clean_return_and_a_manifest(tmp_path):
    target = tmp_path / "synthetic.xml"
    code, out, err = run("synth", "--children", "120", "--seed", "7", "--year", "2026-27", "-o", target)
    assert code == 0 and "wrote" in out, err
    assert run(target, "--no-indicators")[0] == 0
    broken = tmp_path / "broken.xml"
    code, out, _ = run("synth", "--children", "120", "--seed", "7", "--error-rate", "0.2", "-o", broken)
    assert code == 0 and (tmp_path / "broken.xml.breaches.yaml").exists()
    assert run(broken, "--no-indicators")[0] == 1
    assert run("synth", "--children", "5", "-o", target, "--year", "2030-31")[0] == 2


def test_github_annotations_are_the_default_inside_github_actions():
    result = subprocess.run([sys.executable, "-m", "validator", str(ROOT / "fixtures" / "broken-2025-26.xml"),
                             "--no-indicators"], capture_output=True, text=True,
                            env={**__import__("os").environ, "GITHUB_ACTIONS": "true"})
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=") and "title=8610" in result.stdout
