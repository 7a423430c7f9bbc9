"""The schema stage: the return against its year's XSD, breaches in words a data officer reads.

Validation itself runs in libxml2 (lxml's XMLSchema). Each breach becomes a finding with code
SCHEMA, the line libxml2 reports and a positional path in the same form the tables use, so a
schema finding and a rule finding about the same element point at the same place.
"""

from __future__ import annotations

import bisect
import copy
import io
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from lxml import etree

from .paths import schemas_dir
from .report import ERROR, Finding
from .tables import TREE, Node, GcPaused
from .years import CollectionYear

XS = "{http://www.w3.org/2001/XMLSchema}"


def schema_path(year: CollectionYear) -> Path:
    return schemas_dir() / f"cin-{year.name}.xsd"


@lru_cache(maxsize=None)
def xml_schema(year_name: str) -> etree.XMLSchema:
    path = schema_path(CollectionYear(year_name))
    return etree.XMLSchema(etree.parse(str(path)))


@dataclass(frozen=True)
class CodeList:
    name: str  # the XSD type name, e.g. EthnicityCode
    codes: tuple[str, ...]
    labels: dict[str, str]


@lru_cache(maxsize=None)
def code_lists(year_name: str) -> dict[str, CodeList]:
    """Every enumerated simple type of the year's XSD, with the label documented on each code."""
    document = etree.parse(str(schema_path(CollectionYear(year_name))))
    lists = {}
    for simple in document.getroot().iter(f"{XS}simpleType"):
        name = simple.get("name")
        enumerations = simple.findall(f"{XS}restriction/{XS}enumeration")
        if not name or not enumerations:
            continue
        codes, labels = [], {}
        for enumeration in enumerations:
            code = enumeration.get("value")
            codes.append(code)
            label = enumeration.findtext(f"{XS}annotation/{XS}documentation")
            if label:
                labels[code] = " ".join(label.split())
        lists[name] = CodeList(name, tuple(codes), labels)
    return lists


def codes_text(name: str, year_name: str) -> str:
    """The valid codes of an element (or of a code list by its type name), with their labels."""
    lists = code_lists(year_name)
    type_name = element_types(year_name).get(name, name)
    if type_name not in lists:
        with_codes = sorted(e for e, t in element_types(year_name).items() if t in lists)
        raise KeyError(f"no code list for '{name}' in {year_name}; elements with codes: {', '.join(with_codes)}")
    code_list = lists[type_name]
    lines = [f"{name} codes in {year_name}:"]
    lines += [f"  {code:<6} {code_list.labels.get(code, '')}".rstrip() for code in code_list.codes]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=None)
def element_names(year_name: str) -> frozenset[str]:
    """Every element name the year's XSD declares."""
    document = etree.parse(str(schema_path(CollectionYear(year_name))))
    return frozenset(el.get("name") for el in document.getroot().iter(f"{XS}element") if el.get("name"))


@lru_cache(maxsize=None)
def element_types(year_name: str) -> dict[str, str]:
    """Element name -> declared type name (the first declaration wins; names are unique here)."""
    document = etree.parse(str(schema_path(CollectionYear(year_name))))
    types = {}
    for element in document.getroot().iter(f"{XS}element"):
        if element.get("name") and element.get("type"):
            types.setdefault(element.get("name"), element.get("type"))
    return types


def _all_year_names() -> tuple[str, ...]:
    from .years import SUPPORTED

    return SUPPORTED


def _repeating_tags(node: Node = TREE) -> set[str]:
    tags = {node.tag} if node.repeats else set()
    for child in node.children:
        tags |= _repeating_tags(child)
    return tags


REPEATING = frozenset(_repeating_tags())
_STEP = re.compile(r"^([A-Za-z_][\w.-]*)(\[\d+\])?$")


def normalise_path(path: str | None) -> str | None:
    """libxml2 omits [1] for an only child; the tables always index repeating elements."""
    if not path:
        return path
    steps = []
    for step in path.split("/"):
        match = _STEP.match(step)
        if match and match.group(1) in REPEATING and not match.group(2):
            step = f"{step}[1]"
        steps.append(step)
    return "/".join(steps)


# -- plain-English messages ---------------------------------------------------------------------

_TYPE_WORDS = {
    "xs:date": "a date written YYYY-MM-DD",
    "xs:boolean": "true, false, 1 or 0 (in lower case)",
    "xs:gYear": "a four-digit year",
    "xs:nonNegativeInteger": "a whole number of 0 or more",
    "xs:dateTime": "a date and time written YYYY-MM-DDThh:mm:ss",
    "xs:integer": "a whole number",
}


