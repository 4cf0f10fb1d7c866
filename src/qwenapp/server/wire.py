"""Core events as JSON: the one place that decides what a chat event looks like on the wire.

Chat events map to SSE ``event:`` names and flat JSON objects. Pure
functions, no I/O, so the native API, the web page and tests share them.

A turn with tools adds ``tool_delta`` (a call being written: its name, then
argument text), ``tool_confirm`` (a call with side effects waits for the
user), ``tool_call`` (a call runs), ``tool_result`` (what it returned, as the
model reads it, with ``job`` when it started one) and ``tool_notice`` (the
loop changed course). :func:`tool_steps` folds the same events into the
steps saved with the answer, so a reload shows what the stream showed.
"""

from __future__ import annotations

from typing import Any

from ..chat.events import ChatEvent, Notice, Saved, Started, Trimmed
from ..models.events import (
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallError,
    Usage,
)
from ..store import Conversation, StoredMessage
from ..tools.events import ToolConfirm, ToolEvent, ToolFinished, ToolNotice, ToolStarted

__all__ = ["ToolSteps", "chat_event", "conversation_json", "message_json", "tool_event"]

RESULT_CHARS = 4000  # of a tool's result, on the wire and saved (the model saw up to 8,000)


def _call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": dict(call.arguments)}


def tool_event(ev: ToolEvent | ToolCallDelta | ToolCall | ToolCallError
               ) -> tuple[str, dict[str, Any]]:
    """(SSE event name, JSON data) for a tool event of a turn."""
    if isinstance(ev, ToolCallDelta):
        return "tool_delta", {"index": ev.index, "id": ev.id, "name": ev.name,
                              "arguments": ev.arguments}
    if isinstance(ev, ToolConfirm):
        return "tool_confirm", {**_call(ev.call), "round": ev.round}
    if isinstance(ev, ToolStarted | ToolCall):
        call = ev.call if isinstance(ev, ToolStarted) else ev
        return "tool_call", {**_call(call),
                             "round": ev.round if isinstance(ev, ToolStarted) else None}
    if isinstance(ev, ToolFinished):
        content = ev.content
        if len(content) > RESULT_CHARS:
            content = content[:RESULT_CHARS] + f"\n[… {len(ev.content) - RESULT_CHARS:,} more " \
                                               "characters]"
        data: dict[str, Any] = {"id": ev.call_id, "name": ev.name, "content": content,
                                "error": ev.error, "seconds": round(ev.seconds, 3)}
        job = (ev.data or {}).get("job")
        if isinstance(job, dict):
            data["job"] = job
        return "tool_result", data
    if isinstance(ev, ToolCallError):
        return "tool_result", {"id": ev.id, "name": ev.name, "content": ev.message,
                               "error": True, "seconds": 0.0}
    return "tool_notice", {"text": ev.text}


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
            name, data = tool_event(ev)
            step = self._step(ev.call.id, ev.call.name)
            step.update(arguments=data["arguments"],
                        status="asked" if name == "tool_confirm" else "running")
            return True
        if isinstance(ev, ToolFinished):
            _, data = tool_event(ev)
            step = self._step(ev.call_id, ev.name)
            step.update({k: v for k, v in data.items() if k not in ("id", "name")},
                        status="done")
            return True
        if isinstance(ev, ToolNotice):
            self.steps.append({"notice": ev.text})
            return True
        return False


def chat_event(ev: ChatEvent) -> tuple[str, dict[str, Any]]:
    """(SSE event name, JSON data) for one chat event."""
    if isinstance(ev, TextDelta):
        return "text", {"text": ev.text}
    if isinstance(ev, ReasoningDelta):
        return "reasoning", {"text": ev.text}
    if isinstance(ev, Started):
        return "started", {"conversation_id": ev.conversation_id,
                           "user_message_id": ev.user_message_id, "model": ev.model}
    if isinstance(ev, Usage):
        return "usage", {"prompt_tokens": ev.prompt_tokens,
                         "completion_tokens": ev.completion_tokens,
                         "cached_tokens": ev.cached_tokens}
    if isinstance(ev, Finish):
        return "finish", {"reason": ev.reason}
    if isinstance(ev, Saved):
        return "saved", {"message_id": ev.message_id, "status": ev.status}
    if isinstance(ev, Trimmed):
        return "trimmed", {"dropped": ev.dropped}
    if isinstance(ev, Notice):
        return "notice", {"text": ev.text}
    return tool_event(ev)


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
