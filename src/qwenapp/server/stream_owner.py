"""An app process's heartbeat as the owner of the answers it streams.

:class:`~qwenapp.store.stream_owners.StreamOwners` holds the why; this is the loop an
app process runs beside its requests: every third of ``stale_after`` it says it is
alive, then interrupts the streaming answers of owners that went silent (a neighbour
killed mid-answer), so those answers are closed within ``stale_after`` plus one beat
whether or not any process restarts.
"""

from __future__ import annotations

import asyncio
import logging

from ..errors import StorageError
from ..store.stream_owners import StreamOwners

__all__ = ["keep_owning"]

log = logging.getLogger("qwenapp.server.streams")


async def keep_owning(owners: StreamOwners, owner: str) -> None:
    """Beat for ``owner`` until cancelled; a database blip is logged and retried."""
    every = owners.stale_after / 3
    while True:
        await asyncio.sleep(every)
        try:
            owners.beat(owner)
            cut = owners.interrupt_orphans()
        except StorageError as e:  # the database is away: the next beat tries again
            log.warning("stream heartbeat failed: %s", e)
            continue
        if cut:
            log.info("interrupted %d answer(s) of a stopped app process", cut)