def _expected_list(text: str) -> str:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


class Explainer:
    """Turns libxml2's validation messages into sentences, using the year's code lists."""

    def __init__(self, year: CollectionYear):
        self.year = year
        self.lists = code_lists(year.name)
        self.types = element_types(year.name)
        self.names = element_names(year.name)
        self._said: dict[tuple[str, str | None], tuple[str, dict[str, str]]] = {}

    def _out_of_place(self, element: str, expected: str | None) -> str:
        if element not in self.names:
            other = [name for name in _all_year_names() if element in element_names(name)]
            where = f" (it belongs to {', '.join(other)})" if other else ""
            return f"{element} is not part of the {self.year.name} return{where}."
        if expected:
            return f"{element} is out of place; at this point the return expects {_expected_list(expected)}."
        return f"{element} is out of place: nothing more is expected at this point."

    def _codes_phrase(self, element: str) -> str:
        code_list = self.lists.get(self.types.get(element, ""))
        if code_list is None:
            return "one of the allowed values"
        if len(code_list.codes) <= 12:
            return "one of " + ", ".join(code_list.codes)
        return f"one of the {len(code_list.codes)} codes of the {element} list (see cin-validate --codes {element} --year {self.year.name})"

    def explain(self, message: str, value: str | None = None) -> tuple[str, dict[str, str]]:
        """A sentence and the values it concerns, from one libxml2 message.

        `value` is the element's text, for the messages in which libxml2 leaves it out.
        """
        # A broken return repeats the same few messages thousands of times: each is worded once.
        key = (message, value)
        if key not in self._said:
            self._said[key] = self._explain(message, value)
        sentence, values = self._said[key]
        return sentence, dict(values)

    def _explain(self, message: str, value: str | None) -> tuple[str, dict[str, str]]:
        message = message.strip()
        element = None
        head = re.match(r"^Element '([^']+)'(?:, attribute '([^']+)')?: (.*)$", message, re.S)
        if head:
            element, attribute, rest = head.groups()
            if attribute:
                return f"{element} has an attribute '{attribute}', which the return does not use.", {}
        else:
            rest = message
        rest = rest.strip()

        match = re.match(r"This element is not expected\.(?: Expected is (?:one of )?\( (.*) \)\.)?", rest)
        if match:
            return self._out_of_place(element, match.group(1)), {}
        match = re.match(r"Missing child element\(s\)\. Expected is (?:one of )?\( (.*) \)\.", rest)
        if match:
            return f"{element} is missing a required element: {_expected_list(match.group(1))}.", {}
        match = re.match(r"\[facet 'enumeration'\] The value '(.*)' is not an element of the set \{.*\}\.", rest, re.S)
        if match:
            value = match.group(1)
            return f"{element} has '{value}', which is not a valid code: expected {self._codes_phrase(element)}.", {element: value}
        match = re.match(r"'(.*)' is not a valid value of the (?:local )?(?:atomic|union|list) type '([^']+)'\.", rest, re.S)
        if match:
            value, type_name = match.groups()
            wanted = _TYPE_WORDS.get(type_name)
            if wanted:
                return f"{element} has '{value}', which is not {wanted}.", {element: value}
            return f"{element} has '{value}', which is not a valid value for it.", {element: value}
        match = re.match(r"\[facet 'length'\] The value (?:'(.*)' )?has a length of '(\d+)'; this differs from the allowed length of '(\d+)'\.", rest, re.S)
        if match:
            quoted, actual, wanted = match.groups()
            value = quoted if quoted is not None else value
            shown = f" '{value}'" if value is not None else ""
            return (f"{element}{shown} has {actual} characters; it must have exactly {wanted}.",
                    {element: value} if value is not None else {})
        match = re.match(r"\[facet 'pattern'\] The value '(.*)' is not accepted by the pattern '(.*)'\.", rest, re.S)
        if match:
            value, pattern = match.groups()
            return f"{element} has '{value}', which is not in the expected form ({pattern}).", {element: value}
        match = re.match(r"The value '(.*)' does not match the fixed value constraint '(.*)'\.", rest, re.S)
        if match:
            return f"{element} must be '{match.group(2)}', not '{match.group(1)}'.", {element: match.group(1)}
        if rest.startswith("Character content other than whitespace is not allowed"):
            return f"{element} holds text, but it should only contain other elements.", {}
        if rest.startswith("Element content is not allowed, because the content type is a simple type"):
            return f"{element} should hold a single value, not other elements.", {}
        if rest.startswith("No matching global declaration available for the validation root"):
            return f"The root element {element} is not a CIN census Message.", {}
        where = f"{element}: " if element else ""
        return f"{where}{rest}", {}


