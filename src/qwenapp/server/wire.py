"""Chat JSON the server adds to the core's: conversations, messages, an answer's tool steps.

What an *event* looks like on the wire is decided once, in :mod:`qwenapp.wire`
(``chat_event`` here is that function, under the name the chat API uses).

A turn with tools adds ``tool_delta`` (a call being written: its name, then
argument text), ``tool_confirm`` (a call with side effects waits for the
user), ``tool_call`` (a call runs), ``tool_result`` (what it returned, as the
model reads it, with ``job`` when it started one) and ``tool_notice`` (the
loop changed course). :class:`ToolSteps` folds the same events into the
steps saved with the answer, so a reload shows what the stream showed.
"""

from __future__ import annotations

from typing import Any

from ..chat.events import ChatEvent
from ..store import Conversation, StoredMessage
from ..tools.events import ToolConfirm, ToolFinished, ToolNotice, ToolStarted
from ..wire import RESULT_CHARS, event_json

__all__ = ["RESULT_CHARS", "ToolSteps", "chat_event", "conversation_json", "message_json"]

chat_event = event_json  # (SSE event name, JSON data) for one chat event


class ToolSteps:
    """The steps of one answer, built from its tool events (saved as JSON).

    A step is ``{id, name, arguments, status, content?, error?, seconds?, job?}``
    with ``status`` one of ``asked`` (waiting for the user), ``running``,
    ``done``; a notice is ``{notice: text}``.
    """

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def _step(self, call_id: str, name: str) -> dict[str, Any]:
        for s in self.steps:
            if s.get("id") == call_id and s.get("status") != "done":
                return s
        step: dict[str, Any] = {"id": call_id, "name": name, "arguments": None}
        self.steps.append(step)
        return step

    def add(self, ev: ChatEvent) -> bool:
        """Take ``ev`` in; whether the steps changed."""
        if isinstance(ev, ToolConfirm | ToolStarted):
            name, data = event_json(ev)
            step = self._step(ev.call.id, ev.call.name)
            step.update(arguments=data["arguments"],
                        status="asked" if name == "tool_confirm" else "running")
            return True
        if isinstance(ev, ToolFinished):
            _, data = event_json(ev)
            step = self._step(ev.call_id, ev.name)
            step.update({k: v for k, v in data.items() if k not in ("id", "name")},
                        status="done")
            return True
        if isinstance(ev, ToolNotice):
            self.steps.append({"notice": ev.text})
            return True
        return False


def conversation_json(c: Conversation) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "model": c.model, "system_prompt": c.system_prompt,
            "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat(),
            "message_count": c.message_count}


def message_json(m: StoredMessage) -> dict[str, Any]:
    return {"id": m.id, "parent_id": m.parent_id, "role": m.role, "content": m.content,
            "reasoning": m.reasoning, "model": m.model, "status": m.status,
            "finish_reason": m.finish_reason, "prompt_tokens": m.prompt_tokens,
            "cached_tokens": m.cached_tokens,
            "completion_tokens": m.completion_tokens, "created_at": m.created_at.isoformat()}
