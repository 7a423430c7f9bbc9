"""Reading a return safely and settling its collection year.

The parser never expands entities, never loads a DTD and never touches the network: a return is
plain data and nothing in it may make the tool read another file or reach another machine.
Anything that stops the file being checked at all is raised as `InputError`, which the command
line turns into one line of text and exit code 2.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .years import CollectionYear, UnknownYear, parse_year, year_ending


class InputError(Exception):
    """The file cannot be checked at all (missing, unreadable, not XML, no year...)."""


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
    )


@dataclass
class Document:
    """A return and the collection year it will be checked against.

    A small return is parsed whole (`tree`); a large one is only opened (`path`): its Header has
    been read to settle the year, and the rest is streamed later.
    """

    name: str
    tree: etree._ElementTree | None
    year: CollectionYear
    year_source: str  # "option", "Year" or "ReferenceDate"
    header_year: str | None  # the Header's Year text as written, trimmed
    header_year_line: int | None = None
    path: Path | None = None

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()


def iterparse(path: Path, events=("start", "end"), tag=None):
    """An iterparse over the file with the same safe settings as the parser."""
    return etree.iterparse(
        str(path), events=events, tag=tag, resolve_entities=False, no_network=True, load_dtd=False,
        dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
    )


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a return file")
    if not path.is_file():
        raise InputError(f"{path}: is not a regular file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: cannot be read (permission denied)")


def parse(source: str | os.PathLike | bytes, name: str | None = None) -> tuple[str, etree._ElementTree]:
    """Parse a file path or raw bytes with the safe parser; raise InputError when not well-formed."""
    parser = safe_parser()
    if isinstance(source, bytes):
        name = name or "<bytes>"
        if not source.strip():
            raise InputError(f"{name}: the file is empty")
        try:
            root = etree.fromstring(source, parser)
        except etree.XMLSyntaxError as exc:
            raise InputError(syntax_message(name, exc)) from None
        tree = root.getroottree()
    else:
        path = Path(source)
        name = name or str(path)
        check_readable(path)
        try:
            if path.stat().st_size == 0:
                raise InputError(f"{name}: the file is empty")
            tree = etree.parse(str(path), parser)
        except etree.XMLSyntaxError as exc:
            raise InputError(syntax_message(name, exc)) from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(
            f"{name}: the file declares a DTD (<!DOCTYPE ...>); CIN census returns have none "
            "and cin-validate does not process them"
        )
    return name, tree


def syntax_message(name: str, exc: etree.XMLSyntaxError) -> str:
    line, column = exc.position if exc.position else (None, None)
    where = f" at line {line}, column {column}" if line else ""
    reason = (exc.msg or str(exc)).strip()
    # libxml2 appends its own "(file, line N)" to some messages; the location is given above.
    reason = reason.split(", line ")[0].rstrip(" (")
    if reason.endswith(f"(in {name}") or "(in " in reason:
        reason = reason.split(" (in ")[0]
    return f"{name}: not well-formed XML{where}: {reason}"


def _header_text(root: etree._Element, *steps: str) -> str | None:
    node = root
    for step in steps:
        node = node.find(step) if node is not None else None
    if node is None or node.text is None or not node.text.strip():
        return None
    return node.text.strip()


def detect_year(root: etree._Element, name: str, chosen: str | None) -> tuple[CollectionYear, str, str | None]:
    """Settle the collection year: the user's choice, else Header Year, else ReferenceDate."""
    if root.tag != "Message":
        raise InputError(
            f"{name}: the root element is <{root.tag}>, not <Message>: this is not a CIN census return"
        )
    header_year = _header_text(root, "Header", "CollectionDetails", "Year")
    if chosen:
        try:
            return parse_year(chosen), "option", header_year
        except UnknownYear as exc:
            raise InputError(str(exc)) from None
    if header_year and header_year.isdigit():
        year = year_ending(int(header_year))
        if year:
            return year, "Year", header_year
    reference = _header_text(root, "Header", "CollectionDetails", "ReferenceDate")
    if reference and len(reference) == 10 and reference.endswith("-03-31") and reference[:4].isdigit():
        year = year_ending(int(reference[:4]))
        if year:
            return year, "ReferenceDate", header_year
    found = []
    if header_year:
        found.append(f"Year '{header_year}'")
    if reference:
        found.append(f"ReferenceDate '{reference}'")
    detail = f" (the Header has {' and '.join(found)})" if found else " (the Header has no Year or ReferenceDate)"
    raise InputError(
        f"{name}: cannot determine the collection year{detail}; pass it with --year, "
        f"one of 2023-24, 2024-25, 2025-26, 2026-27"
    )


def load(source: str | os.PathLike | bytes, year: str | None = None, name: str | None = None) -> Document:
    """Parse a return and settle its collection year, or raise InputError."""
    name, tree = parse(source, name)
    root = tree.getroot()
    chosen, source_of_year, header_year = detect_year(root, name, year)
    element = root.find("Header/CollectionDetails/Year")
    return Document(name=name, tree=tree, year=chosen, year_source=source_of_year, header_year=header_year,
                    header_year_line=element.sourceline if element is not None else None)


def open_large(path: str | os.PathLike, year: str | None = None, name: str | None = None) -> Document:
    """Settle a large return's year from its Header alone, without reading the rest of the file.

    Reading stops at the end of the Header, or at the start of Children when there is none;
    the whole file is checked for well-formedness when it is streamed.
    """
    path = Path(path)
    name = name or str(path)
    check_readable(path)
    events = iterparse(path, tag=("Header", "Children"))
    root = None
    try:
        for event, element in events:
            root = element.getroottree().getroot()
            if (event == "end" and element.tag == "Header") or (event == "start" and element.tag == "Children"):
                break
        else:
            if root is None:  # neither element anywhere: the root tells what the file is
                root = events.root
    except etree.XMLSyntaxError as exc:
        raise InputError(syntax_message(name, exc)) from None
    if root is None:
        raise InputError(f"{name}: the file holds no XML element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InputError(
            f"{name}: the file declares a DTD (<!DOCTYPE ...>); CIN census returns have none "
            "and cin-validate does not process them"
        )
    chosen, source_of_year, header_year = detect_year(root, name, year)
    element = root.find("Header/CollectionDetails/Year")
    return Document(name=name, tree=None, year=chosen, year_source=source_of_year, header_year=header_year,
                    header_year_line=element.sourceline if element is not None else None, path=path)
