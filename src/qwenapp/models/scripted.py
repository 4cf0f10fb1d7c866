"""A deterministic model that ships in the package: ``--model scripted``.

For tests and demos of the plumbing (CLI, storage, API, pipelines). Replies
come from a queue (:meth:`ScriptedModel.enqueue`) or a function of the
prompt; they stream in fixed-size chunks; every call is recorded in
``calls``. A request with a JSON schema is answered with scripted JSON
(a queued dict, or the schema's minimal valid instance).

Reply text may contain ``<think>...</think>``: it is split into reasoning
exactly as a real Qwen3 stream would be, and left out (by the model layer's
one :func:`~qwenapp.models.profile.strip_think`) when thinking is off.

Tool calls are scripted as :class:`ScriptedToolCalls` (or, in a script file,
``{"tool_calls": [{"name": ..., "arguments": {...}}], "content": "..."}``):
they stream as OpenAI ``tool_calls`` deltas, arguments a few characters at a
time. A text reply may also write Qwen's ``<tool_call>...</tool_call>`` form.
Either way the stream goes through the one chunk translator
(:func:`~qwenapp.models.profile.openai_chunks_to_events`), so scripted calls
are parsed exactly as a real server's are.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .events import Event, GenerateOptions, Message
from .profile import call_schema, offered_tools, openai_chunks_to_events, strip_think

__all__ = ["ScriptedCall", "ScriptedModel", "ScriptedToolCalls", "minimal_instance"]


@dataclass(frozen=True, slots=True)
class ScriptedToolCalls:
    """A scripted answer that calls tools: ``calls`` are ``(name, arguments)`` pairs.

    ``arguments`` may be a dict or raw text (to script malformed JSON);
    ``content`` is any text said before the calls.
    """

    calls: tuple[tuple[str, dict[str, Any] | str], ...]
    content: str = ""
    ids: tuple[str, ...] = field(default=())


Reply = str | dict[str, Any] | list[Any] | ScriptedToolCalls | Exception
Responder = Callable[[Sequence[Message], GenerateOptions], Reply]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    messages: tuple[Message, ...]
    options: GenerateOptions


class ScriptedModel:
    """Scripted replies, streamed ``chunk_size`` characters at a time."""

    serial_jobs = False  # calls may run concurrently, as on a server that batches

    def __init__(
        self,
        replies: Sequence[Reply] = (),
        *,
        responder: Responder | None = None,
        chunk_size: int = 4,
        delay: float = 0.0,
        name: str = "scripted",
        context_length: int = 8192,
        thinking: bool = True,
    ) -> None:
        self._queue: deque[Reply] = deque(replies)
        self._responder = responder
        self.chunk_size = max(1, chunk_size)
        self.delay = delay
        self._name = name
        self._context_length = context_length
        self._thinking = thinking
        self.calls: list[ScriptedCall] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def supports_thinking(self) -> bool:
        return self._thinking

    def enqueue(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    def _reply(self, messages: Sequence[Message], options: GenerateOptions) -> Reply:
        if self._queue:
            queued: Reply = self._queue.popleft()
            return queued
        if self._responder is not None:
            return self._responder(messages, options)
        if options.json_schema is not None:
            instance: Reply = minimal_instance(options.json_schema)
            return instance
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        return f"You said: {last}"

    async def stream(
        self, messages: Sequence[Message], options: GenerateOptions
    ) -> AsyncIterator[Event]:
        self.calls.append(ScriptedCall(tuple(messages), options))
        forced = call_schema(options)  # a forced tool call is a schema, as on a real engine
        reply = self._reply(messages, options if forced is None
                            else replace(options, json_schema=forced))
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, dict) and isinstance(reply.get("tool_calls"), list):
            reply = _tool_reply(reply)
        events = openai_chunks_to_events(self._chunks(reply, messages, options),
                                         offered_tools(options))
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def _chunks(self, reply: Reply, messages: Sequence[Message],
                      options: GenerateOptions) -> AsyncIterator[dict[str, Any]]:
        """The reply as OpenAI stream chunks, ``chunk_size`` characters each."""
        calls: ScriptedToolCalls | None = reply if isinstance(reply, ScriptedToolCalls) \
            else None
        if calls is not None:
            text = calls.content
        else:
            text = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
        if not (options.think and self._thinking):
            text = strip_think(text)
        limit = options.max_tokens
        finish = "stop"
        produced = 0
        pieces: list[dict[str, Any]] = [{"content": text[i: i + self.chunk_size]}
                                        for i in range(0, len(text), self.chunk_size)]
        if calls is not None:
            pieces.extend(self._call_deltas(calls))
            finish = "tool_calls"
        for delta in pieces:
            if limit is not None and produced >= limit:
                finish = "length"
                break
            produced += 1
            await asyncio.sleep(self.delay)
            yield {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        prompt_tokens = sum(len(m.content) for m in messages) // self.chunk_size + 1
        yield {"choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
               "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": produced}}

    def _call_deltas(self, calls: ScriptedToolCalls) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i, (name, args) in enumerate(calls.calls):
            call_id = calls.ids[i] if i < len(calls.ids) else f"call_scripted_{i}"
            raw = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
            out.append({"tool_calls": [{"index": i, "id": call_id, "type": "function",
                                        "function": {"name": name, "arguments": ""}}]})
            out.extend({"tool_calls": [{"index": i, "function": {
                "arguments": raw[k: k + self.chunk_size]}}]}
                for k in range(0, len(raw), self.chunk_size))
        return out

    async def aclose(self) -> None:
        return None


def _tool_reply(data: dict[str, Any]) -> ScriptedToolCalls:
    """``{"tool_calls": [{"name", "arguments", "id"?}], "content"?}`` from a script file."""
    calls = tuple((str(c["name"]), c.get("arguments") or {}) for c in data["tool_calls"])
    ids = tuple(str(c["id"]) for c in data["tool_calls"] if c.get("id"))
    return ScriptedToolCalls(calls, str(data.get("content") or ""),
                             ids if len(ids) == len(calls) else ())


def minimal_instance(schema: dict[str, Any]) -> Any:
    """The smallest value that validates against a (simple) JSON schema."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return minimal_instance(schema[key][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props[k]) for k in schema.get("required", []) if k in props}
    if kind == "array":
        n = int(schema.get("minItems", 0))
        return [minimal_instance(schema.get("items", {})) for _ in range(n)]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def load_script(path: str) -> ScriptedModel:
    """A scripted model from a JSON file: ``--model scripted:PATH``.

    The file holds either a list of replies (played in order, then echo) or
    ``{"replies": [...], "rules": [{"contains": "text", "reply": ...}]}``,
    where a rule answers any request whose messages contain ``text``
    (checked before the queue, first match wins; rules are reusable).
    Optional keys ``chunk_size`` and ``delay`` (seconds per chunk) shape the stream.
    """
    from pathlib import Path

    from ..errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read the script file {path}: {e}") from None
    if isinstance(data, list):
        return ScriptedModel(data)
    if not isinstance(data, dict):
        raise InputError(f"the script file {path} must hold a JSON list or object")
    rules = [(str(r["contains"]), r["reply"]) for r in data.get("rules", [])]
    queue: deque[Reply] = deque(data.get("replies", []))

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
        blob = "\n".join(m.content for m in messages)
        for needle, reply in rules:
            if needle in blob:
                return reply  # type: ignore[no-any-return]
        if queue:
            return queue.popleft()
        if options.json_schema is not None:
            return minimal_instance(options.json_schema)  # type: ignore[no-any-return]
        last = next((m.content for m in reversed(messages) if m.role == "user"), "")
        return f"You said: {last}"

    return ScriptedModel(responder=respond, chunk_size=int(data.get("chunk_size", 4)),
                         delay=float(data.get("delay", 0.0)))
