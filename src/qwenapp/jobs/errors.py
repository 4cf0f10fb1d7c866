"""Why a job cannot be created or run as asked: core errors, no HTTP.

A job kind checks its request wherever it runs (the server's job manager,
the CLI, a worker process), so what it raises must mean something to each
of them. These are :class:`~qwenapp.errors.QwenappError` values with a
machine-readable ``code`` and the request field (``param``) at fault; the
HTTP API maps them to status codes in one place
(:func:`qwenapp.server.errors.from_core`), the CLI prints message and hint.
"""

from __future__ import annotations

from ..errors import QwenappError

__all__ = ["Busy", "Gone", "InvalidJob", "JobRefused", "NotFound"]


class JobRefused(QwenappError):
    """A job request that cannot be taken: ``code`` names why, ``param`` the field."""

    def __init__(self, message: str, hint: str = "", *, code: str,
                 param: str | None = None) -> None:
        super().__init__(message, hint)
        self.code = code
        self.param = param


class InvalidJob(JobRefused):
    """The request itself is wrong (an unknown theme, an empty topic, a bad address)."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "", *, code: str = "invalid_request",
                 param: str | None = None) -> None:
        super().__init__(message, hint, code=code, param=param)


class NotFound(JobRefused):
    """Something the request names is missing *or* not the caller's: the two look the same."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no such {what}", code="not_found")


class Gone(JobRefused):
    """Something the request names existed but is no longer stored."""


class Busy(JobRefused):
    """Too much work is queued already; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, hint: str = "", *, code: str,
                 retry_after: float = 30.0) -> None:
        super().__init__(message, hint, code=code)
        self.retry_after = retry_after
