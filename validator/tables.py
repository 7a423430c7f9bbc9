"""The return as tables: one row per element instance, with its line, path and keys.

One pass over the parsed document fills a column store for each table. Values are kept as the
trimmed text of the element (None when absent, empty or whitespace only) together with the line
the element starts on; typing (dates, booleans, numbers) happens once, set-wise, in the engine.
Elements are read by name inside their parent, whatever their order, so a structural fault found
by the schema stage does not hide the data from the rules.

Every row carries `id` (its ordinal in its table), `line`, `path` (positional, e.g.
/Message/Children/Child[7]/CINdetails[2]) and the keys of the records it sits in: `child_key`,
`episode_key` (CINdetails), `assessment_key`, `cpp_key` (ChildProtectionPlans), `reviews_key`.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

import pyarrow as pa

# Field kinds. The engine types each kind the same way wherever it occurs.
DATE, BOOL, INT, CODE, TEXT = "date", "bool", "int", "code", "text"


@dataclass(frozen=True)
class Node:
    """How one element of the return maps onto the tables.

    A node with `table` starts a new row in that table; a node without one is a group whose
    fields fold into the row of the nearest enclosing table node (ChildIdentifiers into children,
    for instance) and whose own line is kept as `<tag>_line`. `value` marks a repeating leaf that
    is itself the row (one Disability entry, one AssessmentFactors entry, one CPPreviewDate).
    """

    tag: str
    table: str | None = None
    key: str | None = None  # the key column this table's rows give to rows nested in them
    repeats: bool = False
    value: str | None = None  # kind of the element's own text, for value rows
    fields: dict[str, str] = field(default_factory=dict)  # child tag -> kind
    children: tuple["Node", ...] = ()


TREE = Node(
    "Message",
    children=(
        Node(
            "Header",
            table="header",
            children=(
                Node("CollectionDetails", fields={"Collection": CODE, "Year": TEXT, "ReferenceDate": DATE}),
                Node(
                    "Source",
                    fields={
                        "SourceLevel": CODE, "LEA": CODE, "SoftwareCode": TEXT,
                        "Release": TEXT, "SerialNo": TEXT, "DateTime": TEXT,
                    },
                ),
            ),
        ),
        Node(
            "Children",
            children=(
                Node(
                    "Child",
                    table="children",
                    key="child_key",
                    repeats=True,
                    children=(
                        Node(
                            "ChildIdentifiers",
                            fields={
                                "LAchildID": TEXT, "UPN": TEXT, "FormerUPN": TEXT, "UPNunknown": CODE,
                                "PersonBirthDate": DATE, "ExpectedPersonBirthDate": DATE,
                                "GenderCurrent": CODE, "Sex": CODE, "PersonDeathDate": DATE,
                            },
                        ),
                        Node(
                            "ChildCharacteristics",
                            fields={"Ethnicity": CODE},
                            children=(
                                Node(
                                    "Disabilities",
                                    children=(
                                        Node("Disability", table="disabilities", repeats=True, value=CODE),
                                    ),
                                ),
                            ),
                        ),
                        Node(
                            "CINdetails",
                            table="cin_details",
                            key="episode_key",
                            repeats=True,
                            fields={
                                "CINreferralDate": DATE, "ReferralSource": CODE, "PrimaryNeedCode": CODE,
                                "CINclosureDate": DATE, "ReasonForClosure": CODE,
                                "DateOfInitialCPC": DATE, "ReferralNFA": BOOL,
                            },
                            children=(
                                Node(
                                    "Assessments",
                                    table="assessments",
                                    key="assessment_key",
                                    repeats=True,
                                    fields={
                                        "AssessmentActualStartDate": DATE,
                                        "AssessmentInternalReviewDate": DATE,
                                        "AssessmentAuthorisationDate": DATE,
                                    },
                                    children=(
                                        Node(
                                            "FactorsIdentifiedAtAssessment",
                                            children=(
                                                Node("AssessmentFactors", table="factors", repeats=True, value=CODE),
                                            ),
                                        ),
                                    ),
                                ),
                                Node(
                                    "CINPlanDates",
                                    table="cin_plans",
                                    repeats=True,
                                    fields={"CINPlanStartDate": DATE, "CINPlanEndDate": DATE},
                                ),
                                Node(
                                    "Section47",
                                    table="section47",
                                    repeats=True,
                                    fields={
                                        "S47ActualStartDate": DATE, "InitialCPCtarget": DATE,
                                        "DateOfInitialCPC": DATE, "ICPCnotRequired": BOOL,
                                    },
                                ),
                                Node(
                                    "ChildProtectionPlans",
                                    table="cpps",
                                    key="cpp_key",
                                    repeats=True,
                                    fields={
                                        "CPPstartDate": DATE, "CPPendDate": DATE,
                                        "InitialCategoryOfAbuse": CODE, "LatestCategoryOfAbuse": CODE,
                                        "NumberOfPreviousCPP": INT,
                                    },
                                    children=(
                                        Node(
                                            "Reviews",
                                            table="reviews",
                                            key="reviews_key",
                                            repeats=True,
                                            children=(
                                                Node("CPPreviewDate", table="review_dates", repeats=True, value=DATE),
                                            ),
                                        ),
                                    ),
                                ),
                                Node(
                                    "PreProceedingsandFGDM",
                                    table="pre_proceedings",
                                    repeats=True,
                                    fields={
                                        "PPStartDate": DATE, "LBPSentDate": DATE, "FGDMMeetingOffer": BOOL,
                                        "FGDMMeetingFac": BOOL, "InitialPPMeetingDate": DATE,
                                        "ReviewMeetingsCount": INT, "StepDecisionDate": DATE, "PPOutcome": CODE,
                                        "CourtAppDate": DATE, "LetterInitCPDate": DATE,
                                    },
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Column:
    """A column that carries an element's value: where it sits relative to its row's element."""

    table: str
    element: str
    kind: str
    relpath: str  # e.g. "ChildIdentifiers/UPN"; "" for value rows (the row element itself)


@dataclass(frozen=True)
class TableSpec:
    name: str
    element: str  # the tag whose instances are the rows
    keys: tuple[str, ...]  # key columns, outermost first (a table with its own key lists it last)
    own_key: str | None
    columns: tuple[Column, ...]
    groups: tuple[tuple[str, str], ...]  # (tag, relpath) of folded groups, kept as <tag>_line
    parent: str | None  # the enclosing table


def _specs() -> dict[str, TableSpec]:
    specs: dict[str, TableSpec] = {}

    def table(node: Node, keys: tuple[str, ...], parent: str | None) -> None:
        columns: list[Column] = []
        groups: list[tuple[str, str]] = []
        if node.value:
            columns.append(Column(node.table, node.tag, node.value, ""))
        row_keys = keys + ((node.key,) if node.key else ())
        fields_of(node, "", node.table, columns, groups, row_keys)
        specs[node.table] = TableSpec(
            node.table, node.tag, row_keys, node.key, tuple(columns), tuple(groups), parent
        )

    def fields_of(node: Node, prefix: str, owner: str, columns, groups, keys) -> None:
        for tag, kind in node.fields.items():
            columns.append(Column(owner, tag, kind, f"{prefix}{tag}"))
        for child in node.children:
            if child.table:
                table(child, keys, owner)
            else:
                groups.append((child.tag, f"{prefix}{child.tag}"))
                fields_of(child, f"{prefix}{child.tag}/", owner, columns, groups, keys)

    def outside_tables(node: Node) -> None:
        for child in node.children:
            if child.table:
                table(child, (), None)
            else:
                outside_tables(child)

    outside_tables(TREE)
    return specs


SPECS: dict[str, TableSpec] = _specs()


def column_names(spec: TableSpec) -> list[str]:
    """The raw columns of a table, in order: identity, location, keys, then text and line pairs."""
    names = ["id", "line", "path"]
    names += list(spec.keys)
    for column in spec.columns:
        names += [f"{column.element}_text", f"{column.element}_line"]
    names += [f"{tag}_line" for tag, _ in spec.groups]
    return names


class _Layout:
    """Column positions of one table, so a row can be filled as a flat list."""

    def __init__(self, spec: TableSpec):
        self.names = column_names(spec)
        self.width = len(self.names)
        position = {name: i for i, name in enumerate(self.names)}
        self.keys = [position[key] for key in spec.keys]
        self.text = {c.element: position[f"{c.element}_text"] for c in spec.columns}
        self.line = {c.element: position[f"{c.element}_line"] for c in spec.columns}
        self.group = {tag: position[f"{tag}_line"] for tag, _ in spec.groups}


LAYOUTS = {name: _Layout(spec) for name, spec in SPECS.items()}


_SUBNODES: dict[int, dict[str, Node]] = {}


def _index_nodes(node: Node) -> None:
    _SUBNODES[id(node)] = {child.tag: child for child in node.children}
    for child in node.children:
        _index_nodes(child)


_index_nodes(TREE)
_FIELD, _NODE = object(), object()


def _plan(node: Node, owner: str | None) -> dict[str, tuple]:
    """What to do with each child tag of a node: fill a field of the row, or descend."""
    plan: dict[str, tuple] = {}
    layout = LAYOUTS[owner] if owner else None
    for tag in node.fields:
        plan[tag] = (_FIELD, layout.text[tag], layout.line[tag])
    for child in node.children:
        plan[child.tag] = (_NODE, child, child.tag)
    return plan


def _plans(node: Node, owner: str | None = None, plans: dict | None = None) -> dict[int, dict[str, tuple]]:
    plans = {} if plans is None else plans
    owner = node.table or owner
    plans[id(node)] = _plan(node, owner)
    for child in node.children:
        _plans(child, owner, plans)
    return plans
BATCH_ROWS = 50_000  # rows held as Python lists before they are packed into Arrow columns


def arrow_schema(name: str) -> pa.Schema:
    return pa.schema([
        (column, pa.string() if column == "path" or column.endswith("_text") else pa.int64())
        for column in LAYOUTS[name].names
    ])


SCHEMAS = {name: arrow_schema(name) for name in SPECS}
_PLANS = _plans(TREE)


class _Extractor:
    """Fills each table row by row, packing rows into Arrow batches as it goes to keep memory low."""

    def __init__(self) -> None:
        self.rows: dict[str, list[list]] = {name: [] for name in SPECS}
        self.batches: dict[str, list[pa.RecordBatch]] = {name: [] for name in SPECS}
        self.counts: dict[str, int] = {name: 0 for name in SPECS}

    def table_row(self, node: Node, element, path: str, keys: tuple[int, ...]) -> None:
        name = node.table
        layout = LAYOUTS[name]
        rows = self.rows[name]
        row = [None] * layout.width
        self.counts[name] += 1
        row_id = self.counts[name]
        line = element.sourceline
        row[0], row[1], row[2] = row_id, line, path
        own_keys = keys + (row_id,) if node.key else keys
        for position, value in zip(layout.keys, own_keys):
            row[position] = value
        if node.value:
            text = element.text
            if text is not None:
                text = text.strip() or None
            row[layout.text[node.tag]] = text
            row[layout.line[node.tag]] = line
        rows.append(row)
        if node.fields or node.children:
            self.members(node, element, path, row, layout, own_keys)
        if len(rows) >= BATCH_ROWS:
            self.flush(name)

    def members(self, node: Node, element, path: str, row: list, layout: _Layout, keys) -> None:
        plan = _PLANS[id(node)]
        counts: dict[str, int] = {}
        for sub in element:
            step = plan.get(sub.tag)  # entity references and the like have no tag and are skipped
            if step is None:
                continue  # not part of the return's structure: the schema stage reports it
            if step[0] is _FIELD:
                line_at = step[2]
                if row[line_at] is None:  # a repeated single field is a schema error; the first counts
                    text = sub.text
                    if text is not None:
                        text = text.strip() or None
                    row[step[1]] = text
                    row[line_at] = sub.sourceline
                continue
            child, tag = step[1], step[2]
            count = counts.get(tag, 0) + 1
            counts[tag] = count
            if child.table:
                self.table_row(child, sub, f"{path}/{tag}[{count}]" if child.repeats else f"{path}/{tag}", keys)
            elif count == 1:
                row[layout.group[tag]] = sub.sourceline
                self.members(child, sub, f"{path}/{tag}", row, layout, keys)

    def flush(self, name: str) -> None:
        rows = self.rows[name]
        if rows:
            columns = list(zip(*rows))
            schema = SCHEMAS[name]
            arrays = [pa.array(values, type=schema.field(i).type) for i, values in enumerate(columns)]
            self.batches[name].append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            rows.clear()

    def tables(self) -> dict[str, pa.Table]:
        result = {}
        for name in SPECS:
            self.flush(name)
            result[name] = pa.Table.from_batches(self.batches[name], schema=SCHEMAS[name])
        return result


class GcPaused:
    """Millions of short-lived lists would set off the cyclic garbage collector again and again;
    nothing built while reading forms a cycle, so it is paused for the pass."""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.enabled:
            gc.enable()


_HEADER_NODE, _CHILDREN_NODE = TREE.children
_CHILD_NODE = _CHILDREN_NODE.children[0]


def extract(root) -> dict[str, pa.Table]:
    """Read a parsed document into tables: {table name: Arrow table}."""
    with GcPaused():
        extractor = _Extractor()
        headers = [el for el in root if el.tag == "Header"]
        if headers:
            extractor.table_row(_HEADER_NODE, headers[0], "/Message/Header", ())
        else:  # keep one header row so header rules can report the absence, located at the root
            extractor.table_row(_HEADER_NODE, root, "/Message", ())
        groups = [el for el in root if el.tag == "Children"]
        for index, group in enumerate(groups, start=1):
            group_path = "/Message/Children" if index == 1 else f"/Message/Children[{index}]"
            count = 0
            for element in group:
                if element.tag == "Child":
                    count += 1
                    extractor.table_row(_CHILD_NODE, element, f"{group_path}/Child[{count}]", ())
        return extractor.tables()


def stream(events) -> dict[str, pa.Table]:
    """Read tables from an lxml iterparse over ("start", "end") events of Header, Children and Child.

    Each Child is read when it ends and then dropped from the tree, so memory holds one child
    at a time however large the return is.
    """
    with GcPaused():
        extractor = _Extractor()
        group_path, count, groups, root = None, 0, 0, None
        have_header = False
        for event, element in events:
            parent = element.getparent()
            if root is None:
                root = element.getroottree().getroot()
            if event == "start":
                if element.tag == "Children" and parent is root:
                    groups += 1
                    group_path = "/Message/Children" if groups == 1 else f"/Message/Children[{groups}]"
                    count = 0
                continue
            if element.tag == "Header" and parent is root and not have_header:
                have_header = True
                extractor.table_row(_HEADER_NODE, element, "/Message/Header", ())
            elif element.tag == "Child" and parent is not None and parent.tag == "Children" \
                    and parent.getparent() is root:
                count += 1
                extractor.table_row(_CHILD_NODE, element, f"{group_path}/Child[{count}]", ())
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del parent[0]
        if not have_header and root is not None:
            extractor.table_row(_HEADER_NODE, root, "/Message", ())
        return extractor.tables()


# -- the compiled reader ------------------------------------------------------------------------
# validator/_tables.c reads a return's bytes straight into Arrow column buffers, about twenty times
# faster than the lxml pass above. It is optional (built where a C compiler is at hand) and gives up
# on anything it does not read exactly as libxml2 does, so the Python reader stays the reference.

try:
    from . import _tables as _native
except ImportError:  # not built: the Python reader does the work
    _native = None

_GROUP, _TABLE, _FIELD_NODE = 0, 1, 2
_TABLE_INDEX = {name: i for i, name in enumerate(SPECS)}


def _native_spec() -> tuple:
    """The TREE as flat tuples for the C reader: (column kinds per table, nodes, Header, Child)."""
    kinds = tuple("".join("s" if field.type == pa.string() else "i" for field in SCHEMAS[name]) for name in SPECS)
    nodes: list[tuple] = []
    index: dict[int, int] = {}

    def add(node: Node, owner: str | None) -> int:
        position = len(nodes)
        nodes.append(())
        index[id(node)] = position
        table = node.table or owner
        layout = LAYOUTS[table] if table else None
        kids = []
        for tag in node.fields:
            kids.append(len(nodes))
            nodes.append((tag, _FIELD_NODE, _TABLE_INDEX[table], 0, 0, 0,
                          layout.text[tag], layout.line[tag], 0, 0, ()))
        for child in node.children:
            kids.append(add(child, table))
        if node.table:
            value = node.value is not None
            nodes[position] = (node.tag, _TABLE, _TABLE_INDEX[table], int(node.repeats), int(node.key is not None),
                               int(value), layout.text[node.tag] if value else 0,
                               layout.line[node.tag] if value else 0, 0, len(SPECS[table].keys), tuple(kids))
        else:
            group = layout.group.get(node.tag, 0) if layout else 0
            nodes[position] = (node.tag, _GROUP, _TABLE_INDEX[table] if table else 0, 0, 0, 0, 0, 0, group, 0,
                               tuple(kids))
        return position

    add(TREE, None)
    return kinds, tuple(nodes), index[id(_HEADER_NODE)], index[id(_CHILD_NODE)]


_NATIVE_SPEC = _native_spec() if _native is not None else None


def read_bytes(data: bytes) -> dict[str, pa.Table] | None:
    """Tables straight from a return's bytes with the compiled reader; None when it is not built or
    leaves this file to the Python reader (an encoding other than UTF-8, a construct it does not
    read exactly as libxml2 does). The file must also be parsed by libxml2, which alone decides
    whether it is well-formed."""
    if _native is None:
        return None
    result = _native.read(data, _NATIVE_SPEC)
    if result is None:
        return None
    tables = {}
    for name, (rows, columns) in zip(SPECS, result):
        schema = SCHEMAS[name]
        arrays = []
        for column, buffers in zip(schema, columns):
            validity = pa.py_buffer(buffers[0]) if buffers[0] is not None else None
            arrays.append(pa.Array.from_buffers(column.type, rows, [validity, *map(pa.py_buffer, buffers[1:])]))
        tables[name] = pa.Table.from_arrays(arrays, schema=schema)
    return tables


# The least the scanner needs to find the elements inside Children: no columns, no fields.
_MEMBER_SPEC = (("iis",), (("Header", _TABLE, 0, 0, 0, 0, 0, 0, 0, 0, ()),
                           ("Child", _TABLE, 0, 1, 0, 0, 0, 0, 0, 0, ())), 0, 1)


def member_spans(data: bytes) -> tuple[list[int], list[int]] | None:
    """Where each element directly inside Children starts and ends in `data` (byte offsets: the
    '<' of its start tag, and just after its end tag), when there is one Children holding only
    Child elements and the compiled reader takes the file; None otherwise."""
    if _native is None:
        return None
    found = _native.members(data, _MEMBER_SPEC)
    if found is None:
        return None
    starts, ends, groups, only_children = found
    if groups != 1 or not only_children:
        return None
    base = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # offsets count from after a byte order mark
    return ([base + offset for offset in memoryview(starts).cast("q")],
            [base + offset for offset in memoryview(ends).cast("q")])
