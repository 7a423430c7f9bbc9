"""The command line: parse options, check each file, render the report, exit 0, 1 or 2.

Exit codes: 0 no errors (queries allowed), 1 at least one error (or a query with --strict),
2 a file could not be checked or the command was wrong. Never a count.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .formats import BINARY_FORMATS, FORMATS, RENDERERS
from .load import InputError
from .explanations import ExplanationsError, load_explanations
from .pipeline import validate_many
from .settings import SettingsError, find_settings
from .rules import RuleFileError, load_ruleset
from .years import UnknownYear, parse_year

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help="Check a children in need census return before it is sent to DfE.")


def _fail(message: str) -> None:
    typer.echo(f"cin-validate: {message}", err=True)
    raise typer.Exit(2)


def _split_codes(values: Optional[List[str]]) -> tuple[str, ...]:
    codes = []
    for value in values or []:
        codes += [part.strip() for part in value.split(",") if part.strip()]
    return tuple(codes)


def write_atomically(path: Path, text: str | bytes, inputs: list[Path]) -> None:
    """Write the report next to its destination and move it into place, never over an input."""
    target = path.resolve()
    for source in inputs:
        if source.exists() and source.resolve() == target:
            _fail(f"refusing to write the report over the input file {source}")
    if target.is_dir():
        _fail(f"--output {path} is a directory")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".cin-validate-", dir=str(target.parent))
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        _fail(f"cannot write {path}: {exc.strerror or exc}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cin-validate {__version__}")
        raise typer.Exit(0)


@app.command()
def check(
    # readable=False: a file that cannot be read gets the one-line message of the checker, not a usage box.
    files: Optional[List[Path]] = typer.Argument(None, help="Return files (XML) to check.", show_default=False,
                                                 readable=False),
    year: Optional[str] = typer.Option(None, "--year", help="Collection year, e.g. 2025-26 (default: from the Header)."),
    output_format: Optional[str] = typer.Option(
        None, "--format", "-f", show_default=False,
        help=f"Output format: {', '.join(FORMATS)} (default: text; github inside GitHub Actions)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict", help="Unexplained queries fail the check too (exit 1).", show_default=False),
    fail_fast: Optional[bool] = typer.Option(None, "--fail-fast", help="Skip the DfE rules when the schema stage fails.", show_default=False),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Run only these rule codes or tags."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Do not run these rule codes or tags."),
    explanations: Optional[Path] = typer.Option(None, "--explanations", help="Reasons for queries that stay: a YAML file (code, child_id, record, reason) or a report workbook (.xlsx) with its Reason column filled in."),
    redact: Optional[bool] = typer.Option(None, "--redact", help="Keep UPNs and dates of birth, expected birth and death out of every output.", show_default=False),
    indicators: Optional[bool] = typer.Option(None, "--indicators/--no-indicators", help="Show the preview indicators (default: on).", show_default=False),
    previous: Optional[Path] = typer.Option(None, "--previous", help="Last year's return, for the indicators that span two years."),
    population: Optional[int] = typer.Option(None, "--population", help="Children aged 0-17 in the authority, for rates per 10,000."),
    explain: Optional[str] = typer.Option(None, "--explain", help="Explain a rule code and exit."),
    technical: bool = typer.Option(False, "--technical", help="With --explain: also show the rule's SQL condition."),
    list_rules: bool = typer.Option(False, "--list-rules", help="List the rules of a year (--year) and exit."),
    codes: Optional[str] = typer.Option(None, "--codes", help="List the valid codes of an element (e.g. Ethnicity) and exit."),
    colour: Optional[bool] = typer.Option(None, "--colour/--no-colour", help="Colour in the text report."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Check CIN census return files against the XSD and the DfE validation rules."""
    try:
        found = find_settings()
    except SettingsError as exc:
        _fail(str(exc))
    settings = found[1] if found else {}

    def setting(value, key, default):
        return value if value is not None else settings.get(key, default)

    output_format = setting(output_format, "format", None)
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    if output_format not in RENDERERS:
        _fail(f"unknown format '{output_format}'; choose one of {', '.join(FORMATS)}")
    year = setting(year, "year", None)
    try:
        chosen_year = parse_year(year).name if year else None
    except UnknownYear as exc:
        _fail(str(exc))
    if explain:
        from .ruledoc import explain as explain_rule

        try:
            typer.echo(explain_rule(explain, chosen_year, technical), nl=False)
        except KeyError as exc:
            detail = exc.args[0]
            _fail(detail if " " in str(detail) else f"no rule with code {detail}")
        raise typer.Exit(0)
    if codes:
        from .schema import codes_text

        try:
            typer.echo(codes_text(codes, chosen_year or "2025-26"), nl=False)
        except KeyError as exc:
            _fail(str(exc.args[0]))
        raise typer.Exit(0)
    if list_rules:
        from .ruledoc import list_rules as list_text

        typer.echo(list_text(load_ruleset(chosen_year or "2025-26")), nl=False)
        raise typer.Exit(0)
    if not files:
        _fail("no return file given; try 'cin-validate return.xml' or 'cin-validate --help'")
    if output_format in BINARY_FORMATS and output is None:
        _fail(f"--format {output_format} writes a file: give one with --output, e.g. -o report.{output_format}")
    strict = setting(strict, "strict", False)
    population = setting(population, "population", None)
    if population is not None and population <= 0:
        _fail("--population must be a whole number above 0")
    explanation_file = setting(explanations, "explanations", None)
    try:
        entries = load_explanations(explanation_file) if explanation_file else None
    except ExplanationsError as exc:
        _fail(str(exc))
    options = dict(
        year=chosen_year, select=_split_codes(select) or tuple(settings.get("select", ())),
        ignore=_split_codes(ignore) or tuple(settings.get("ignore", ())),
        fail_fast=setting(fail_fast, "fail_fast", False), indicators=setting(indicators, "indicators", True),
        previous=setting(previous, "previous", None), population=population, explanations=entries,
        redact=setting(redact, "redact", False),
    )
    try:
        outcomes = validate_many(list(files), **options)
    except RuleFileError as exc:
        _fail(f"a rule file is broken: {exc}")
    failures = [outcome for outcome in outcomes if isinstance(outcome, InputError)]
    reports = [outcome for outcome in outcomes if not isinstance(outcome, InputError)]
    for failure in failures:
        typer.echo(f"cin-validate: {failure}", err=True)
    if not reports:
        raise typer.Exit(2)
    use_colour = colour if colour is not None else (output is None and sys.stdout.isatty())
    render = RENDERERS[output_format]
    if output_format == "junit":  # under --strict a rule with queries fails its test case too
        from .formats import junit_format

        render = functools.partial(junit_format.render, strict=strict)
    text = render(reports, use_colour)
    if output:
        write_atomically(output, text, list(files))
    else:
        sys.stdout.write(text)
    raise typer.Exit(2 if failures else max(report.exit_code(strict) for report in reports))


