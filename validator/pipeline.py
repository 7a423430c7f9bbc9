"""One return, start to finish: load, schema, tables, rules, one report."""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lxml import etree

from . import __version__
from .explanations import Explanation, load_explanations
from .explanations import apply as apply_explanations
from .privacy import redact
from .load import Document, InputError, check_readable, iterparse, load, open_large, syntax_message
from .report import ERROR, Finding, Report
from .rules import Rule, Ruleset, load_ruleset
from .schema import code_lists, help_validate, set_share, validate_file, validate_tree
from .tables import extract, read_bytes, stream

YEAR_CODE = "YEAR"  # the team's own code for a Header Year that disagrees with the chosen year


@dataclass(frozen=True)
class Options:
    year: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_fast: bool = False
    schema: bool = True  # the rule examples switch the schema stage off to test one rule alone
    indicators: bool = False
    previous: str | None = None  # the previous year's return, for the across-returns indicators
    population: int | None = None
    explanations: tuple[Explanation, ...] = ()
    redact: bool = False
    workers: bool = True  # may a large return use a second process for the schema stage


def selected_rules(ruleset: Ruleset, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules to run: all of the year's, or those selected, less those ignored (by code or tag)."""
    wanted, unwanted = {s.upper() for s in select}, {s.upper() for s in ignore}

    def named(rule: Rule, names: set[str]) -> bool:
        return rule.code.upper() in names or any(tag.upper() in names for tag in rule.tags)

    return [
        rule for rule in ruleset.rules.values()
        if (not wanted or named(rule, wanted)) and not named(rule, unwanted)
    ]


def header_findings(document: Document) -> list[Finding]:
    """A Header Year that disagrees with the year chosen on the command line (README section 2)."""
    expected = str(document.year.end_year)
    if document.year_source == "option" and document.header_year and document.header_year != expected:
        return [Finding(
            code=YEAR_CODE, severity=ERROR, stage="header",
            message=(f"The Header Year is {document.header_year}, but the return is being checked as "
                     f"{document.year.name}, whose Year is {expected}."),
            line=document.header_year_line,
            path="/Message/Header/CollectionDetails/Year", values={"Year": document.header_year},
        )]
    return []


def year_code_lists(document_year: str) -> dict[str, list[str]]:
    """The code lists rules may name: the year's XSD enumerations and the ruleset's own lists."""
    lists = {name: list(code_list.codes) for name, code_list in code_lists(document_year).items()}
    lists.update(load_ruleset(document_year).code_lists)
    return lists


_CHILD_STEP = re.compile(r"^/Message/Children/Child\[(\d+)\]")


def fold_schema_findings(findings: list[Finding], rules: dict[str, Rule]) -> list[Finding]:
    """Show one finding per problem: a schema breach that a DfE rule also reports on the same element.

    The rule finding carries the DfE code, so it stays and takes the schema message as a detail.
    A breach folds only into a rule that declares it reports that element (`folds` in its file) and
    fired on that element instance, or on the element holding it (a missing element is reported on
    its parent).
    """
    places: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        if finding.stage != "rule" or not finding.path:
            continue
        paths = [finding.path, *(loc.path for loc in finding.related if loc.path)]
        for path in paths:
            for element in rules[finding.code].folds:
                places.setdefault((path, element), finding)
                places.setdefault((path.rsplit("/", 1)[0], element), finding)
    kept = []
    for finding in findings:
        target = None
        if finding.stage == "schema" and finding.path:
            parent = finding.path.rsplit("/", 1)[0]
            for element in finding.candidates:
                target = places.get((finding.path, element)) or places.get((parent, element))
                if target:
                    break
        if target is None:
            kept.append(finding)
        else:
            target.details.append(f"schema: {finding.message} (line {finding.line})")
    return kept


def check_document(document: Document, options: Options = Options()) -> Report:
    """Check a return parsed whole (small returns, bytes, rule examples)."""
    tables = extract(document.root)
    schema_findings = validate_tree(document.tree, document.year, consume=True) if options.schema else []
    return _report(document, tables, schema_findings, options)


def check_large(document: Document, options: Options = Options()) -> Report:
    """Check a large return with both cores: a worker process parses the file with libxml2 (the
    well-formedness check of record) and validates it against the XSD, while this process reads
    the file into tables and runs the rules."""
    if not options.workers:
        schema_findings = validate_file(str(document.path), document.year.name, document.name, options.schema)
        return _report(document, read_tables(document, parsed=True), schema_findings, options)
    context = multiprocessing.get_context("spawn")
    share = context.Array("i", 4)  # runs of a broken return shared with the worker (schema.help_validate)
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=set_share, initargs=(share,)) as pool:
        pending = pool.submit(validate_file, str(document.path), document.year.name, document.name, options.schema)
        try:
            tables = read_tables(document, parsed=True)
        except InputError:
            pending.cancel()
            raise
        return _report(document, tables, None, options, pending, share)


def read_tables(document: Document, parsed: bool = False):
    """The tables of a return: from its tree when parsed whole, else read from its file.

    A file is read by the compiled reader when it is built and takes the file; `parsed` says the
    caller has libxml2 parse the file as well, since that reader does not check well-formedness.
    Otherwise (or when the compiled reader declines) the file is streamed through lxml.
    """
    if document.tree is not None:
        return extract(document.root)
    if not parsed:
        validate_file(str(document.path), document.year.name, document.name, validate=False)
    tables = read_bytes(document.path.read_bytes())
    if tables is not None:
        return tables
    try:
        return stream(iterparse(document.path, tag=("Header", "Children", "Child")))
    except etree.XMLSyntaxError as exc:
        raise InputError(syntax_message(document.name, exc)) from None


