"""HTML: one self-contained page (no external files, no network) an officer can read and show.

Each return gets a summary first, then its findings grouped by rule (each group a <details> that
opens and closes), a view by child, and the preview indicators with charts. Tables sort by any
column and one filter box narrows every table of the return. The charts are inline SVG drawn here,
so they show with scripting off; the inline script only sorts, filters and opens groups.

Stable hooks for automation: data-testid="summary", "by-rule", "by-child", "filter", "indicators".
The page fits a 1280-pixel window: tables wrap long paths rather than scroll sideways.
"""

from __future__ import annotations

import zlib
from html import escape
from typing import Any

from ..report import ERROR, QUERY, Finding, Report
from ._common import codes_in_order, findings_by_code, rule_titles, value_text
from ._figures import (band_label, code_labels, england_heading, england_text, england_year, has_last_year,
                       has_rates, indicator_lines)

# (indicator key, chart title, how to read a bar's count from a breakdown entry, keep only used bars)
CHARTS = (
    ("assessment_duration_bands", "Assessment duration (working days)", "value", False),
    ("icpc_duration_bands", "Strategy discussion to ICPC (working days)", "value", False),
    ("cpp_ended_duration_bands", "Duration of child protection plans ended in the year", "value", False),
    ("factors_at_assessment", "Factors identified at assessment (episodes)", "episodes", True),
    ("referrals_by_source", "Referrals by source", "referrals", True),
    ("cpp_by_initial_category", "Children starting a plan, by initial category of abuse", "children", False),
)
BAR_HEIGHT, LABEL_WIDTH, CHART_WIDTH = 20, 300, 560
MOST_BARS = 15
MOST_FOUND = 5  # rules named in the summary, the most found first
# Groups start open when a return has no more findings than this; larger returns start folded.
OPEN_GROUPS_UP_TO = 60

STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 1.5rem 2rem; color: #1b1b1b;
       max-width: 1240px; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 0.2rem; overflow-wrap: anywhere; } h2 { font-size: 1.2rem; margin: 2rem 0 0.5rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.875rem; width: 100%; table-layout: fixed; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #ddd; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f3f4f6; font-weight: 600; }
th[data-sort] { cursor: pointer; user-select: none; }
th[data-sort]::after { content: " \\2195"; color: #999; }
th[aria-sort=ascending]::after { content: " \\2191"; color: #1b1b1b; }
th[aria-sort=descending]::after { content: " \\2193"; color: #1b1b1b; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b00020; font-weight: 600; } .query { color: #8a5a00; font-weight: 600; }
.muted { color: #555; font-size: 0.85rem; } .ok { color: #1d6b2f; font-weight: 600; }
.badge { display: inline-block; padding: 0 0.4rem; border-radius: 0.6rem; font-size: 0.75rem; background: #e5e7eb; }
.badge.new { background: #fde2e1; } .badge.explained { background: #dcfce7; }
.cards { display: flex; flex-wrap: wrap; gap: 0.75rem; margin: 0.75rem 0; }
.card { border: 1px solid #ddd; border-radius: 0.4rem; padding: 0.5rem 0.9rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
details.rule { border: 1px solid #ddd; border-radius: 0.4rem; margin: 0.5rem 0; padding: 0 0.75rem; }
details.rule > summary { cursor: pointer; padding: 0.5rem 0; font-weight: 600; }
details.rule > p { margin: 0 0 0.4rem; }
.tools { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
input[type=search] { padding: 0.35rem; width: 22rem; max-width: 100%; font: inherit; }
button { font: inherit; padding: 0.25rem 0.6rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; max-width: 100%; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
svg { max-width: 100%; height: auto; }
svg text { font-size: 12px; fill: #1b1b1b; } svg rect.bar { fill: #2f6fae; }
"""

SCRIPT = """
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ''; }
    return cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
  }
  function sortBy(header) {
    var table = header.closest('table');
    var index = Array.prototype.indexOf.call(header.parentNode.children, header);
    var descending = header.getAttribute('aria-sort') === 'ascending';
    table.querySelectorAll('th[aria-sort]').forEach(function (th) { th.removeAttribute('aria-sort'); });
    header.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
    var numeric = header.dataset.sort === 'number';
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index), order;
      if (numeric) {
        var p = x === '' ? Infinity : parseFloat(x), q = y === '' ? Infinity : parseFloat(y);
        order = p === q ? 0 : (p < q ? -1 : 1);
      } else {
        order = x.localeCompare(y, undefined, {numeric: true});
      }
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll('th[data-sort]').forEach(function (header) {
    header.tabIndex = 0;
    header.addEventListener('click', function () { sortBy(header); });
    header.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sortBy(header); }
    });
  });
  document.querySelectorAll('section.return').forEach(function (section) {
    var box = section.querySelector('input[data-testid=filter]');
    var groups = section.querySelectorAll('details.rule');
    groups.forEach(function (group) { group.dataset.open = group.open ? 'yes' : 'no'; });
    section.querySelectorAll('button[data-groups]').forEach(function (button) {
      button.addEventListener('click', function () {
        groups.forEach(function (group) { group.open = button.dataset.groups === 'open'; });
      });
    });
    if (!box) { return; }
    box.addEventListener('input', function () {
      var words = box.value.toLowerCase().trim();
      section.querySelectorAll('table[data-filtered] tbody tr').forEach(function (row) {
        row.hidden = words !== '' && row.textContent.toLowerCase().indexOf(words) < 0;
      });
      groups.forEach(function (group) {
        var shown = group.querySelectorAll('tbody tr:not([hidden])').length;
        var named = group.querySelector('summary').textContent.toLowerCase().indexOf(words) >= 0;
        if (words === '') {
          group.hidden = false;
          group.open = group.dataset.open === 'yes';
        } else {
          if (named) {  // the rule itself is asked for: all of its findings
            group.querySelectorAll('tbody tr').forEach(function (row) { row.hidden = false; });
          }
          group.hidden = shown === 0 && !named;
          group.open = shown > 0 || named;
        }
      });
    });
  });
  // A link to a rule opens its group, folded or not.
  document.querySelectorAll('a[href^="#rule-"]').forEach(function (link) {
    link.addEventListener('click', function () {
      var group = document.getElementById(link.getAttribute('href').slice(1));
      if (group) { group.hidden = false; group.open = true; }
    });
  });
  document.body.dataset.ready = 'yes';
})();
"""


def _count(entry: Any, measure: str) -> int:
    if isinstance(entry, dict):
        if measure in entry and isinstance(entry[measure], dict):
            return int(entry[measure].get("value") or 0)
        return int(entry.get("value") or 0)
    return int(entry or 0)


def bar_chart(title: str, bars: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG, each bar labelled with its words and its count."""
    top = max((count for _, count in bars), default=0) or 1
    height = BAR_HEIGHT * len(bars) + 10
    span = CHART_WIDTH - LABEL_WIDTH - 50
    parts = [f'<figure class="chart"><figcaption>{escape(title)}</figcaption>',
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
             f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" aria-label="{escape(title)}">']
    for index, (label, count) in enumerate(bars):
        y = index * BAR_HEIGHT + 4
        width = round(span * count / top)
        shown = label if len(label) <= 46 else label[:45] + "\u2026"
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(shown)}'
                     f"<title>{escape(label)}</title></text>")
        parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT - 6}">'
                     f"<title>{escape(label)}: {count}</title></rect>")
        parts.append(f'<text x="{LABEL_WIDTH + width + 4}" y="{y + 12}">{count:,}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _charts(report: Report) -> str:
    indicators = report.indicators or {}
    charts = []
    for key, title, measure, used_only in CHARTS:
        breakdown = (indicators.get(key) or {}).get("breakdown") or {}
        labels = code_labels(report.collection_year, key)
        bars = [(labels.get(str(code)) or band_label(code), _count(entry, measure))
                for code, entry in breakdown.items()]
        if used_only:
            bars = sorted((bar for bar in bars if bar[1]), key=lambda bar: -bar[1])[:MOST_BARS]
        if bars:
            charts.append(bar_chart(title, bars))
    if not charts:
        return ""
    return '<h3>Charts</h3><div class="charts">' + "".join(charts) + "</div>"


def _th(label: str, kind: str = "text", css: str = "", width: str = "") -> str:
    classes = f' class="{css}"' if css else ""
    style = f' style="width:{width}"' if width else ""
    return f'<th data-sort="{kind}"{classes}{style}>{escape(label)}</th>'


def _number_cell(value: int | None) -> str:
    if value is None:
        return '<td class="number" data-value=""></td>'
    return f'<td class="number" data-value="{value}">{value:,}</td>'


# -- summary ----------------------------------------------------------------------------------------


def _heading(report: Report) -> str:
    info = report.return_info or {}
    facts = [f"Collection {escape(str(report.collection_year))}"]
    if info.get("la"):
        facts.append(f"LA {escape(str(info['la']))}")
    if info.get("reference_date"):
        facts.append(f"reference date {escape(str(info['reference_date']))}")
    if info.get("children") is not None:
        facts.append(f"{info['children']:,} children")
    if report.previous_file:
        facts.append(f"last year's return {escape(report.previous_file)}")
    facts.append(f"cin-validate {escape(report.tool_version)}")
    return f'<h1>{escape(report.file)}</h1><p class="muted">{" · ".join(facts)}</p>'


def _card(label: str, value: int, css: str = "") -> str:
    return f'<div class="card"><b class="{css}">{value:,}</b>{escape(label)}</div>'


def _summary(report: Report, titles: dict[str, str]) -> str:
    counts = report.counts
    if not report.findings:
        verdict = f'<p><span class="ok">No problems found</span> ({len(report.rules_run)} rules checked).</p>'
    else:
        verdict = (f'<p><span class="error">{counts[ERROR]:,} error(s)</span> must be fixed; '
                   f'<span class="query">{counts[QUERY]:,} query(ies)</span> to fix or explain to DfE '
                   f"({len(report.rules_run)} rules and the {escape(str(report.collection_year))} schema checked).</p>")
    if not report.findings and report.fixed is None:
        return f'<div data-testid="summary">{verdict}</div>'
    children = {finding.child_id for finding in report.findings if finding.child_id}
    cards = [_card("errors", counts[ERROR], "error" if counts[ERROR] else "ok"),
             _card("queries", counts[QUERY], "query" if counts[QUERY] else "ok"),
             _card("queries explained", report.explained), _card("children with findings", len(children))]
    if any(finding.baseline for finding in report.findings) or report.fixed is not None:
        cards.append(_card("new since the baseline", sum(1 for f in report.findings if f.baseline == "new")))
        cards.append(_card("fixed since the baseline", len(report.fixed or [])))
    notes = "".join(f'<p class="query">Explanations: {escape(note)}</p>' for note in report.explanation_notes)
    grouped = _ordered_groups(report)
    most = sorted(grouped, key=lambda item: -len(item[1]))[:MOST_FOUND]
    rules = ""
    if most:
        links = "".join(f'<li><a href="#{_group_id(report, code)}">{escape(code)}</a> {escape(titles.get(code, ""))} '
                        f'<span class="muted">({len(found):,} {found[0].severity}{"" if len(found) == 1 else "s"})'
                        "</span></li>" for code, found in most)
        heading = "Most found" if len(grouped) > len(most) else "Found"
        rules = (f'<p class="found">{heading} ({len(grouped)} rule{"" if len(grouped) == 1 else "s"} in all):</p>'
                 f"<ul>{links}</ul>")
    return (f'<div data-testid="summary">{verdict}<div class="cards">{"".join(cards)}</div>{notes}{rules}'
            f"{_fixed(report, titles)}</div>")


def _fixed(report: Report, titles: dict[str, str]) -> str:
    if not report.fixed:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(item.get('code', '')))}</td><td>{escape(titles.get(str(item.get('code')), ''))}</td>"
        f"<td>{escape(str(item.get('child_id') or ''))}</td><td>{escape(str(item.get('record') or ''))}</td>"
        f"{_number_cell(item.get('line'))}</tr>"
        for item in report.fixed)
    return (f"<details><summary>Fixed since the baseline ({len(report.fixed)})</summary><table><thead><tr>"
            + _th("Code", width="7rem") + _th("Rule") + _th("LAchildID") + _th("Record")
            + _th("Line", "number", "number", "6rem") + f"</tr></thead><tbody>{rows}</tbody></table></details>")


