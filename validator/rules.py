"""Rule files: one YAML file per DfE rule code, grouped by collection year.

`rules/<year>/_ruleset.yaml` describes a year: the year it extends and the codes it removes.
Every other file in the folder is one rule. A later year's folder holds only what changed: a rule
file there replaces the rule with the same code from the year before. Files are read strictly:
an unknown key, a missing key or a value of the wrong kind is an error naming the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .paths import rules_dir
from .tables import SPECS
from .years import SUPPORTED, CollectionYear

SCOPES = ("record", "child", "return", "header")
JOIN_KEYS = {"child": "child_key", "episode": "episode_key", "assessment": "assessment_key", "cpp": "cpp_key",
             "reviews": "reviews_key"}
RETURN_TABLE = "return"


class RuleFileError(ValueError):
    """A rule or ruleset file that does not follow the rule file format."""


@dataclass(frozen=True)
class Related:
    """Other records a finding names: rows of a table sharing a key, or one element of a joined row."""

    table: str | None = None
    same: str | None = None
    when: str | None = None
    at: str | None = None
    element: str | None = None  # "alias.Element", e.g. "episode.ReferralNFA"
    match: str | None = None  # an element: rows of `table` with the same value of it as t


@dataclass(frozen=True)
class Example:
    name: str
    expect: tuple[Any, ...]
    kind: str  # child, children, episode or message
    xml: str
    years: tuple[str, ...] | None = None
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    scope: str
    title: str
    message: str
    reads: tuple[str, ...]
    table: str
    raise_when: str
    examples: tuple[Example, ...]
    source: Path
    defined_in: str  # the collection year whose folder holds this version
    description: str | None = None
    fix: str = ""  # for the data officer: where to look in the case record, usual causes, what to change
    interpretation: str | None = None
    at: tuple[str, ...] = ()  # where the finding points: the first present of these elements
    partner: str | None = None  # join key name ("child", "episode"...) for pair rules
    related: tuple[Related, ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    let: tuple[tuple[str, str], ...] = ()
    provisional: bool = False
    tags: tuple[str, ...] = ()
    folds: tuple[str, ...] = ()  # elements whose schema breaches this rule reports with its DfE code
    also: tuple["Rule", ...] = ()  # further parts raising the same finding on rows of other tables

    def parts(self) -> tuple["Rule", ...]:
        """The rule and its `also` parts: each one query, their findings together the rule's."""
        return (self, *self.also)


