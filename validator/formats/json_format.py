"""JSON: the report model as it is, one object per file (a list when several files are checked)."""

from __future__ import annotations

import json

from ..report import Report


def render(reports: list[Report], colour: bool = False) -> str:
    data = [report.to_dict() for report in reports]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"
