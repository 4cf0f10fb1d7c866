"""Jobs on a durable queue in PostgreSQL: procrastinate, with qwenapp's rows as the truth.

Why procrastinate (see docs/postgres.md): it is a maintained PostgreSQL-only
queue on psycopg 3, which qwenapp already uses; a job is fetched with
``FOR UPDATE SKIP LOCKED`` (one worker takes it), new jobs and abort requests
reach workers by ``LISTEN/NOTIFY``, workers send heartbeats so the jobs of a
worker that died can be found, and, what decides it, a job can be deferred and
cancelled *on a connection we pass*: inside the transaction that stores or
cancels qwenapp's own job row. So a job is never stored without being queued,
nor queued without being stored.

The split of work: ``server_jobs`` says what a job is and how it stands
(queued, running, done...), its events and saved stages say how far it got;
procrastinate only delivers "run job X" to one worker at a time, at least once.
One task, ``qwenapp.run_job(job_id)``, with the job id as its lock (two queue
jobs for one qwenapp job never run at once), runs :meth:`.runner.JobRunner.run`.

Recovery (:meth:`JobQueue.sweep`, every few seconds in every worker): a queue
job whose worker stopped sending heartbeats for ``stalled_after`` seconds is
put back to be taken again, but only when nobody holds the job's fence: an
advisory lock on the job id that the worker running it holds on a connection
of its own for as long as it runs. A worker killed with ``kill -9`` loses its
connection, so PostgreSQL releases its fence at once; a worker that is only
slow to send heartbeats keeps it, and its job is not run twice. The next worker
finds the row "running" and resumes it from its saved stages. Rows queued or
running with no queue job at all (copied with ``db copy`` from SQLite) are
enqueued by the same sweep.

A graceful stop of a worker (SIGTERM) waits ``grace`` seconds for its jobs,
then hands the rest back to the queue: they resume in another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...errors import StorageError
from ...store import transaction
from ...store.connection import Connection
from ...store.postgres import PgConnection

if TYPE_CHECKING:
    import procrastinate

    from .runner import JobRunner

__all__ = ["QUEUE", "TASK", "HandedBack", "JobQueue", "ensure_schema"]

log = logging.getLogger("qwenapp.server.jobs.queue")

QUEUE = "qwenapp"  # the procrastinate queue qwenapp's jobs go to
TASK = "qwenapp.run_job"
FENCE = 0x717766  # the advisory lock class of a running job's fence ("qwf")
_SCHEMA_LOCK = 0x717773  # taken while the queue's schema is installed ("qws")


class HandedBack(Exception):
    """A worker stopped before the job ended: the queue gives it to another."""


class Fenced(Exception):
    """Another worker still holds the job's fence: try again later."""


def _raw(c: Connection) -> Any:
    if not isinstance(c, PgConnection):
        raise StorageError("the job queue needs PostgreSQL",
                           "set QWENAPP_DATABASE_URL, or run jobs in the app process")
    return c.raw


def _procrastinate() -> Any:
    try:
        import procrastinate
    except ImportError:
        raise StorageError("the job queue for PostgreSQL is not installed",
                           "pip install 'qwenapp[postgres]' (psycopg 3 and procrastinate)"
                           ) from None
    return procrastinate


def ensure_schema(conn: Connection) -> bool:
    """Install procrastinate's tables and functions if the database lacks them.

    Once per database, under a lock (two processes starting together install it once).
    True when it was installed now.
    """
    procrastinate = _procrastinate()

    pg = conn if isinstance(conn, PgConnection) else None
    if pg is None:
        _raw(conn)
        return False
    if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None:
        return False
    with transaction(conn) as c:
        c.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
        if c.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is not None:
            return False
        pg.script(procrastinate.schema.SchemaManager.get_schema())
    log.info("installed the job queue's schema (procrastinate %s)", procrastinate.__version__)
    return True


