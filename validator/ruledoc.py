"""A rule's documentation, rendered from its rule file: for --explain and for docs/rules/."""

from __future__ import annotations

import sys
from pathlib import Path

from .rules import Rule, Ruleset, load_ruleset

GENERATED = "<!-- Generated from the rule files by `python -m validator.ruledoc docs/rules`; do not edit. -->\n"
from .years import SUPPORTED


def years_in_force(code: str) -> list[tuple[str, Rule]]:
    """(year, rule version) for every supported year in which the code is in force."""
    found = []
    for name in SUPPORTED:
        rule = load_ruleset(name).rules.get(code)
        if rule is not None:
            found.append((name, rule))
    return found


def rule_markdown(rule: Rule, years: list[str], technical: bool = False) -> str:
    """A rule explained for a data officer; with `technical`, the SQL behind it closes the page."""
    lines = [f"# {rule.code}: {rule.title}", "",
             f"{rule.code} · {rule.severity} · in force {', '.join(years)}", ""]
    if rule.provisional:
        lines += ["Provisional: a draft rule, to be confirmed against DfE's final specification.", ""]
    if rule.tags:
        lines += [f"Tags: {', '.join(rule.tags)}", ""]
    lines += ["## What it checks", "", rule.message, "",
              "Elements read: " + ", ".join(f"`{name}`" for name in rule.reads), ""]
    if rule.description:
        lines += ["## Why DfE asks", "", rule.description, ""]
    lines += ["## How to fix", "", rule.fix, ""]
    if rule.interpretation:
        lines += ["## Reading chosen", "", rule.interpretation, ""]
    lines += ["## Examples", ""]
    for example in rule.examples:
        outcome = "passes" if not example.expect else "raises " + ", ".join(
            item if isinstance(item, str) else item["code"] for item in example.expect)
        only = f" (only in {', '.join(example.years)})" if example.years else ""
        lines += [f"### {example.name} — {outcome}{only}", ""]
        if example.note:
            lines += [example.note, ""]
        lines += ["```xml", example.xml.strip(), "```", ""]
    if technical:
        lines += _technical(rule)
    return "\n".join(lines).rstrip() + "\n"


def _technical(rule: Rule) -> list[str]:
    """The condition as the engine runs it, and the other records each finding names."""
    scope = (f"one finding per failing row of `{rule.table}`" if rule.table != "return"
             else "one finding for the whole return")
    lines = ["## Technical", "",
             f"Defined in `rules/{rule.defined_in}/{rule.code}.yaml`; {rule.scope} level, {scope}.", "",
             "### Raised when", ""]
    if rule.let:
        lines += ["Computed over the whole return first:", "", "```sql"]
        lines += [f"{name} = {expression}" for name, expression in rule.let] + ["```", ""]
    if rule.partner:
        lines += [f"`p` is every other `{rule.table}` row of the same {rule.partner}; "
                  "the rule is tested once per ordered pair (t, p).", ""]
    lines += ["```sql", rule.raise_when, "```", ""]
    for part in rule.also:
        lines += [f"Also raised on rows of `{part.table}`:", "", "```sql", part.raise_when, "```", ""]
    if rule.related:
        lines += ["### Records named with each finding", ""]
        for item in rule.related:
            if item.element:
                target = f"`{item.element}`"
            else:
                target = f"rows of `{item.table}` in the same {item.same}"
                target += f" (their `{item.at}`)" if item.at else ""
            lines.append(f"- {target}" + (f" where `{item.when}`" if item.when else ""))
        lines.append("")
    return lines


def explain(code: str, year: str | None = None, technical: bool = False) -> str:
    """The documentation of a rule code, for one year or, by default, its latest version."""
    code = code.strip().upper()
    versions = years_in_force(code)
    if not versions:
        raise KeyError(code)
    if year:
        chosen = [(name, rule) for name, rule in versions if name == year]
        if not chosen:
            in_force = ", ".join(name for name, _ in versions)
            raise KeyError(f"{code} is not in force in {year} (it is in force in {in_force})")
        name, rule = chosen[0]
    else:
        name, rule = versions[-1]
    years = [n for n, r in versions if r.source == rule.source]
    return rule_markdown(rule, years, technical)


def all_codes() -> list[str]:
    codes = {code for name in SUPPORTED for code in load_ruleset(name).rules}
    return sorted(codes, key=lambda code: (int(code.rstrip("Q")), code))


def code_page(code: str) -> str:
    """The generated page of one code: every version, newest first, with the years it covers."""
    versions: dict[str, tuple[list[str], Rule]] = {}
    for name, rule in years_in_force(code):
        versions.setdefault(str(rule.source), ([], rule))[0].append(name)
    ordered = sorted(versions.values(), key=lambda item: item[0][0], reverse=True)
    parts = [GENERATED]
    for index, (years, rule) in enumerate(ordered):
        page = rule_markdown(rule, years, technical=True)
        if index:  # older versions go under their own heading
            page = page.replace(f"# {rule.code}:", f"## Earlier version ({', '.join(years)}) —", 1)
            page = page.replace("\n### ", "\n#### ").replace("\n## ", "\n### ")
        parts.append(page)
    return "\n".join(parts)


def index_page() -> str:
    lines = [GENERATED, "# Rules", "",
             "Every DfE validation rule cin-validate applies, with the collection years it is in force. "
             "Each page is generated from the rule's file under `rules/`; regenerate them with "
             "`python -m validator.ruledoc docs/rules`.", "",
             "| code | severity | title | " + " | ".join(SUPPORTED) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in SUPPORTED) + " |"]
    for code in all_codes():
        versions = dict(years_in_force(code))
        latest = list(versions.values())[-1]
        marks = []
        for name in SUPPORTED:
            rule = versions.get(name)
            if rule is None:
                marks.append("")
            else:
                marks.append("provisional" if rule.provisional else f"from {rule.defined_in}"
                             if rule.defined_in != SUPPORTED[0] else "yes")
        lines.append(f"| [{code}]({code}.md) | {latest.severity} | {latest.title} | " + " | ".join(marks) + " |")
    counts = []
    for name in SUPPORTED:
        ruleset = load_ruleset(name)
        tally = ruleset.counts()
        counts.append(f"- {name}: {len(ruleset.rules)} rules ({tally['error']} errors, {tally['query']} queries)")
    lines += ["", "## Rules in force per year", "", *counts]
    return "\n".join(lines) + "\n"


def documentation() -> dict[str, str]:
    """Every generated file of docs/rules/, by file name."""
    files = {f"{code}.md": code_page(code) for code in all_codes()}
    files["README.md"] = index_page()
    return files


def write_documentation(folder: Path) -> list[str]:
    """Write the pages, remove pages of codes that no longer exist; return the names changed."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = documentation()
    changed = []
    for old in folder.glob("*.md"):
        if old.name not in wanted:
            old.unlink()
            changed.append(old.name)
    for name, text in wanted.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def list_rules(ruleset: Ruleset) -> str:
    lines = [f"Rules in force for {ruleset.year.name}:"]
    for rule in ruleset.rules.values():
        flag = " (provisional)" if rule.provisional else ""
        lines.append(f"  {rule.code:<6} {rule.severity:<6} {rule.title}{flag}")
    counts = ruleset.counts()
    lines.append(f"{len(ruleset.rules)} rules: {counts['error']} errors, {counts['query']} queries")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")
    names = write_documentation(target)
    print(f"{len(names)} file(s) written or removed in {target}" if names else f"{target} is up to date")
