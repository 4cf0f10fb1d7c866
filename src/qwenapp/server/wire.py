"""Core events as JSON: the one place that decides what a chat event looks like on the wire.

Chat events map to SSE ``event:`` names and flat JSON objects. Pure
functions, no I/O, so the native API, the web page and tests share them.
"""

from __future__ import annotations

from typing import Any

from ..chat.events import ChatEvent, Notice, Saved, Started, Trimmed
from ..models.events import Finish, ReasoningDelta, TextDelta, Usage
from ..store import Conversation, StoredMessage

__all__ = ["chat_event", "conversation_json", "message_json"]


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
    raise TypeError(f"not a chat event: {ev!r}")  # pragma: no cover - the union is closed


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
