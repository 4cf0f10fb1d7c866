"""Cancel work when the HTTP client goes away (for answers that are not streamed).

Starlette does not cancel a handler whose client disconnected; a long
non-streaming completion would keep its engine slot to the end.
:func:`until_disconnect` races the work against ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from .errors import HttpError

__all__ = ["until_disconnect"]

T = TypeVar("T")


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def until_disconnect(request: Request, work: Awaitable[T]) -> T:
    """The result of ``work``, or ``work`` cancelled if the client disconnects first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise HttpError(499, "the client closed the connection", code="client_closed")
    return task.result()
