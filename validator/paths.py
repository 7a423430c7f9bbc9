"""Where the shipped rule files and schemas are, in a checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name  # a source checkout or an editable install


def rules_dir() -> Path:
    return _data_dir("rules")


def schemas_dir() -> Path:
    return _data_dir("schemas")
