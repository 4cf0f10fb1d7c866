"""A conversation as a Markdown document or as JSON: pure functions, no database.

Markdown is for reading and sharing: each turn under its own heading, the
model's thinking in a collapsed, quoted block so it is never mistaken for the
answer, and an answer that was stopped or failed marked as such.

JSON is for tools and backups: a stable, versioned schema carrying ids,
parent ids, usage, status and reasoning. :func:`from_json` reads it back, so
the format round-trips.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from ..errors import InputError
from ..models.events import Role
from .conversations import Conversation, MessageStatus, StoredMessage

__all__ = ["JSON_FORMAT", "JSON_VERSION", "from_json", "to_json", "to_markdown"]

JSON_FORMAT = "qwenapp.conversation"
JSON_VERSION = 1

_ROLE_HEADINGS = {"system": "System", "user": "User", "assistant": "Assistant"}
_STATUS_NOTES = {
    "interrupted": "*[interrupted: stopped before the answer was finished]*",
    "error": "*[error: the answer failed part-way]*",
    "streaming": "*[incomplete: still being written when this was exported]*",
}


def _date(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def to_markdown(conv: Conversation, messages: list[StoredMessage]) -> str:
    """The conversation (``messages``: usually its current thread) as Markdown."""
    out = [
        f"# {conv.display_title}",
        "",
        f"- Model: `{conv.model}`",
        f"- Date: {_date(conv.created_at)}",
        f"- Conversation: `{conv.id}`",
        "",
    ]
    if conv.system_prompt:
        out += ["## System prompt", "", _quote(conv.system_prompt), ""]
    for msg in messages:
        heading = _ROLE_HEADINGS[msg.role]
        if msg.role == "assistant" and msg.model and msg.model != conv.model:
            heading += f" ({msg.model})"
        out += ["---", "", f"### {heading}", ""]
        if msg.reasoning.strip():
            out += ["<details>", "<summary>Reasoning</summary>", "",
                    _quote(msg.reasoning), "", "</details>", ""]
        if msg.content.strip():
            out += [msg.content.strip(), ""]
        if msg.status in _STATUS_NOTES:
            out += [_STATUS_NOTES[msg.status], ""]
    return "\n".join(out).rstrip("\n") + "\n"


def to_json(conv: Conversation, messages: list[StoredMessage]) -> dict[str, Any]:
    """The conversation as plain JSON data (``json.dumps`` it as is)."""
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "conversation": {
            "id": conv.id,
            "title": conv.title,
            "model": conv.model,
            "system_prompt": conv.system_prompt,
            "created_at": conv.created_at.isoformat(),
            "updated_at": conv.updated_at.isoformat(),
        },
        "messages": [
            {
                "id": m.id,
                "parent_id": m.parent_id,
                "role": m.role,
                "content": m.content,
                "reasoning": m.reasoning,
                "model": m.model,
                "usage": (None if m.prompt_tokens is None and m.completion_tokens is None
                          else {"prompt_tokens": m.prompt_tokens,
                                "completion_tokens": m.completion_tokens,
                                "cached_tokens": m.cached_tokens}),
                "finish_reason": m.finish_reason,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
        ],
    }


def from_json(data: dict[str, Any]) -> tuple[Conversation, list[StoredMessage]]:
    """Read back what :func:`to_json` wrote (``message_count`` is the number of messages)."""
    if data.get("format") != JSON_FORMAT or data.get("version") != JSON_VERSION:
        raise InputError("not a qwenapp conversation export (or a newer version of one)",
                         f"expected format {JSON_FORMAT!r} version {JSON_VERSION}")
    try:
        c = data["conversation"]
        messages = [
            StoredMessage(
                id=m["id"], conversation_id=c["id"], parent_id=m["parent_id"],
                role=cast(Role, m["role"]), content=m["content"], reasoning=m["reasoning"],
                model=m["model"],
                prompt_tokens=(m["usage"] or {}).get("prompt_tokens"),
                completion_tokens=(m["usage"] or {}).get("completion_tokens"),
                finish_reason=m["finish_reason"], status=cast(MessageStatus, m["status"]),
                created_at=datetime.fromisoformat(m["created_at"]),
                cached_tokens=(m["usage"] or {}).get("cached_tokens"),
            )
            for m in data["messages"]
        ]
        conv = Conversation(
            id=c["id"], title=c["title"], model=c["model"], system_prompt=c["system_prompt"],
            created_at=datetime.fromisoformat(c["created_at"]),
            updated_at=datetime.fromisoformat(c["updated_at"]),
            message_count=len(messages),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise InputError(f"a malformed qwenapp conversation export: {e!r}") from None
    return conv, messages
