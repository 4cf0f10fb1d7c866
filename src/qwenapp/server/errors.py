"""HTTP errors: one JSON shape for every failure, typed errors mapped to status codes.

Every error body is ``{"error": {"message", "type", "code", "param", "hint"}}``:
the OpenAI shape (so its clients read it) plus our ``hint``. Core errors
(:class:`~qwenapp.errors.QwenappError`, the job kinds' refusals in
:mod:`qwenapp.jobs.errors` among them) are mapped here, in one place; a
route raises :class:`HttpError` for anything HTTP-specific (404, 429...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..errors import (
    BackendError,
    BadRequestError,
    ContextOverflowError,
    InputError,
    QwenappError,
    StorageError,
    UnknownModelError,
)
from ..jobs.errors import Busy, Gone, JobRefused, NotFound

__all__ = [
    "ErrorBody",
    "ErrorResponse",
    "HttpError",
    "error_body",
    "from_core",
    "not_found",
    "too_many",
]


class ErrorBody(BaseModel):
    message: str
    type: str
    code: str | None = None
    param: str | None = None
    hint: str = ""


class ErrorResponse(BaseModel):
    error: ErrorBody


_TYPES = {400: "invalid_request_error", 401: "authentication_error",
          403: "permission_error", 404: "not_found_error", 409: "conflict_error",
          413: "invalid_request_error", 415: "invalid_request_error",
          429: "rate_limit_error", 503: "server_busy_error"}


class HttpError(Exception):
    """An error with an HTTP status, a plain message, and a machine-readable code."""

    def __init__(self, status: int, message: str, *, code: str, hint: str = "",
                 param: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.hint = hint
        self.param = param
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, code=self.code, hint=self.hint,
                          param=self.param)


def error_body(status: int, message: str, *, code: str | None, hint: str = "",
               param: str | None = None) -> dict[str, Any]:
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "code": code, "param": param,
                      "hint": hint}}


def not_found(what: str) -> HttpError:
    """The answer for anything missing *or* not the caller's: the two are indistinguishable."""
    return HttpError(404, f"no such {what}", code="not_found")


def too_many(message: str, *, code: str, retry_after: float = 1.0, hint: str = "") -> HttpError:
    """A 429 that says which limit, and when to try again."""
    return HttpError(429, message, code=code, hint=hint,
                     headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def from_core(e: QwenappError) -> HttpError:
    """The HTTP form of a core error."""
    if isinstance(e, JobRefused):
        if isinstance(e, Busy):
            return too_many(e.message, code=e.code, retry_after=e.retry_after, hint=e.hint)
        status = 404 if isinstance(e, NotFound) else 410 if isinstance(e, Gone) else 400
        return HttpError(status, e.message, code=e.code, hint=e.hint, param=e.param)
    if isinstance(e, UnknownModelError):
        return HttpError(404, e.message, code="model_not_found", param="model", hint=e.hint)
    if isinstance(e, ContextOverflowError):
        return HttpError(400, e.message, code="context_length_exceeded", hint=e.hint)
    if isinstance(e, BadRequestError):
        return HttpError(400, e.message, code="bad_request", hint=e.hint)
    if isinstance(e, BackendError):
        status = 503 if e.retryable else 502
        return HttpError(status, e.message, code="model_error", hint=e.hint)
    if isinstance(e, StorageError):
        return HttpError(503, e.message, code="storage_error", hint=e.hint)
    if isinstance(e, InputError):
        return HttpError(400, e.message, code="invalid_input", hint=e.hint)
    return HttpError(500, e.message, code="error", hint=e.hint)
