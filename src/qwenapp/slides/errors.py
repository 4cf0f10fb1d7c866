"""The errors a deck build can end in, each one line a user can act on."""

from __future__ import annotations

from ..errors import InputError, QwenappError

__all__ = ["DeckError", "ExportError", "TemplateError"]


class DeckError(QwenappError):
    """The model's deck still failed validation after the allowed retries.

    Never a file on disk: the caller writes nothing when this is raised.
    """


class TemplateError(InputError):
    """``--template`` is not a usable .pptx file."""


class ExportError(QwenappError):
    """A PDF or PNG preview could not be made (LibreOffice or poppler missing or failing)."""
