"""``qwenapp serve``: the web app and the HTTP APIs on one port.

This module is an adapter: it turns options into a
:class:`~qwenapp.server.ServerConfig`, resolves the model backends, checks
that a non-loopback address has accounts (it refuses to start otherwise),
then hands the app to uvicorn. The socket is bound here, so ``--port 0``
works and the line printed names the real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

import click

from ..errors import InputError
from .state import AppState

__all__ = ["serve"]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {e.strerror or e}",
                         "choose another --port, or stop what is using it") from None
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


def _proxies(option: str | None, configured: tuple[str, ...]) -> tuple[str, ...]:
    from ..server.middleware import parse_proxies

    named = tuple(p for p in (option.split(",") if option else configured) if p.strip())
    try:
        parse_proxies(named)
    except ValueError as e:
        raise InputError(f"--trust-proxy: {e}", "name the proxy by address or network, "
                         "e.g. --trust-proxy 127.0.0.1 or 10.0.0.0/24") from None
    return named


def uvicorn_config(app: Any, log_level: str = "info") -> Any:
    """uvicorn's settings for ``qwenapp serve`` (shared with the tests).

    ``proxy_headers`` is off: uvicorn would otherwise believe X-Forwarded-For and
    -Proto from any loopback peer, so anyone on the machine (or a page's fetch through
    a local proxy) could pick the address the login rate limit counts, or make cookies
    Secure. The app's ProxyHeaders middleware believes only the proxies named.
    """
    import uvicorn

    return uvicorn.Config(app, log_level=log_level, access_log=False, proxy_headers=False,
                          forwarded_allow_ips="", timeout_graceful_shutdown=5, lifespan="on")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs accounts "
                   "(`qwenapp users add NAME --admin`).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0: any free port; the one chosen is printed).")
@click.option("-m", "--model", "models", multiple=True,
              help="A model to offer (repeatable; the first is the default). Default: the "
                   "configured model.")
@click.option("--embed", metavar="openai:URL#MODEL",
              help="An embeddings server to answer /v1/embeddings.")
@click.option("--secure-cookies/--no-secure-cookies", default=None,
              help="Mark session cookies Secure (default: when the request came over https).")
@click.option("--trust-proxy", "trust_proxy", is_flag=False, flag_value="127.0.0.1,::1",
              default=None, metavar="ADDR[,ADDR]",
              help="Believe X-Forwarded-For/-Proto from this reverse proxy (addresses or "
                   "networks; alone: a proxy on this machine). Default: $QWENAPP_TRUST_PROXY "
                   "or `trust_proxy` in config.toml, else nobody's.")
@click.option("--streams-per-user", default=4, show_default=True, type=click.IntRange(1),
              help="Chat answers one user may generate at once.")
@click.option("--rate", "per_minute", default=120, show_default=True, type=click.IntRange(1),
              help="Generation requests per user per minute.")
@click.option("--max-streams", default=64, show_default=True, type=click.IntRange(1),
              help="Answers generated at once, server-wide (more wait in a bounded queue).")
@click.option("--jobs-per-user", default=2, show_default=True, type=click.IntRange(1),
              help="Reports and decks one user may have queued or running.")
@click.option("--max-jobs", default=1, show_default=True, type=click.IntRange(1),
              help="Reports and decks run at once, server-wide (the rest wait, queued).")
@click.option("--local-jobs/--no-local-jobs", default=True, show_default=True,
              help="On PostgreSQL: run queued jobs in this process too (--max-jobs at "
                   "once). --no-local-jobs leaves them to `qwenapp worker` processes. "
                   "On SQLite jobs always run here.")
@click.option("--stalled-after", default=30.0, show_default=True,
              type=click.FloatRange(1, 3600), metavar="SECONDS",
              help="On PostgreSQL: a worker silent this long has its jobs taken by another. "
                   "An app process silent this long has its streaming chat answers marked "
                   "interrupted by the others (it beats every third of it).")
@click.option("--web/--no-web", default=False, show_default=True,
              help="Let reports read web pages and search the web (private addresses only "
                   "with --allow-host).")
@click.option("--search", metavar="PROVIDER[:URL]",
              help="Search provider for --web: duckduckgo, searxng:URL, brave, tavily "
                   "(default $QWENAPP_SEARCH or duckduckgo; keys from BRAVE_API_KEY, ...).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
              help="A private host that reports (--web), fetch_url and users' own MCP "
                   "servers may still reach (repeatable).")
@click.option("--upload-mb", default=50, show_default=True, type=click.IntRange(1, 1024),
              help="Largest document upload, in MB.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_obj
def serve(state: AppState, host: str, port: int, models: tuple[str, ...], embed: str | None,
          secure_cookies: bool | None, trust_proxy: str | None, streams_per_user: int,
          per_minute: int, max_streams: int, jobs_per_user: int, max_jobs: int,
          local_jobs: bool, stalled_after: float, web: bool, search: str | None,
          allow_hosts: tuple[str, ...], upload_mb: int,
          log_level: str) -> None:
    """Serve the web app, the native API and an OpenAI-compatible API."""
    import uvicorn

    from ..server import ServerConfig, ServerLimits, create_app, is_loopback
    from ..server.config import MB
    from ..server.ops import OpsConfig
    from ..server.users import UserStore
    from ..store import open_db
    from ..store.connection import is_database_url

    settings = state.settings
    if not local_jobs and not is_database_url(settings.database):
        raise InputError("--no-local-jobs needs PostgreSQL: on SQLite, jobs run in this "
                         "process", "set QWENAPP_DATABASE_URL=postgresql://… and start "
                         "`qwenapp worker` processes, or leave the flag out")
    # Opened (and migrated) here, before the server starts: an unreachable PostgreSQL or
    # an unwritable home is the CLI's one-line error, not a traceback from the app's start.
    conn = open_db(settings.database)
    try:
        has_accounts = UserStore(conn).count() > 0
        if is_database_url(settings.database):  # the job queue's tables (and its package)
            from ..server.jobs.queue import ensure_schema

            ensure_schema(conn)
    finally:
        conn.close()
    if not is_loopback(host) and not has_accounts:
        raise InputError(
            f"refusing to listen on {host} without accounts: anyone who can reach it "
            "could use it",
            "create an account with `qwenapp users add NAME --admin`, or use "
            "--host 127.0.0.1")
    limits = ServerLimits(streams_per_user=streams_per_user, requests_per_minute=per_minute,
                          active_streams=max_streams, queued_streams=max_streams,
                          jobs_per_user=jobs_per_user, running_jobs=max_jobs,
                          upload_bytes=upload_mb * MB)
    proxies = _proxies(trust_proxy, settings.trusted_proxies)
    config = ServerConfig(host=host, port=port, limits=limits, secure_cookies=secure_cookies,
                          trust_proxy=bool(proxies), web=web,
                          search=search or settings.search, search_env=settings.search_keys,
                          web_allowed_hosts=frozenset(h.lower() for h in allow_hosts))
    # log format and metrics token from the environment, read before any model loads so a
    # bad value is the CLI's one-line error
    ops = OpsConfig.from_env(os.environ)
    backends = [state.backend(spec) for spec in (models or (settings.model,))]
    embedder = None
    if embed:
        from ..library import parse_embedder

        embedder = parse_embedder(embed)
    for b in backends:
        load = getattr(b, "load", None)
        if load is not None:
            state.err.print(f"[dim]loading {b.name}…[/]")
            load()
    sock = _bind(host, port)
    app = create_app(settings, backends, config, embedder=embedder, trusted_proxies=proxies,
                     ops=ops, local_jobs=local_jobs, stalled_after=stalled_after)
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    state.err.print(f"[bold]qwenapp[/] serving on http://{shown}:{bound} "
                    f"(models: {', '.join(b.name for b in backends)}; "
                    f"{'login required' if not is_loopback(host) else 'loopback'})")
    server = uvicorn.Server(uvicorn_config(app, log_level))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()

        async def close() -> None:
            for b in backends:
                with contextlib.suppress(Exception):
                    await b.aclose()
            if embedder is not None:
                await embedder.aclose()

        asyncio.run(close())
