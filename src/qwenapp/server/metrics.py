"""Prometheus metrics at ``/metrics`` (prometheus-client, text format 0.0.4).

What is measured, and where:

* requests and their durations by method, route *template* (``/api/jobs/{job_id}``,
  never the id: bounded cardinality) and status: :class:`HttpMetrics`, an outer
  ASGI middleware, so a request refused by another middleware counts too;
* SSE streams (``text/event-stream`` responses) by route, from the first byte
  to the last: the same middleware;
* jobs by kind and outcome (done, failed, cancelled, interrupted) with their
  run durations: :class:`MeteredKind` wraps each job kind's ``run``, which also
  puts the job id in every log line the job writes (:func:`.logs.job_scope`);
* prompt and generated tokens by model: :class:`MeteredBackend` wraps each
  backend's ``stream`` and reads its ``Usage`` event (chat, /v1 and jobs alike);
* jobs queued and running by kind: read from the jobs table at scrape time, so
  with several processes on one PostgreSQL every process reports the shared queue.

Each app has its own :class:`~prometheus_client.CollectorRegistry` (two apps in
one test process do not collide; nothing global).

Who may read ``/metrics`` (decided here): the numbers say how busy the server is and
which models it runs, not whose data, but they are not for the world. With a metrics
token configured (``QWENAPP_METRICS_TOKEN``) the scraper must send
``Authorization: Bearer TOKEN``. Without one, ``/metrics`` is open only on a server
bound to loopback with no trusted proxy (only this machine can reach it, and no proxy
forwards the world to it); anywhere else it answers 403 and says to set a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

from fastapi import APIRouter
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jobs import JobContext, JobEvent, JobKind
from ..jobs.kinds import R
from ..models.base import Backend
from ..models.events import Event, GenerateOptions, Usage
from ..models.events import Message as ChatMessage
from ..store.connection import Connection
from .errors import HttpError
from .logs import job_scope

__all__ = ["HttpMetrics", "MeteredBackend", "MeteredKind", "Metrics", "RouteRecorder",
           "metered_kind", "route_template", "router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_LONG_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
T = TypeVar("T")
job_log = logging.getLogger("qwenapp.jobs")
UNMATCHED = "<unmatched>"  # a path no route knows: one label, not one per probe


class _QueueCollector(Collector):
    """``qwenapp_jobs_in_queue{kind, status}``: queued and running jobs, from the database."""

    def __init__(self) -> None:
        self.conn: Connection | None = None

    def collect(self) -> Iterable[GaugeMetricFamily]:
        g = GaugeMetricFamily("qwenapp_jobs_in_queue",
                              "Jobs queued or running (all processes sharing the database)",
                              labels=["kind", "status"])
        if self.conn is not None:
            rows = self.conn.execute(
                "SELECT kind, status, count(*) FROM server_jobs "
                "WHERE status IN ('queued', 'running') GROUP BY kind, status").fetchall()
            seen = set()
            for kind, status, n in rows:
                g.add_metric([kind, status], float(n))
                seen.add((kind, status))
            for status in ("queued", "running"):  # zeros keep the series alive for alerts
                if not any(s == status for _, s in seen):
                    g.add_metric(["", status], 0.0)
        yield g


class Metrics:
    """This app's registry and instruments, and who may read them."""

    def __init__(self, *, token: str | None, open_without_token: bool) -> None:
        self.token = token
        self.open_without_token = open_without_token
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("qwenapp_http_requests", "HTTP requests",
                                ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram(
            "qwenapp_http_request_duration_seconds", "HTTP request duration, to the last byte",
            ["method", "route", "status"], buckets=_REQUEST_BUCKETS, registry=r)
        self.stream_seconds = Histogram(
            "qwenapp_stream_duration_seconds", "Server-sent event streams, first to last byte",
            ["route"], buckets=_LONG_BUCKETS, registry=r)
        self.jobs = Counter("qwenapp_jobs", "Job runs ended, by kind and outcome",
                            ["kind", "outcome"], registry=r)
        self.job_seconds = Histogram("qwenapp_job_duration_seconds", "Job run duration",
                                     ["kind", "outcome"], buckets=_LONG_BUCKETS, registry=r)
        self.tokens = Counter("qwenapp_tokens", "Model tokens, by model and type "
                              "(prompt, generated)", ["model", "type"], registry=r)
        self.queue = _QueueCollector()
        r.register(self.queue)

    def bind(self, conn: Connection) -> None:
        """Read the queue from ``conn`` (the server's connection, on the loop's thread)."""
        self.queue.conn = conn

    def unbind(self) -> None:
        self.queue.conn = None

    def check(self, request: Request) -> None:
        """Raise a 401/403 unless this caller may read the metrics (module docstring)."""
        if self.token:
            header = request.headers.get("authorization", "")
            sent = header[7:].strip() if header[:7].lower() == "bearer " else ""
            if not sent or not hmac.compare_digest(sent.encode(), self.token.encode()):
                raise HttpError(401, "the metrics need the metrics token", code="unauthorized",
                                hint="send Authorization: Bearer TOKEN (QWENAPP_METRICS_TOKEN)",
                                headers={"WWW-Authenticate": 'Bearer realm="qwenapp-metrics"'})
        elif not self.open_without_token:
            raise HttpError(403, "the metrics are open on a loopback server only",
                            code="forbidden", hint="set QWENAPP_METRICS_TOKEN and scrape "
                                                   "with Authorization: Bearer TOKEN")


router = APIRouter(tags=["meta"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    m: Metrics = request.app.state.metrics
    m.check(request)
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE)


_SLOT = "qwenapp.route"  # a dict shared by the scope copies middleware make on the way in


def route_template(scope: Scope) -> str | None:
    """The template of the route that took ``scope`` (FastAPI puts it in the scope)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if str(scope.get("root_path", "")).endswith("/static"):  # the static files' mount
        return "/static"
    return None


class RouteRecorder:
    """The innermost middleware: tells :class:`HttpMetrics` which route took the request.

    The router writes the matched route into the scope it was given; middleware
    between here and the outer :class:`HttpMetrics` copy the scope (``dict(scope)``),
    so the route is handed back through a dict that every copy shares.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        slot = scope.get(_SLOT)
        if slot is None:
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start" and "route" not in slot:
                slot["route"] = route_template(scope)
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            slot.setdefault("route", route_template(scope))


class HttpMetrics:
    """Counts every HTTP request and times it (and its stream) by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot: dict[str, str | None] = {}
        scope = {**scope, _SLOT: slot}
        start = time.perf_counter()
        status = 500
        first_byte: float | None = None
        streaming = False

        async def wrapped(message: Message) -> None:
            nonlocal status, first_byte, streaming
            if message["type"] == "http.response.start":
                status = int(message["status"])
                first_byte = time.perf_counter()
                streaming = any(k.lower() == b"content-type"
                                and v.split(b";")[0].strip() == b"text/event-stream"
                                for k, v in message.get("headers", []))
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            end = time.perf_counter()
            route = slot.get("route") or UNMATCHED
            labels = (scope.get("method", ""), route, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.request_seconds.labels(*labels).observe(end - start)
            if streaming and first_byte is not None:
                self.metrics.stream_seconds.labels(route).observe(end - first_byte)


@contextlib.asynccontextmanager
async def _closing(it: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    try:
        yield it
    finally:
        close = getattr(it, "aclose", None)
        if close is not None:
            await close()


class MeteredKind(Generic[R]):
    """A job kind that counts and times its runs, with the job id in its log lines.

    Everything but :meth:`run` is the wrapped kind's (``name``, ``resumable``,
    ``request_model``, ``title``, ``check``).
    """

    def __init__(self, inner: JobKind[R], metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def run(self, ctx: JobContext, request: R) -> AsyncIterator[JobEvent]:
        outcome = "failed"
        start = time.perf_counter()
        with job_scope(ctx.job_id):
            job_log.info("job started", extra={"kind": str(self._inner.name),
                                               "resumed": ctx.resumed})
            try:
                async with _closing(self._inner.run(ctx, request)) as events:
                    async for event in events:
                        yield event
                outcome = "done"
            except asyncio.CancelledError:
                outcome = "cancelled"  # by its user, or the server stopping (resumed later)
                raise
            except GeneratorExit:
                outcome = "interrupted"
                raise
            finally:
                kind = str(self._inner.name)
                took = time.perf_counter() - start
                self._metrics.jobs.labels(kind, outcome).inc()
                self._metrics.job_seconds.labels(kind, outcome).observe(took)
                job_log.info("job ended", extra={"kind": kind, "outcome": outcome,
                                                 "duration_s": round(took, 3),
                                                 "resumed": ctx.resumed})


def metered_kind(inner: JobKind[R], metrics: Metrics) -> JobKind[R]:
    """``inner`` with its runs metered. (A cast: the protocol's ``name`` and ``resumable``
    are class variables, which a wrapper of any kind can only hold per instance.)"""
    return cast("JobKind[R]", MeteredKind(inner, metrics))


class MeteredBackend:
    """A backend whose ``Usage`` events are counted by model; the rest is the backend's."""

    def __init__(self, inner: Backend, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def context_length(self) -> int:
        return self._inner.context_length

    @property
    def supports_thinking(self) -> bool:
        return self._inner.supports_thinking

    @property
    def serial_jobs(self) -> bool:
        return self._inner.serial_jobs

    async def stream(self, messages: Sequence[ChatMessage],
                     options: GenerateOptions) -> AsyncIterator[Event]:
        # closed at once when our caller closes us: the engine slot is freed now, not at GC
        async with _closing(self._inner.stream(messages, options)) as events:
            async for event in events:
                if isinstance(event, Usage):
                    self._metrics.tokens.labels(self.name, "prompt").inc(event.prompt_tokens)
                    self._metrics.tokens.labels(self.name, "generated").inc(
                        event.completion_tokens)
                yield event

    async def aclose(self) -> None:
        await self._inner.aclose()
