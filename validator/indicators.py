"""Preview indicators: a return's headline figures, computed from validator/indicators.yaml.

The definitions are data. Every figure is SQL run by DuckDB over the same tables and helpers as the
rules, set-wise over whole tables; this module only creates the shared relations, runs each
expression once and shapes the answers as indicators.md section 0 describes:

    {key, title, unit, value, numerator?, denominator?, percent?, breakdown?, percentiles?,
     excluded, notes?, data_quality?, within_return_only?, lower_bound?, serves, national,
     <sub-key>: {...}, ...}

`compute(session)` returns one such object per indicator key, in the order of the file. With
`previous=True` (after `session.add_previous(...)`) the across-returns figures are added; with a
`population` the rates per 10,000 children are added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import duckdb
import yaml

from .tables import SPECS
from .years import CollectionYear

INDICATORS_FILE = Path(__file__).resolve().with_name("indicators.yaml")

PREVIOUS, POPULATION = "previous", "population"
ALWAYS, WITHOUT_PREVIOUS = "always", "without_previous"
RATE_PER = 10_000

# Fields of an output object; a sub-key may not take one of these names.
RESERVED = ("key", "title", "unit", "value", "numerator", "denominator", "percent", "breakdown", "percentiles",
            "excluded", "notes", "data_quality", "within_return_only", "lower_bound", "serves", "national",
            "last_year")
# The fields of last year's figure set beside this year's (with the previous return).
LAST_YEAR_FIELDS = ("value", "numerator", "denominator", "percent")

_NODE_KEYS = {"title", "unit", "serves", "national", "notes", "requires", "within_return_only", "lower_bound",
              "data_quality", "value", "value_of", "bands", "rate", "denominator", "denominator_of", "excluded",
              "breakdown", "parts"}
_VALUE_WAYS = ("value", "value_of", "bands", "rate")
_NATIONAL_KEYS = {"value", "percent", "rate", "p25", "median", "p75", "derived", "approximate", "note", "earlier",
                  "breakdown", "children", "year"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_KEY = re.compile(r"^[A-Za-z0-9_]+$")
_MISSING = object()


class IndicatorFileError(ValueError):
    """The indicators file does not follow its format."""


class IndicatorError(RuntimeError):
    """An indicator could not be computed (its SQL failed)."""


# -- the definitions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    name: str
    sql: str
    requires: str | None = None
    otherwise: str | None = None


@dataclass(frozen=True)
class QualityCheck:
    name: str
    sql: str
    note: str


@dataclass(frozen=True)
class Measure:
    name: str
    percent_of: str | None = None  # "value", "denominator" (the node's) or another measure of the row


@dataclass(frozen=True)
class Breakdown:
    sql: str
    code_list: str | None = None
    keys: tuple[str, ...] = ()
    measures: tuple[Measure, ...] | None = None  # None: the SQL gives one column, `value`

    @property
    def listed(self) -> bool:
        return bool(self.code_list or self.keys)


@dataclass(frozen=True)
class Bands:
    source: str
    bands: tuple[tuple[str, str], ...]
    where: str | None = None
    measure: str | None = None
    percentiles: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Rate:
    of: str
    breakdown_of: str | None = None
    measure: str | None = None


@dataclass(frozen=True)
class WithinReturn:
    when: str
    note: str


@dataclass(frozen=True)
class Node:
    path: str  # the dotted key: "cpp_started.children"
    unit: str
    title: str | None = None
    serves: dict | None = None
    national: Any = _MISSING
    notes: tuple[str, ...] = ()
    requires: str | None = None
    within_return_only: WithinReturn | None = None
    lower_bound: bool = False
    data_quality: tuple[str, ...] = ()
    value: str | None = None
    value_of: tuple[str, ...] = ()
    bands: Bands | None = None
    rate: Rate | None = None
    denominator: str | None = None
    denominator_of: str | None = None
    excluded: str | tuple[tuple[str, str], ...] | None = None
    breakdown: Breakdown | None = None
    parts: tuple["Node", ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def walk(self) -> Iterator["Node"]:
        """This node and every sub-key below it, each sub-key before the node holding it."""
        for part in self.parts:
            yield from part.walk()
        yield self

    def references(self) -> list[str]:
        refs = list(self.value_of)
        if self.denominator_of:
            refs.append(self.denominator_of)
        if self.rate:
            refs += [self.rate.of] + ([self.rate.breakdown_of] if self.rate.breakdown_of else [])
        return refs


@dataclass(frozen=True)
class Definitions:
    relations: tuple[Relation, ...]
    data_quality: dict[str, QualityCheck]
    indicators: tuple[Node, ...]
    national_year: int  # the year (ending 31 March) of the England figures, unless one names its own

    def keys(self) -> list[str]:
        return [node.path for node in self.indicators]

    def node(self, path: str) -> Node:
        for top in self.indicators:
            for node in top.walk():
                if node.path == path:
                    return node
        raise KeyError(path)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML that refuses a key given twice in one mapping (read by libyaml where PyYAML has
    it: the pure-Python reader took half a second over this file)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise IndicatorFileError(f"line {key_node.start_mark.line + 1}: key {key!r} given twice")
            seen.add(key)
        return super().construct_mapping(node, deep)


def _fail(where: str, message: str) -> None:
    raise IndicatorFileError(f"{where}: {message}")


def _mapping(value: Any, where: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        _fail(where, "must be a mapping")
    for key in value:
        if not isinstance(key, str):
            _fail(where, f"key {key!r} must be a string (quote it)")
    unknown = sorted(set(value) - allowed)
    if unknown:
        _fail(where, f"unknown key(s): {', '.join(unknown)}")
    missing = sorted(required - set(value))
    if missing:
        _fail(where, f"missing key(s): {', '.join(missing)}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(where, "must be non-empty text")
    return value.strip()


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        _fail(where, "must be text or a non-empty list of text")
    return tuple(_text(item, where) for item in value)


def _keys_mapping(value: Any, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        _fail(where, "must be a non-empty mapping")
    for key in value:
        if not isinstance(key, str) or not _KEY.match(key):
            _fail(where, f"key {key!r} must be text of letters, digits and underscores (quote numbers)")
    return value


def _national(value: Any, where: str) -> Any:
    if value is None:
        return None
    national = _mapping(value, where, _NATIONAL_KEYS)
    for key, item in national.items():
        if key in ("earlier", "breakdown"):
            for name, inner in _keys_mapping(item, f"{where}.{key}").items():
                _national(inner, f"{where}.{key}.{name}")
        elif key == "children":
            _national(item, f"{where}.children")
        elif key in ("derived", "approximate"):
            if not isinstance(item, bool):
                _fail(f"{where}.{key}", "must be true or false")
        elif key == "note":
            _text(item, f"{where}.note")
        elif key == "year":
            _year(item, f"{where}.year")
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            _fail(f"{where}.{key}", "must be a number")
    return national


def _year(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        _fail(where, "must be a year such as 2025 (the year ending 31 March)")
    return value


def _serves(value: Any, where: str) -> dict:
    serves = _mapping(value, where, {"framework", "tables", "other"})
    out = {}
    for key in ("framework", "tables"):
        if key in serves:
            items = serves[key]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                _fail(f"{where}.{key}", "must be a list of text")
            out[key] = list(items)
    if "other" in serves:
        out["other"] = _text(serves["other"], f"{where}.other")
    return out


def _breakdown(value: Any, where: str) -> Breakdown:
    spec = _mapping(value, where, {"sql", "code_list", "keys", "measures"}, {"sql"})
    keys = ()
    if "keys" in spec:
        keys = _string_list(spec["keys"], f"{where}.keys")
    measures = None
    if "measures" in spec:
        measures = []
        for name, item in _keys_mapping(spec["measures"], f"{where}.measures").items():
            item = _mapping(item or {}, f"{where}.measures.{name}", {"percent_of"})
            percent_of = item.get("percent_of")
            if percent_of is not None:
                percent_of = _text(percent_of, f"{where}.measures.{name}.percent_of")
            measures.append(Measure(name, percent_of))
        names = {m.name for m in measures}
        for m in measures:
            if m.percent_of and m.percent_of not in names | {"value", "denominator"} or m.percent_of == m.name:
                _fail(f"{where}.measures.{m.name}", f"percent_of {m.percent_of!r} is neither value, denominator "
                      "nor another measure")
        measures = tuple(measures)
    code_list = _text(spec["code_list"], f"{where}.code_list") if "code_list" in spec else None
    return Breakdown(_text(spec["sql"], f"{where}.sql"), code_list, keys, measures)


def _bands(value: Any, where: str) -> Bands:
    spec = _mapping(value, where, {"source", "where", "measure", "bands", "percentiles"}, {"source", "bands"})
    bands = tuple((name, _text(cond, f"{where}.bands.{name}"))
                  for name, cond in _keys_mapping(spec["bands"], f"{where}.bands").items())
    percentiles = ()
    if "percentiles" in spec:
        if "measure" not in spec:
            _fail(where, "percentiles need a measure")
        items = []
        for name, p in _keys_mapping(spec["percentiles"], f"{where}.percentiles").items():
            if isinstance(p, bool) or not isinstance(p, int) or not 0 < p <= 100:
                _fail(f"{where}.percentiles.{name}", "must be a whole number from 1 to 100")
            items.append((name, p))
        percentiles = tuple(items)
    return Bands(
        source=_text(spec["source"], f"{where}.source"), bands=bands,
        where=_text(spec["where"], f"{where}.where") if "where" in spec else None,
        measure=_text(spec["measure"], f"{where}.measure") if "measure" in spec else None,
        percentiles=percentiles,
    )


def _node(path: str, value: Any, top: bool, quality: dict) -> Node:
    where = f"indicator {path}"
    spec = _mapping(value, where, _NODE_KEYS, {"unit", "title"} if top else {"unit"})
    ways = [way for way in _VALUE_WAYS if way in spec]
    if len(ways) != 1:
        _fail(where, f"needs exactly one of {', '.join(_VALUE_WAYS)} (has {', '.join(ways) or 'none'})")
    if "denominator" in spec and "denominator_of" in spec:
        _fail(where, "give denominator or denominator_of, not both")
    if ("bands" in spec or "rate" in spec) and ("denominator" in spec or "denominator_of" in spec):
        _fail(where, "bands and rates make their own denominators")
    if "rate" in spec and "breakdown" in spec:
        _fail(where, "a rate takes its breakdown from rate.breakdown_of")
    fields: dict[str, Any] = {"path": path, "unit": _text(spec["unit"], f"{where}.unit")}
    if "title" in spec:
        fields["title"] = _text(spec["title"], f"{where}.title")
    if "serves" in spec:
        fields["serves"] = _serves(spec["serves"], f"{where}.serves")
    if "national" in spec:
        fields["national"] = _national(spec["national"], f"{where}.national")
    elif top:
        _fail(where, "needs national (null when no national figure is known)")
    if "notes" in spec:
        fields["notes"] = _string_list(spec["notes"], f"{where}.notes")
    if "requires" in spec:
        if spec["requires"] not in (PREVIOUS, POPULATION):
            _fail(f"{where}.requires", f"must be {PREVIOUS} or {POPULATION}")
        fields["requires"] = spec["requires"]
    if "within_return_only" in spec:
        item = _mapping(spec["within_return_only"], f"{where}.within_return_only", {"when", "note"},
                        {"when", "note"})
        if item["when"] not in (ALWAYS, WITHOUT_PREVIOUS):
            _fail(f"{where}.within_return_only.when", f"must be {ALWAYS} or {WITHOUT_PREVIOUS}")
        fields["within_return_only"] = WithinReturn(item["when"], _text(item["note"], f"{where}.within_return_only"))
    if "lower_bound" in spec:
        if not isinstance(spec["lower_bound"], bool):
            _fail(f"{where}.lower_bound", "must be true or false")
        fields["lower_bound"] = spec["lower_bound"]
    if "data_quality" in spec:
        names = _string_list(spec["data_quality"], f"{where}.data_quality")
        for name in names:
            if name not in quality:
                _fail(f"{where}.data_quality", f"no data_quality check named {name}")
        fields["data_quality"] = names
    for key in ("value", "denominator"):
        if key in spec:
            fields[key] = _text(spec[key], f"{where}.{key}")
    if "value_of" in spec:
        fields["value_of"] = _string_list(spec["value_of"], f"{where}.value_of")
    if "denominator_of" in spec:
        fields["denominator_of"] = _text(spec["denominator_of"], f"{where}.denominator_of")
    if "bands" in spec:
        fields["bands"] = _bands(spec["bands"], f"{where}.bands")
    if "rate" in spec:
        item = _mapping(spec["rate"], f"{where}.rate", {"of", "breakdown_of", "measure"}, {"of"})
        if ("breakdown_of" in item) != ("measure" in item):
            _fail(f"{where}.rate", "breakdown_of and measure go together")
        fields["rate"] = Rate(_text(item["of"], f"{where}.rate.of"), item.get("breakdown_of"), item.get("measure"))
        if fields.get("requires") != POPULATION:
            _fail(where, "a rate requires: population")
    if "excluded" in spec:
        excluded = spec["excluded"]
        if isinstance(excluded, dict):
            fields["excluded"] = tuple((reason, _text(sql, f"{where}.excluded.{reason}"))
                                       for reason, sql in _keys_mapping(excluded, f"{where}.excluded").items())
        else:
            fields["excluded"] = _text(excluded, f"{where}.excluded")
    if "breakdown" in spec:
        breakdown = _breakdown(spec["breakdown"], f"{where}.breakdown")
        uses_denominator = any(m.percent_of == "denominator" for m in breakdown.measures or ())
        if uses_denominator and not ("denominator" in spec or "denominator_of" in spec):
            _fail(f"{where}.breakdown", "a percent of the denominator needs the node's denominator")
        fields["breakdown"] = breakdown
    if "parts" in spec:
        parts = []
        for name, part in _keys_mapping(spec["parts"], f"{where}.parts").items():
            if not _NAME.match(name) or name in RESERVED:
                _fail(f"{where}.parts", f"{name!r} cannot name a sub-key")
            parts.append(_node(f"{path}.{name}", part, False, quality))
        fields["parts"] = tuple(parts)
    return Node(**fields)


def _check_references(indicators: tuple[Node, ...]) -> None:
    """Every reference names a node computed before the node that uses it."""
    order: list[Node] = [node for top in indicators for node in top.walk()]
    position = {node.path: index for index, node in enumerate(order)}
    for index, node in enumerate(order):
        for ref in node.references():
            if ref not in position:
                _fail(f"indicator {node.path}", f"refers to {ref}, which is not defined")
            if position[ref] >= index:
                _fail(f"indicator {node.path}", f"refers to {ref}, which is computed after it")
        if node.rate and node.rate.breakdown_of:
            target = order[position[node.rate.breakdown_of]]
            names = {m.name for m in (target.breakdown.measures or ())} if target.breakdown else set()
            if node.rate.measure not in names:
                _fail(f"indicator {node.path}", f"{node.rate.breakdown_of} has no breakdown measure "
                      f"{node.rate.measure}")


def parse_definitions(text: str, source: str = "indicators.yaml") -> Definitions:
    """Read the indicators file strictly: unknown, missing or mistyped keys are errors."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise IndicatorFileError(f"{source}: not valid YAML: {exc}") from exc
    data = _mapping(data, source, {"national_year", "relations", "data_quality", "indicators"},
                    {"national_year", "relations", "indicators"})
    national_year = _year(data["national_year"], "national_year")
    reserved = set(SPECS) | {f"previous_{name}" for name in SPECS} | {"calendar"}
    relations = []
    for name, item in _keys_mapping(data["relations"], "relations").items():
        where = f"relation {name}"
        if not _IDENTIFIER.match(name) or name in reserved:
            _fail(where, "is not a usable table name (lower case, not a table of the return)")
        item = _mapping(item, where, {"sql", "requires", "otherwise"}, {"sql"})
        requires = item.get("requires")
        if requires not in (None, PREVIOUS):
            _fail(f"{where}.requires", f"must be {PREVIOUS}")
        if "otherwise" in item and requires is None:
            _fail(where, "otherwise only goes with requires")
        relations.append(Relation(name, _text(item["sql"], f"{where}.sql"), requires,
                                  _text(item["otherwise"], f"{where}.otherwise") if "otherwise" in item else None))
    quality = {}
    for name, item in (data.get("data_quality") or {}).items():
        item = _mapping(item, f"data_quality {name}", {"sql", "note"}, {"sql", "note"})
        quality[name] = QualityCheck(name, _text(item["sql"], f"data_quality {name}.sql"),
                                     _text(item["note"], f"data_quality {name}.note"))
    indicators = []
    for key, item in _keys_mapping(data["indicators"], "indicators").items():
        if not _IDENTIFIER.match(key):
            _fail(f"indicator {key}", "keys are snake_case")
        indicators.append(_node(key, item, True, quality))
    indicators = tuple(indicators)
    _check_references(indicators)
    return Definitions(tuple(relations), quality, indicators, national_year)


