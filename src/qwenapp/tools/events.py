"""Events of a turn that uses tools, on top of the model's own events.

The loop yields these between model rounds; the CLI prints them dimmed,
the HTTP API streams them as SSE (``tool_confirm``, ``tool_call``,
``tool_result``, ``tool_notice``: each event's ``event_kind``, its JSON derived in
:mod:`qwenapp.wire`), and the web page shows them as steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..models.events import ToolCall

__all__ = ["ToolConfirm", "ToolEvent", "ToolFinished", "ToolNotice", "ToolStarted"]


@dataclass(frozen=True, slots=True)
class ToolConfirm:
    """A call with side effects waits for the user's yes or no.

    Yielded just before the loop awaits its ``confirm`` callback, so an
    adapter that asks somewhere else (the web page) can send the question
    first; the loop goes on once the callback answers.
    """

    event_kind: ClassVar[str] = "tool_confirm"
    call: ToolCall
    round: int


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """The model called a tool and it is about to run (after the user agreed, if asked)."""

    event_kind: ClassVar[str] = "tool_call"
    call: ToolCall
    round: int


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A call's result, as the model will read it (``error``: it failed or was refused)."""

    event_kind: ClassVar[str] = "tool_result"
    call_id: str
    name: str
    content: str
    error: bool
    seconds: float
    data: Mapping[str, Any] | None = None  # for the user's side: a started job's id and link


@dataclass(frozen=True, slots=True)
class ToolNotice:
    """The loop changed course: the round limit was reached, or the model repeated itself."""

    event_kind: ClassVar[str] = "tool_notice"
    text: str


ToolEvent = ToolConfirm | ToolStarted | ToolFinished | ToolNotice
