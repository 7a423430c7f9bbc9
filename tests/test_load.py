"""Safe loading and settling the collection year."""

import pytest

from validator.load import InputError, load
from validator.years import UnknownYear, parse_year

from .helpers import message


def header(year="2025", reference="2025-03-31"):
    parts = []
    if year is not None:
        parts.append(f"<Year>{year}</Year>")
    if reference is not None:
        parts.append(f"<ReferenceDate>{reference}</ReferenceDate>")
    return (f"<Header><CollectionDetails><Collection>CIN</Collection>{''.join(parts)}</CollectionDetails>"
            "<Source><SourceLevel>L</SourceLevel><LEA>201</LEA></Source></Header>")


def test_year_from_header_year():
    document = load(message("2024-25", header=header("2025", "2025-03-31")))
    assert (document.year.name, document.year_source) == ("2024-25", "Year")


def test_year_from_reference_date_when_year_missing():
    document = load(message("2024-25", header=header(None, "2026-03-31")))
    assert (document.year.name, document.year_source) == ("2025-26", "ReferenceDate")


def test_year_option_overrides_header():
    document = load(message("2024-25", header=header("2025")), year="2026-27")
    assert (document.year.name, document.year_source, document.header_year) == ("2026-27", "option", "2025")


def test_no_year_anywhere_is_an_input_error():
    with pytest.raises(InputError, match="cannot determine the collection year.*--year"):
        load(message("2024-25", header=header("1999", "1999-03-31")))


def test_missing_header_without_year_option():
    with pytest.raises(InputError, match="no Year or ReferenceDate"):
        load(message("2024-25", header=""))


def test_missing_header_with_year_option_loads():
    assert load(message("2024-25", header=""), year="2024-25").year.name == "2024-25"


@pytest.mark.parametrize("text, name", [("2025-26", "2025-26"), ("cin2025_26", "2025-26"), ("2025/26", "2025-26"),
                                        ("2025-2026", "2025-26"), (" 2023-24 ", "2023-24")])
def test_year_spellings(text, name):
    assert parse_year(text).name == name


@pytest.mark.parametrize("text", ["2022-23", "2027-28", "2025-27", "next year", ""])
def test_unknown_years_list_the_supported_ones(text):
    with pytest.raises(UnknownYear, match="2023-24, 2024-25, 2025-26, 2026-27"):
        parse_year(text)


def test_not_well_formed_names_line_and_column():
    with pytest.raises(InputError, match=r"not well-formed XML at line 3, column \d+"):
        load(b"<Message>\n<Header>\n</Message>", name="broken.xml")


def test_wrong_root_element():
    with pytest.raises(InputError, match="root element is <Return>"):
        load(b"<Return/>")


def test_entities_are_never_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    data = (f'<!DOCTYPE Message [<!ENTITY x SYSTEM "file://{secret}">]>'
            "<Message><Header/><Children>&x;</Children></Message>").encode()
    with pytest.raises(InputError, match="declares a DTD"):
        load(data)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "absent.xml")
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xml"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load(path)