def open_return(source: str | os.PathLike | bytes, year: str | None = None, name: str | None = None) -> Document:
    """A small return parsed whole, a large one opened for streaming."""
    if not isinstance(source, bytes):
        check_readable(Path(source))
        if Path(source).stat().st_size >= LARGE_FILE:
            return open_large(source, year=year, name=name)
    return load(source, year=year, name=name)


# The query engine and the indicators (DuckDB) are imported where they are first used: a large
# return starts its schema worker first, so the worker is busy while they load.


def _add_previous(session, current: Document, path: str):
    """Load last year's return beside this one; its year and tables, for its own headline figures."""
    from .indicators import previous_year_problem

    previous = open_return(path, name=f"{path} (previous return)")
    problem = previous_year_problem(current.year, previous.year)
    if problem:
        raise InputError(f"{previous.name}: {problem}")
    tables = read_tables(previous)
    session.add_previous(tables)
    return previous.year, tables


def _last_year_figures(year, tables) -> dict:
    """Last year's return's own indicators, by the same definitions (shown beside this year's)."""
    from . import indicators
    from .engine import Session

    with Session(year, tables, year_code_lists(year.name)) as session:
        return indicators.compute(session)


def _report(document: Document, tables, schema_findings, options: Options, pending=None, share=None) -> Report:
    from . import indicators
    from .engine import Session

    findings = header_findings(document)
    year = document.year
    ruleset = load_ruleset(year.name)
    rules = selected_rules(ruleset, options.select, options.ignore)
    with Session(year, tables, year_code_lists(year.name)) as session:
        tables.clear()  # the session holds its own copy; the Arrow columns can go
        if pending is not None and options.fail_fast:  # the rules run only if the schema stage passes
            schema_findings, pending = pending.result(), None
        if options.fail_fast and schema_findings:
            rules = []
        for rule_findings in session.run_all(rules):
            findings += rule_findings
        figures = None
        if options.indicators:
            last_year = _add_previous(session, document, options.previous) if options.previous else None
            figures = indicators.compute(session, population=options.population, previous=bool(options.previous))
            if last_year is not None:
                indicators.add_last_year(figures, _last_year_figures(*last_year))
        if pending is not None:
            # Collected last, so the rules and indicators run while the worker validates; a file
            # that is not well-formed raises InputError here, whatever the tables held. A broken
            # return's runs of children still waiting are validated here meanwhile.
            helped = help_validate(str(document.path), year.name, share) if share is not None else []
            try:
                schema_findings = pending.result() + helped
            except BrokenProcessPool:
                # The worker could not start or died: a host program whose main module cannot be
                # imported again (a script read from standard input), or a process killed for
                # memory. Its work is done here instead, all of it.
                schema_findings = validate_file(str(document.path), year.name, document.name, options.schema)
        schema_findings = schema_findings or []
        if schema_findings:
            child_ids = session.child_ids()
            for finding in schema_findings:
                match = _CHILD_STEP.match(finding.path or "")
                if match:
                    finding.child_id = child_ids.get(int(match.group(1)))
    findings += schema_findings
    if schema_findings and rules:
        findings = fold_schema_findings(findings, {rule.code: rule for rule in rules})
    findings.sort(key=Finding.sort_key)
    report = Report(
        file=document.name, collection_year=year.name, findings=findings,
        rules_run=[rule.code for rule in rules], tool_version=__version__, indicators=figures,
    )
    if options.explanations:
        apply_explanations(report, list(options.explanations))
    if options.redact:
        redact(report)
    return report


# Files from this size on are checked with two processes; below it one parse serves both stages.
LARGE_FILE = 8 * 1024 * 1024


def validate(source: str | os.PathLike | bytes, year: str | None = None, *, select: Iterable[str] = (),
             ignore: Iterable[str] = (), fail_fast: bool = False, name: str | None = None,
             indicators: bool = True, previous: str | os.PathLike | None = None, population: int | None = None,
             explanations: str | os.PathLike | Iterable[Explanation] | None = None, redact: bool = False,
             workers: bool = True) -> Report:
    """Check one return (a path, or the bytes of one) and return the report.

    year: the collection year ("2025-26"); by default it is read from the Header.
    select / ignore: rule codes (or tags) to run only, or to leave out.
    indicators: compute the preview indicators (previous: last year's return, for the figures that
    span two years; population: children aged 0-17, for rates per 10,000).
    explanations: a YAML file (or entries) giving reasons for queries that stay.
    redact: keep UPNs and dates of birth, expected birth and death out of the report.
    Raises `validator.load.InputError` when the file cannot be checked at all.
    """
    if explanations is not None and not isinstance(explanations, (list, tuple)):
        explanations = load_explanations(explanations)
    options = Options(year=year, select=tuple(select), ignore=tuple(ignore), fail_fast=fail_fast,
                      indicators=indicators, previous=str(previous) if previous else None, population=population,
                      explanations=tuple(explanations or ()), redact=redact, workers=workers)
    document = open_return(source, year=year, name=name)
    if document.tree is None:
        return check_large(document, options)
    return check_document(document, options)


def validate_many(paths: list[str | os.PathLike], **options) -> list[Report | InputError]:
    """Check several returns in parallel processes, one report (or input error) per file, in order."""
    if len(paths) == 1:
        return [_validate_or_error(paths[0], options)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1), mp_context=context) as pool:
        futures = [pool.submit(_validate_or_error, path, {**options, "workers": False}) for path in paths]
        return [future.result() for future in futures]


def _validate_or_error(path, options: dict) -> Report | InputError:
    try:
        return validate(path, **options)
    except InputError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - one file's failure must not hide the other files' reports
        return InputError(f"{path}: internal error, the file could not be checked: {type(exc).__name__}: {exc}")
