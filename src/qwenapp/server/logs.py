"""Structured logs: one JSON object a line, with the request id and the job id.

Why here and not in uvicorn's log config: the ids live in context variables
that only the app sets (:class:`RequestContext` for each request, the job
wrapper in :mod:`.metrics` for each job's task), and a log collector (Loki,
CloudWatch, journald) wants the same fields on every line, whoever logged it.

* :class:`RequestContext` (outermost middleware) takes an incoming
  ``X-Request-ID`` when it is a sane token (letters, digits, ``._:-``, at most
  128), else makes one; echoes it in the response; logs one ``request`` line
  at the end (method, path without query, status, duration) to
  ``qwenapp.access``.
* :func:`install` puts a JSON (or plain text) handler on the root logger and
  on uvicorn's loggers, for the life of the server; :func:`uninstall` undoes it.
  In ``text`` mode nothing is installed: uvicorn's own output is kept as it was.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "JsonFormatter", "LogFormat", "RequestContext", "install",
           "job_id", "job_scope", "request_id", "uninstall"]

LogFormat = Literal["text", "json"]
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "qwenapp_request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "qwenapp_job_id", default=None)

access_log = logging.getLogger("qwenapp.access")

# attributes every LogRecord has: anything else was passed in ``extra=`` and is kept
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


@contextmanager
def job_scope(jid: str) -> Iterator[None]:
    """Log lines written inside carry ``job_id`` (each job runs in its own task)."""
    token = job_id.set(jid)
    try:
        yield
    finally:
        job_id.reset(token)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id"?, "job_id"?, extras…, "exc"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid, jid = request_id.get(), job_id.get()
        if rid:
            out["request_id"] = rid
        if jid:
            out["job_id"] = jid
        for k, v in vars(record).items():
            if k not in _STANDARD and not k.startswith("_"):
                out[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


_installed: list[tuple[logging.Logger, list[logging.Handler], bool, int]] = []


def install(fmt: LogFormat, stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send every log line (ours and uvicorn's) through one handler in ``fmt``.

    ``text``: nothing changes. Process-wide, like all logging configuration:
    called from the app's startup, undone by :func:`uninstall` at shutdown.
    """
    if fmt != "json" or _installed:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("", *_UVICORN):
        logger = logging.getLogger(name)
        _installed.append((logger, list(logger.handlers), logger.propagate, logger.level))
        logger.handlers = [handler] if name == "" else []
        logger.propagate = name != ""
        if name == "" or logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    logging.getLogger("qwenapp").setLevel(min(level, logging.INFO))


def uninstall() -> None:
    while _installed:
        logger, handlers, propagate, level = _installed.pop()
        logger.handlers = handlers
        logger.propagate = propagate
        logger.setLevel(level)


class RequestContext:
    """A request id for every request (see the module docstring), and its access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for k, v in scope.get("headers", []):
            if k == b"x-request-id":
                sent = v.decode("latin-1").strip()
                rid = sent if _SANE_ID.fullmatch(sent) else ""
                break
        rid = rid or uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        start = time.perf_counter()

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            access_log.info("request", extra={
                "method": scope.get("method", ""), "path": scope.get("path", ""),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2)})
            request_id.reset(token)
