"""Settings: defaults for the command line kept in the project, read strictly.

They come from `cin-validate.toml` or the `[tool.cin-validate]` table of `pyproject.toml`, in the
current directory or the nearest folder above it that has either. Options given on the command
line win. An unknown key or a value of the wrong kind is an error, not ignored.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

KEYS: dict[str, type | tuple[type, ...]] = {
    "format": str,
    "strict": bool,
    "fail_fast": bool,
    "select": list,
    "ignore": list,
    "explanations": str,
    "year": str,
    "redact": bool,
    "indicators": bool,
    "population": int,
    "previous": str,
}


class SettingsError(ValueError):
    """A settings file that cannot be used."""


def find_settings(start: Path | None = None) -> tuple[Path, dict[str, Any]] | None:
    """The nearest settings, with the file they came from; None when there are none."""
    folder = (start or Path.cwd()).resolve()
    for place in (folder, *folder.parents):
        own = place / "cin-validate.toml"
        if own.is_file():
            return own, _read(own, table=None)
        project = place / "pyproject.toml"
        if project.is_file():
            settings = _read(project, table=("tool", "cin-validate"))
            if settings is not None:
                return project, settings
    return None


def _read(path: Path, table: tuple[str, ...] | None) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    for key in table or ():
        data = data.get(key) if isinstance(data, dict) else None
        if data is None:
            return None
    return check(path, data, relative_to=path.parent)


def check(path: Path, data: Any, relative_to: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the cin-validate settings must be a table of keys")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s): {', '.join(unknown)} (known: {', '.join(KEYS)})")
    for key, value in data.items():
        kind = KEYS[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise SettingsError(f"{path}: setting '{key}' must be a {kind.__name__}")
        if kind is list and not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{path}: setting '{key}' must list rule codes as strings")
    settings = dict(data)
    for key in ("explanations", "previous"):  # paths in the file are relative to the file
        if key in settings:
            settings[key] = str((relative_to / settings[key]).resolve())
    return settings
