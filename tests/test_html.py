"""The HTML report, driven in a real headless Chromium through Playwright.

The browser is Debian's chromium (never one Playwright downloads). Each page is opened from a
file at a 1280-pixel-wide window: it must fit without sideways scrolling, its filter, groups,
by-child view and sorting must work, and its console must stay clean.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from validator import validate
from validator.formats.html_format import render
from validator.report import QUERY, Finding, Report

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTH = 1280


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must install Debian's chromium and the test extras (see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    if not CHROMIUM.exists():
        _unavailable("chromium is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def reports():
    return {
        "broken": validate(FIXTURES / "broken-2025-26.xml", population=100000,
                           previous=FIXTURES / "clean-2024-25.xml"),
        "clean": validate(FIXTURES / "clean-2025-26.xml", population=100000, previous=FIXTURES / "clean-2024-25.xml"),
        "every": validate(FIXTURES / "every-rule-2025-26.xml"),
    }


@pytest.fixture(scope="module")
def pages(reports, tmp_path_factory):
    folder = tmp_path_factory.mktemp("html")
    paths = {}
    for name, report in reports.items():
        paths[name] = folder / f"{name}.html"
        paths[name].write_text(render([report]), encoding="utf-8")
    return paths


class Page:
    """A page opened at 1280 pixels wide, with every console message and page error it gave."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        self.messages: list[str] = []
        self.page.on("console", lambda message: self.messages.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.messages.append(f"pageerror: {error}"))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready=yes]")

    def visible_rows(self, selector: str) -> list[str]:
        return self.page.eval_on_selector_all(
            f"{selector} tbody tr", "rows => rows.filter(r => r.offsetParent !== null).map(r => r.textContent)")

    def column(self, selector: str, index: int) -> list[str]:
        return self.page.eval_on_selector_all(
            f"{selector} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


@pytest.fixture
def open_page(browser, pages):
    opened = []

    def opener(name: str) -> Page:
        page = Page(browser, pages[name])
        opened.append(page)
        return page

    yield opener
    for page in opened:
        # Whatever a test did on the page, the console stayed clean: no error, no warning.
        assert page.messages == [], page.messages
        page.page.close()


def test_page_is_self_contained(pages):
    text = pages["broken"].read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text and "<link" not in text and " src=" not in text
    assert "default-src 'none'" in text
    for title in ("Assessment duration", "Strategy discussion to ICPC", "child protection plans ended",
                  "Factors identified at assessment", "Referrals by source"):
        assert title in text


@pytest.mark.parametrize("name", ["clean", "broken", "every"])
def test_page_fits_a_1280_pixel_window(open_page, name):
    page = open_page(name)
    if name != "clean":  # every group open: the widest the page gets
        page.page.click("button[data-groups=open]")
    assert page.page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert page.page.evaluate("document.body.scrollWidth") <= WIDTH


def test_the_hooks_for_automation_are_there(open_page):
    page = open_page("broken")
    for hook in ("summary", "by-rule", "by-child", "filter", "indicators"):
        assert page.page.locator(f"[data-testid={hook}]").count() == 1, hook
    # The summary comes first.
    order = page.page.eval_on_selector_all("[data-testid]", "nodes => nodes.map(n => n.dataset.testid)")
    assert order[0] == "summary"


def test_filter_narrows_the_rows_and_clearing_it_brings_them_back(open_page, reports):
    page = open_page("every")
    by_child = "[data-testid=by-child] table"
    everyone = len(page.visible_rows(by_child))
    child = next(f.child_id for f in reports["every"].findings if f.code == "1560Q")
    page.page.fill("[data-testid=filter]", child)
    rows = page.visible_rows(by_child)
    assert len(rows) == 1 and child in rows[0]
    shown = page.page.eval_on_selector_all("details.rule", "gs => gs.filter(g => !g.hidden).map(g => g.dataset.code)")
    expected = {f.code for f in reports["every"].findings if f.child_id == child}
    assert set(shown) == expected
    assert all(child in row for row in page.visible_rows("[data-testid=by-rule]"))
    page.page.fill("[data-testid=filter]", "")
    assert len(page.visible_rows(by_child)) == everyone


def test_filter_by_a_rule_code_shows_that_rule(open_page, reports):
    page = open_page("every")
    page.page.fill("[data-testid=filter]", "2886Q")
    shown = page.page.eval_on_selector_all("details.rule", "gs => gs.filter(g => !g.hidden).map(g => g.dataset.code)")
    assert shown == ["2886Q"]
    assert page.page.locator("details.rule[data-code='2886Q']").evaluate("g => g.open")
    assert len(page.visible_rows("details.rule[data-code='2886Q'] table")) == len(
        [f for f in reports["every"].findings if f.code == "2886Q"])


def test_groups_collapse_and_expand(open_page, reports):
    page = open_page("broken")
    groups = page.page.locator("details.rule")
    assert groups.count() == len({f.code for f in reports["broken"].findings})
    first = groups.first
    assert first.evaluate("g => g.open")  # a small return starts with its groups open
    row = first.locator("tbody tr").first
    assert row.is_visible()
    first.locator("summary").click()
    assert not first.evaluate("g => g.open") and not row.is_visible()
    first.locator("summary").click()
    assert first.evaluate("g => g.open") and row.is_visible()
    page.page.click("button[data-groups=closed]")
    assert page.page.eval_on_selector_all("details.rule", "gs => gs.every(g => !g.open)")
    page.page.click("button[data-groups=open]")
    assert page.page.eval_on_selector_all("details.rule", "gs => gs.every(g => g.open)")


def test_a_large_return_starts_folded_and_a_link_opens_its_rule(open_page):
    page = open_page("every")
    assert page.page.eval_on_selector_all("details.rule", "gs => gs.every(g => !g.open)")
    link = page.page.locator("[data-testid=summary] a").first
    code = link.text_content()
    link.click()
    assert page.page.locator(f"details.rule[data-code='{code}']").evaluate("g => g.open")


def test_by_child_lists_each_child_once(open_page, reports):
    page = open_page("every")
    ids = page.column("[data-testid=by-child] table", 0)
    assert sorted(ids) == sorted({f.child_id for f in reports["every"].findings if f.child_id})


def test_a_column_sorts_both_ways(open_page):
    page = open_page("every")
    table = "[data-testid=by-child] table"
    header = page.page.locator(f"{table} th", has_text="Errors")
    header.click()
    errors = [int(value) for value in page.column(table, 1)]
    assert errors == sorted(errors) and errors[0] < errors[-1]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [int(value) for value in page.column(table, 1)] == sorted(errors, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    page.page.locator(f"{table} th", has_text="LAchildID").click()
    ids = page.column(table, 0)
    assert ids == sorted(ids, key=lambda text: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)])


