"""The query engine: the return's tables in DuckDB, the helpers rules may call, rule evaluation.

Each rule becomes one SQL query over whole tables, so a rule costs milliseconds whatever the size
of the return. The engine gives every rule the same vocabulary:

* tables with typed columns: for an element E, `E` is the typed value (DATE, BOOLEAN by meaning,
  BIGINT, or the trimmed text for codes), `E_text` the trimmed text (NULL when missing) and
  `E_line` the line it is on; every row has `id`, `line`, `path` and its keys;
* aliases joined on demand: `t` (the rule's table), `p` (the partner row of a pair rule),
  `child`, `episode`, `assessment`, `cpp`, `reviews` (the records `t` sits in) and `header`;
* macros: reference_date(), period_start(), in_period(d), outside_period(d), is_weekend(d),
  working_days(a, b), minus_working_days(d, n), add_years(d, n), add_months(d, n),
  is_code(x, list), code_list(list).
"""

from __future__ import annotations

import itertools
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa

from . import calendar
from .report import Finding, Location
from .rules import JOIN_KEYS, RETURN_TABLE, Related, Rule
from .tables import BOOL, DATE, INT, SPECS
from .years import CollectionYear

ALIAS_TABLES = {"child": "children", "episode": "cin_details", "assessment": "assessments", "cpp": "cpps",
                "reviews": "reviews"}
_ALIAS_USE = re.compile(r"\b(child|episode|assessment|cpp|reviews|header|p)\.")
# Where a read element's value is looked for, nearest record first.
_VALUE_ORDER = ("t", "episode", "assessment", "cpp", "reviews", "child", "header")


def _typed(element: str, kind: str) -> str:
    text = f'"{element}_text"'
    if kind == DATE:
        return (f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                f"THEN TRY_CAST({text} AS DATE) END")
    if kind == BOOL:
        return (f"CASE lower({text}) WHEN 'true' THEN TRUE WHEN '1' THEN TRUE "
                f"WHEN 'false' THEN FALSE WHEN '0' THEN FALSE END")
    if kind == INT:
        return f"CASE WHEN regexp_full_match({text}, '[0-9]+') THEN TRY_CAST({text} AS BIGINT) END"
    return text


_DERIVED = {
    # README 4.4: an unborn child has no PersonBirthDate and a present ExpectedPersonBirthDate.
    "children": {"is_unborn": '"PersonBirthDate_text" IS NULL AND "ExpectedPersonBirthDate_text" IS NOT NULL'},
}


@lru_cache(maxsize=None)
def _holiday_table(first: int, last: int) -> pa.Table:
    return pa.table({"day": sorted(calendar.bank_holidays(first, last))})


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@lru_cache(maxsize=None)
def _year_database(year_name: str, code_list_items: tuple) -> duckdb.DuckDBPyConnection:
    """One in-memory database per collection year holding the calendar and the helper macros.

    Opening a database costs more than everything else a small return needs, so sessions share
    it: each session keeps its tables in a schema of its own and drops it when done.
    """
    year = CollectionYear(year_name)
    # One thread per query: the tables are one or two row groups each, so a second thread inside a
    # query found little to share and mostly cost CPU time waiting (a fifth more CPU for the rules).
    # Sessions run independent queries side by side on cursors instead (Session.run_all).
    db = duckdb.connect(":memory:", config={"threads": 1})
    _create_calendar(db)
    _create_macros(db, year, dict(code_list_items))
    return db


def _create_calendar(db: duckdb.DuckDBPyConnection) -> None:
    """calendar(day, is_working, n): n counts working days from the table's first day."""
    first, last = calendar.FIRST_YEAR, calendar.LAST_YEAR
    db.register("raw_holidays", _holiday_table(first, last))
    db.execute(f"""
        CREATE TABLE calendar AS
        WITH days AS (
            SELECT CAST(d AS DATE) AS day FROM generate_series(DATE '{first}-01-01', DATE '{last}-12-31',
                                                              INTERVAL 1 DAY) g(d)),
        flagged AS (
            SELECT day, dayofweek(day) NOT IN (0, 6) AND day NOT IN (SELECT day FROM raw_holidays)
                   AS is_working FROM days)
        SELECT day, is_working, sum(CAST(is_working AS INTEGER)) OVER (ORDER BY day) AS n FROM flagged""")
    db.unregister("raw_holidays")


