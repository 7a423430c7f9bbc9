"""JSON: the report model as it is, one object per file (a list when several files are checked).

The document is indented for reading, but each finding is written on one line of its own: a
large return has tens of thousands of findings, and one line each keeps the file easy to grep and
diff and lets the standard library's fast encoder do most of the work.
"""

from __future__ import annotations

import json
from typing import Any

from ..report import Report


_ONE_LINE = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with options makes one per call


def _encode(value: Any, depth: int = 0, key: str | None = None) -> str:
    pad = "  " * depth
    if isinstance(value, dict) and value:
        items = [f"{pad}  {json.dumps(name)}: {_encode(item, depth + 1, name)}" for name, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        if key == "findings":
            lines = [f"{pad}  {_ONE_LINE.encode(item)}" for item in value]
        else:
            lines = [f"{pad}  {_encode(item, depth + 1)}" for item in value]
        return "[\n" + ",\n".join(lines) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def render(reports: list[Report], colour: bool = False) -> str:
    data = [report.to_dict() for report in reports]
    return _encode(data[0] if len(data) == 1 else data) + "\n"