@lru_cache(maxsize=None)
def _explainer(year_name: str) -> Explainer:
    return Explainer(CollectionYear(year_name))


@lru_cache(maxsize=4096)
def _subjects(message: str) -> tuple[str, ...]:
    """The elements a breach may be about: a missing element is named only among those expected."""
    names = []
    head = re.match(r"^Element '([^']+)'", message)
    expected = re.search(r"Expected is (?:one of )?\( ([^)]*) \)", message)
    if "Missing child element" in message and expected:
        names += [name.strip() for name in expected.group(1).split(",")]
    elif head:
        names.append(head.group(1))
        if expected:
            names += [name.strip() for name in expected.group(1).split(",")]
    return tuple(dict.fromkeys(name for name in names if name))


CHUNK = 500  # children validated together when a large return is validated in parts
_CHILD_INDEX = re.compile(r"^/Message/Children/([A-Za-z_][\w.-]*)(?:\[(\d+)\])?")


class _Chunks:
    """Validates a return of the usual shape (Message: Header, Children) a run of children at a time.

    Each run is moved into a small document of its own with a copy of the Header; lines stay
    those of the file and paths are renumbered to the whole return. The Header's own breaches are
    kept from the first run only.
    """

    def __init__(self, year: CollectionYear, header: etree._Element):
        self.year, self.header = year, header
        self.findings: list[Finding] = []
        self.seen: dict[str, int] = {}  # elements of each name in Children before this run
        self.first = True

    def add(self, members: list[etree._Element]) -> None:
        offsets = dict(self.seen)
        document = etree.Element("Message")
        document.append(copy.deepcopy(self.header))
        holder = etree.SubElement(document, "Children")
        for element in members:
            holder.append(element)  # moves the element: no copy of the return is made
            if isinstance(element.tag, str):
                self.seen[element.tag] = self.seen.get(element.tag, 0) + 1
        entries = _validate(document.getroottree(), self.year)
        if not self.first:  # the Header was already checked with the first run
            entries = [e for e in entries if (e.path or "").startswith("/Message/Children/")]
        self.first = False
        self.findings += _findings(document.getroottree(), self.year, entries, offsets)


def _usual(root: etree._Element) -> bool:
    return root.tag == "Message" and [el.tag for el in root] == ["Header", "Children"]


def validate_tree(tree: etree._ElementTree, year: CollectionYear, consume: bool = False) -> list[Finding]:
    """Schema findings for a parsed return, in document order.

    libxml2 spends time in proportion to an element's position among its siblings to locate each
    breach, so a return with tens of thousands of children and thousands of breaches would take
    minutes. With `consume`, a large return of the usual shape is validated CHUNK children at a
    time instead, the children being moved out of `tree` (which is unusable afterwards).
    """
    root = tree.getroot()
    if not consume or not _usual(root) or len(root[1]) <= CHUNK:
        return _findings(tree, year, _validate(tree, year), offsets=None)
    header, children = root
    members = list(children)
    chunks = _Chunks(year, header)
    for start in range(0, len(members), CHUNK):
        chunks.add(members[start:start + CHUNK])
    return chunks.findings


def _validate(tree: etree._ElementTree, year: CollectionYear) -> list:
    schema = xml_schema(year.name)
    return [] if schema.validate(tree) else list(schema.error_log)


def _renumber(path: str | None, offsets: dict[str, int] | None) -> str | None:
    """A path inside a chunk, as it reads in the whole return."""
    if not path or offsets is None:
        return path
    match = _CHILD_INDEX.match(path)
    if not match:
        return path
    tag, index = match.group(1), int(match.group(2) or 1)
    return f"/Message/Children/{tag}[{index + offsets.get(tag, 0)}]" + path[match.end():]