class JobQueue:
    """qwenapp's jobs on procrastinate (see the module docstring).

    ``url`` is the database's URL (the same one the stores use). :meth:`enqueue` and
    :meth:`abort` write through the caller's transaction and need nothing opened;
    :meth:`work` (a worker) opens its own pool.
    """

    def __init__(self, url: str, *, stalled_after: float = 30.0, grace: float = 10.0) -> None:
        procrastinate = _procrastinate()

        self.url = url
        self.stalled_after = stalled_after
        self.grace = grace
        # in-transaction calls go through a sync connector that is never opened: every call
        # is given our connection
        self._tx = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=url, min_size=1, max_size=4, kwargs={"application_name": "qwenapp-queue"}))
        self._runner: JobRunner | None = None
        retry = procrastinate.RetryStrategy(retry_exceptions={HandedBack, Fenced}, wait=2)
        self.app.task(name=TASK, queue=QUEUE, pass_context=True, retry=retry)(self._task)

    # -- what app processes do (inside their transactions) ---------------------------------

    def enqueue(self, c: Connection, job_id: str) -> None:
        """Queue ``job_id`` in the caller's transaction."""
        from procrastinate import jobs

        job = jobs.Job(id=None, queue=QUEUE, lock=job_id, queueing_lock=None, task_name=TASK,
                       task_kwargs={"job_id": job_id})
        self._tx.job_manager.defer_job(job, connection=_raw(c))

    def abort(self, c: Connection, job_id: str) -> None:
        """Cancel the queue's jobs for ``job_id`` in the caller's transaction: a waiting one
        is cancelled, a running one is asked to abort (its worker hears it at once)."""
        ids = [r[0] for r in c.execute("SELECT id FROM procrastinate_jobs WHERE lock = ? AND "
                                       "status IN ('todo', 'doing')", (job_id,))]
        for qid in ids:
            self._tx.job_manager.cancel_job_by_id(qid, abort=True, connection=_raw(c))

    def depth(self, c: Connection) -> int:
        """Queue jobs waiting (for /metrics and the tests)."""
        return int(c.execute("SELECT count(*) FROM procrastinate_jobs WHERE queue_name = ? "
                             "AND status = 'todo'", (QUEUE,)).fetchone()[0])

    # -- what a worker does ---------------------------------------------------------------

    def bind(self, runner: JobRunner) -> None:
        """The runner this process's jobs and sweeps use (:meth:`work` binds it)."""
        self._runner = runner

    async def work(self, runner: JobRunner, *, concurrency: int = 1, name: str = "qwenapp",
                   install_signal_handlers: bool = True) -> None:
        """Run jobs until cancelled (or, with signal handlers, until SIGINT/SIGTERM)."""
        self.bind(runner)
        async with self.app.open_async():
            sweeper = asyncio.create_task(self._sweep_forever(), name="qwenapp-queue-sweep")
            try:
                await self.app.run_worker_async(
                    queues=[QUEUE], concurrency=concurrency, name=name,
                    install_signal_handlers=install_signal_handlers,
                    update_heartbeat_interval=max(0.5, self.stalled_after / 3),
                    stalled_worker_timeout=self.stalled_after,
                    shutdown_graceful_timeout=self.grace,
                    abort_job_polling_interval=max(1.0, self.stalled_after / 3),
                    fetch_job_polling_interval=5.0)
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sweeper

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the database away for a moment: the next round tries again
                log.exception("the job queue's sweep failed")
            await asyncio.sleep(max(0.5, self.stalled_after / 3))

    async def sweep(self) -> tuple[int, int]:
        """Put back stalled queue jobs whose fence is free; enqueue rows the queue lacks.
        Returns (put back, enqueued)."""
        manager = self.app.job_manager
        back = 0
        for job in await manager.get_stalled_jobs(queue=QUEUE,
                                                  seconds_since_heartbeat=self.stalled_after):
            if job.lock and await self._fence_free(job.lock):
                await manager.retry_job(job)
                log.warning("job %s: its worker stopped; it goes back to the queue", job.lock)
                back += 1
        added = 0
        assert self._runner is not None, "bind() a runner first"
        store = self._runner.store
        orphans = [r[0] for r in store.conn.execute(
            "SELECT j.id FROM server_jobs j WHERE j.status IN ('queued', 'running') AND NOT "
            "EXISTS (SELECT 1 FROM procrastinate_jobs q WHERE q.lock = j.id AND q.status IN "
            "('todo', 'doing'))")]
        for job_id in orphans:
            with transaction(store.conn) as c:
                still = c.execute(
                    "SELECT 1 FROM server_jobs j WHERE j.id = ? AND j.status IN ('queued', "
                    "'running') AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs q WHERE "
                    "q.lock = j.id AND q.status IN ('todo', 'doing'))", (job_id,)).fetchone()
                if still:
                    self.enqueue(c, job_id)
                    added += 1
        return back, added

    async def _fence_free(self, job_id: str) -> bool:
        async with self._fence(job_id) as held:
            return held

    @contextlib.asynccontextmanager
    async def _fence(self, job_id: str) -> AsyncIterator[bool]:
        """Hold the job's advisory lock on a connection of its own; yields whether held."""
        import psycopg

        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                                     (FENCE, job_id))
            row = await cur.fetchone()
            yield bool(row and row[0])
        finally:
            await conn.close()  # the lock goes with the connection

    async def _task(self, context: procrastinate.JobContext, job_id: str) -> None:
        from procrastinate.job_context import AbortReason

        assert self._runner is not None
        runner = self._runner
        async with self._fence(job_id) as held:
            if not held:
                raise Fenced(job_id)  # retried in a moment, never run twice at once
            try:
                await runner.run(job_id, reason="the worker running it stopped; the job "
                                                "continues in another")
            except asyncio.CancelledError:
                if context.abort_reason() == AbortReason.USER_REQUEST:
                    # cancelled from some process: the row says so already (unless the
                    # queue's job was cancelled directly, say with procrastinate's CLI)
                    runner.finish(job_id, "cancelled", None)
                    return
                job = runner.store.get_any(job_id)  # the worker stopping: hand it back
                if job is not None and not job.finished:
                    raise HandedBack(job_id) from None
