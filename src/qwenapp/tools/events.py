"""Events of a turn that uses tools, on top of the model's own events.

The loop yields these between model rounds; the CLI prints them dimmed,
the HTTP API streams them as SSE (``tool_call``, ``tool_result``), and a
page can show them as steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models.events import ToolCall

__all__ = ["ToolEvent", "ToolFinished", "ToolNotice", "ToolStarted"]


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """The model called a tool and it is about to run (after the user agreed, if asked)."""

    call: ToolCall
    round: int


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A call's result, as the model will read it (``error``: it failed or was refused)."""

    call_id: str
    name: str
    content: str
    error: bool
    seconds: float


@dataclass(frozen=True, slots=True)
class ToolNotice:
    """The loop changed course: the round limit was reached, or the model repeated itself."""

    text: str


ToolEvent = ToolStarted | ToolFinished | ToolNotice
