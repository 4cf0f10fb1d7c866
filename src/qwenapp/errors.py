"""Typed errors that a user can act on.

Every error a user can cause (a bad flag, a missing model, an unreachable
server, a locked database) is a :class:`QwenappError` with a one-line
``message`` and a ``hint`` saying what to do. Adapters (CLI, HTTP) print or
serialise these; anything else is a bug and may show a traceback.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BadRequestError",
    "ContextOverflowError",
    "InputError",
    "ModelFetchError",
    "ModelFileError",
    "QwenappError",
    "StorageError",
    "UnknownModelError",
]


class QwenappError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(QwenappError):
    """The user's input cannot be used (empty prompt, bad option value)."""

    exit_code = 2


class UnknownModelError(InputError):
    """``--model`` names nothing we know."""


class ModelFileError(QwenappError):
    """A GGUF file is missing, truncated or not a GGUF at all."""


class ModelFetchError(QwenappError):
    """No source could provide a model; ``message`` lists each source tried."""


class BackendError(QwenappError):
    """An engine or server failed. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, hint: str = "", *, status: int | None = None,
                 retryable: bool = False) -> None:
        super().__init__(message, hint)
        self.status = status
        self.retryable = retryable


class BadRequestError(BackendError):
    """The engine rejected the request itself (HTTP 400)."""


class ContextOverflowError(BackendError):
    """The prompt does not fit in the model's context window."""


class StorageError(QwenappError):
    """The database cannot be opened or written (locked, read-only, full disk)."""