def _findings(tree, year: CollectionYear, entries: list, offsets: dict[str, int] | None) -> list[Finding]:
    if not entries:
        return []
    explainer = _explainer(year.name)
    findings = []
    for entry in entries:
        value = None
        if "has a length of" in entry.message and entry.path:
            # libxml2 leaves the value out of this message; read it from the element itself.
            nodes = tree.xpath(entry.path)
            if nodes and isinstance(nodes[0], etree._Element) and nodes[0].text is not None:
                value = nodes[0].text.strip()
        message, values = explainer.explain(entry.message, value)
        candidates = _subjects(entry.message)
        if candidates and candidates[0] not in explainer.names:
            # An element from another year is a breach of its own (e.g. GenderCurrent in 2024-25),
            # even where a rule reports the element expected in its place.
            candidates = candidates[:1]
        path = normalise_path(entry.path)
        findings.append(Finding(
            code="SCHEMA", severity=ERROR, stage="schema", message=message,
            line=entry.line or None, path=_renumber(path, offsets), values=values,
            element=(candidates or (None,))[0], candidates=candidates,
        ))
    return findings


class _NoTree:
    """A parser target that keeps nothing: the parse only drives the streaming validator."""

    def close(self) -> None:
        return None


# A return found to have no more than this many schema breaches in one streaming pass (no tree)
# has them located by validating again only the children they were found in. With more, it is
# quicker to validate the return in runs of children as trees from the start.
STREAMING_BREACHES = 200


def _streaming_parser(year: CollectionYear | None) -> etree.XMLParser:
    from .load import SAFE_OPTIONS, _RefuseExternal

    schema = {"schema": xml_schema(year.name)} if year else {}
    parser = etree.XMLParser(target=_NoTree(), **schema, **SAFE_OPTIONS)
    parser.resolvers.add(_RefuseExternal())
    return parser


def _schema_breaches(parser: etree.XMLParser) -> int:
    return sum(1 for entry in parser.error_log if entry.domain == etree.ErrorDomains.SCHEMASV)


def _refuse(data: bytes, name: str, exc: etree.XMLSyntaxError) -> None:
    """Raise the InputError for a file the streaming parser found not well-formed, worded as for
    every other file (a parser with a target words its errors differently): the file is parsed
    again up to the fault."""
    from .load import InputError, iterparse, syntax_message

    try:
        for _ in iterparse(io.BytesIO(data), events=("end",), tag="Message"):
            pass
    except etree.XMLSyntaxError as fault:
        raise InputError(syntax_message(name, fault)) from None
    raise InputError(syntax_message(name, exc)) from None


class _TooMany(Exception):
    """Raised inside the streaming pass to stop it: the return has many breaches."""


# libxml2 takes its input in blocks of 4,000 bytes and may report a breach once it has read on
# a little: a breach first seen after a block was handed over lies at most this far before it.
_LAG = 8_000


class _Watched:
    """The file's bytes handed to the streaming parser as it asks for them, noting before each
    block whether libxml2 has logged more breaches, and so where in the file they lie."""

    def __init__(self, data: bytes, parser: etree.XMLParser):
        self.data, self.parser = data, parser
        self.position = self.looked = self.seen = 0
        self.places: list[tuple[int, int]] = []  # byte ranges holding the breaches

    def read(self, size: int = -1) -> bytes:
        count = len(self.parser.error_log)
        if count != self.seen:
            if count > STREAMING_BREACHES:
                raise _TooMany
            self.places.append((max(self.looked - _LAG, 0), self.position))
            self.seen = count
        self.looked = self.position
        size = size if size and size > 0 else 4000
        piece = self.data[self.position:self.position + size]
        self.position += len(piece)
        return piece


def _validate_streaming(data: bytes, year: CollectionYear, name: str) -> list[Finding] | None:
    """Validate a return in one streaming pass, then locate its few breaches.

    The pass keeps no tree, so it costs little more than parsing, but libxml2 gives its breaches
    neither line nor path. Watching when they are logged tells which children hold them; those
    children are validated again as small documents (the file's own text before the first child,
    then those children), which gives the lines and paths. None when the return has many
    breaches, is not of the usual shape, or the breaches found the second time are not all of
    them: then the return is validated in runs of children instead.
    """
    from .tables import member_spans

    parser = _streaming_parser(year)
    watched = _Watched(data, parser)
    try:
        etree.parse(watched, parser)
    except _TooMany:
        return None
    except etree.XMLSyntaxError as exc:
        _refuse(data, name, exc)
    expected = _schema_breaches(parser)
    if not expected:
        return []
    spans = member_spans(data)
    if spans is None or not spans[0]:
        return None
    starts, ends = spans
    flagged: set[int] = set()
    for low, high in watched.places:
        # the children overlapping [low, high]; what precedes the children goes with the first
        first = bisect.bisect_right(ends, low)
        last = min(bisect.bisect_left(starts, high), len(starts) - 1)
        flagged.update(range(min(first, last), last + 1))
    findings = _locate(data, year, starts, ends, sorted(flagged))
    return findings if len(findings) == expected else None


