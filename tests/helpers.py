"""Small builders shared by the tests."""

from __future__ import annotations

from validator.examples import default_child, header_xml
from validator.years import CollectionYear


def message(year: str, children: str = "", header: str | None = None) -> bytes:
    """A whole return for `year` around the given <Child> elements (a plain child when none)."""
    collection = CollectionYear(year)
    if not children:
        children = default_child(collection, _episode(collection))
    head = header if header is not None else header_xml(collection)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Message>{head}<Children>{children}</Children></Message>'.encode()


def _episode(year: CollectionYear) -> str:
    return (f"<CINdetails><CINreferralDate>{year.end_year - 1}-06-02</CINreferralDate>"
            "<ReferralSource>1A</ReferralSource><ReferralNFA>true</ReferralNFA></CINdetails>")