def _create_macros(db: duckdb.DuckDBPyConnection, year: CollectionYear, code_lists: dict[str, list[str]]) -> None:
    rd, ps = year.reference_date.isoformat(), year.period_start.isoformat()
    first, first_n, last, last_n = db.execute(
        "SELECT min(day), min_by(n, day), max(day), max_by(n, day) FROM calendar").fetchone()
    cases = " ".join(
        f"WHEN {_sql_literal(name)} THEN [{', '.join(_sql_literal(c) for c in codes)}]::VARCHAR[]"
        for name, codes in sorted(code_lists.items())
    )
    statements = [
        f"CREATE MACRO reference_date() AS DATE '{rd}'",
        f"CREATE MACRO period_start() AS DATE '{ps}'",
        "CREATE MACRO in_period(d) AS (d BETWEEN period_start() AND reference_date())",
        "CREATE MACRO outside_period(d) AS (d < period_start() OR d > reference_date())",
        "CREATE MACRO is_weekend(d) AS (dayofweek(d) IN (0, 6))",
        # An open record (no end date) runs to the ReferenceDate; an unusable end date stays NULL.
        "CREATE MACRO end_or_reference_date(end_text, end_date) AS "
        "(CASE WHEN end_text IS NULL THEN reference_date() ELSE end_date END)",
        # Inside the calendar table a day's running count is looked up; outside it (a mistyped year
        # such as 1023) it is extended by weekdays alone, so a far-off date still counts as far off.
        "CREATE MACRO weekday_index(d) AS (floor((d - DATE '1900-01-01') / 7) * 5 + "
        "least((d - DATE '1900-01-01') - floor((d - DATE '1900-01-01') / 7) * 7 + 1, 5))",
        f"CREATE MACRO working_day_number(d) AS (CASE "
        f"WHEN d < DATE '{first}' THEN {first_n} + weekday_index(d) - weekday_index(DATE '{first}') "
        f"WHEN d > DATE '{last}' THEN {last_n} + weekday_index(d) - weekday_index(DATE '{last}') "
        f"ELSE (SELECT n FROM main.calendar WHERE day = d) END)",
        "CREATE MACRO working_days(a, b) AS (working_day_number(b) - working_day_number(a))",
        "CREATE MACRO minus_working_days(d, k) AS (SELECT c.day FROM main.calendar c WHERE c.is_working AND "
        "c.n = (SELECT n FROM main.calendar WHERE day = d - 1) - k + 1)",
        "CREATE MACRO add_years(d, k) AS CAST(d + to_years(CAST(k AS INTEGER)) AS DATE)",
        "CREATE MACRO add_months(d, k) AS CAST(d + to_months(CAST(k AS INTEGER)) AS DATE)",
        f"CREATE MACRO code_list(name) AS CASE name {cases} END" if cases
        else "CREATE MACRO code_list(name) AS CAST([] AS VARCHAR[])",
        "CREATE MACRO is_code(x, name) AS list_contains(code_list(name), x)",
        # The UPN check letter (DfE method): characters 2-13 weighted by their position, a letter in
        # position 13 valued by its place in the alphabet without I, O and S; the sum modulo 23
        # picks the letter from that alphabet. NULL unless characters 2-13 are well formed.
        # The twelve products are written out rather than summed over a lambda: a lambda over a list
        # per row cost more than twice as much. The guard makes every cast below succeed; they are
        # TRY_CASTs all the same, because DuckDB may fold a constant argument through both branches.
        "CREATE MACRO upn_check_letter(u) AS (CASE WHEN regexp_full_match(u, '.[0-9]{11}[0-9A-HJ-NP-RT-Z]') "
        "THEN substr('ABCDEFGHJKLMNPQRTUVWXYZ', 1 + ("
        + " + ".join(f"{k} * TRY_CAST(substr(u, {k}, 1) AS INTEGER)" for k in range(2, 13))
        + " + 13 * CASE WHEN substr(u, 13, 1) BETWEEN '0' AND '9' THEN TRY_CAST(substr(u, 13, 1) AS INTEGER) "
        "ELSE strpos('ABCDEFGHJKLMNPQRTUVWXYZ', substr(u, 13, 1)) - 1 END) % 23, 1) END)",
    ]
    for statement in statements:
        db.execute(statement)


