"""HTML: one self-contained page (no external files, no network) with findings, indicators and charts.

The charts are inline SVG drawn here, so the page shows them with scripting off; a few lines of
script only add a filter box to the findings table.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from ..report import ERROR, QUERY, Report
from ._common import indicator_rows, values_text

# (indicator key, chart title, how to read a bar's count from a breakdown entry, keep only used bars)
CHARTS = (
    ("assessment_duration_bands", "Assessment duration (working days)", "value", False),
    ("icpc_duration_bands", "Strategy discussion to ICPC (working days)", "value", False),
    ("cpp_ended_duration_bands", "Duration of child protection plans ended in the year", "value", False),
    ("factors_at_assessment", "Factors identified at assessment (episodes)", "episodes", True),
    ("referrals_by_source", "Referrals by source", "referrals", True),
)
BAR_HEIGHT, LABEL_WIDTH, CHART_WIDTH = 18, 190, 640

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 72rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b00020; font-weight: 600; } .query { color: #8a5a00; font-weight: 600; }
.muted { color: #666; font-size: 0.85rem; } .ok { color: #1d6b2f; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 0.3rem; }
svg text { font-size: 12px; fill: #1b1b1b; } svg rect.bar { fill: #2f6fae; }
input[type=search] { padding: 0.3rem; width: 20rem; }
"""

SCRIPT = """
document.querySelectorAll('input[data-filter]').forEach(function (box) {
  var table = document.getElementById(box.dataset.filter);
  box.addEventListener('input', function () {
    var words = box.value.toLowerCase();
    table.querySelectorAll('tbody tr').forEach(function (row) {
      row.hidden = words !== '' && row.textContent.toLowerCase().indexOf(words) < 0;
    });
  });
});
document.body.dataset.ready = 'yes';
"""


def _count(entry: Any, measure: str) -> int:
    if isinstance(entry, dict):
        if measure in entry and isinstance(entry[measure], dict):
            return int(entry[measure].get("value") or 0)
        return int(entry.get("value") or 0)
    return int(entry or 0)


def bar_chart(title: str, bars: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG, each bar labelled with its count."""
    top = max((count for _, count in bars), default=0) or 1
    height = BAR_HEIGHT * len(bars) + 10
    span = CHART_WIDTH - LABEL_WIDTH - 60
    parts = [f'<figure class="chart"><figcaption>{escape(title)}</figcaption>',
             f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">']
    for index, (label, count) in enumerate(bars):
        y = index * BAR_HEIGHT + 4
        width = round(span * count / top)
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT - 5}">'
                     f'<title>{escape(label)}: {count}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH + width + 4}" y="{y + 12}">{count:,}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def _label(key: Any) -> str:
    """A band key as a person reads it: 1_10 as 1-10, over_3_up_to_6_months as over 3 up to 6 months."""
    return re.sub(r"(?<=\d)_(?=\d)", "\u2013", str(key)).replace("_", " ")


def _charts(indicators: dict[str, Any]) -> str:
    charts = []
    for key, title, measure, used_only in CHARTS:
        breakdown = (indicators.get(key) or {}).get("breakdown") or {}
        bars = [(_label(label), _count(entry, measure)) for label, entry in breakdown.items()]
        if used_only:
            bars = sorted((bar for bar in bars if bar[1]), key=lambda bar: -bar[1])[:15]
        if bars:
            charts.append(bar_chart(title, bars))
    if not charts:
        return ""
    return '<h2>Charts</h2><div class="charts">' + "".join(charts) + "</div>"


def _summary(report: Report) -> str:
    counts = report.counts
    if not report.findings:
        verdict = f'<span class="ok">No problems found</span> ({len(report.rules_run)} rules checked).'
    else:
        explained = f", {report.explained} explained" if report.explained else ""
        verdict = (f'<span class="error">{counts[ERROR]} error(s)</span>, '
                   f'<span class="query">{counts[QUERY]} query(ies)</span>{explained} '
                   f"from {len(report.rules_run)} rules and the {escape(str(report.collection_year))} schema.")
    return f"<p>{verdict}</p>"


def _findings(report: Report, number: int) -> str:
    if not report.findings:
        return ""
    table_id = f"findings-{number}"
    rows = []
    for finding in report.findings:
        related = "<br>".join(f"line {loc.line}: {escape(loc.path or '')}" for loc in finding.related)
        notes = [escape(detail) for detail in finding.details]
        if finding.explanation is not None:
            notes.append(f"explained: {escape(finding.explanation)}")
        provisional = " (provisional)" if finding.provisional else ""
        rows.append(
            f'<tr><td class="{finding.severity}">{escape(finding.code)}{provisional}</td>'
            f"<td>{finding.severity}</td><td class=\"number\">{finding.line if finding.line is not None else ''}</td>"
            f"<td>{escape(finding.child_id or '')}</td><td>{escape(finding.message)}"
            f"<div class=\"muted\">{escape(finding.path or '')}</div></td>"
            f"<td>{escape(values_text(finding.values))}</td>"
            f"<td class=\"muted\">{related}{'<br>' if related and notes else ''}{'<br>'.join(notes)}</td></tr>")
    return (f'<h2>Findings</h2><p><input type="search" placeholder="Filter findings" data-filter="{table_id}" '
            f'aria-label="Filter findings"></p><table id="{table_id}"><thead><tr><th>code</th><th>severity</th>'
            "<th>line</th><th>LAchildID</th><th>message and path</th><th>values</th><th>related</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _indicators(report: Report) -> str:
    if not report.indicators:
        return ""
    rows = "".join(
        f"<tr><td>{escape(title)}</td><td class=\"number\">{escape(local)}</td>"
        f"<td class=\"number\">{escape(national)}</td><td class=\"muted\">{escape(note)}</td></tr>"
        for title, local, national, note in indicator_rows(report.indicators))
    return ("<h2>Preview indicators</h2><table><thead><tr><th>indicator</th><th>this return</th>"
            f"<th>England 2025</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
            + _charts(report.indicators))


def render(reports: list[Report], colour: bool = False) -> str:
    sections = []
    for number, report in enumerate(reports, start=1):
        sections.append(
            f"<section><h1>{escape(report.file)}</h1><p class=\"muted\">Collection {escape(str(report.collection_year))}"
            f" · cin-validate {escape(report.tool_version)}</p>{_summary(report)}"
            + "".join(f'<p class="query">explanations: {escape(note)}</p>' for note in report.explanation_notes)
            + _findings(report, number) + _indicators(report) + "</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # Nothing may be fetched: the page works offline and cannot leak what it shows.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            "<title>cin-validate report</title>"
            f"<style>{STYLE}</style></head><body>{''.join(sections)}<script>{SCRIPT}</script></body></html>\n")
