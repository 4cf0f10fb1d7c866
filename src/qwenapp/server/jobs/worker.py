"""``qwenapp worker``'s process: the job kinds, their collaborators, the queue's loop.

A worker opens the same database as the app processes (PostgreSQL), builds
the :class:`~qwenapp.jobs.JobServices` a job needs exactly as an app process
does (:func:`job_services`), and takes jobs from the durable queue
(:class:`~.queue.JobQueue`) until it is told to stop. It serves no HTTP: its
followers are in the app processes, which hear its events through the
database. Job files go to :meth:`Settings.jobs_dir <qwenapp.settings.Settings.jobs_dir>`
(``artifacts_dir`` when set, else ``$QWENAPP_HOME/server/jobs``): the app processes
must see the same folder (one machine, or one shared mount on all of them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...jobs import JobConfig, JobKind, JobServices, default_kinds
from ...library import Library
from ...models.base import Backend
from ...settings import Settings
from ...store import open_db
from ...store.connection import Connection, is_database_url
from ..metrics import MeteredBackend, Metrics, metered_kind
from ..ownership import Ownership
from ..registry import ModelRegistry
from .queue import JobQueue, ensure_schema
from .runner import JobRunner
from .store import JobStore

__all__ = ["job_services", "run_worker"]


def job_services(conn: Connection, settings: Settings, models: ModelRegistry,
                 config: JobConfig, store: JobStore, *, library: Library | None = None,
                 owners: Ownership | None = None) -> JobServices:
    """What a job may use, on ``conn`` (the same in an app process and a worker)."""
    library = library or Library(conn, limits=settings.documents.limits())  # OCR options too
    return JobServices(conn, library, owners or Ownership(conn), models, settings, config,
                       store)


async def run_worker(settings: Settings, backends: Sequence[Backend], config: JobConfig, *,
                     concurrency: int = 1, stalled_after: float = 30.0, grace: float = 10.0,
                     data_dir: Path | None = None,
                     kinds: Mapping[str, JobKind[Any]] | None = None,
                     metrics: Metrics | None = None) -> None:
    """Run queued jobs until SIGINT or SIGTERM (then finish or hand back the running ones).

    ``metrics``: count and time the jobs and their tokens there, and log each job's start
    and end with its id (as an app process does for the jobs it runs).
    """
    url = settings.database
    if not is_database_url(url):
        raise InputError("qwenapp worker needs PostgreSQL: on SQLite, jobs run in "
                         "`qwenapp serve` itself",
                         "set QWENAPP_DATABASE_URL=postgresql://… (docs/postgres.md)")
    conn = open_db(url)
    try:
        ensure_schema(conn)
        store = JobStore(conn)
        job_kinds = dict(kinds or default_kinds())
        models: Sequence[Backend] = backends
        if metrics is not None:
            job_kinds = {name: metered_kind(k, metrics) for name, k in job_kinds.items()}
            models = [MeteredBackend(b, metrics) for b in backends]
        services = job_services(conn, settings, ModelRegistry(models), config, store)
        root = settings.jobs_dir(data_dir)
        root.mkdir(parents=True, exist_ok=True)
        runner = JobRunner(store, job_kinds, services, root)
        queue = JobQueue(str(url), stalled_after=stalled_after, grace=grace)
        await queue.work(runner, concurrency=concurrency)
    finally:
        conn.close()