@lru_cache(maxsize=None)
def load_definitions(path: str | Path | None = None) -> Definitions:
    """The indicator definitions shipped with the package (or those of another file)."""
    path = Path(path) if path else INDICATORS_FILE
    return parse_definitions(path.read_text(encoding="utf-8"), str(path))


# -- computing ---------------------------------------------------------------------------------


def _round1(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator x 100 to one decimal place (halves up); None when the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return _round1(Decimal(numerator) * 100 / Decimal(denominator))


def rate(count: int | None, population: int) -> float | None:
    """count / population x 10,000 to one decimal place (halves up)."""
    if count is None:
        return None
    return _round1(Decimal(count) * RATE_PER / Decimal(population))


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _bands_source(spec: Bands) -> str:
    return f"SELECT * FROM {spec.source}" + (f" WHERE {spec.where}" if spec.where else "")


def _bands_sql(spec: Bands) -> str:
    counts = ", ".join(f"count(*) FILTER (WHERE {cond}) AS b{i}" for i, (_, cond) in enumerate(spec.bands))
    return f"WITH src AS ({_bands_source(spec)}) SELECT count(*) AS total, {counts} FROM src"


def _percentiles_sql(spec: Bands) -> str:
    # Nearest rank: the smallest value with at least p% of the values at or below it, i.e.
    # the value at rank ceil(p x n / 100) (at least 1) in ascending order.
    picks = ", ".join(f"min(m) FILTER (WHERE rn >= greatest(1, (n * {p} + 99) // 100)) AS q{i}"
                      for i, (_, p) in enumerate(spec.percentiles))
    return (f"WITH src AS ({_bands_source(spec)}), ranked AS (SELECT {spec.measure} AS m, "
            f"row_number() OVER (ORDER BY {spec.measure}) AS rn, count(*) OVER () AS n FROM src) "
            f"SELECT {picks} FROM ranked")


def _code_list_sql(code_list: str) -> str:
    name = code_list.replace("'", "''")
    return f"SELECT unnest(code_list('{name}')) AS code"


class _Run:
    def __init__(self, session, definitions: Definitions, population: int | None, previous: bool):
        self.session = session
        self.definitions = definitions
        self.population = population
        self.previous = previous
        self.results: dict[str, dict] = {}
        # Answers fetched ahead (see prefetch), by query; a failed query holds its error.
        self.fetched: dict[tuple[str, str], Any] = {}

    def _fetch(self, kind: str, sql: str, db=None) -> Any:
        if kind == "scalar":
            return _number((db or self.session.db).execute(f"SELECT ({sql})").fetchone()[0])
        return [{k: _number(v) for k, v in row.items()} for row in self.session.query(sql, db=db)]

    def _answer(self, kind: str, sql: str, where: str) -> Any:
        answer = self.fetched[(kind, sql)] if (kind, sql) in self.fetched else _MISSING
        try:
            if answer is _MISSING:
                answer = self._fetch(kind, sql)
            elif isinstance(answer, duckdb.Error):
                raise answer
        except duckdb.Error as exc:
            raise IndicatorError(f"{where}: {exc}") from exc
        return answer

    def scalar(self, sql: str, where: str) -> Any:
        return self._answer("scalar", sql, where)

    def rows(self, sql: str, where: str) -> list[dict]:
        return self._answer("rows", sql, where)

    def queries(self, node: Node) -> Iterator[tuple[str, str]]:
        """The (kind, SQL) of every query evaluating `node` runs, as evaluate builds them."""
        if not self.available(node):
            return
        for part in node.parts:
            yield from self.queries(part)
        if node.value is not None:
            yield "scalar", node.value
        elif node.value_of:
            pass
        elif node.bands is not None:
            yield "rows", _bands_sql(node.bands)
            if node.bands.percentiles:
                yield "rows", _percentiles_sql(node.bands)
        if node.denominator is not None:
            yield "scalar", node.denominator
        if node.breakdown is not None:
            yield "rows", node.breakdown.sql
            if node.breakdown.code_list:
                yield "rows", _code_list_sql(node.breakdown.code_list)
        if isinstance(node.excluded, str):
            yield "scalar", node.excluded
        elif node.excluded is not None:
            yield from (("scalar", sql) for _, sql in node.excluded)
        for name in node.data_quality:
            yield "scalar", self.definitions.data_quality[name].sql

    def prefetch(self, nodes: tuple[Node, ...]) -> None:
        """Run every query of the indicators ahead, side by side on the session's threads.

        They read the return's tables and the shared relations only, never each other's answers,
        so the order they run in cannot change a figure; evaluate then takes the answers from here
        and still does all the shaping, in the file's order (a failed query raises there, as before).
        """
        wanted = list(dict.fromkeys(q for node in nodes for q in self.queries(node)))

        def fetch(query: tuple[str, str], db) -> Any:
            try:
                return self._fetch(*query, db=db)
            except duckdb.Error as exc:
                return exc

        self.fetched = dict(zip(wanted, self.session.map(fetch, wanted)))

    def create_relations(self) -> None:
        db, schema = self.session.db, self.session.schema
        for relation in self.definitions.relations:
            sql = relation.sql
            if relation.requires == PREVIOUS and not self.previous:
                sql = relation.otherwise
            try:
                if sql is None:
                    db.execute(f'DROP TABLE IF EXISTS "{schema}"."{relation.name}"')
                else:
                    db.execute(f'CREATE OR REPLACE TABLE "{schema}"."{relation.name}" AS {sql}')
            except duckdb.Error as exc:
                raise IndicatorError(f"relation {relation.name}: {exc}") from exc

    def available(self, node: Node) -> bool:
        if node.requires == PREVIOUS:
            return self.previous
        if node.requires == POPULATION:
            return self.population is not None
        return True

    def evaluate(self, node: Node) -> dict | None:
        if not self.available(node):
            return None
        parts = {}
        for part in node.parts:
            result = self.evaluate(part)
            if result is not None:
                parts[part.name] = result

        got: dict[str, Any] = {}  # the fields, in any order; put in section 0's order below
        source = None
        if node.value is not None:
            got["value"] = self.scalar(node.value, node.path)
        elif node.value_of:
            source = next((self.results[p] for p in node.value_of if p in self.results), None)
            if source is None:
                raise IndicatorError(f"{node.path}: none of {', '.join(node.value_of)} was computed")
            got.update({f: source[f] for f in ("value", "numerator", "denominator", "percent") if f in source})
        elif node.bands is not None:
            self.bands(node, got)
        else:
            self.rate(node, got)

        if node.denominator is not None or node.denominator_of:
            if node.denominator is not None:
                denominator = self.scalar(node.denominator, f"{node.path}.denominator")
            elif node.denominator_of in self.results:
                denominator = self.results[node.denominator_of]["value"]
            else:
                raise IndicatorError(f"{node.path}: {node.denominator_of} was not computed")
            got.update(numerator=got["value"], denominator=denominator,
                       percent=percent(got["value"], denominator))

        if node.breakdown is not None:
            got["breakdown"] = self.breakdown(node, got)

        if isinstance(node.excluded, str):
            got["excluded"] = self.scalar(node.excluded, f"{node.path}.excluded")
        elif node.excluded is not None:
            got["excluded"] = {reason: self.scalar(sql, f"{node.path}.excluded.{reason}")
                               for reason, sql in node.excluded}
        elif source is not None:
            got["excluded"] = source.get("excluded", 0)
        elif node.rate is not None:
            got["excluded"] = self.results[node.rate.of].get("excluded", 0)
        else:
            got["excluded"] = 0

        notes = list(node.notes)
        if node.data_quality:
            counts = {}
            for name in node.data_quality:
                check = self.definitions.data_quality[name]
                counts[name] = self.scalar(check.sql, f"{node.path}.data_quality.{name}")
                if counts[name]:
                    notes.append(check.note.replace("{n}", str(counts[name])))
            got["data_quality"] = counts
        flag = node.within_return_only
        if flag and (flag.when == ALWAYS or not self.previous):
            got["within_return_only"] = True
            notes.append(flag.note)
        if notes:
            got["notes"] = notes
        if node.lower_bound:
            got["lower_bound"] = True
        if node.serves is not None:
            got["serves"] = node.serves
        if node.national is not _MISSING:
            got["national"] = self.national(node.national)

        out: dict[str, Any] = {"key": node.path}
        if node.title:
            out["title"] = node.title
        out["unit"] = node.unit
        out.update((field, got[field]) for field in RESERVED if field in got)
        out.update(parts)
        self.results[node.path] = out
        return out

    def national(self, figure: dict | None) -> dict | None:
        """The England figure, naming its year (the file's national_year unless it gives its own)."""
        if figure is None:
            return None
        return {**figure, "year": figure.get("year", self.definitions.national_year)}

    def bands(self, node: Node, out: dict) -> None:
        spec = node.bands
        row = self.rows(_bands_sql(spec), f"{node.path}.bands")[0]
        total = row["total"]
        out["value"] = total
        out["breakdown"] = {name: {"value": row[f"b{i}"], "denominator": total, "percent": percent(row[f"b{i}"], total)}
                            for i, (name, _) in enumerate(spec.bands)}
        if spec.percentiles:
            row = self.rows(_percentiles_sql(spec), f"{node.path}.percentiles")[0]
            out["percentiles"] = {name: row[f"q{i}"] for i, (name, _) in enumerate(spec.percentiles)}

    def rate(self, node: Node, out: dict) -> None:
        spec = node.rate
        count = self.results[spec.of]["value"]
        out["value"] = rate(count, self.population)
        out["numerator"] = count
        out["denominator"] = self.population
        if spec.breakdown_of:
            cells = self.results[spec.breakdown_of]["breakdown"]
            out["breakdown"] = {
                key: {"value": rate(cell[spec.measure]["value"], self.population),
                      "numerator": cell[spec.measure]["value"], "denominator": self.population}
                for key, cell in cells.items()
            }

    def keys_of(self, breakdown: Breakdown, where: str) -> list[str]:
        keys = []
        if breakdown.code_list:
            keys = [row["code"] for row in self.rows(_code_list_sql(breakdown.code_list), where)]
            if not keys:
                raise IndicatorError(f"{where}: the year has no code list {breakdown.code_list}")
        return keys + [key for key in breakdown.keys if key not in keys]

    def breakdown(self, node: Node, out: dict) -> dict:
        spec = node.breakdown
        where = f"{node.path}.breakdown"
        measures = spec.measures or (Measure("value"),)
        rows = self.rows(spec.sql, where)
        table: dict[str, dict[str, Any]] = {}
        if spec.listed:
            table = {key: {m.name: 0 for m in measures} for key in self.keys_of(spec, where)}
        for row in rows:
            key = row.get("key")
            if key is None:
                raise IndicatorError(f"{where}: a row has no key")
            key = str(key)
            if spec.listed and key not in table:
                raise IndicatorError(f"{where}: key {key!r} is not among the listed keys")
            table[key] = {m.name: row.get(m.name) or 0 for m in measures}

        def cell(values: dict, measure: Measure) -> dict:
            result = {"value": values[measure.name]}
            if measure.percent_of:
                if measure.percent_of in ("value", "denominator"):
                    base = out.get(measure.percent_of)
                else:  # another measure of the same row
                    base = values[measure.percent_of]
                result["denominator"] = base
                result["percent"] = percent(values[measure.name], base)
            return result

        if spec.measures is None:
            return {key: cell(values, measures[0]) for key, values in table.items()}
        return {key: {m.name: cell(values, m) for m in measures} for key, values in table.items()}


def compute(session, population: int | None = None, previous: bool = False) -> dict[str, dict]:
    """Every indicator of the return loaded in `session`, keyed by indicator key.

    previous: the previous year's return has been loaded with `session.add_previous(...)`; the
    across-returns figures are then added and the within-return flags of those that use it lifted.
    population: children aged 0-17 living in the authority; the rates per 10,000 are then added.
    """
    if population is not None and (isinstance(population, bool) or not isinstance(population, int)
                                   or population <= 0):
        raise ValueError(f"population must be a whole number above 0, not {population!r}")
    if previous and not session.scalar(
            "SELECT count(*) FROM information_schema.tables "
            f"WHERE table_schema = '{session.schema}' AND table_name = 'previous_children'"):
        raise ValueError("previous=True needs the previous return loaded first (session.add_previous)")
    definitions = load_definitions()
    run = _Run(session, definitions, population, previous)
    run.create_relations()
    run.prefetch(definitions.indicators)
    results = {}
    for node in definitions.indicators:
        result = run.evaluate(node)
        if result is not None:
            results[node.path] = result
    return results


def add_last_year(results: dict[str, dict], last_year: dict[str, dict]) -> dict[str, dict]:
    """Set last year's figure beside each headline figure of this year: `last_year` holds the value
    (with numerator, denominator and percent where it has them) computed from the previous return
    by the same definitions. A figure last year's return did not give is left without one."""
    for key, figure in results.items():
        earlier = last_year.get(key)
        if earlier is not None and earlier.get("value") is not None:
            figure["last_year"] = {name: earlier[name] for name in LAST_YEAR_FIELDS if name in earlier}
    return results


def within_return_only(results: dict[str, dict]) -> list[str]:
    """The dotted keys of the figures computed within this return only (for the report to show)."""
    found = []

    def walk(item: dict) -> None:
        if item.get("within_return_only"):
            found.append(item["key"])
        for name, value in item.items():
            if isinstance(value, dict) and "key" in value and name not in RESERVED:
                walk(value)

    for item in results.values():
        walk(item)
    return found


def previous_year_problem(current: CollectionYear, previous: CollectionYear) -> str | None:
    """Why a return cannot serve as the previous one (indicators.md section 0), or None when it can."""
    if previous.end_year != current.end_year - 1:
        return (f"the previous return must be for {current.end_year - 2}-{(current.end_year - 1) % 100:02d} "
                f"(the collection before {current.name}), not {previous.name}")
    return None