def _glued_option_value(args: list[str]) -> str | None:
    """An argument such as "-o.xml" that reads as a short option with its value ("-o" ".xml") while a
    file of that very name exists: the file would silently not be checked."""
    command = typer.main.get_command(app)
    short = {opt for param in command.params if param.param_type_name == "option" and not param.is_flag
             for opt in param.opts if len(opt) == 2}
    for arg in args:
        if arg == "--":
            break
        if len(arg) > 2 and arg[:2] in short and os.path.lexists(arg):
            return (f"'{arg}' reads as the option {arg[:2]} with the value '{arg[2:]}', but it is also the name "
                    f"of a file; to check that file, put it after --: cin-validate -- {arg}")
    return None


synth_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                        help="Write a synthetic return: realistic, deterministic, no real person's data.")


@synth_app.command()
def synth(
    children: int = typer.Option(..., "--children", min=1, help="How many children."),
    seed: int = typer.Option(1, "--seed", help="Seed: the same seed gives the same file."),
    year: str = typer.Option("2025-26", "--year", help="Collection year."),
    error_rate: float = typer.Option(0.0, "--error-rate", min=0.0, max=1.0,
                                     help="Share of children given one deliberate breach (a manifest is written)."),
    output: Path = typer.Option(..., "--output", "-o", help="The return file to write."),
) -> None:
    """Write a synthetic CIN census return (clean unless --error-rate is given)."""
    from .synth import write

    try:
        chosen = parse_year(year).name
    except UnknownYear as exc:
        _fail(str(exc))
    if output.is_dir():
        _fail(f"--output {output} is a directory")
    manifest = write(output, children=children, seed=seed, year=chosen, error_rate=error_rate)
    typer.echo(f"wrote {output} ({children} children, {chosen}, seed {seed})"
               + (f" and its breaches in {manifest}" if manifest else ""))


def main() -> None:
    try:
        if sys.argv[1:2] == ["synth"]:  # the one subcommand; everything else is a check of files
            code = synth_app(args=sys.argv[2:], prog_name="cin-validate synth", standalone_mode=False)
        else:
            glued = _glued_option_value(sys.argv[1:])
            if glued:
                typer.echo(f"cin-validate: {glued}", err=True)
                sys.exit(2)
            code = app(standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: one line, as for any file that cannot be checked
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        typer.echo(f"cin-validate: {' '.join(message.split())} (see cin-validate --help)", err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug must still end in one line, not a traceback
        typer.echo(f"cin-validate: internal error, the file could not be checked: {type(exc).__name__}: {exc}",
                   err=True)
        sys.exit(2)
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
