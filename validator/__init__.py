"""cin-validate: an offline pre-submission checker for England's children in need census."""

from importlib import import_module

__version__ = "0.1.0"

__all__ = ["validate", "Report", "Finding", "Location", "InputError", "__version__"]

# The public names are imported on first use, so a process that needs only part of the package
# (the schema worker of a large return, say) does not pay for loading DuckDB and the rest.
_HOMES = {"validate": "pipeline", "Report": "report", "Finding": "report", "Location": "report",
          "InputError": "load"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
