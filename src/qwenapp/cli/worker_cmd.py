"""``qwenapp worker``: runs reports and decks from the durable job queue (PostgreSQL).

An adapter like ``serve``: options become a :class:`~qwenapp.jobs.JobConfig`,
the model backends are resolved (``-m scripted:…`` in tests, an endpoint or
the embedded engine otherwise), and :func:`~qwenapp.server.jobs.worker.run_worker`
takes jobs until SIGINT/SIGTERM. Start as many as the models can serve, on any
machine that reaches the database and sees the app processes' job folder
(``QWENAPP_ARTIFACTS_DIR``: one shared mount when they are on several machines).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import click

from .state import AppState

__all__ = ["worker"]


@click.command()
@click.option("-m", "--model", "models", multiple=True,
              help="A model jobs may use (repeatable; the first is the default). Default: "
                   "the configured model. Give it the models the app processes offer.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs this worker runs at once (they share its models).")
@click.option("--stalled-after", default=30.0, show_default=True,
              type=click.FloatRange(1, 3600), metavar="SECONDS",
              help="A worker silent this long (killed, or cut off) has its jobs taken by "
                   "another; heartbeats go every third of it.")
@click.option("--grace", default=10.0, show_default=True, type=click.FloatRange(0, 3600),
              metavar="SECONDS",
              help="On SIGTERM, wait this long for running jobs, then hand them back to the "
                   "queue (they resume in another worker from their saved stages).")
@click.option("--web/--no-web", default=False, show_default=True,
              help="Let reports read web pages and search the web (as `serve --web`).")
@click.option("--search", metavar="PROVIDER[:URL]", help="Search provider for --web.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
              help="A private host reports (--web) may still reach (repeatable).")
@click.option("--upload-mb", default=50, show_default=True, type=click.IntRange(1, 1024),
              help="The upload limit the app processes use (documents are read under it).")
@click.option("--report-pdf/--no-report-pdf", default=True, show_default=True,
              help="Render each report's PDF too (when LibreOffice is installed).")
@click.option("--deck-previews/--no-deck-previews", default=True, show_default=True,
              help="Render each deck's PDF and slide pictures (when the tools exist).")
@click.option("--metrics-port", type=click.IntRange(1, 65535), metavar="PORT",
              help="Serve this worker's Prometheus metrics (jobs, job durations, tokens) on "
                   "--metrics-host:PORT/metrics.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address of the metrics port (it has no token: keep it private).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.pass_obj
def worker(state: AppState, models: tuple[str, ...], concurrency: int, stalled_after: float,
           grace: float, web: bool, search: str | None, allow_hosts: tuple[str, ...],
           upload_mb: int, report_pdf: bool, deck_previews: bool, metrics_port: int | None,
           metrics_host: str, log_level: str) -> None:
    """Run queued reports and decks (PostgreSQL: QWENAPP_DATABASE_URL)."""
    from ..errors import InputError
    from ..jobs import JobConfig
    from ..server import logs
    from ..server.config import MB
    from ..server.jobs.worker import run_worker
    from ..server.metrics import Metrics
    from ..server.ops import OpsConfig
    from ..store import open_db
    from ..store.connection import is_database_url
    from ..store.postgres import redact

    settings = state.settings
    if not is_database_url(settings.database):
        raise InputError("qwenapp worker needs PostgreSQL: on SQLite, jobs run in "
                         "`qwenapp serve` itself",
                         "set QWENAPP_DATABASE_URL=postgresql://… (docs/postgres.md)")
    open_db(settings.database).close()  # unreachable or refused: the one-line error, now
    ops = OpsConfig.from_env(os.environ)  # QWENAPP_LOG_FORMAT=json: lines with job ids
    level = logging.getLevelName(log_level.upper())
    if ops.log_format == "json":
        logs.install("json", level=level)
    else:
        logging.basicConfig(level=level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    meter = Metrics(token=None, open_without_token=True)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        try:
            start_http_server(metrics_port, addr=metrics_host, registry=meter.registry)
        except OSError as e:
            raise InputError(f"cannot serve metrics on {metrics_host}:{metrics_port}: "
                             f"{e.strerror or e}", "choose another --metrics-port") from None
    config = JobConfig(web=web, search=search or settings.search,
                       search_env=settings.search_keys,
                       web_allowed_hosts=frozenset(h.lower() for h in allow_hosts),
                       report_pdf=report_pdf, deck_previews=deck_previews,
                       upload_bytes=upload_mb * MB)
    backends = [state.backend(spec) for spec in (models or (settings.model,))]
    for b in backends:
        load = getattr(b, "load", None)
        if load is not None:
            state.err.print(f"[dim]loading {b.name}…[/]")
            load()
    state.err.print(f"[bold]qwenapp[/] worker on {redact(str(settings.database))} "
                    f"(models: {', '.join(b.name for b in backends)}; "
                    f"{concurrency} at once)")

    async def main() -> None:
        try:
            await run_worker(settings, backends, config, concurrency=concurrency,
                             stalled_after=stalled_after, grace=grace, metrics=meter)
        finally:
            for b in backends:
                with contextlib.suppress(Exception):
                    await b.aclose()

    asyncio.run(main())
    state.err.print("[dim]worker stopped[/]")