# -- findings by rule -------------------------------------------------------------------------------


def _ordered_groups(report: Report) -> list[tuple[str, list[Finding]]]:
    """Errors before queries; each in the order of the checks: header, schema, then rules by code."""
    grouped = findings_by_code(report)
    order = {code: index for index, code in enumerate(codes_in_order(report))}
    return sorted(grouped.items(), key=lambda item: (item[1][0].severity != ERROR, order.get(item[0], len(order))))


def _group_id(report: Report, code: str) -> str:
    # From the file's name, so that two returns on one page never share an id and equal reports
    # give equal pages.
    return f"rule-{zlib.crc32(report.file.encode('utf-8')):08x}-{''.join(c for c in code if c.isalnum())}"


def _path_html(path: str) -> str:
    """A path that may break after each step rather than inside an element's name."""
    return "/<wbr>".join(escape(step) for step in path.split("/"))


def _values_html(values: dict[str, Any]) -> str:
    return "<br>".join(f"{escape(name)} = <b>{escape(value_text(value))}</b>" for name, value in values.items())


def _finding_row(finding: Finding, rule_message: str, record: bool, reason: bool) -> str:
    where = [_path_html(finding.path or "")]
    if finding.message != rule_message:
        where.insert(0, escape(finding.message))
    where += [f"also line {location.line}: {_path_html(location.path or '')}" if location.line is not None
              else f"also {_path_html(location.path or '')}" for location in finding.related]
    where += [escape(detail) for detail in finding.details]
    badges = []
    if finding.baseline:
        badges.append(f'<span class="badge {finding.baseline}">{escape(finding.baseline)}</span>')
    if finding.in_previous:
        badges.append('<span class="badge">last year\'s return</span>')
    if finding.provisional:
        badges.append('<span class="badge">provisional</span>')
    cells = [_number_cell(finding.line), f"<td>{escape(finding.child_id or '')}{' ' if badges else ''}"
                                         f"{' '.join(badges)}</td>"]
    if record:
        cells.append(f"<td>{escape(finding.record or '')}</td>")
    cells.append(f"<td>{_values_html(finding.values)}</td>")
    cells.append(f"<td class=\"muted\">{'<br>'.join(w for w in where if w)}</td>")
    if reason:
        cells.append("<td></td>" if finding.explanation is None else
                     f'<td><span class="badge explained">explained</span> {escape(finding.explanation)}</td>')
    return f"<tr>{''.join(cells)}</tr>"


