"""Runs jobs in the background, persists their progress, and lets clients follow it.

A job is a row before it is a task: :meth:`JobManager.create` stores it as
``queued`` and schedules it; at most ``running_jobs`` run at once (they
share the engine's slots). Every event is stored before it is announced, so
a follower that connects late (or after a restart) replays from the
database and then waits for more.

On start, jobs left unfinished by a previous process are recovered: a
queued job is scheduled again; a running job resumes when its kind can
(reports keep every finished stage), otherwise it ends as ``failed`` with a
reason a user can act on. Events are typed until they are stored: each is
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
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from ...errors import QwenappError, UnknownModelError
from ...jobs import (
    Busy,
    InvalidJob,
    JobContext,
    JobKind,
    JobRefused,
    JobRequest,
    JobServices,
    NotFound,
)
from ...jobs.events import JobEnded, JobEvent, JobQueued, JobResuming, JobRunning, RunnerEvent
from ...store import ConversationStore
from ...wire import event_json
from ..config import ServerLimits
from .store import TERMINAL, JobEventRow, JobRow, JobStore

if TYPE_CHECKING:  # ownership imports this package (to delete a user's jobs)
    from ..ownership import Ownership

__all__ = ["JobManager"]

log = logging.getLogger("qwenapp.server.jobs")

RESTART_FAILURE = ("the server stopped while this job was running, and a {kind} cannot "
                   "resume; start it again")


class JobManager:
    def __init__(self, store: JobStore, kinds: Mapping[str, JobKind[Any]], services: JobServices,
                 root: Path, limits: ServerLimits, owners: Ownership) -> None:
        self.store = store
        self.owners = owners  # who may link a job to which conversation
        self.kinds = dict(kinds)
        self.services = services
        self.root = root
        self.limits = limits
        self._sem = asyncio.Semaphore(max(1, limits.running_jobs))
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._signals: dict[str, asyncio.Event] = {}
        self._cancelling: set[str] = set()

    # -- lifecycle ------------------------------------------------------------------------

    def recover(self) -> None:
        """Pick up jobs a previous server process left unfinished."""
        for job in self.store.unfinished():
            kind = self.kinds.get(job.kind)
            if kind is None:
                self._fail(job.id, f"this server cannot run {job.kind!r} jobs")
            elif job.status == "running" and not kind.resumable:
                self._fail(job.id, RESTART_FAILURE.format(kind=job.kind))
            else:
                if job.status == "running":
                    self.store.set_status(job.id, "queued")
                    self._emit(job.id, JobResuming("the server restarted; the job continues"))
                self._schedule(job.id, resumed=job.status == "running")

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
        """Check ``request`` (validated already), store it as a queued job, schedule it."""
        kind = self.kind(request.kind)
        if not isinstance(request, kind.request_model):
            raise InvalidJob(f"not a {kind.name} request", param="kind")
        kind.check(request, user_id, self.services)
        conversation_id, after = self._link(request, user_id)
        if self.store.active_count(user_id) >= self.limits.jobs_per_user:
            raise Busy(f"too many jobs at once: the limit is {self.limits.jobs_per_user} "
                       "queued or running per user", "wait for one to finish, or cancel one",
                       code="too_many_jobs", retry_after=30)
        if self.store.queued_count() >= self.limits.queued_jobs:
            raise Busy("the server is busy: the job queue is full", "try again later",
                       code="server_busy", retry_after=30)
        job = self.store.create(user_id, kind.name, kind.title(request),
                                request.model_dump(mode="json"), conversation_id=conversation_id,
                                after_message_id=after)
        self._emit(job.id, JobQueued(job.kind, job.title))
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
        if job.finished:
            return job
        task = self._tasks.get(job.id)
        if task is not None and not task.done():
            self._cancelling.add(job.id)
            task.cancel()  # the pipeline unwinds at its next await
        self._finish(job.id, "cancelled", None)
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
        self.store.delete(job.id)
        shutil.rmtree(self.root / job.id, ignore_errors=True)
        self._wake(job.id)

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
            await signal.wait()

    # -- internals ------------------------------------------------------------------------

    def _wake(self, job_id: str) -> None:
        signal = self._signals.pop(job_id, None)
        if signal is not None:
            signal.set()

    def _emit(self, job_id: str, event: JobEvent | RunnerEvent) -> None:
        """Store ``event`` in its wire form (:mod:`qwenapp.wire`), then wake followers."""
        self.store.append_event(job_id, *event_json(event))
        self._wake(job_id)

    def _finish(self, job_id: str, status: Literal["done", "failed", "cancelled"],
                error: str | None) -> None:
        job = self.store.get_any(job_id)
        if job is None:
            return
        self.store.set_status(job_id, status, error)
        if not any(e.type in TERMINAL for e in self.store.events(job_id)):
            self._emit(job_id, JobEnded(status, error))
        else:
            self._wake(job_id)

    def _fail(self, job_id: str, reason: str) -> None:
        self._finish(job_id, "failed", reason)

    def _schedule(self, job_id: str, *, resumed: bool = False) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job_id, resumed),
                                                      name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))

    async def _run(self, job_id: str, resumed: bool) -> None:
        try:
            async with self._sem:
                await self._work(job_id, resumed)
        except asyncio.CancelledError:
            if job_id in self._cancelling:
                self._cancelling.discard(job_id)
                self._finish(job_id, "cancelled", None)
                return
            raise  # server shutdown: the status stays for recover()

    async def _work(self, job_id: str, resumed: bool) -> None:
        job = self.store.get_any(job_id)
        if job is None or job.status != "queued":
            return
        kind = self.kinds[job.kind]
        workdir = self.workdir(job_id)
        workdir.mkdir(parents=True, exist_ok=True)
        self.store.set_status(job_id, "running")
        self._emit(job_id, JobRunning(resumed))
        ctx = JobContext(job_id, job.user_id, workdir, dict(job.state), self.services, resumed)
        try:
            request = kind.request_model.model_validate(job.request)
            async for event in kind.run(ctx, request):
                self._emit(job_id, event)
        except asyncio.CancelledError:
            raise
        except (JobRefused, UnknownModelError) as e:  # a request that can no longer run
            self._fail(job_id, e.message)
        except QwenappError as e:
            self._fail(job_id, f"{e.message} ({e.hint})" if e.hint else e.message)
        except Exception as e:  # a pipeline bug: this job fails with the reason; others go on
            log.exception("job %s failed", job_id)
            self._fail(job_id, f"internal error: {type(e).__name__}: {e}")
        else:
            self._finish(job_id, "done", None)
