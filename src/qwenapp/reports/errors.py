"""What can go wrong in a report run, said so a user can act on it."""

from __future__ import annotations

from ..errors import InputError, QwenappError

__all__ = ["NoSourcesError", "RenderError", "ReportError", "UnknownReportError"]


class ReportError(QwenappError):
    """A report run or export failed for a reason the user can fix."""


class NoSourcesError(InputError):
    """Nothing was retrieved, and the user did not ask for an uncited report."""


class UnknownReportError(InputError):
    """No saved report has that id."""


class RenderError(ReportError):
    """An export could not be written (bad extension, unwritable path, no renderer)."""
