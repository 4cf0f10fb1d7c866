"""Events a chat turn yields on top of the model's own events.

Each event's ``event_kind`` is its name on the wire; its JSON form is derived in
:mod:`qwenapp.wire`, never next to the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..models.events import Event
from ..tools.events import ToolEvent

__all__ = ["ChatEvent", "Notice", "Saved", "Started", "Trimmed"]


@dataclass(frozen=True, slots=True)
class Started:
    """The turn began: the user message is saved."""

    event_kind: ClassVar[str] = "started"
    conversation_id: str
    user_message_id: str
    model: str
    resumed: bool


@dataclass(frozen=True, slots=True)
class Trimmed:
    """Oldest messages were left out so the conversation fits the context window."""

    event_kind: ClassVar[str] = "trimmed"
    dropped: int


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is not an error."""

    event_kind: ClassVar[str] = "notice"
    text: str


@dataclass(frozen=True, slots=True)
class Saved:
    """The answer is stored (``status``: complete, interrupted or error)."""

    event_kind: ClassVar[str] = "saved"
    message_id: str
    status: str


# the model's events (text, reasoning, tool-call deltas, usage, finish) and the tool loop's
ChatEvent = Started | Trimmed | Notice | Saved | Event | ToolEvent
