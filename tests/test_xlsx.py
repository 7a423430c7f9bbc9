"""The workbook is what an officer works in: read it back with openpyxl, sheet by sheet, and check
that the Reason column goes round through --explanations from one run to the next."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from validator import validate
from validator.explanations import Explanation, ExplanationsError, apply, load_explanations
from validator.formats import xlsx_format
from validator.report import ERROR, QUERY, Finding, Location, Report

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BROKEN, CLEAN = FIXTURES / "broken-2025-26.xml", FIXTURES / "clean-2025-26.xml"
EVERY, LAST_YEAR = FIXTURES / "every-rule-2025-26.xml", FIXTURES / "clean-2024-25.xml"
FILE = "returns/la 123.xml"
FORMULA = '=HYPERLINK("http://example.invalid","x")'
REASON = "Checked with the social worker: the UPN was issued abroad"


def run(*args):
    result = subprocess.run([sys.executable, "-m", "validator", *map(str, args)], capture_output=True, text=True,
                            env={**os.environ, "GITHUB_ACTIONS": ""})
    return result.returncode, result.stdout, result.stderr


def _findings() -> list[Finding]:
    return [
        Finding(code="SCHEMA", severity=ERROR, stage="schema", line=30, element="Ethnicity",
                path="/Message/Children/Child[2]/ChildCharacteristics/Ethnicity", child_id="CH00002",
                message="Ethnicity has 'XXXX', which is not a valid code.", values={"Ethnicity": "XXXX"}),
        Finding(code="8610", severity=ERROR, stage="rule", line=812, path="/Message/Children/Child[7]/CINdetails[2]",
                child_id="CH00123", message="The referral was not NFA but has no PrimaryNeedCode.",
                values={"ReferralNFA": "false", "PrimaryNeedCode": None}, record="episode referred 2025-06-02",
                related=[Location(815, "/Message/Children/Child[7]/CINdetails[2]/ReferralNFA")],
                details=["schema: PrimaryNeedCode is missing (line 812)"], baseline="new"),
        Finding(code="8610", severity=ERROR, stage="rule", line=900, path="/Message/Children/Child[7]/CINdetails[3]",
                child_id="CH00123", message="The referral was not NFA but has no PrimaryNeedCode.",
                values={"ReferralNFA": "0", "PrimaryNeedCode": None}, record="episode referred 2025-09-10",
                baseline="still"),
        Finding(code="1560Q", severity=QUERY, stage="rule", line=46,
                path="/Message/Children/Child[3]/ChildIdentifiers/FormerUPN", child_id="CH00003",
                message="The FormerUPN is not in the UPN format.",
                values={"FormerUPN": FORMULA, "LAchildID": "CH00003"}),
        Finding(code="2886Q", severity=QUERY, stage="rule", message="Over 2% of children have Sex missing.",
                values={"numerator": 31, "denominator": 109, "percent": 28.44, "flagged": True}),
    ]


def _report(**fields) -> Report:
    return Report(file=FILE, collection_year="2025-26", findings=_findings(), tool_version="0.1.0",
                  rules_run=["100", "1560Q", "2886Q", "8610"],
                  return_info={"la": "201", "reference_date": "2026-03-31", "children": 118}, **fields)


def _book(reports) -> Workbook:
    return load_workbook(io.BytesIO(xlsx_format.render(reports)))


def _rows(sheet, header_row: int = 1) -> list[dict]:
    header = [cell.value for cell in sheet[header_row]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(min_row=header_row + 1, values_only=True)
            if any(value is not None for value in row)]


def _header(sheet, row: int = 1) -> list:
    return [cell.value for cell in sheet[row]]


# ---------------------------------------------------------------- the sheets


def test_sheets_are_named_for_the_officer_with_frozen_filtered_bold_headers():
    book = _book([_report()])
    assert book.sheetnames == ["Summary", "Findings", "By child", "Indicators"]
    for name, header_row in (("Summary", 4), ("Findings", 1), ("By child", 1), ("Indicators", 1)):
        sheet = book[name]
        assert all(cell.font.bold for cell in sheet[header_row] if cell.value), name
        assert sheet.freeze_panes.endswith(str(header_row + 1)), name
        last = sheet.cell(header_row, len([c for c in sheet[header_row] if c.value])).column_letter
        assert sheet.auto_filter.ref == f"A{header_row}:{last}{max(sheet.max_row, header_row)}", name
    # Severity, code, title and child stay in view while the many value columns scroll past.
    assert book["Findings"].freeze_panes == "E2"


def test_widths_fit_the_text():
    sheet = _book([_report()])["Findings"]
    widths = {cell.value: sheet.column_dimensions[cell.column_letter].width for cell in sheet[1]}
    assert all(8 <= width <= 60 for width in widths.values())
    longest_path = max(len(f.path or "") for f in _findings())
    assert widths["Path"] >= longest_path  # a path is read whole, not cut off
    assert widths["Code"] < 15 and widths["Line"] < 15 and widths["Reason"] == 50


def test_findings_columns_then_a_value_per_column_then_reason():
    sheet = _book([_report()])["Findings"]
    header = _header(sheet)
    assert header[:8] == ["Severity", "Code", "Title", "LAchildID", "Record", "Element", "Line", "Path"]
    assert header[-1] == "Reason"
    values = header[8:header.index("Message")]
    # Each value any finding read, in the order first met; a name already heading a column is told apart.
    assert values == ["Ethnicity", "FormerUPN", "LAchildID (value)", "numerator", "denominator", "percent",
                      "flagged", "ReferralNFA", "PrimaryNeedCode"]
    assert header.count("LAchildID") == 1


def test_findings_rows_carry_title_record_element_and_each_value():
    rows = _rows(_book([_report()])["Findings"])
    assert len(rows) == len(_findings())
    assert all(row["Reason"] is None for row in rows)
    first = next(row for row in rows if row["Line"] == 812)
    assert first["Title"] == "Primary need code missing for a referral that went further"  # the rule's title
    assert first["Record"] == "episode referred 2025-06-02" and first["LAchildID"] == "CH00123"
    assert first["Element"] == "CINdetails"  # the last step of the path, without its position
    assert first["ReferralNFA"] == "false" and first["PrimaryNeedCode"] == "(missing)"
    assert first["Severity"] == "error" and first["File"] == FILE and first["Since baseline"] == "new"
    assert "(line 815)" in first["Related"] and "PrimaryNeedCode is missing" in first["Details"]
    schema = next(row for row in rows if row["Code"] == "SCHEMA")
    assert schema["Element"] == "Ethnicity" and schema["Ethnicity"] == "XXXX" and schema["Title"]
    whole = next(row for row in rows if row["Code"] == "2886Q")
    assert whole["Line"] is None and whole["LAchildID"] is None
    assert whole["numerator"] == 31 and whole["percent"] == 28.44 and whole["flagged"] == "true"  # numbers stay numbers


def test_columns_with_nothing_to_say_are_left_out():
    plain = [Finding(code="8610", severity=ERROR, stage="rule", message="m", line=1, child_id="A")]
    header = _header(_book([Report(file="r.xml", collection_year="2025-26", findings=plain)])["Findings"])
    assert "Since baseline" not in header and "Provisional" not in header and "In last year's return" not in header
    marked = [Finding(code="9005", severity=ERROR, stage="continuity", message="m", line=1, child_id="A",
                      provisional=True, in_previous=True)]
    header = _header(_book([Report(file="r.xml", collection_year="2025-26", findings=marked)])["Findings"])
    assert "Provisional" in header and "In last year's return" in header


def test_formula_like_text_stays_text():
    sheet = _book([_report()])["Findings"]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == FORMULA]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_a_cell_takes_only_what_excel_can_hold():
    finding = Finding(code="8610", severity=ERROR, stage="rule", message="bad\x01byte", line=1,
                      values={"note": "x" * 40000})
    row = _rows(_book([Report(file="r.xml", collection_year="2025-26", findings=[finding])])["Findings"])[0]
    assert row["Message"] == "bad\ufffdbyte" and len(row["note"]) == 32767


def test_summary_names_the_return_and_gives_one_row_per_rule():
    clean = Report(file="clean.xml", collection_year="2025-26", rules_run=["100", "8610"])
    sheet = _book([_report(previous_file="last.xml"), clean])["Summary"]
    returns = _rows(sheet)[:2]
    assert returns[0] == {"File": FILE, "Collection year": "2025-26", "LA": "201", "Reference date": "2026-03-31",
                          "Children": 118, "Errors": 3, "Queries": 2, "Explained": 0, "Rules checked": 4,
                          "Previous return": "last.xml"}
    assert returns[1]["File"] == "clean.xml" and returns[1]["Errors"] == 0
    # Below the returns (one row each) and a blank row, the rules' table.
    assert _header(sheet, 5)[:3] == ["Code", "Title", "Severity"]
    rules = _rows(sheet, header_row=5)
    mine = {row["Code"]: row for row in rules if row["File"] == FILE}
    # Every rule run has its row, with findings or without; the checks with findings come first.
    assert set(mine) == {"YEAR", "SCHEMA", "100", "1560Q", "2886Q", "8610"}
    assert [row["Code"] for row in rules if row["File"] == FILE][:4] == ["SCHEMA", "1560Q", "2886Q", "8610"]
    assert mine["8610"]["Findings"] == 2 and mine["8610"]["Severity"] == "error"
    assert mine["8610"]["Title"] == "Primary need code missing for a referral that went further"
    assert mine["100"]["Findings"] == 0
    assert {row["Code"] for row in rules if row["File"] == "clean.xml"} == {"YEAR", "SCHEMA", "100", "8610"}


def test_by_child_has_one_row_per_child_with_findings():
    rows = _rows(_book([_report()])["By child"])
    assert rows == [
        {"LAchildID": "CH00002", "Errors": 1, "Queries": 0, "Codes": "SCHEMA", "First line": 30, "File": FILE},
        {"LAchildID": "CH00003", "Errors": 0, "Queries": 1, "Codes": "1560Q", "First line": 46, "File": FILE},
        {"LAchildID": "CH00123", "Errors": 2, "Queries": 0, "Codes": "8610", "First line": 812, "File": FILE},
    ]


def test_by_child_of_a_real_return_lists_every_child_once():
    report = validate(EVERY, indicators=False)
    rows = _rows(_book([report])["By child"])
    children = {f.child_id for f in report.findings if f.child_id}
    assert sorted(row["LAchildID"] for row in rows) == sorted(children)
    for row in rows:
        mine = [f for f in report.findings if f.child_id == row["LAchildID"]]
        assert row["Errors"] + row["Queries"] == len(mine)


def test_fixed_sheet_lists_what_was_put_right_since_the_baseline():
    fixed = [{"code": "8610", "severity": "error", "child_id": "CH00900", "record": "episode referred 2025-05-01",
              "line": 77, "path": "/Message/Children/Child[9]/CINdetails[1]", "message": "m"}]
    book = _book([_report(fixed=fixed)])
    assert book.sheetnames[-1] == "Fixed"
    (row,) = _rows(book["Fixed"])
    assert row["Code"] == "8610" and row["LAchildID"] == "CH00900" and row["Record"] == "episode referred 2025-05-01"
    assert row["Title"] == "Primary need code missing for a referral that went further"
    assert "Fixed" not in _book([_report()]).sheetnames


def test_same_report_same_bytes():
    data = xlsx_format.render([_report()])
    assert data == xlsx_format.render([_report()])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# ---------------------------------------------------------------- indicators sheet


@pytest.fixture(scope="module")
def figures_report():
    return validate(BROKEN, population=100000, previous=LAST_YEAR)


def test_indicators_sheet_puts_rates_beside_englands_rates_with_the_year_and_last_year(figures_report):
    rows = {row["Key"]: row for row in _rows(_book([figures_report])["Indicators"])}
    cin = rows["children_in_need_at_31_march"]
    assert cin["This return"] == 5 and cin["Per 10,000 children"] == 0.5
    assert cin["England"] == 402400 and cin["England per 10,000"] == 330.3 and cin["England year"] == 2025
    assert cin["Last year"] == 5
    referrals = rows["referrals"]
    assert referrals["Per 10,000 children"] == 1.2 and referrals["England per 10,000"] == 519.4
    assert "approximate" in referrals["Note"]
    nfa = rows["referrals_nfa"]
    assert nfa["%"] == 16.7 and nfa["England %"] == 6.5 and nfa["Last year %"] == 16.7
    # A rate is shown on the line of the count it is of, never as a line of its own.
    assert not any(key.endswith("_rate") for key in rows)
    assert rows["cpp_open_at_31_march"]["Note"].startswith("rate counts children")


def test_indicators_sheet_without_population_or_previous_has_no_such_columns():
    header = _header(_book([validate(BROKEN)])["Indicators"])
    assert "Per 10,000 children" not in header and "Last year" not in header
    assert {"Indicator", "This return", "England", "England year"} <= set(header)


# ---------------------------------------------------------------- the Reason column, read back


def _fill_reason(path: Path, target: Path, wanted) -> list[dict]:
    """Write REASON into the Reason cell of each Findings row `wanted` picks; the rows picked."""
    book = load_workbook(path)
    sheet = book["Findings"]
    header = _header(sheet)
    picked = []
    for row in sheet.iter_rows(min_row=2):
        record = dict(zip(header, (cell.value for cell in row)))
        if wanted(record):
            row[header.index("Reason")].value = REASON
            picked.append(record)
    book.save(target)
    return picked


def test_reason_written_in_the_workbook_explains_the_query_next_run(tmp_path):
    first = tmp_path / "report.xlsx"
    assert run(EVERY, "--no-indicators", "-f", "xlsx", "-o", first)[0] == 1
    filled = tmp_path / "filled.xlsx"
    (picked,) = _fill_reason(first, filled, lambda row: row["Code"] == "1560Q")
    code, out, err = run(EVERY, "--no-indicators", "--explanations", filled)
    assert err == ""
    assert f"explained: {REASON}" in out and "(1 explained)" in out
    # The next workbook carries the reason again, on the same row: nothing the officer wrote is lost.
    second = tmp_path / "second.xlsx"
    run(EVERY, "--no-indicators", "--explanations", filled, "-f", "xlsx", "-o", second)
    rows = _rows(load_workbook(second)["Findings"])
    assert [(row["Code"], row["LAchildID"], row["Reason"]) for row in rows if row["Reason"]] == [
        ("1560Q", picked["LAchildID"], REASON)]


def test_rows_with_an_empty_reason_are_skipped(tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(xlsx_format.render([_report()]))
    assert load_explanations(path) == []
    filled = tmp_path / "filled.xlsx"
    _fill_reason(path, filled, lambda row: row["Code"] == "1560Q")
    assert load_explanations(filled) == [Explanation("1560Q", "CH00003", REASON, None)]


def test_a_reason_from_the_workbook_keeps_to_its_record(tmp_path):
    path, filled = tmp_path / "report.xlsx", tmp_path / "filled.xlsx"
    path.write_bytes(xlsx_format.render([_report()]))
    _fill_reason(path, filled, lambda row: row["Line"] == 812)
    (entry,) = load_explanations(filled)
    assert entry == Explanation("8610", "CH00123", REASON, "episode referred 2025-06-02")
    queries = [Finding(code="8610Q", severity=QUERY, stage="rule", message="m", child_id="CH00123", record=name)
               for name in ("episode referred 2025-06-02", "episode referred 2025-09-10")]
    report = apply(Report(file="r.xml", collection_year="2025-26", findings=queries),
                   [Explanation("8610Q", "CH00123", REASON, "episode referred 2025-06-02")])
    assert [f.explanation for f in report.findings] == [REASON, None]


def test_an_entry_for_the_record_wins_over_one_for_the_child():
    queries = [Finding(code="1560Q", severity=QUERY, stage="rule", message="m", child_id="A", record=name)
               for name in ("episode referred 2025-06-02", "episode referred 2025-09-10")]
    report = apply(Report(file="r.xml", collection_year="2025-26", findings=queries),
                   [Explanation("1560Q", "A", "all of them"),
                    Explanation("1560Q", "A", "this one", "episode referred 2025-09-10")])
    assert [f.explanation for f in report.findings] == ["all of them", "this one"]
    assert report.explanation_notes == []


def test_yaml_entries_may_name_a_record(tmp_path):
    path = tmp_path / "reasons.yaml"
    path.write_text("- {code: 1560q, child_id: A, record: episode referred 2025-06-02, reason: known}\n")
    assert load_explanations(path) == [Explanation("1560Q", "A", "known", "episode referred 2025-06-02")]


def test_a_workbook_without_a_findings_sheet_or_reason_column_is_one_line_and_exit_2(tmp_path):
    book = Workbook()
    book.active.title = "Sheet1"
    no_sheet = tmp_path / "other.xlsx"
    book.save(no_sheet)
    book.active.title = "Findings"
    book.active.append(["Code", "LAchildID", "Note"])
    no_reason = tmp_path / "no-reason.xlsx"
    book.save(no_reason)
    for path, words in ((no_sheet, "no Findings sheet"), (no_reason, "no Reason column")):
        with pytest.raises(ExplanationsError, match=words):
            load_explanations(path)
        code, out, err = run(BROKEN, "--no-indicators", "--explanations", path)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert words in err and "internal error" not in err and "Traceback" not in err


def test_a_broken_or_binary_explanations_file_is_one_line_and_exit_2(tmp_path):
    broken_zip = tmp_path / "broken.xlsx"
    broken_zip.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    binary = tmp_path / "reasons.yaml"
    binary.write_bytes(b"\xff\xfe\x00binary")
    for path in (broken_zip, binary):
        code, out, err = run(BROKEN, "--no-indicators", "--explanations", path)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "internal error" not in err and str(path) in err


def test_a_workbook_with_an_entity_bomb_is_refused_without_expanding_it(tmp_path):
    good = tmp_path / "report.xlsx"
    good.write_bytes(xlsx_format.render([_report()]))
    bomb = tmp_path / "bomb.xlsx"
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE worksheet [<!ENTITY l0 "lol">{lol}]>'
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet2.xml":  # the Findings sheet
                text = data.decode()
                start = text.index("?>") + 2 if text.startswith("<?xml") else 0
                data = (text[:start] + doctype + text[start:]).replace("<v>", "<v>&l9;", 1).encode()
            target.writestr(item, data)
    code, out, err = run(BROKEN, "--no-indicators", "--explanations", bomb)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert str(bomb) in err and "internal error" not in err