_GAP = rb"(?:\s|<!--.*?-->|<\?.*?\?>)*"  # what may lie between elements and hold no breach
_USUAL_HEAD = re.compile(rb"<Children(?:\s[^>]*)?>" + _GAP + rb"\Z", re.S)
_USUAL_TAIL = re.compile(_GAP + rb"</Children\s*>" + _GAP + rb"</Message\s*>" + _GAP, re.S)


class _Runs:
    """A return of the usual shape cut into runs of children, each validated as a small document:
    the file's own text up to the first child, the run's children, and the closing tags. Lines
    are the file's (exact, however long the file); paths are renumbered to the whole return."""

    def __init__(self, data: bytes, year: CollectionYear, starts: list[int], ends: list[int]):
        self.data, self.year, self.starts, self.ends = data, year, starts, ends
        self.head = data[:starts[0]]
        self.head_lines = self.head.count(b"\n")

    def usual(self) -> bool:
        """Nothing but the children between the Children tags, and nothing after them but the
        closing tags: what these small documents leave out could not hold a breach."""
        return (_USUAL_HEAD.search(self.head) is not None
                and _USUAL_TAIL.fullmatch(self.data[self.ends[-1]:]) is not None)

    @cached_property
    def runs(self) -> list[tuple[int, int]]:
        """(first, last) child of each run of CHUNK children, for validating the whole return."""
        count = len(self.starts)
        return [(first, min(first + CHUNK, count) - 1) for first in range(0, count, CHUNK)]

    @cached_property
    def run_lines(self) -> dict[int, int]:
        return self.lines([first for first, _ in self.runs])

    def lines(self, firsts: list[int]) -> dict[int, int]:
        """The file's line at the start of each of these children."""
        found, line, counted = {}, 1, 0
        for first in sorted(firsts):
            line += self.data.count(b"\n", counted, self.starts[first])
            counted = self.starts[first]
            found[first] = line
        return found

    def validate(self, first: int, last: int, line: int) -> list[Finding]:
        from .load import safe_parser

        text = self.head + self.data[self.starts[first]:self.ends[last]] + b"</Children></Message>"
        document = etree.fromstring(text, safe_parser()).getroottree()
        entries = _validate(document, self.year)
        if first:  # what precedes the children is checked with the first child
            entries = [e for e in entries if (e.path or "").startswith("/Message/Children/")]
        findings = _findings(document, self.year, entries, {"Child": first})
        for finding in findings:
            if finding.line and finding.line > self.head_lines:  # in the run: back to the file's lines
                finding.line += line - self.head_lines - 1
        return findings


def _locate(data: bytes, year: CollectionYear, starts: list[int], ends: list[int],
            flagged: list[int]) -> list[Finding]:
    """The breaches of the flagged children (and of what precedes the children, with the first)."""
    runs: list[list[int]] = []
    for index in flagged:
        if runs and index == runs[-1][-1] + 1 and len(runs[-1]) < CHUNK:
            runs[-1].append(index)
        else:
            runs.append([index])
    cut = _Runs(data, year, starts, ends)
    lines = cut.lines([run[0] for run in runs])
    return [finding for run in runs for finding in cut.validate(run[0], run[-1], lines[run[0]])]


# -- sharing a broken return's validation with the main process ----------------------------------
# A return with many breaches cannot take the streaming pass, and validating it as trees costs
# about as much as the rules and indicators together. Its runs of children are then shared: the
# worker takes them from the front, the main process (once its own work is done) from the back,
# each claiming one at a time in a small array in shared memory:
# [sharing, next run from the front, end of the runs not yet taken, children].

_SHARE = None  # the array, in the worker (set when the worker process starts)


def set_share(share) -> None:
    global _SHARE
    _SHARE = share


def _claim(share, from_front: bool) -> int | None:
    with share.get_lock():
        if share[1] >= share[2]:
            return None
        if from_front:
            share[1] += 1
            return share[1] - 1
        share[2] -= 1
        return share[2]


