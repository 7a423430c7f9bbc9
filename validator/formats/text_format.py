"""The terminal report: findings grouped by severity and rule, each with line, child and values."""

from __future__ import annotations

import io
from itertools import groupby

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..report import ERROR, QUERY, Finding, Report
from ._figures import england_heading, england_text, england_year, has_last_year, has_rates, indicator_lines

_STAGE_TITLES = {"header": "Header", "schema": "Structure (XSD)", "rule": "DfE rules"}
_STYLE = {ERROR: "bold red", QUERY: "bold yellow"}


def _value_text(values: dict) -> str:
    if not values:
        return ""
    parts = [f"{name}={'(missing)' if value is None else repr(value)}" for name, value in values.items()]
    return "  " + ", ".join(parts)


def _indicator_table(console: Console, report: Report) -> None:
    lines = indicator_lines(report.indicators)
    if not lines:
        return
    rates, last_year = has_rates(lines), has_last_year(lines)
    heading_year = england_year(lines)
    table = Table(title="Preview indicators", title_justify="left", box=None, pad_edge=False, show_edge=False)
    table.add_column("indicator")
    table.add_column("this return", justify="right", no_wrap=True)
    if rates:
        table.add_column("per 10k", justify="right", no_wrap=True)
    table.add_column(england_heading(lines), justify="right", no_wrap=True)
    if last_year:
        table.add_column("last year", justify="right", no_wrap=True)
    notes = any(line.note for line in lines)
    if notes:
        table.add_column("", style="dim", max_width=24)
    for line in lines:
        cells = [escape(line.title), line.this_year.text()]
        if rates:
            cells.append("" if line.rate is None else line.rate_text)
        cells.append(england_text(line, heading_year))
        if last_year:
            cells.append(line.last_year.text())
        if notes:
            cells.append(escape(line.note))
        table.add_row(*cells)
    console.print()
    console.print(table)


def _finding_lines(finding: Finding) -> list[str]:
    where = f"line {finding.line}" if finding.line is not None else "return"
    child = f"  child {escape(finding.child_id)}" if finding.child_id else ""
    first = f"    {where:<11}{child}{escape(_value_text(finding.values))}"
    lines = [first]
    if finding.path:
        lines.append(f"      [dim]{escape(finding.path)}[/dim]")
    for location in finding.related:
        lines.append(f"      [dim]with line {location.line}: {escape(location.path or '')}[/dim]")
    for detail in finding.details:
        lines.append(f"      [dim]{escape(detail)}[/dim]")
    if finding.explanation is not None:
        lines.append(f"      [green]explained:[/green] {escape(finding.explanation)}")
    return lines


def _render_one(console: Console, report: Report) -> None:
    console.print(Text(f"{report.file}  (collection {report.collection_year})", style="bold"))
    if not report.findings:
        console.print(f"  [green]No problems found[/green] ({len(report.rules_run)} rules checked).")
        _indicator_table(console, report)
        return
    for severity in (ERROR, QUERY):
        of_severity = [f for f in report.findings if f.severity == severity]
        if not of_severity:
            continue
        title = "Errors (must be fixed)" if severity == ERROR else "Queries (fix, or explain to DfE)"
        console.print()
        console.print(f"[{_STYLE[severity]}]{title}[/]")
        by_rule = sorted(of_severity, key=lambda f: (f.stage != "header", f.stage != "schema", f.code, f.sort_key()))
        for (stage, code), group in groupby(by_rule, key=lambda f: (f.stage, f.code)):
            group = list(group)
            label = _STAGE_TITLES.get(stage, stage)
            if stage == "schema":
                console.print(f"  [bold]{code}[/bold] {label}: {len(group)} finding(s)")
                for finding in group:
                    console.print(f"    line {finding.line}: {escape(finding.message)}"
                                  + (f"  child {escape(finding.child_id)}" if finding.child_id else ""))
                    console.print(f"      [dim]{escape(finding.path or '')}[/dim]")
                continue
            provisional = " [magenta](provisional)[/magenta]" if group[0].provisional else ""
            console.print(f"  [bold]{code}[/bold]{provisional} {escape(group[0].message)}  ({len(group)})")
            for finding in group:
                for line in _finding_lines(finding):
                    console.print(line)
    for note in report.explanation_notes:
        console.print(f"  [yellow]explanations:[/yellow] {escape(note)}")
    counts = report.counts
    explained = f" ({report.explained} explained)" if report.explained else ""
    console.print()
    console.print(
        f"[bold]{counts[ERROR]} error(s), {counts[QUERY]} query(ies){explained}[/bold] "
        f"from {len(report.rules_run)} rules and the {report.collection_year} schema."
    )
    _indicator_table(console, report)


def render(reports: list[Report], colour: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=colour, color_system="standard" if colour else None,
                      width=120, highlight=False, soft_wrap=True)
    for index, report in enumerate(reports):
        if index:
            console.print()
        _render_one(console, report)
    return buffer.getvalue()
