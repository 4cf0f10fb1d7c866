"""The app factory: collaborators in, a FastAPI app out.

:func:`create_app` takes the settings, the server config and the model
backends (already resolved: tests pass a scripted model, ``qwenapp serve``
the real one) and wires the routers. The database is opened in the
lifespan, on the event loop's thread, and every handler reaches the
collaborators through :class:`~.state.ServerState`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import QwenappError, StorageError
from ..jobs import JobConfig, JobKind, default_kinds
from ..library import Embedder, Library
from ..models.base import Backend
from ..settings import Settings
from ..store import ConversationStore, open_db
from ..store.connection import dialect_of
from ..store.stream_owners import StreamOwners
from . import (
    account_api,
    chat_api,
    clarify_api,
    documents_api,
    health,
    jobs_api,
    logs,
    metrics,
    openai_api,
    revisions_api,
    tools_api,
    web,
)
from .chat_tools import Approvals, ServerTools
from .config import MB, ServerConfig
from .errors import HttpError, error_body, from_core
from .jobs import JobManager, JobStore
from .jobs.worker import job_services
from .limits import Gate, RateLimiter, StreamLimiter
from .metrics import HttpMetrics, MeteredBackend, Metrics, RouteRecorder, metered_kind
from .middleware import (
    BodyLimit,
    HostCheck,
    ProxyHeaders,
    RequestSanity,
    SecurityHeaders,
    parse_proxies,
)
from .ops import OpsConfig
from .ownership import Ownership
from .registry import ModelRegistry
from .state import ServerState
from .stream_owner import keep_owning
from .uploads import remove_orphans
from .users import UserStore

__all__ = ["create_app", "default_kinds"]

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


def _job_config(config: ServerConfig) -> JobConfig:
    """What this server's options allow a job."""
    return JobConfig(web=config.web, search=config.search, search_env=config.search_env,
                     web_allowed_hosts=config.web_allowed_hosts, report_pdf=config.report_pdf,
                     deck_previews=config.deck_previews, upload_bytes=config.limits.upload_bytes)