def _by_rule(report: Report, titles: dict[str, str]) -> str:
    grouped = _ordered_groups(report)
    if not grouped:
        return ""
    start_open = " open" if len(report.findings) <= OPEN_GROUPS_UP_TO else ""
    # The Reason column appears once any query is explained; Record where a finding names its record.
    reason = any(finding.explanation is not None for finding in report.findings)
    groups = []
    for code, found in grouped:
        first = found[0]
        message = first.message if all(f.message == first.message for f in found) else ""
        title = titles.get(code) or first.message
        record = any(finding.record for finding in found)
        rows = "".join(_finding_row(finding, message, record, reason) for finding in found)
        head = (_th("Line", "number", "number", "5.5rem") + _th("LAchildID", width="10rem")
                + (_th("Record", width="13rem") if record else "") + _th("Values", width="24%") + _th("Where")
                + (_th("Reason", width="18%") if reason else ""))
        groups.append(
            f'<details class="rule" id="{_group_id(report, code)}" data-code="{escape(code)}"{start_open}>'
            f'<summary><span class="{first.severity}">{escape(code)}</span> {escape(title)} '
            f'<span class="muted">({len(found):,} {first.severity}{"" if len(found) == 1 else "s"})</span></summary>'
            + (f"<p>{escape(message)}</p>" if message else "")
            + f"<table data-filtered><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></details>")
    return ('<section data-testid="by-rule"><h2>Findings by rule</h2><div class="tools">'
            '<button type="button" data-groups="open">Open all</button>'
            '<button type="button" data-groups="closed">Close all</button></div>' + "".join(groups) + "</section>")


# -- by child ---------------------------------------------------------------------------------------


def _by_child(report: Report) -> str:
    children: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.child_id:
            children.setdefault(finding.child_id, []).append(finding)
    if not children:
        return ""
    rows = []
    for child, found in children.items():
        lines = [f.line for f in found if f.line is not None and not f.in_previous]
        codes = ", ".join(dict.fromkeys(f.code for f in found))
        rows.append((min(lines) if lines else None, child,
                     f"<tr><td>{escape(child)}</td>{_number_cell(sum(1 for f in found if f.severity == ERROR))}"
                     f"{_number_cell(sum(1 for f in found if f.severity == QUERY))}<td>{escape(codes)}</td>"
                     f"{_number_cell(min(lines) if lines else None)}</tr>"))
    rows.sort(key=lambda row: (row[0] is None, row[0] or 0, row[1]))
    return ('<section data-testid="by-child"><h2>Findings by child</h2><table data-filtered><thead><tr>'
            + _th("LAchildID", width="12rem") + _th("Errors", "number", "number", "7rem")
            + _th("Queries", "number", "number", "7rem") + _th("Codes") + _th("First line", "number", "number", "8rem")
            + f"</tr></thead><tbody>{''.join(row for _, _, row in rows)}</tbody></table></section>")


# -- indicators -------------------------------------------------------------------------------------


def _indicators(report: Report) -> str:
    lines = indicator_lines(report.indicators)
    if not lines:
        return ""
    rates, last_year, year = has_rates(lines), has_last_year(lines), england_year(lines)
    head = _th("Indicator") + _th("This return", "number", "number", "9rem")
    if rates:
        head += _th("Per 10,000 children", "number", "number", "8rem")
    head += _th(england_heading(lines), "number", "number", "12rem")
    if last_year:
        head += _th("Last year", "number", "number", "9rem")
    head += _th("Note", width="11rem")
    rows = []
    for line in lines:
        cells = [f"<td>{escape(line.title)}</td>",
                 f'<td class="number" data-value="{_sortable(line.this_year.value)}">'
                 f"{escape(line.this_year.text())}</td>"]
        if rates:
            cells.append(f'<td class="number" data-value="{_sortable(line.rate)}">'
                         f'{"" if line.rate is None else escape(line.rate_text)}</td>')
        cells.append(f'<td class="number" data-value="{_sortable(line.england.value)}">'
                     f"{escape(england_text(line, year))}</td>")
        if last_year:
            cells.append(f'<td class="number" data-value="{_sortable(line.last_year.value)}">'
                         f"{escape(line.last_year.text())}</td>")
        cells.append(f'<td class="muted">{escape(line.note)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    where = "Figures from this return as supplied"
    if rates:
        where += "; rates per 10,000 children aged 0\u201317 use the population given"
    return ('<section data-testid="indicators"><h2>Preview indicators</h2>'
            f'<p class="muted">{where}. England\'s figures are DfE\'s published national figures'
            + (f" for the year ending 31 March {year}" if year else "") + ".</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            + _charts(report) + "</section>")


def _sortable(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _section(report: Report) -> str:
    titles = rule_titles(report)
    tools = ""
    if report.findings:
        tools = ('<div class="tools"><input type="search" data-testid="filter" placeholder="Filter by code, child, '
                 'value, path\u2026" aria-label="Filter the findings"></div>')
    return (f'<section class="return">{_heading(report)}{_summary(report, titles)}{tools}{_by_rule(report, titles)}'
            f"{_by_child(report)}{_indicators(report)}</section>")


def render(reports: list[Report], colour: bool = False) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # Nothing may be fetched: the page works offline and cannot leak what it shows.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            "<title>cin-validate report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(_section(r) for r in reports)}"
            f"<script>{SCRIPT}</script></body></html>\n")
