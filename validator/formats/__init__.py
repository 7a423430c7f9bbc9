"""Renderers: each turns a list of reports into the text (or, for xlsx, the bytes) of one output format."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Callable, Iterator

from ..report import Report

Renderer = Callable[[list[Report], bool], "str | bytes"]

_MODULES = {
    "text": "text_format",
    "json": "json_format",
    "csv": "csv_format",
    "xlsx": "xlsx_format",
    "junit": "junit_format",
    "sarif": "sarif_format",
    "github": "github_format",
    "html": "html_format",
}


class _Renderers(Mapping):
    """Format name -> render function, each module imported when its format is first asked for
    (the spreadsheet library alone takes longer to load than a small return takes to check)."""

    def __getitem__(self, name: str) -> Renderer:
        return import_module(f".{_MODULES[name]}", __name__).render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


RENDERERS: Mapping[str, Renderer] = _Renderers()
FORMATS = tuple(_MODULES)
# Formats whose output is bytes, to be written to a file rather than to the terminal.
BINARY_FORMATS = frozenset({"xlsx"})