def _validate_claimed(cut: _Runs, share, from_front: bool) -> list[Finding]:
    """Validate runs claimed one at a time from one end until none is left unclaimed."""
    findings: list[Finding] = []
    while (index := _claim(share, from_front)) is not None:
        first, last = cut.runs[index]
        findings += cut.validate(first, last, cut.run_lines[first])
    return findings


def _validate_shared(cut: _Runs, share) -> list[Finding]:
    """The worker's side: every run, or those it claims first when the main process helps."""
    if share is None:
        return [finding for first, last in cut.runs for finding in cut.validate(first, last, cut.run_lines[first])]
    with share.get_lock():  # the first run (with what precedes the children) is the worker's
        share[1], share[2], share[3], share[0] = 1, len(cut.runs), len(cut.starts), 1
    first, last = cut.runs[0]
    return cut.validate(first, last, cut.run_lines[first]) + _validate_claimed(cut, share, from_front=True)


def help_validate(path: str, year_name: str, share) -> list[Finding]:
    """The main process's side: runs claimed from the back while the worker is still at it."""
    from .tables import member_spans

    if share[0] != 1 or share[1] >= share[2]:
        return []  # not sharing, or nothing left to take
    with open(path, "rb") as stream:
        data = stream.read()
    spans = member_spans(data)
    if spans is None or len(spans[0]) != share[3]:
        return []  # not the bytes the worker read (the file changed meanwhile): leave it all to it
    with GcPaused():
        return _validate_claimed(_Runs(data, CollectionYear(year_name), *spans), share, from_front=False)


def validate_file(path: str, year_name: str, name: str | None = None, validate: bool = True) -> list[Finding]:
    """Parse a return from its file and validate it, holding little of it in memory.

    For the schema stage of a large return, in a worker process beside the reading of the tables.
    The parse is also the well-formedness check of record: InputError when the file is not
    well-formed. With `validate` false the file is only parsed.
    """
    year = CollectionYear(year_name)
    name = name or path
    # Read as bytes: libxml2 given a file name would unpack a gzip file by itself.
    with open(path, "rb") as stream:
        data = stream.read()
    if not validate:
        parser = _streaming_parser(None)
        try:
            parser.feed(data)
            parser.close()
        except etree.XMLSyntaxError as exc:
            _refuse(data, name, exc)
        return []
    with GcPaused():  # thousands of element proxies and findings, none in a cycle
        found = _validate_streaming(data, year, name)
        if found is not None:
            return found
        from .tables import member_spans

        spans = member_spans(data)
        if spans is not None and spans[0]:
            cut = _Runs(data, year, *spans)
            if cut.usual():
                return _validate_shared(cut, _SHARE)
        del data
        return _validate_in_runs(path, year, name)


def _validate_in_runs(path: str, year: CollectionYear, name: str) -> list[Finding]:
    """Validate a return CHUNK children at a time as they are parsed, each run then dropped."""
    from .load import InputError, iterparse, syntax_message

    with open(path, "rb") as stream:
        events = iterparse(stream, events=("end",), tag=("Header", "Child"))
        root = header = children = chunks = None
        waiting = 0  # children read since the last run was validated
        try:
            for _, element in events:
                parent = element.getparent()
                if root is None:
                    root = element.getroottree().getroot()
                if element.tag == "Header":
                    if parent is root and header is None:
                        header = element
                    continue
                if parent is None or parent.tag != "Children" or parent.getparent() is not root:
                    continue
                children = children if children is not None else parent
                if parent is not children or header is None:
                    continue  # not the usual shape: left in the tree, settled at the end
                waiting += 1
                if waiting >= CHUNK:
                    # Only up to this child: the parser may already be filling in the next one.
                    members = []
                    for member in parent:
                        members.append(member)
                        if member is element:
                            break
                    chunks = chunks or _Chunks(year, header)
                    chunks.add(members)
                    waiting = 0
            root = events.root
        except etree.XMLSyntaxError as exc:
            raise InputError(syntax_message(name, exc)) from None
    if chunks is None:  # nothing moved: the whole return is still here
        return validate_tree(root.getroottree(), year, consume=True)
    if not _usual(root) or root[1] is not children:
        # Children were validated in runs before the shape turned out to be unusual: start again
        # with the whole return, as a small one would be validated.
        with open(path, "rb") as stream:
            from .load import safe_parser
            return validate_tree(etree.parse(stream, safe_parser()), year, consume=True)
    remaining = list(children)
    if remaining:
        chunks.add(remaining)
    return chunks.findings
