"""Per-user limits and a bounded server-wide queue; going over any of them is a clear 429.

Three independent checks guard model work:

* a token bucket per user (requests per minute, with a burst);
* a cap on each user's concurrent generations (a chat stream holds a slot
  until it ends or its client disconnects);
* a server-wide gate: at most ``active`` generations run, at most ``queued``
  wait; beyond that the server answers 429 at once instead of queueing
  without bound.

Everything here runs on the event loop; no locks are needed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import too_many

__all__ = ["Gate", "Lease", "RateLimiter", "StreamLimiter", "too_many"]


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimiter:
    """``per_minute`` requests per key, refilled continuously, at most ``burst`` at once."""

    per_minute: int
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, key: str, what: str = "requests") -> None:
        """Spend one token for ``key`` or raise a 429 saying when to retry."""
        now = self.clock()
        rate = self.per_minute / 60.0
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(float(self.burst), now)
        b.tokens = min(float(self.burst), b.tokens + (now - b.stamp) * rate)
        b.stamp = now
        if b.tokens < 1.0:
            wait = (1.0 - b.tokens) / rate if rate > 0 else 60.0
            raise too_many(f"too many {what}: the limit is {self.per_minute} a minute",
                           code="rate_limited", retry_after=wait,
                           hint=f"wait {math.ceil(wait)} s and try again")
        b.tokens -= 1.0
        if len(self._buckets) > 10_000:  # forget idle keys, keep memory bounded
            full = [k for k, v in self._buckets.items() if now - v.stamp > 120]
            for k in full:
                del self._buckets[k]


class Lease:
    """A held slot; :meth:`release` is idempotent, so every exit path may call it."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release: Callable[[], None] | None = release

    def release(self) -> None:
        if self._release is not None:
            fn, self._release = self._release, None
            fn()

    @property
    def held(self) -> bool:
        return self._release is not None


class Gate:
    """At most ``active`` holders; at most ``queued`` waiters; more is a 429."""

    def __init__(self, active: int, queued: int) -> None:
        self._sem = asyncio.Semaphore(max(1, active))
        self.active_limit = max(1, active)
        self.queued_limit = max(0, queued)
        self.active = 0
        self.waiting = 0

    async def acquire(self) -> Lease:
        if self._sem.locked() and self.waiting >= self.queued_limit:
            raise too_many("the server is busy: every generation slot is taken and the queue "
                           "is full", code="server_busy", retry_after=2.0,
                           hint="try again in a moment")
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1
        self.active += 1

        def done() -> None:
            self.active -= 1
            self._sem.release()

        return Lease(done)


class StreamLimiter:
    """Per-user concurrent generations, then the server-wide :class:`Gate`."""

    def __init__(self, per_user: int, gate: Gate) -> None:
        self.per_user = max(1, per_user)
        self.gate = gate
        self.running: dict[str, int] = {}

    def in_use(self, user_id: str) -> int:
        return self.running.get(user_id, 0)

    async def acquire(self, user_id: str) -> Lease:
        n = self.running.get(user_id, 0)
        if n >= self.per_user:
            raise too_many(f"too many generations at once: the limit is {self.per_user} per "
                           "user", code="too_many_streams", retry_after=1.0,
                           hint="wait for an answer to finish, or stop one")
        self.running[user_id] = n + 1
        try:
            inner = await self.gate.acquire()
        except BaseException:
            self._drop(user_id)
            raise

        def done() -> None:
            inner.release()
            self._drop(user_id)

        return Lease(done)

    def _drop(self, user_id: str) -> None:
        left = self.running.get(user_id, 0) - 1
        if left > 0:
            self.running[user_id] = left
        else:
            self.running.pop(user_id, None)
