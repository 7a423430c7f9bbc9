"""Reading a return safely and settling its collection year.

The parser never expands entities, never loads a DTD and never touches the network: a return is
plain data and nothing in it may make the tool read another file or reach another machine.
Anything that stops the file being checked at all is raised as `InputError`, which the command
line turns into one line of text and exit code 2.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .years import CollectionYear, UnknownYear, parse_year, year_ending


class InputError(Exception):
    """The file cannot be checked at all (missing, unreadable, not XML, no year...)."""


# collect_ids stays at its default (True) everywhere: with libxml2 2.14, switching ID collection off
# makes the parser read a document's external DTD (a `<!DOCTYPE Message SYSTEM "file">`) and
# external parameter entities, even with load_dtd=False.
SAFE_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def safe_parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_OPTIONS)


class _RefuseExternal(etree.Resolver):
    """Answers every request for another file or URL (DTD, entity) with nothing, before libxml2's
    own loader or its catalogs are asked. Only for parsers given the document's bytes or stream,
    which never ask for the document itself."""

    def resolve(self, url, pubid, context):
        return self.resolve_string("", context)


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


def iterparse(source, events=("start", "end"), tag=None):
    """An iterparse over a file (path or binary stream) with the same safe settings as the parser."""
    events = etree.iterparse(
        str(source) if isinstance(source, os.PathLike) else source, events=events, tag=tag, **SAFE_OPTIONS,
    )
    events.resolvers.add(_RefuseExternal())
    return events


_HEAD = 4096  # bytes read to tell what kind of file it is before it is parsed


def check_readable(path: Path) -> None:
    """Raise InputError unless `path` is a regular file this process can open, holding something
    that may be XML (not empty, not compressed, not binary)."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a directory, not a return file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: is not a regular file")
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError:  # a name Python cannot pass to the system, e.g. with a NUL character
        raise InputError(f"{path}: no such file") from None
    _check_head(head, str(path), whole=info.st_size <= len(head))


# The first bytes of files that are not XML but are sometimes sent instead of a return. libxml2
# would silently decompress a gzip file when parsing by name (a small file could unpack to
# gigabytes), so compressed files are refused here rather than left to the parser.
_NOT_XML = (
    (b"\x1f\x8b", "is gzip-compressed; decompress it and check the XML file inside"),
    (b"PK\x03\x04", "is a ZIP archive (or an Excel or Word file), not an XML return"),
    (b"%PDF", "is a PDF document, not an XML return"),
)
# XML in UTF-16 or UTF-32 has NUL bytes, with or without a byte order mark; anything else with
# a NUL byte near the start is binary data.
_WIDE_STARTS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00\x00<", b"<\x00\x00\x00")


def _check_head(head: bytes, name: str, whole: bool) -> None:
    if whole and not head.strip():
        raise InputError(f"{name}: the file is empty" + (" (it holds only blank space)" if head else ""))
    for magic, what in _NOT_XML:
        if head.startswith(magic):
            raise InputError(f"{name}: the file {what}")
    if b"\x00" in head and not head.startswith(_WIDE_STARTS):
        raise InputError(f"{name}: the file holds binary data, not XML text")


def _refuse_dtd(source, name: str) -> None:
    """Read up to the root element and refuse a DTD there, before any of the document is parsed:
    its entities (billion laughs, external files) are never looked at."""
    events = iterparse(source, events=("start",))
    try:
        for _event, element in events:
            docinfo = element.getroottree().docinfo
            if docinfo.doctype or docinfo.internalDTD is not None:
                raise InputError(DTD_MESSAGE.format(name=name))
            break
    except etree.XMLSyntaxError as exc:
        raise InputError(syntax_message(name, exc)) from None


DTD_MESSAGE = ("{name}: the file declares a DTD (<!DOCTYPE ...>); CIN census returns have none "
               "and cin-validate does not process them")


def parse(source: str | os.PathLike | bytes, name: str | None = None) -> tuple[str, etree._ElementTree]:
    """Parse a file path or raw bytes with the safe parser; raise InputError when not well-formed."""
    if isinstance(source, bytes):
        name = name or "<bytes>"
        data = source
    else:
        # The bytes are read here and parsed from memory: libxml2 then reports an encoding error
        # with its line and column (parsing by name it raises a bare OSError), never decompresses
        # the file and never asks for the document through a resolver.
        path = Path(source)
        name = name or str(path)
        check_readable(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    _check_head(data[:_HEAD], name, whole=len(data) <= _HEAD)
    _refuse_dtd(io.BytesIO(data), name)
    parser = safe_parser()
    parser.resolvers.add(_RefuseExternal())
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(syntax_message(name, exc)) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InputError(DTD_MESSAGE.format(name=name))
    return name, tree


# libxml2's words for its safety limits name its own options and functions; say what was found.
_REASONS = (
    (re.compile(r"^Excessive depth in document: (\d+).*", re.S), r"elements are nested more than \1 deep"),
    (re.compile(r"^Resource limit exceeded: Text node too long.*", re.S),
     "a text value is longer than 10,000,000 characters"),
    (re.compile(r"^Maximum entity amplification factor exceeded.*", re.S), "entities expand to too much text"),
    (re.compile(r"^Invalid bytes in character encoding.*", re.S),
     "bytes that are not valid in the file's encoding (UTF-8 unless the XML declaration names another)"),
    (re.compile(r",? ?(?:(?:try|use) XML_PARSE_HUGE(?: option)?|see xmlCtxtSetMaxAmplification)\.?"), ""),
)


def syntax_message(name: str, exc: etree.XMLSyntaxError) -> str:
    line, column = exc.position if exc.position else (None, None)
    where = f" at line {line}, column {column}" if line else ""
    reason = (exc.msg or str(exc)).strip()
    # libxml2 appends its own "(file, line N)" to some messages; the location is given above.
    reason = reason.split(", line ")[0].rstrip(" (")
    if reason.endswith(f"(in {name}") or "(in " in reason:
        reason = reason.split(" (in ")[0]
    for pattern, words in _REASONS:
        reason = pattern.sub(words, reason)
    reason = " ".join(reason.split())
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
    _refuse_dtd(path, name)
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
        raise InputError(DTD_MESSAGE.format(name=name))
    chosen, source_of_year, header_year = detect_year(root, name, year)
    element = root.find("Header/CollectionDetails/Year")
    return Document(name=name, tree=None, year=chosen, year_source=source_of_year, header_year=header_year,
                    header_year_line=element.sourceline if element is not None else None, path=path)
