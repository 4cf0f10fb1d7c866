"""Runs jobs in the background, persists their progress, and lets clients follow it.

A job is a row before it is a task: :meth:`JobManager.create` stores it as
``queued`` and schedules it; at most ``running_jobs`` run at once (they
share the engine's slots). Every event is stored before it is announced, so
a follower that connects late (or after a restart) replays from the
database and then waits for more.

Where a job runs depends on the database. On SQLite (the embedded default)
it is an asyncio task of this process, and on start the jobs a previous
process left unfinished are recovered: a queued job is scheduled again; a
running job resumes when its kind can (reports keep every finished stage),
otherwise it ends as ``failed`` with a reason a user can act on. With a
:class:`~.queue.JobQueue` (PostgreSQL) a job is enqueued in the transaction
that stores it and runs in whichever worker takes it (``qwenapp worker``, or
this process's own unless ``serve --no-local-jobs``); recovery is the
queue's. Either way the job itself runs in :class:`~.runner.JobRunner`.

Followers read the stored events and wait for a wake-up: from this process's
runner, or from the database's ``NOTIFY`` heard by :class:`~.notify.EventListener`
when the job runs elsewhere (a follower also looks again every few seconds, so
a notification lost while the listener reconnects costs a delay, never an
event). Events are typed until they are stored: each is
kept in its wire form (:func:`qwenapp.wire.event_json`), so the rows read back
as the same JSON they always had.

No HTTP here either: a request it refuses is a core error
(:mod:`qwenapp.jobs.errors`) that the API maps to a status code. A request
arrives validated (the API's body, a tool's arguments through
:meth:`JobManager.request`) and is validated again only when read back from
the database to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ...errors import QwenappError
from ...jobs import (
    Busy,
    InvalidJob,
    JobKind,
    JobRequest,
    JobServices,
    NotFound,
)
from ...jobs.events import JobQueued
from ...store import ConversationStore
from ...wire import event_json
from ..config import ServerLimits
from .runner import JobRunner
from .store import Full, JobEventRow, JobRow, JobStore

if TYPE_CHECKING:  # ownership imports this package (to delete a user's jobs)
    from ..ownership import Ownership
    from .queue import JobQueue

__all__ = ["JobManager"]

log = logging.getLogger("qwenapp.server.jobs")

RECHECK_SECONDS = 5.0  # a follower looks at the database again after this long unwoken


class JobManager:
    def __init__(self, store: JobStore, kinds: Mapping[str, JobKind[Any]], services: JobServices,
                 root: Path, limits: ServerLimits, owners: Ownership,
                 queue: JobQueue | None = None) -> None:
        self.store = store
        self.owners = owners  # who may link a job to which conversation
        self.kinds = dict(kinds)
        self.services = services
        self.root = root
        self.limits = limits
        self.queue = queue  # None: jobs are tasks of this process
        self.runner = JobRunner(store, kinds, services, root, wake=self.wake)
        self._sem = asyncio.Semaphore(max(1, limits.running_jobs))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._signals: dict[str, asyncio.Event] = {}
        self._cancelling: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------------

    def recover(self) -> None:
        """Pick up jobs a previous server process left unfinished (without a queue)."""
        if self.queue is not None:
            return  # the queue's workers take them (see queue.JobQueue.sweep)
        for job in self.store.unfinished():
            self._schedule(job.id)

    async def shutdown(self) -> None:
        """Stop running jobs, leaving their status for :meth:`recover` at the next start."""
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    # -- requests -------------------------------------------------------------------------

    def kind(self, name: str) -> JobKind[Any]:
        kind = self.kinds.get(name)
        if kind is None:
            raise InvalidJob(f"unknown job kind {name!r}", "one of: " + ", ".join(self.kinds),
                             code="unknown_kind", param="kind")
        return kind

    def request(self, kind_name: str, data: Mapping[str, Any]) -> JobRequest:
        """A request of kind ``kind_name`` from untyped data (a tool call's arguments)."""
        kind = self.kind(kind_name)
        try:
            parsed: JobRequest = kind.request_model.model_validate({**data, "kind": kind.name})
        except ValidationError as e:
            first = e.errors()[0]
            raise InvalidJob(f"bad {kind_name} request: {first['msg']}",
                             param=".".join(str(p) for p in first["loc"])) from None
        return parsed

    def create(self, user_id: str, request: JobRequest) -> JobRow:
        """Check ``request`` (validated already), store it as a queued job, schedule it.

        The limits are counted in the transaction that stores the job, so they hold
        across app processes on one database; with a queue the job is enqueued there too.
        """
        kind = self.kind(request.kind)
        if not isinstance(request, kind.request_model):
            raise InvalidJob(f"not a {kind.name} request", param="kind")
        kind.check(request, user_id, self.services)
        conversation_id, after = self._link(request, user_id)
        title = kind.title(request)
        try:
            job = self.store.create(
                user_id, kind.name, title, request.model_dump(mode="json"),
                conversation_id=conversation_id, after_message_id=after,
                per_user=self.limits.jobs_per_user, queued=self.limits.queued_jobs,
                first_event=event_json(JobQueued(kind.name, title)),
                then=self.queue.enqueue if self.queue is not None else None)
        except Full as e:
            if e.which == "user":
                raise Busy(f"too many jobs at once: the limit is {self.limits.jobs_per_user} "
                           "queued or running per user", "wait for one to finish, or cancel "
                           "one", code="too_many_jobs", retry_after=30) from None
            raise Busy("the server is busy: the job queue is full", "try again later",
                       code="server_busy", retry_after=30) from None
        self.wake(job.id)
        if self.queue is None:
            self._schedule(job.id)
        return job

    def _link(self, request: JobRequest, user_id: str) -> tuple[str | None, str | None]:
        """(conversation id, message id) a job is shown after; not found unless the caller's."""
        if request.conversation_id is None:
            if request.after_message_id is not None:
                raise InvalidJob("after_message_id needs a conversation_id",
                                 param="after_message_id")
            return None, None
        cid, mid = request.conversation_id, request.after_message_id
        if not self.owners.owns_conversation(cid, user_id):
            raise NotFound("conversation")
        store = ConversationStore(self.services.conn)
        if mid is None:
            leaf = store.leaf(cid)
            return cid, leaf.id if leaf else None
        try:
            if store.message(mid).conversation_id == cid:
                return cid, mid
        except QwenappError:
            pass
        raise NotFound("message")

    def cancel(self, job: JobRow) -> JobRow:
        """Cancel a queued or running job, wherever it runs.

        The job's row ends as cancelled (so its runner, in any process, stops at its next
        event); with a queue the queue's job is cancelled in the same transaction, and a
        worker running it is asked to abort at once (the queue's own notification).
        """
        if job.finished:
            return job
        task = self._tasks.get(job.id)
        if task is not None and not task.done():
            self._cancelling.add(job.id)
            task.cancel()  # the pipeline unwinds at its next await
        self.runner.finish(job.id, "cancelled", None,
                           then=self.queue.abort if self.queue is not None else None)
        found = self.store.get_any(job.id)
        assert found is not None
        return found

    async def delete(self, job: JobRow) -> None:
        task = self._tasks.get(job.id)
        if task is not None and not task.done():
            self._cancelling.add(job.id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.queue is not None and not job.finished:
            self.runner.finish(job.id, "cancelled", None, then=self.queue.abort)
        self.store.delete(job.id)
        shutil.rmtree(self.root / job.id, ignore_errors=True)
        self.wake(job.id)

    def workdir(self, job_id: str) -> Path:
        return self.root / job_id

    async def follow(self, job_id: str, after: int = 0) -> AsyncIterator[JobEventRow]:
        """Events after ``after``, then new ones as they come, until the job has ended."""
        while True:
            signal = self._signals.setdefault(job_id, asyncio.Event())
            rows = self.store.events(job_id, after)
            for row in rows:
                yield row
                after = row.seq
            job = self.store.get_any(job_id)
            if job is None or (job.finished and not self.store.events(job_id, after)):
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), RECHECK_SECONDS)

    def wake(self, job_id: str) -> None:
        """Wake this process's followers of ``job_id`` (they read what is new)."""
        signal = self._signals.pop(job_id, None)
        if signal is not None:
            signal.set()

    def wake_all(self) -> None:
        for job_id in list(self._signals):
            self.wake(job_id)

    # -- internals ------------------------------------------------------------------------

    def _schedule(self, job_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job_id), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))

    async def _run(self, job_id: str) -> None:
        try:
            async with self._sem:
                await self.runner.run(job_id)
        except asyncio.CancelledError:
            if job_id in self._cancelling:
                self._cancelling.discard(job_id)
                self.runner.finish(job_id, "cancelled", None)
                return
            raise  # server shutdown: the status stays for recover()
