"""Renderers: each turns a list of reports into the text (or, for xlsx, the bytes) of one output format."""

from __future__ import annotations

from typing import Callable

from ..report import Report
from . import (csv_format, github_format, html_format, json_format, junit_format, sarif_format, text_format,
               xlsx_format)

RENDERERS: dict[str, Callable[[list[Report], bool], str | bytes]] = {
    "text": text_format.render,
    "json": json_format.render,
    "csv": csv_format.render,
    "xlsx": xlsx_format.render,
    "junit": junit_format.render,
    "sarif": sarif_format.render,
    "github": github_format.render,
    "html": html_format.render,
}
FORMATS = tuple(RENDERERS)
# Formats whose output is bytes, to be written to a file rather than to the terminal.
BINARY_FORMATS = frozenset({"xlsx"})
