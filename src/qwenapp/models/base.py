"""The one interface every model backend implements.

A backend has exactly one generation method, :meth:`Backend.stream`, an
async iterator of :data:`~qwenapp.models.events.Event`. Non-streaming use is
:func:`complete`, which collects that stream (:func:`collect`): one code path (simonw/llm's
``execute``). Backends must allow concurrent ``stream`` calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from .events import Completion, Event, GenerateOptions, Message

__all__ = ["Backend", "collect", "complete", "job_parallel"]


@runtime_checkable
class Backend(Protocol):
    """A source of model output: embedded engine, HTTP server or script."""

    @property
    def name(self) -> str:
        """Display name of the model (what is saved with each message)."""
        ...

    @property
    def context_length(self) -> int:
        """Tokens one request may use, prompt and answer together."""
        ...

    @property
    def supports_thinking(self) -> bool:
        """Whether ``GenerateOptions.think`` changes anything."""
        ...

    @property
    def serial_jobs(self) -> bool:
        """Whether a report or deck should make one model call at a time
        (:func:`job_parallel`): an engine that does not batch, such as a CPU one."""
        ...

    def stream(
        self, messages: Sequence[Message], options: GenerateOptions
    ) -> AsyncIterator[Event]:
        """Yield text and reasoning deltas, then Usage (when known), then Finish.

        Closing the iterator early (``aclose`` or task cancellation) must stop
        generation and free the engine slot.
        """
        ...

    async def aclose(self) -> None:
        """Release pooled clients or engine handles."""
        ...


async def collect(events: AsyncIterable[Event]) -> Completion:
    """Collect a stream of model events into a :class:`Completion` (by its one reducer,
    :meth:`Completion.add`)."""
    result = Completion()
    async for event in events:
        result.add(event)
    return result


async def complete(
    backend: Backend, messages: Sequence[Message], options: GenerateOptions | None = None
) -> Completion:
    """Collect a whole stream into a :class:`Completion`."""
    return await collect(backend.stream(messages, options or GenerateOptions()))


def job_parallel(backend: Backend, configured: int, slots: int) -> int:
    """How many model calls one report or deck should run at once.

    ``configured`` (``QWENAPP_JOB_PARALLEL``; 0 = choose) wins. Otherwise a
    backend whose :attr:`Backend.serial_jobs` is true gets 1: the embedded CPU engine,
    where concurrent sequences measured slower than one at a time on 2 cores
    (a standard report 260 s in 3 slots against 168 s in one; a deck's slide
    stage 0.72x as fast), because decoding is already compute bound and each
    sequence adds its own prompt processing and grammar work. Servers that
    batch well (vLLM, SGLang, llama-server on a GPU) get up to 4 of ``slots``.
    """
    if configured > 0:
        return configured
    if backend.serial_jobs:
        return 1
    return max(1, min(slots, 4))