_session_numbers = itertools.count(1)

# Threads running a session's rules side by side: the machine's two cores.
WORKERS = 2


class Session:
    """One return loaded for querying, with the helpers of its collection year."""

    def __init__(self, year: CollectionYear, tables: dict[str, pa.Table], code_lists: dict[str, list[str]]):
        self.year = year
        items = tuple(sorted((name, tuple(codes)) for name, codes in code_lists.items()))
        self.db = _year_database(year.name, items).cursor()
        self.schema = f"return_{next(_session_numbers)}"
        self.db.execute(f"CREATE SCHEMA {self.schema}")
        self.db.execute(f"SET search_path = '{self.schema},main'")
        self._load_tables(tables)

    def close(self) -> None:
        """Drop this return's tables; the year's calendar and macros stay for the next session."""
        if self.db is not None:
            self.db.execute(f"DROP SCHEMA {self.schema} CASCADE")
            self.db.close()
            self.db = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _load_tables(self, tables: dict[str, pa.Table], prefix: str = "") -> None:
        # Each table is copied and typed on its own, so they are loaded side by side (an Arrow
        # table registered on a cursor is seen by that cursor only, so each load registers its own).
        def load(name: str, db: duckdb.DuckDBPyConnection) -> None:
            spec = SPECS[name]
            db.register(f"raw_{prefix}{name}", tables[name])
            typed = [f'{_typed(c.element, c.kind)} AS "{c.element}"' for c in spec.columns]
            derived = [f"{expr} AS {alias}" for alias, expr in _DERIVED.get(name, {}).items()]
            select = ", ".join(["*"] + typed + derived)
            db.execute(f"CREATE TABLE {self.schema}.{prefix}{name} AS SELECT {select} FROM raw_{prefix}{name}")
            db.unregister(f"raw_{prefix}{name}")

        # The largest first, so the two threads end at about the same time.
        self.map(load, sorted(SPECS, key=lambda name: -tables[name].num_rows))

    def add_previous(self, tables: dict[str, pa.Table]) -> None:
        """Load the previous year's return beside this one, as previous_children, previous_cin_details...

        Only indicators that compare two years read these tables; no rule does.
        """
        self._load_tables(tables, prefix="previous_")

    # -- queries -------------------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """Another connection to this session's tables, for running queries on another thread."""
        db = self.db.cursor()
        db.execute(f"SET search_path = '{self.schema},main'")
        return db

    def query(self, sql: str, params: list | None = None, db: duckdb.DuckDBPyConnection | None = None
              ) -> list[dict[str, Any]]:
        cursor = (db or self.db).execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def scalar(self, sql: str) -> Any:
        return self.db.execute(sql).fetchone()[0]

    def child_ids(self) -> dict[int, str | None]:
        return dict(self.db.execute("SELECT child_key, LAchildID_text FROM children").fetchall())

    def run(self, rule: Rule, db: duckdb.DuckDBPyConnection | None = None) -> list[Finding]:
        findings = []
        for part in rule.parts():
            findings += self._run_part(part, db)
        if len(rule.parts()) > 1:
            findings.sort(key=lambda f: (f.line if f.line is not None else -1, f.path or ""))
        return findings

    def run_all(self, rules: list[Rule]) -> list[list[Finding]]:
        """The findings of each rule, in the order of `rules`, as `run` gives them.

        The rules only read the tables, so they run on WORKERS threads, each with a cursor of its
        own; DuckDB lets go of the GIL while a query runs, so the threads keep both cores busy.
        The answers are put back in the rules' order, and the first failing rule (in that order)
        raises, as it would one after another.
        """
        return self.map(lambda rule, db: self.run(rule, db), rules)

    def map(self, work, items: list) -> list:
        """work(item, cursor) for every item, on WORKERS threads; the answers in the items' order."""
        items = list(items)
        if WORKERS < 2 or len(items) < 2:
            return [work(item, self.db) for item in items]
        local, cursors, lock = threading.local(), [], threading.Lock()

        def call(item):
            if not hasattr(local, "db"):
                local.db = self.cursor()
                with lock:
                    cursors.append(local.db)
            return work(item, local.db)

        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                return list(pool.map(call, items))
        finally:
            for db in cursors:
                db.close()

    def _run_part(self, rule: Rule, db: duckdb.DuckDBPyConnection | None = None) -> list[Finding]:
        compiled = compile_rule(rule)
        findings = []
        for row in self.query(compiled.sql, db=db):
            related = []
            seen = {(row["__line"], row["__path"])}
            for index in range(compiled.related_count):
                for item in (row[f"__rel{index}"] or [])[:MAX_RELATED]:
                    key = (item["line"], item["path"])
                    if key not in seen and item["line"] is not None:
                        seen.add(key)
                        related.append(Location(item["line"], item["path"]))
            values = {name: _plain(row[f"__v{i}"]) for i, name in enumerate(compiled.value_names)}
            findings.append(Finding(
                code=rule.code, severity=rule.severity, stage="rule", message=rule.message,
                line=row["__line"], path=row["__path"], child_id=row["__child_id"], values=values,
                related=sorted(related, key=lambda loc: (loc.line, loc.path)), provisional=rule.provisional,
            ))
        return findings


