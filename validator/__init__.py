"""cin-validate: an offline pre-submission checker for England's children in need census."""

__version__ = "0.1.0"

from .load import InputError  # noqa: E402
from .pipeline import validate  # noqa: E402
from .report import Finding, Location, Report  # noqa: E402

__all__ = ["validate", "Report", "Finding", "Location", "InputError", "__version__"]