_RULE_KEYS = {
    "code": (str, True), "severity": (str, True), "scope": (str, True), "title": (str, True),
    "message": (str, True), "reads": (list, True), "table": (str, True), "raise_when": (str, True),
    "examples": (list, True), "fix": (str, True), "description": (str, False), "interpretation": (str, False),
    "at": ((str, list), False), "partner": (dict, False), "related": (list, False), "values": (dict, False),
    "let": (dict, False), "provisional": (bool, False), "tags": (list, False), "folds": (list, False),
    "also": (list, False),
}
_PART_KEYS = {"table", "raise_when", "at", "related", "values", "partner"}
_EXAMPLE_KEYS = {"name", "expect", "child", "children", "episode", "message", "years", "note"}
_RELATED_KEYS = {"table", "same", "when", "at", "element", "match"}
_RULESET_KEYS = {"year", "extends", "remove", "code_lists", "notes"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CODE = re.compile(r"^[0-9]{3,4}Q?$")


# libyaml's parser when PyYAML was built with it: the same safe loading, many times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _fail(path: Path, message: str) -> RuleFileError:
    return RuleFileError(f"{path}: {message}")


def _check_keys(path: Path, data: dict, allowed: dict | set, what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise _fail(path, f"unknown key(s) in {what}: {', '.join(unknown)}")


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(path, "must be a mapping of keys to values")
    return data


def _example(path: Path, raw: Any, index: int) -> Example:
    if not isinstance(raw, dict):
        raise _fail(path, f"example {index} must be a mapping")
    _check_keys(path, raw, _EXAMPLE_KEYS, f"example {index}")
    name = raw.get("name")
    if not isinstance(name, str) or not _SLUG.match(name):
        raise _fail(path, f"example {index} needs a name in lower-case letters, digits and hyphens")
    kinds = [kind for kind in ("child", "children", "episode", "message") if kind in raw]
    if len(kinds) != 1:
        raise _fail(path, f"example '{name}' needs exactly one of child, children, episode, message")
    xml = raw[kinds[0]]
    if not isinstance(xml, str) or not xml.strip():
        raise _fail(path, f"example '{name}': {kinds[0]} must be XML text")
    expect = raw.get("expect")
    if not isinstance(expect, list):
        raise _fail(path, f"example '{name}' needs 'expect', a list of the findings it gives ([] for none)")
    for item in expect:
        if isinstance(item, dict):
            _check_keys(path, item, {"code", "path", "child_id", "related"}, f"an expectation of '{name}'")
            if "code" not in item:
                raise _fail(path, f"example '{name}': each expectation names a code")
        elif not isinstance(item, str):
            raise _fail(path, f"example '{name}': expectations are codes (strings) or mappings")
    years = raw.get("years")
    if years is not None:
        if not isinstance(years, list) or any(y not in SUPPORTED for y in years):
            raise _fail(path, f"example '{name}': years must list supported collection years")
        years = tuple(years)
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise _fail(path, f"example '{name}': note must be text")
    frozen_expect = tuple(item if isinstance(item, str) else dict(item) for item in expect)
    return Example(name, frozen_expect, kinds[0], xml, years, note)


def _related(path: Path, raw: Any, data_table: str) -> Related:
    if not isinstance(raw, dict):
        raise _fail(path, "each 'related' entry must be a mapping")
    _check_keys(path, raw, _RELATED_KEYS, "a 'related' entry")
    item = Related(**{key: str(value) for key, value in raw.items()})
    if item.element:
        if item.table or item.same:
            raise _fail(path, "a 'related' element entry takes no table or same")
        if "." not in item.element:
            raise _fail(path, f"related element '{item.element}' must be written alias.Element")
    else:
        if item.table not in SPECS:
            raise _fail(path, f"related table '{item.table}' is not a table ({', '.join(SPECS)})")
        if item.match and (item.same or item.when):
            raise _fail(path, "a 'related' entry with 'match' takes no 'same' or 'when'")
        if item.match and item.table != data_table:
            raise _fail(path, "'match' relates rows of the rule's own table")
        if item.same is None and not item.when and not item.match:
            raise _fail(path, "a 'related' table entry needs 'same' (a shared key), 'match' or 'when'")
        if item.same is not None and item.same not in JOIN_KEYS:
            raise _fail(path, f"related 'same' must be one of {', '.join(JOIN_KEYS)}")
    return item


def _part(path: Path, raw: Any, rule: dict, defined_in: str) -> "Rule":
    """One `also` entry: the same rule raised on another table, with its own condition and location."""
    if not isinstance(raw, dict) or "table" not in raw or "raise_when" not in raw:
        raise _fail(path, "each 'also' entry needs a table and a raise_when")
    _check_keys(path, raw, _PART_KEYS, "an 'also' entry")
    merged = {key: value for key, value in rule.items() if key not in _PART_KEYS | {"also", "examples", "let"}}
    merged.update(raw)
    merged["examples"] = []
    return _build(path, merged, defined_in)


def _at(path: Path, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else list(value or [])
    if not all(isinstance(item, str) for item in items):
        raise _fail(path, "'at' must name an element, or list elements to try in turn")
    if value is not None and isinstance(value, str):
        return (value,)
    return tuple(items)


def parse_rule(path: Path, defined_in: str) -> Rule:
    return _build(path, _read_yaml(path), defined_in)


def _build(path: Path, data: dict, defined_in: str) -> Rule:
    _check_keys(path, data, _RULE_KEYS, "the rule")
    for key, (kind, required) in _RULE_KEYS.items():
        if key not in data:
            if required:
                raise _fail(path, f"missing required key '{key}'")
            continue
        if not isinstance(data[key], kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            raise _fail(path, f"'{key}' must be a {' or '.join(k.__name__ for k in kinds)}")
    if not data["fix"].strip():
        raise _fail(path, "'fix' must tell a data officer what to look at and change; it cannot be empty")
    code = data["code"]
    if not _CODE.match(code):
        raise _fail(path, f"code '{code}' is not a DfE rule code (digits, with Q for a query)")
    if path.stem != code:
        raise _fail(path, f"the file of rule {code} must be named {code}.yaml")
    severity = data["severity"]
    if severity not in ("error", "query"):
        raise _fail(path, "severity must be error or query")
    if code.endswith("Q") != (severity == "query"):
        raise _fail(path, "a code ends in Q if and only if the rule is a query")
    if data["scope"] not in SCOPES:
        raise _fail(path, f"scope must be one of {', '.join(SCOPES)}")
    table = data["table"]
    if table != RETURN_TABLE and table not in SPECS:
        raise _fail(path, f"table '{table}' is not one of {RETURN_TABLE}, {', '.join(SPECS)}")
    if "let" in data and table != RETURN_TABLE:
        raise _fail(path, "'let' is only for return-level rules (table: return)")
    partner = None
    if "partner" in data:
        _check_keys(path, data["partner"], {"same"}, "partner")
        partner = data["partner"].get("same")
        if partner not in JOIN_KEYS:
            raise _fail(path, f"partner 'same' must be one of {', '.join(JOIN_KEYS)}")
    reads = data["reads"]
    if not reads or any(not isinstance(item, str) for item in reads):
        raise _fail(path, "'reads' must list the element names the rule reads")
    for key in ("values", "let"):
        for name, expression in data.get(key, {}).items():
            if not isinstance(expression, str):
                raise _fail(path, f"{key} '{name}' must be an SQL expression")
    examples = tuple(_example(path, raw, i) for i, raw in enumerate(data["examples"], start=1))
    names = [example.name for example in examples]
    if len(set(names)) != len(names):
        raise _fail(path, "example names must be unique within a rule")
    also = tuple(_part(path, raw, data, defined_in) for raw in data.get("also", []))
    return Rule(
        also=also,
        code=code, severity=severity, scope=data["scope"], title=data["title"].strip(),
        message=data["message"].strip(), reads=tuple(reads), table=table,
        raise_when=data["raise_when"].strip(), examples=examples, source=path, defined_in=defined_in,
        description=(data.get("description") or "").strip() or None,
        fix=" ".join(data["fix"].split()),
        interpretation=(data.get("interpretation") or "").strip() or None,
        at=_at(path, data.get("at")), partner=partner,
        related=tuple(_related(path, raw, data["table"]) for raw in data.get("related", [])),
        values=tuple(data.get("values", {}).items()), let=tuple(data.get("let", {}).items()),
        provisional=bool(data.get("provisional", False)), tags=tuple(data.get("tags", [])),
        folds=tuple(data.get("folds", [])),
    )


@dataclass
class Ruleset:
    """The rules in force for one collection year, with that year's extra reference data."""

    year: CollectionYear
    rules: dict[str, Rule]
    code_lists: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {"error": 0, "query": 0}
        for rule in self.rules.values():
            counts[rule.severity] += 1
        return counts


def _ruleset_file(folder: Path) -> dict:
    path = folder / "_ruleset.yaml"
    if not path.exists():
        raise _fail(path, "every year folder needs a _ruleset.yaml")
    data = _read_yaml(path)
    _check_keys(path, data, _RULESET_KEYS, "the ruleset")
    if data.get("year") != folder.name:
        raise _fail(path, f"'year' must be {folder.name}, the folder's name")
    return data


@lru_cache(maxsize=None)
def load_ruleset(year_name: str, root: Path | None = None) -> Ruleset:
    """Resolve the rules of a year by applying each year's folder, oldest first."""
    root = root or rules_dir()
    chain: list[str] = []
    name: str | None = year_name
    while name:
        folder = root / name
        if not folder.is_dir():
            raise RuleFileError(f"{folder}: no rule folder for collection year {name}")
        data = _ruleset_file(folder)
        chain.append(name)
        name = data.get("extends")
        if name in chain:
            raise _fail(folder / "_ruleset.yaml", "'extends' goes round in a circle")
    rules: dict[str, Rule] = {}
    code_lists: dict[str, list[str]] = {}
    for name in reversed(chain):
        folder = root / name
        data = _ruleset_file(folder)
        for code in data.get("remove", []) or []:
            if str(code) not in rules:
                raise _fail(folder / "_ruleset.yaml", f"removes rule {code}, which the year before does not have")
            del rules[str(code)]
        for list_name, codes in (data.get("code_lists") or {}).items():
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise _fail(folder / "_ruleset.yaml", f"code list '{list_name}' must be a list of strings")
            code_lists[list_name] = codes
        for path in sorted(folder.glob("*.yaml")):
            if path.name.startswith("_"):
                continue
            rule = parse_rule(path, name)
            rules[rule.code] = rule
    return Ruleset(CollectionYear(year_name), dict(sorted(rules.items(), key=lambda kv: _code_order(kv[0]))),
                   code_lists)


def _code_order(code: str) -> tuple[int, str]:
    return (int(code.rstrip("Q")), code)