def _plain(value: Any) -> Any:
    """Values as JSON can carry them: dates as ISO text, decimals as floats."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return float(value)
    return value


@dataclass
class Compiled:
    sql: str
    value_names: list[str]
    related_count: int


def _relpath(table: str, element: str) -> str | None:
    for column in SPECS[table].columns:
        if column.element == element:
            return column.relpath
    for tag, relpath in SPECS[table].groups:
        if tag == element:
            return relpath
    return None


def _table_of(alias: str, rule: Rule) -> str | None:
    if alias in ("t", "p"):
        return None if rule.table == RETURN_TABLE else rule.table
    if alias == "header":
        return "header"
    return ALIAS_TABLES.get(alias)


def _element_location(alias: str, table: str, element: str) -> tuple[str, str]:
    """SQL for the (line, path) of an element of a row, or NULLs when it is absent."""
    relpath = _relpath(table, element)
    if relpath is None:
        raise ValueError(f"table {table} has no element {element}")
    if relpath == "":
        return f"{alias}.line", f"{alias}.path"
    return f'{alias}."{element}_line"', f"CASE WHEN {alias}.\"{element}_line\" IS NOT NULL THEN {alias}.path || '/{relpath}' END"


def _locate(rule: Rule) -> tuple[str, str]:
    """The finding's line and path: the first present element of `at`, else the row itself."""
    if rule.table == RETURN_TABLE:
        return "CAST(NULL AS BIGINT)", "CAST(NULL AS VARCHAR)"
    lines, paths = [], []
    for element in rule.at:
        line, path = _element_location("t", rule.table, element)
        lines.append(line)
        paths.append(path)
    return f"coalesce({', '.join(lines + ['t.line'])})", f"coalesce({', '.join(paths + ['t.path'])})"


# A finding names at most this many related records of one kind: a value shared by thousands of
# children (a placeholder UPN, say) must not make every finding carry thousands of others.
MAX_RELATED = 20


