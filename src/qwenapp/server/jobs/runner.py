"""Runs one job: its kind's pipeline, each event stored as it comes, the end once.

The same code runs a job wherever it runs: as an asyncio task of the app
process (:class:`~.manager.JobManager`, the SQLite default) or in a worker
that took it from the durable queue (:mod:`.queue`, on PostgreSQL). A job's
row says what happened to it, not the process: :meth:`JobStore.claim` marks it
running (a row found running already was interrupted: the run resumes from the
stages its kind saved), every event is stored only while the job is still
running (so a cancel from any process stops the pipeline at its next event),
and :meth:`JobStore.finish` ends it once.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from ...errors import QwenappError, UnknownModelError
from ...jobs import JobContext, JobKind, JobRefused, JobServices
from ...jobs.events import JobEnded, JobEvent, JobResuming, JobRunning, RunnerEvent
from ...wire import event_json
from .store import JobStore, OnWrite

__all__ = ["JobRunner", "Stopped"]

log = logging.getLogger("qwenapp.server.jobs")

RESTART_FAILURE = ("the server stopped while this job was running, and a {kind} cannot "
                   "resume; start it again")


class Stopped(Exception):
    """The job ended (cancelled, deleted) while it ran: its pipeline stops here."""


class JobRunner:
    def __init__(self, store: JobStore, kinds: Mapping[str, JobKind[Any]],
                 services: JobServices, root: Path,
                 wake: Callable[[str], None] = lambda _job_id: None) -> None:
        self.store = store
        self.kinds = dict(kinds)
        self.services = services
        self.root = root
        self.wake = wake  # followers in this process (others hear the database's NOTIFY)

    def workdir(self, job_id: str) -> Path:
        return self.root / job_id

    def emit(self, job_id: str, event: JobEvent | RunnerEvent, *,
             only_running: bool = False) -> None:
        """Store ``event`` in its wire form (:mod:`qwenapp.wire`), then wake followers."""
        seq = self.store.append_event(job_id, *event_json(event), only_running=only_running)
        if seq is None:
            raise Stopped(job_id)
        self.wake(job_id)

    def finish(self, job_id: str, status: Literal["done", "failed", "cancelled"],
               error: str | None, *, then: OnWrite | None = None) -> bool:
        """End the job (once: ``False`` if it had ended already), its last event stored."""
        ended = self.store.finish(job_id, status, error, event_json(JobEnded(status, error)),
                                  then=then)
        self.wake(job_id)
        return ended

    async def run(self, job_id: str, *, resumed: bool | None = None,
                  reason: str = "the server restarted; the job continues") -> None:
        """Run the job if it is still queued or was left running.

        ``resumed``: ``None`` to tell from its row (found running: an earlier run was
        interrupted, and the job says so with ``reason``). A job that ended meanwhile
        is left alone.
        """
        job = self.store.get_any(job_id)
        if job is None or job.finished:
            return
        kind = self.kinds.get(job.kind)
        if kind is None:
            self.finish(job_id, "failed", f"this server cannot run {job.kind!r} jobs")
            return
        if job.status == "running" and not kind.resumable:
            self.finish(job_id, "failed", RESTART_FAILURE.format(kind=job.kind))
            return
        claimed = self.store.claim(job_id)
        if claimed is None:
            return
        interrupted = claimed.status == "running"
        if resumed is None:
            resumed = interrupted
        try:
            if interrupted:
                self.emit(job_id, JobResuming(reason), only_running=True)
            await self._work(job_id, kind, claimed.user_id, claimed.request, resumed)
        except Stopped:
            log.info("job %s stopped: it was cancelled or deleted", job_id)
        finally:
            if self.store.get_any(job_id) is None:  # deleted (by any process) while it ran
                shutil.rmtree(self.workdir(job_id), ignore_errors=True)

    async def _work(self, job_id: str, kind: JobKind[Any], user_id: str,
                    request_data: dict[str, Any], resumed: bool) -> None:
        workdir = self.workdir(job_id)
        workdir.mkdir(parents=True, exist_ok=True)
        self.emit(job_id, JobRunning(resumed), only_running=True)
        job = self.store.get_any(job_id)
        state = dict(job.state) if job is not None else {}
        ctx = JobContext(job_id, user_id, workdir, state, self.services, resumed)
        try:
            request = kind.request_model.model_validate(request_data)
            async for event in kind.run(ctx, request):
                self.emit(job_id, event, only_running=True)
        except (asyncio.CancelledError, Stopped):
            raise
        except (JobRefused, UnknownModelError) as e:  # a request that can no longer run
            self.finish(job_id, "failed", e.message)
        except QwenappError as e:
            self.finish(job_id, "failed", f"{e.message} ({e.hint})" if e.hint else e.message)
        except Exception as e:  # a pipeline bug: this job fails with the reason; others go on
            log.exception("job %s failed", job_id)
            self.finish(job_id, "failed", f"internal error: {type(e).__name__}: {e}")
        else:
            self.finish(job_id, "done", None)
