"""Renderers: each turns a list of reports into the text of one output format."""

from __future__ import annotations

from typing import Callable

from ..report import Report
from . import json_format, text_format

RENDERERS: dict[str, Callable[[list[Report], bool], str]] = {
    "text": text_format.render,
    "json": json_format.render,
}
FORMATS = tuple(RENDERERS)