def _related_sql(rule: Rule, item: Related) -> str:
    struct = "{{'line': {0}, 'path': {1}}}"
    if item.element:
        alias, element = item.element.split(".", 1)
        table = _table_of(alias, rule)
        if table is None:
            raise ValueError(f"rule {rule.code}: related element {item.element} names no table")
        line, path = _element_location(alias, table, element)
        condition = f"{line} IS NOT NULL" + (f" AND ({item.when})" if item.when else "")
        return f"CASE WHEN {condition} THEN [{struct.format(line, path)}] END"
    if item.match:
        # Rows sharing t's value of one element, capped. Written as a subquery correlated by
        # equality, which DuckDB plans as one grouping over the distinct values of the rows that
        # fired: the cost grows with the rows, not with the square of the largest group, and the
        # values of rows that did not fire are never grouped (grouping every value of the table
        # first was most of the time of 1520 and 8510). A NULL value matches nothing, as before.
        line, path = _element_location("r", item.table, item.at) if item.at else ("r.line", "r.path")
        column = f'"{item.match}_text"'
        return (f"(SELECT list({struct.format(line, path)} ORDER BY r.id)[1:{MAX_RELATED + 1}] "
                f"FROM {item.table} r WHERE r.{column} = t.{column})")
    if item.same:
        correlation = f"r.{JOIN_KEYS[item.same]} = t.{JOIN_KEYS[item.same]}"
    else:  # records matched through `when` alone
        correlation = "TRUE"
    if item.at:
        line, path = _element_location("r", item.table, item.at)
        line, path = f"coalesce({line}, r.line)", f"coalesce({path}, r.path)"
    else:
        line, path = "r.line", "r.path"
    condition = f" AND ({item.when})" if item.when else ""
    return (f"(SELECT list({struct.format(line, path)} ORDER BY r.id) FROM {item.table} r "
            f"WHERE {correlation}{condition})")


def compile_rule(rule: Rule) -> Compiled:
    """Turn a rule into one SQL query returning one row per finding."""
    texts = [rule.raise_when] + [e for _, e in rule.values]
    texts += [part for item in rule.related for part in (item.when, item.element) if part]
    used = set(_ALIAS_USE.findall(" ".join(texts)))
    line, path = _locate(rule)

    value_names, value_sql = [], []
    table_keys = set(SPECS[rule.table].keys) if rule.table != RETURN_TABLE else set()
    for element in rule.reads:
        for alias in _VALUE_ORDER:
            table = _table_of(alias, rule)
            if table is None or (alias in ALIAS_TABLES and JOIN_KEYS[alias] not in table_keys):
                continue
            if alias in ALIAS_TABLES and ALIAS_TABLES[alias] == rule.table:
                continue
            if _relpath(table, element) is not None and any(c.element == element for c in SPECS[table].columns):
                value_names.append(element)
                value_sql.append(f'{alias}."{element}_text"')
                if alias != "t":
                    used.add(alias)
                break
    for name, expression in rule.values:
        value_names.append(name)
        value_sql.append(expression)

    related = [_related_sql(rule, item) for item in rule.related]
    if rule.partner:
        related.insert(0, "[{'line': p.line, 'path': p.path}]")

    if rule.table == RETURN_TABLE:
        lets = ", ".join(f"({expr}) AS {name}" for name, expr in rule.let) or "1 AS one"
        source = f"(SELECT {lets}) t"
        child = "CAST(NULL AS VARCHAR)"
        order = "1"
    else:
        source = f"{rule.table} t"
        joins = []
        for alias, table in ALIAS_TABLES.items():
            if alias in used:
                key = JOIN_KEYS[alias]
                if key not in table_keys:
                    raise ValueError(f"rule {rule.code}: table {rule.table} has no {alias} to join")
                joins.append(f"LEFT JOIN {table} {alias} ON {alias}.{key} = t.{key}")
        if "header" in used:
            joins.append("CROSS JOIN header")
        if rule.partner:
            key = JOIN_KEYS[rule.partner]
            joins.append(f"JOIN {rule.table} p ON p.{key} = t.{key} AND p.id <> t.id")
        if "child_key" in table_keys:
            joins.append("LEFT JOIN children __child ON __child.child_key = t.child_key")
            child = "__child.LAchildID_text"
        else:
            child = "CAST(NULL AS VARCHAR)"
        source = " ".join([source] + joins)
        order = "t.id" + (", p.id" if rule.partner else "")

    columns = [f"{line} AS __line", f"{path} AS __path", f"{child} AS __child_id"]
    columns += [f"{sql} AS __v{i}" for i, sql in enumerate(value_sql)]
    columns += [f"{sql} AS __rel{i}" for i, sql in enumerate(related)]
    sql = f"SELECT {', '.join(columns)} FROM {source} WHERE ({rule.raise_when}) ORDER BY {order}"
    return Compiled(sql, value_names, len(related))
