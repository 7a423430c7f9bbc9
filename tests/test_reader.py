"""The compiled table reader (validator/_tables.c) against the Python readers it stands in for.

For every file libxml2 accepts, it must give exactly the tables `extract` gives from the parsed
tree (and `stream` from the file); for what it does not read as libxml2 does, it must decline
(None) so the Python reader takes over. Lines past 65,535 are the one intended difference: the
compiled reader gives the true line where libxml2 only estimates it.
"""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from validator import pipeline, tables, validate
from validator.examples import example_document, example_years
from validator.load import iterparse, safe_parser
from validator.rules import load_ruleset
from validator.years import all_years

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
HOSTILE = Path(__file__).resolve().parent / "hostile"
HEADER = ("<Header><CollectionDetails><Collection>CIN</Collection><Year>2026</Year>"
          "<ReferenceDate>2026-03-31</ReferenceDate></CollectionDetails><Source><SourceLevel>L</SourceLevel>"
          "<LEA>201</LEA><SoftwareCode>X</SoftwareCode><Release>1</Release><SerialNo>1</SerialNo>"
          "<DateTime>2026-05-01T10:00:00</DateTime></Source></Header>")


def test_the_compiled_reader_is_built():
    """CI and every machine with a C compiler get the fast reader; without it checks are slow."""
    assert tables._native is not None


pytestmark_native = pytest.mark.skipif(tables._native is None, reason="compiled reader not built")


def _python_tables(data: bytes) -> dict | None:
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError:
        return None
    return tables.extract(root)


def _differences(fast: dict, slow: dict) -> list:
    found = []
    for name in tables.SPECS:
        if not fast[name].equals(slow[name]):
            for column in fast[name].column_names:
                a, b = fast[name][column].to_pylist(), slow[name][column].to_pylist()
                if a != b:
                    found.append((name, column, a[:5], b[:5]))
    return found


def _same_as_python(data: bytes) -> None:
    slow = _python_tables(data)
    fast = tables.read_bytes(data)
    if slow is None:
        return  # not well-formed: libxml2 rejects it, whatever the compiled reader made of it
    assert fast is not None, "the compiled reader declined a plain UTF-8 return"
    assert not _differences(fast, slow)