def test_indicators_show_rates_beside_englands_with_the_year_and_last_year(open_page):
    page = open_page("broken")
    section = page.page.locator("[data-testid=indicators]")
    headers = section.locator("table").first.locator("th").all_text_contents()
    assert [h.strip() for h in headers] == ["Indicator", "This return", "Per 10,000 children", "England 2025",
                                            "Last year", "Note"]
    row = section.locator("tr", has_text="Children in need at 31 March").first
    cells = [text.strip() for text in row.locator("td").all_text_contents()]
    assert cells[:5] == ["Children in need at 31 March", "5", "0.5", "330.3 per 10k", "5"]
    assert "per 10,000 children aged 0" in section.text_content()


def test_chart_labels_give_each_code_its_words(open_page):
    page = open_page("broken")
    labels = page.page.eval_on_selector_all("[data-testid=indicators] svg text[text-anchor=end]",
                                            "nodes => nodes.map(n => n.firstChild.textContent)")
    assert "6 Police" in labels and "2A Education: school" in labels
    assert "3B Domestic abuse: parent or carer is a victim" in labels
    assert "NEG Neglect" in labels
    assert page.page.locator("[data-testid=indicators] svg").count() >= 5
    assert page.page.locator("[data-testid=indicators] svg rect.bar").count() >= 10


def test_two_returns_on_one_page_keep_their_groups_apart(reports):
    text = render([reports["broken"], reports["every"]])
    ids = re.findall(r'<details class="rule" id="([^"]+)"', text)
    assert len(ids) == len(set(ids)) > len({f.code for f in reports["every"].findings})
    assert text == render([reports["broken"], reports["every"]])  # the same reports, the same page


def test_record_baseline_explanation_and_fixed_are_shown(browser, tmp_path):
    findings = [Finding(code="1560Q", severity=QUERY, stage="rule", message="m", line=46, child_id="CH1",
                        path="/Message/Children/Child[3]/ChildIdentifiers/FormerUPN", record="child identifiers",
                        baseline="new", explanation="issued abroad")]
    report = Report(file="r.xml", collection_year="2025-26", findings=findings, rules_run=["1560Q"],
                    return_info={"la": "201", "reference_date": "2026-03-31", "children": 118},
                    fixed=[{"code": "8610", "child_id": "CH9", "record": "episode referred 2025-06-02", "line": 7}],
                    previous_file="last.xml")
    path = tmp_path / "r.html"
    path.write_text(render([report]), encoding="utf-8")
    page = Page(browser, path)
    text = page.page.text_content("body")
    for words in ("LA 201", "reference date 2026-03-31", "118 children", "last year's return last.xml",
                  "child identifiers", "issued abroad", "Fixed since the baseline (1)", "new since the baseline"):
        assert words in text, words
    headers = page.page.locator("details.rule th").all_text_contents()
    assert "Record" in "".join(headers) and "Reason" in "".join(headers)
    assert page.messages == []
    page.page.close()


def test_screenshots_of_the_pages(open_page, tmp_path):
    for name in ("clean", "broken"):
        page = open_page(name)
        shot = tmp_path / f"{name}.png"
        page.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
