"""Hears, in every app process, the events stored by any process (PostgreSQL NOTIFY).

:meth:`~.store.JobStore.append_event` announces each new event on
:data:`~.store.EVENTS_CHANNEL` with a payload of ``"<job id> <seq>"`` only, so a
payload stays far under PostgreSQL's 8,000-byte limit whatever an event holds;
this listener wakes the process's followers of that job, and they read the rows
themselves (:meth:`~.manager.JobManager.follow`). It holds one connection of its
own; when the connection breaks it connects again (every follower is woken then,
to read what it may have missed), and followers also look again every few
seconds unwoken, so a lost notification is a delay, never a lost event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from .store import EVENTS_CHANNEL

__all__ = ["EventListener"]

log = logging.getLogger("qwenapp.server.jobs")


class EventListener:
    def __init__(self, url: str, wake: Callable[[str], None],
                 wake_all: Callable[[], None]) -> None:
        self.url = url
        self.wake = wake
        self.wake_all = wake_all
        self.listening = asyncio.Event()  # set while LISTEN is in place
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(),
                                                            name="qwenapp-job-events")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        import psycopg

        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.url, autocommit=True, application_name="qwenapp-listen")
                try:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    self.listening.set()
                    self.wake_all()  # anything stored while we were not listening
                    delay = 0.5
                    async for note in conn.notifies():
                        job_id = note.payload.split(" ", 1)[0]
                        if job_id:
                            self.wake(job_id)
                finally:
                    self.listening.clear()
                    with contextlib.suppress(Exception):
                        await conn.close()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the database away: try again, a little later each time
                log.warning("job events: listening failed (%s); trying again in %.1f s",
                            str(e).strip().splitlines()[0] if str(e).strip() else
                            type(e).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
