"""Server-sent events: the encoding, and a response that notices a client leaving.

:class:`EventStream` runs the event source and a listener for
``http.disconnect`` side by side. When the client goes away, the source is
cancelled at once (not at the next chunk it tries to send), so a model that
is slow to produce its next token still stops and frees its slot. Idle
streams get a comment line every ``ping`` seconds, which keeps proxies from
closing them. ``on_close`` always runs: it releases the limiter's slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["EventStream", "encode_data", "encode_event"]

SSE_MEDIA_TYPE = "text/event-stream"


def encode_event(event: str | None, data: Any, id: str | int | None = None) -> bytes:
    """One SSE message; ``data`` is sent as compact JSON unless it is already a string."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False,
                                                         separators=(",", ":"))
    lines = []
    if id is not None:
        lines.append(f"id: {id}")
    if event:
        lines.append(f"event: {event}")
    lines.extend(f"data: {part}" for part in text.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_data(data: Any) -> bytes:
    return encode_event(None, data)


class EventStream(Response):
    """A streaming response of SSE bytes that is cancelled when the client disconnects."""

    media_type = SSE_MEDIA_TYPE

    def __init__(self, source: AsyncIterator[bytes], *, on_close: Callable[[], None] | None = None,
                 ping: float = 15.0, headers: dict[str, str] | None = None) -> None:
        self.source = source
        self.on_close = on_close
        self.ping = ping
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no",
                           **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lock = asyncio.Lock()

        async def write(body: bytes) -> None:
            async with lock:
                await send({"type": "http.response.body", "body": body, "more_body": True})

        async def produce() -> None:
            async for chunk in self.source:
                await write(chunk)

        async def keepalive() -> None:
            while True:
                await asyncio.sleep(self.ping)
                await write(b": ping\n\n")

        async def listen() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return

        try:
            await send({"type": "http.response.start", "status": self.status_code,
                        "headers": self.raw_headers})
            producer = asyncio.create_task(produce())
            listener = asyncio.create_task(listen())
            pinger = asyncio.create_task(keepalive())
            try:
                await asyncio.wait({producer, listener}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (producer, listener, pinger):
                    task.cancel()
                for task in (producer, listener, pinger):
                    with contextlib.suppress(asyncio.CancelledError, OSError):
                        await task
            if producer.done() and not producer.cancelled() and producer.exception() is None:
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            if isinstance(self.source, AsyncGenerator):
                with contextlib.suppress(Exception):
                    await self.source.aclose()
            if self.on_close is not None:
                self.on_close()