def _document(children: str, header: str = HEADER, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return f"{prolog}<Message>{header}<Children>{children}</Children></Message>".encode()


@pytestmark_native
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.xml")), ids=lambda p: p.name)
def test_fixtures_read_the_same(path):
    data = path.read_bytes()
    _same_as_python(data)
    streamed = tables.stream(iterparse(path, tag=("Header", "Children", "Child")))
    assert not _differences(tables.read_bytes(data), streamed)


@pytestmark_native
@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.xml")), ids=lambda p: p.name)
def test_hostile_files_read_the_same_or_are_declined(path):
    data = path.read_bytes()
    fast = tables.read_bytes(data)
    slow = _python_tables(data)
    if fast is not None and slow is not None:
        assert not _differences(fast, slow)


def _rule_documents():
    for year in all_years():
        for rule in load_ruleset(year.name).rules.values():
            for example in rule.examples:
                if year in example_years([year], example):
                    yield example_document(rule, example, year)


@pytestmark_native
def test_every_rule_example_reads_the_same():
    count = 0
    for data in _rule_documents():
        _same_as_python(data)
        count += 1
    assert count > 1000


EDGE_CASES = {
    "crlf": _document("<Child>\r\n<ChildIdentifiers>\r\n<LAchildID>A\r\nB</LAchildID>\r\n</ChildIdentifiers></Child>")
    .replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n"),
    "comments-pis-cdata": _document(
        "<Child><ChildIdentifiers><LAchildID>a<!-- x < y -->b<?pi > ?>c<![CDATA[<d>&amp;]]>e</LAchildID>"
        "<UPN><!--only a comment--></UPN></ChildIdentifiers></Child>"),
    "references": _document(
        "<Child><ChildIdentifiers><LAchildID>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;&#233;</LAchildID>"
        "<UPN>&#32;&#9;A&#10;</UPN><FormerUPN>&#13;B&#13;</FormerUPN></ChildIdentifiers></Child>"),
    "unicode-spaces": _document(
        "<Child><ChildIdentifiers><LAchildID>\u00a0\u3000\u2003A\u00a0B\u2029\u0085</LAchildID>"
        "<UPN>\u00e9\u00a0</UPN><FormerUPN>\u200b</FormerUPN></ChildIdentifiers></Child>"),
    "multi-line-tags": _document(
        '<Child\n  a="x>y"\n  b=\'/>\'\n><ChildIdentifiers\n><LAchildID\n>A</LAchildID\n><UPN\n/>'
        '</ChildIdentifiers></Child><Child a = "1" />'),
    "nested-and-unknown": _document(
        "<Child><Unknown><ChildIdentifiers><LAchildID>no</LAchildID></ChildIdentifiers></Unknown>"
        "<ChildIdentifiers><LAchildID>yes<b>inner</b>tail</LAchildID><LAchildID>second</LAchildID>"
        "</ChildIdentifiers><ChildIdentifiers><UPN>ignored</UPN></ChildIdentifiers>"
        "<CINdetails><CINreferralDate>2025-01-01</CINreferralDate><Assessments><FactorsIdentifiedAtAssessment>"
        "<AssessmentFactors>1A</AssessmentFactors><AssessmentFactors> 2B </AssessmentFactors>"
        "</FactorsIdentifiedAtAssessment></Assessments><Assessments/></CINdetails><CINdetails/>"
        "<x:CINdetails xmlns:x='urn:x'/></Child><Stray/><Child/>"),
    "no-header": "<Message><CollectionDetails><Year>2026</Year></CollectionDetails><Children><Child/></Children>"
                 "<Source><LEA>201</LEA></Source></Message>".encode(),
    "two-headers-two-groups": "<Message><Header><CollectionDetails><Year>2026</Year></CollectionDetails></Header>"
                              "<Header><Source><LEA>1</LEA></Source></Header><Children><Child/></Children>"
                              "<Children><Child/><Child/></Children></Message>".encode(),
    "bom-and-pis": b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<?xml-stylesheet href='a'?>"
                   + _document("<Child/>", prolog="")[0:],
    "empty-values": _document("<Child><ChildIdentifiers><LAchildID/><UPN>   </UPN><FormerUPN></FormerUPN>"
                              "</ChildIdentifiers><ChildCharacteristics><Disabilities><Disability/>"
                              "<Disability> </Disability></Disabilities></ChildCharacteristics></Child>"),
}


@pytestmark_native
@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_read_the_same(name):
    data = EDGE_CASES[name]
    assert _python_tables(data) is not None, "the edge case itself must be well-formed"
    _same_as_python(data)


DECLINED = {
    "latin-1": '<?xml version="1.0" encoding="ISO-8859-1"?><Message><Children/></Message>'.encode(),
    "default-namespace": b'<Message xmlns="urn:x"><Children/></Message>',
    "lone-carriage-return": b"<Message>\r<Children/></Message>",
    "undeclared-entity": b"<Message><Children><Child><ChildIdentifiers><LAchildID>&nbsp;</LAchildID>"
                         b"</ChildIdentifiers></Child></Children></Message>",
    "doctype": b"<!DOCTYPE Message><Message/>",
    "utf-16": '<?xml version="1.0" encoding="UTF-16"?><Message/>'.encode("utf-16"),
    "truncated": b"<Message><Children><Child>",
    "mismatched": b"<Message><Children></Child></Message>",
    "bad-utf8": b"<Message>\xff</Message>",
    "two-roots": b"<Message/><Message/>",
    "nul": b"<Message>\x00</Message>",
}


@pytestmark_native
@pytest.mark.parametrize("name", sorted(DECLINED))
def test_what_it_does_not_read_exactly_is_declined(name):
    assert tables.read_bytes(DECLINED[name]) is None


@pytestmark_native
def test_lines_past_65535_are_exact():
    padding = "\n" * 70_000
    data = _document(padding + "<Child>\n  <ChildIdentifiers>\n    <LAchildID>A</LAchildID>\n  </ChildIdentifiers>\n"
                     "  <CINdetails\n  >\n    <CINreferralDate>2025-01-01</CINreferralDate>\n  </CINdetails>\n"
                     "  <CINdetails/>\n</Child>")
    text = data.decode()
    read = tables.read_bytes(data)

    def line_of(pattern: str, nth: int = 0) -> int:
        match = list(re.finditer(pattern, text))[nth]
        return text.count("\n", 0, match.end()) + 1

    assert read["children"]["line"].to_pylist() == [line_of(r"<Child>")]
    assert read["children"]["ChildIdentifiers_line"].to_pylist() == [line_of(r"<ChildIdentifiers>")]
    assert read["children"]["LAchildID_line"].to_pylist() == [line_of(r"<LAchildID>")]
    assert read["cin_details"]["line"].to_pylist() == [line_of(r"<CINdetails\n  >"), line_of(r"<CINdetails/>")]
    assert read["cin_details"]["CINreferralDate_line"].to_pylist() == [line_of(r"<CINreferralDate>"), None]


_PIECES = st.sampled_from([
    " ", "\n", "\r\n", "\t", "\u00a0", "\u3000", "<!-- c -->", "<?p x?>", "<![CDATA[ z ]]>", "&amp;", "&#65;",
    "&#x20;", "<Extra/>", "<Extra>t</Extra>", "é", "\U0001F600", "x",
])


@pytestmark_native
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_insertions_read_the_same(data):
    """Pieces dropped at random places of a real return: wherever libxml2 still accepts the file,
    the two readers agree."""
    text = (FIXTURES / "every-rule-2025-26-apart.xml").read_text()
    places = [m.end() for m in re.finditer(r">", text)]
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.sampled_from(places))
        text = text[:at] + data.draw(_PIECES) + text[at:]
    _same_as_python(text.encode())


@pytestmark_native
@pytest.mark.parametrize("name", ["broken-2025-26.xml", "every-rule-2025-26.xml"])
def test_large_path_reports_the_same_with_either_reader(monkeypatch, name):
    monkeypatch.setattr(pipeline, "LARGE_FILE", 0)
    fast = validate(FIXTURES / name, workers=False)
    monkeypatch.setattr(tables, "_native", None)
    slow = validate(FIXTURES / name, workers=False)
    assert fast.to_dict() == slow.to_dict()


@pytestmark_native
def test_a_text_longer_than_libxml2_allows_is_declined():
    """libxml2 refuses a text node of more than 10,000,000 characters; the compiled reader must
    not read such a file either, so the parser's error is what the user sees."""
    big = "x" * 10_000_001
    assert tables.read_bytes(_document(f"<Child><ChildIdentifiers><LAchildID>{big}</LAchildID>"
                                       "</ChildIdentifiers></Child>")) is None
    assert tables.read_bytes(_document(f"<Child><ChildIdentifiers><LAchildID>{big[:-2]}</LAchildID>"
                                       "</ChildIdentifiers></Child>")) is not None
