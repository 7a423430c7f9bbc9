"""A rule's documentation, rendered from its rule file: for --explain and for docs/rules/."""

from __future__ import annotations

from .rules import Rule, Ruleset, load_ruleset
from .years import SUPPORTED, CollectionYear


def years_in_force(code: str) -> list[tuple[str, Rule]]:
    """(year, rule version) for every supported year in which the code is in force."""
    found = []
    for name in SUPPORTED:
        rule = load_ruleset(name).rules.get(code)
        if rule is not None:
            found.append((name, rule))
    return found


def rule_markdown(rule: Rule, years: list[str]) -> str:
    lines = [f"# {rule.code}: {rule.title}", ""]
    facts = [
        f"- **Severity:** {rule.severity}",
        f"- **Scope:** {rule.scope} (one finding per failing row of `{rule.table}`)"
        if rule.table != "return" else f"- **Scope:** {rule.scope} (one finding for the whole return)",
        f"- **Collection years:** {', '.join(years)}",
        f"- **Defined in:** `rules/{rule.defined_in}/{rule.code}.yaml`",
    ]
    if rule.provisional:
        facts.append("- **Provisional:** yes — a draft rule, to be confirmed against DfE's final specification")
    if rule.tags:
        facts.append(f"- **Tags:** {', '.join(rule.tags)}")
    lines += facts + ["", f"**Message:** {rule.message}", ""]
    if rule.description:
        lines += [rule.description, ""]
    lines += ["## Elements read", "", ", ".join(f"`{name}`" for name in rule.reads), ""]
    lines += ["## Raised when", ""]
    if rule.let:
        lines += ["Computed over the whole return first:", "", "```sql"]
        lines += [f"{name} = {expression}" for name, expression in rule.let] + ["```", ""]
    if rule.partner:
        lines += [f"`p` is every other `{rule.table}` row of the same {rule.partner}; "
                  "the rule is tested once per ordered pair (t, p).", ""]
    lines += ["```sql", rule.raise_when, "```", ""]
    if rule.related:
        lines += ["Records named with each finding:", ""]
        for item in rule.related:
            if item.element:
                target = f"`{item.element}`"
            else:
                target = f"rows of `{item.table}` in the same {item.same}"
                target += f" (their `{item.at}`)" if item.at else ""
            lines.append(f"- {target}" + (f" where `{item.when}`" if item.when else ""))
        lines.append("")
    if rule.interpretation:
        lines += ["## Reading chosen", "", rule.interpretation, ""]
    lines += ["## Examples", ""]
    for example in rule.examples:
        outcome = "passes" if not example.expect else "raises " + ", ".join(
            item if isinstance(item, str) else item["code"] for item in example.expect)
        scope = f" (only in {', '.join(example.years)})" if example.years else ""
        lines += [f"### {example.name} — {outcome}{scope}", ""]
        if example.note:
            lines += [example.note, ""]
        lines += ["```xml", example.xml.strip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def explain(code: str, year: str | None = None) -> str:
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
    return rule_markdown(rule, years)


def list_rules(ruleset: Ruleset) -> str:
    lines = [f"Rules in force for {ruleset.year.name}:"]
    for rule in ruleset.rules.values():
        flag = " (provisional)" if rule.provisional else ""
        lines.append(f"  {rule.code:<6} {rule.severity:<6} {rule.title}{flag}")
    counts = ruleset.counts()
    lines.append(f"{len(ruleset.rules)} rules: {counts['error']} errors, {counts['query']} queries")
    return "\n".join(lines) + "\n"


__all__ = ["explain", "list_rules", "rule_markdown", "years_in_force", "CollectionYear"]