def create_app(
    settings: Settings,
    backends: Sequence[Backend],
    config: ServerConfig | None = None,
    *,
    embedder: Embedder | None = None,
    kinds: Mapping[str, JobKind[Any]] | None = None,
    hasher: PasswordHasher | None = None,
    trusted_proxies: Sequence[str] | None = None,
    ops: OpsConfig | None = None,
    local_jobs: bool = True,
    stalled_after: float = 30.0,
) -> FastAPI:
    """A ready-to-serve app. The caller owns ``backends`` (and closes them).

    ``trusted_proxies`` names the reverse proxies whose ``X-Forwarded-*`` headers are
    believed; with ``config.trust_proxy`` and none named, a proxy on this machine
    (loopback). Nobody else's forwarded headers count. ``ops``: log format and metrics
    token (:meth:`OpsConfig.from_env` at the edge; default: text logs, no token).

    On PostgreSQL, jobs go to the durable queue (:mod:`.jobs.queue`) and this process
    runs up to ``limits.running_jobs`` of them itself unless ``local_jobs`` is false
    (then only ``qwenapp worker`` processes do); ``stalled_after``: seconds without a
    worker's heartbeat before its jobs go to another. On SQLite jobs are tasks of
    this process, as they always were. ``stalled_after`` is also how long an app
    process may go silent before the chat answers it streams are marked interrupted
    by the others (:mod:`qwenapp.store.stream_owners`).
    """
    config = config or ServerConfig()
    ops = ops or OpsConfig()
    proxies = list(trusted_proxies or ())
    if config.trust_proxy and not proxies:
        proxies = ["127.0.0.1", "::1"]
    meter = Metrics(token=ops.metrics_token, open_without_token=config.loopback and not proxies)
    registry = ModelRegistry([MeteredBackend(b, meter) for b in backends], embedder)
    data_dir = config.data_dir or settings.home / "server"
    job_kinds = {name: metered_kind(k, meter)
                 for name, k in (kinds if kinds is not None else default_kinds()).items()}
    tools = ServerTools.from_settings(settings, config)  # a bad [tools] fails here, at once

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.install(ops.log_format)  # after uvicorn configured its loggers
        try:
            conn = open_db(settings.database)
        except BaseException:
            logs.uninstall()
            raise
        data_dir.mkdir(parents=True, exist_ok=True)
        limits = config.limits
        library = Library(conn, limits=settings.documents.limits())  # OCR options too
        owners = Ownership(conn)
        streamers = StreamOwners(conn, stale_after=stalled_after)
        owner = streamers.register()  # the answers this process streams carry it
        store = JobStore(conn)
        services = job_services(conn, settings, registry, _job_config(config), store,
                                library=library, owners=owners)
        queue, listener = None, None
        if dialect_of(conn) == "postgresql":
            from .jobs.notify import EventListener
            from .jobs.queue import JobQueue, ensure_schema

            ensure_schema(conn)
            queue = JobQueue(str(settings.database), stalled_after=stalled_after)
        jobs = JobManager(store, job_kinds, services, settings.jobs_dir(data_dir), limits, owners,
                          queue=queue)
        if queue is not None:
            listener = EventListener(str(settings.database), jobs.wake, jobs.wake_all)
            listener.start()
        state = ServerState(
            settings=settings, config=config, conn=conn,
            store=ConversationStore(conn, owner=owner),
            library=library, users=UserStore(conn, hasher), owners=owners, models=registry,
            streams=StreamLimiter(limits.streams_per_user,
                                  Gate(limits.active_streams, limits.queued_streams)),
            rates=RateLimiter(limits.requests_per_minute, limits.burst),
            login_rates=RateLimiter(limits.login_attempts_per_minute,
                                    limits.login_attempts_per_minute),
            jobs=jobs, data_dir=data_dir, tools=tools, approvals=Approvals())
        app.state.server = state
        meter.bind(conn)
        # leftovers of a hard kill: answers left "streaming" by a process that is gone
        # (not those another live app process streams), half-done uploads
        streamers.interrupt_orphans(unowned=True)
        beating = asyncio.ensure_future(keep_owning(streamers, owner))
        remove_orphans(state.uploads_dir, conn)
        jobs.recover()
        working = None
        if queue is not None and local_jobs:
            working = asyncio.ensure_future(queue.work(
                jobs.runner, concurrency=max(1, limits.running_jobs), name="serve",
                install_signal_handlers=False))
        starting = asyncio.ensure_future(tools.start())  # MCP servers; turns wait for them
        try:
            yield
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            await tools.aclose()
            if working is not None:  # finishes, or hands back, the jobs it runs
                working.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await working
            if listener is not None:
                await listener.aclose()
            await jobs.shutdown()
            meter.unbind()
            with contextlib.suppress(StorageError):  # else: swept as silent by the others
                streamers.release(owner)
            conn.close()
            logs.uninstall()

    app = FastAPI(title="qwenapp", version=_version(), lifespan=lifespan,
                  description="A self-hosted assistant on local Qwen models: an OpenAI-"
                              "compatible API (/v1) and the native API of its web app (/api).",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.metrics = meter
    for module in (health, metrics, openai_api, account_api, chat_api, documents_api, jobs_api,
                   clarify_api, revisions_api, tools_api, web):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    _errors(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    limits = config.limits
    app.add_middleware(RouteRecorder)  # innermost: hands the matched route to HttpMetrics
    app.add_middleware(BodyLimit, limits=[
        ("/api/documents", limits.upload_bytes + MB), ("/api", 8 * MB), ("/v1", 32 * MB)])
    if config.loopback:
        app.add_middleware(HostCheck, allowed={*_LOOPBACK_NAMES, config.host.lower()})
    app.add_middleware(RequestSanity)
    app.add_middleware(SecurityHeaders)
    if proxies:
        app.add_middleware(ProxyHeaders, trusted=parse_proxies(proxies))
    # outermost: every request is counted and gets its id, even one refused above
    app.add_middleware(HttpMetrics, metrics=meter)
    app.add_middleware(logs.RequestContext)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qwenapp")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def _json_error(e: HttpError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status, headers=e.headers)


def _errors(app: FastAPI) -> None:
    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HttpError)
        return _json_error(exc)

    async def core_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, QwenappError)
        return _json_error(from_core(exc))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {"msg": "invalid request", "loc": ()}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc)
        msg = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        return JSONResponse(error_body(400, msg, code="invalid_request", param=where or None),
                            status_code=400)

    async def starlette_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = "no such route"
        return JSONResponse(error_body(exc.status_code, detail, code=code),
                            status_code=exc.status_code, headers=exc.headers)

    async def overflow(request: Request, exc: Exception) -> JSONResponse:
        # a number past what the database can hold (the store clamps the known ones)
        return JSONResponse(error_body(400, "a number in the request is out of range",
                                       code="invalid_request"), status_code=400)

    app.add_exception_handler(OverflowError, overflow)
    app.add_exception_handler(HttpError, http_error)
    app.add_exception_handler(QwenappError, core_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, starlette_error)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, corrected: validation errors are 400s in our error shape."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    for path in schema.get("paths", {}).values():
        for op in path.values():
            responses = op.get("responses", {})
            if "422" in responses:
                del responses["422"]
                responses.setdefault("400", {"description": "Bad Request",
                                             "content": {"application/json": {"schema": ref}}})
    comps = schema.get("components", {}).get("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema

