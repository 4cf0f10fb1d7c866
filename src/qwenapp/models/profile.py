"""The OpenAI chat wire format and Qwen-family quirks, in one place.

Both backends speak the OpenAI chat format (the embedded engine is llama.cpp's
server in-process), so the request body (:func:`request_body`, with each
server family's spelling of the thinking switch, :data:`PROVIDERS`), the chunk
translator (:func:`openai_chunks_to_events`) and the error classifier
(:func:`error_from_payload`, :func:`is_context_overflow`) live here once.

Qwen3 reasons before answering. Depending on the server, that reasoning
arrives either as a separate ``reasoning_content`` field (llama.cpp with a
reasoning parser, vLLM/SGLang with ``--reasoning-parser qwen3``, DashScope)
or inline in ``content`` between ``<think>`` and ``</think>`` tags (raw
templates, Ollama's older builds, LM Studio). :class:`ThinkSplitter` turns
both into separate text and reasoning deltas, so nothing above the model
layer ever sees a think tag, and reasoning never lands in an answer.

Tool calls are read here too, for both backends (see :mod:`.toolcalls` for
the shapes): native ``tool_calls`` deltas and calls written into the text are
turned into the same :class:`~qwenapp.models.events.ToolCall` events, and an
answer that called a tool finishes with ``"tool_calls"``. A forced
``tool_choice`` (``required`` or a named function) is sent as a JSON-schema
grammar for the call rather than as ``tool_choice``: llama.cpp (embedded and
llama-server) accepts ``tool_choice`` but did not enforce it in our tests,
while every server we support enforces a schema.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..errors import BackendError, BadRequestError, ContextOverflowError, InputError
from .events import (
    Event,
    Finish,
    FinishReason,
    GenerateOptions,
    NamedTool,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallError,
    ToolSpec,
    Usage,
)
from .toolcalls import NativeCalls, ToolTextParser, partial_suffix

__all__ = [
    "PROVIDERS",
    "Provider",
    "QwenProfile",
    "ThinkSplitter",
    "detect_provider",
    "error_from_payload",
    "is_context_overflow",
    "openai_chunks_to_events",
    "request_body",
    "strip_think",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


@dataclass(frozen=True, slots=True)
class QwenProfile:
    """What differs between Qwen generations."""

    thinking: bool = False  # Qwen3 hybrid thinking (enable_thinking template kwarg)

    def template_kwargs(self, think: bool | None) -> dict[str, Any]:
        if not self.thinking:
            return {}
        # Qwen3 thinks by default; we default to off for snappy chat.
        return {"enable_thinking": bool(think)}


class ThinkSplitter:
    """Streaming splitter of ``<think>...</think>`` out of content deltas.

    Tags may be split across chunks, so a possible partial tag at the end of
    a chunk is held back until the next chunk decides it.
    """

    def __init__(self) -> None:
        self._buf = ""
        self._in_think = False
        self._lstrip = True  # drop newlines that open the answer (and follow </think>)

    def feed(self, text: str) -> Iterator[TextDelta | ReasoningDelta]:
        self._buf += text
        while self._buf:
            tag = THINK_CLOSE if self._in_think else THINK_OPEN
            idx = self._buf.find(tag)
            if idx >= 0:
                yield from self._emit(self._buf[:idx])
                self._buf = self._buf[idx + len(tag) :]
                self._in_think = not self._in_think
                if not self._in_think:
                    self._lstrip = True  # Qwen puts a blank line after </think>
                continue
            keep = partial_suffix(self._buf, tag)
            out, self._buf = self._buf[: len(self._buf) - keep], self._buf[len(self._buf) - keep :]
            yield from self._emit(out)
            return

    def flush(self) -> Iterator[TextDelta | ReasoningDelta]:
        out, self._buf = self._buf, ""
        yield from self._emit(out)

    def _emit(self, text: str) -> Iterator[TextDelta | ReasoningDelta]:
        if not text:
            return
        if self._in_think:
            yield ReasoningDelta(text)
            return
        if self._lstrip:
            text = text.lstrip("\n")
            if not text:
                return
            self._lstrip = False
        yield TextDelta(text)


def strip_think(text: str) -> str:
    """``text`` without its ``<think>...</think>`` reasoning, as a stream would show it.

    The whole-text form of :class:`ThinkSplitter` (the same rules, so a string and a
    stream agree): every think block goes, an unclosed one runs to the end, and the
    newlines Qwen puts before the answer and after ``</think>`` are dropped.
    """
    splitter = ThinkSplitter()
    deltas = [*splitter.feed(text), *splitter.flush()]
    return "".join(d.text for d in deltas if isinstance(d, TextDelta))


def offered_tools(options: GenerateOptions) -> tuple[ToolSpec, ...]:
    """The tools a request really offers (none when ``tool_choice`` is ``"none"``)."""
    return () if options.tool_choice == "none" else options.tools


def call_schema(options: GenerateOptions) -> dict[str, Any] | None:
    """The JSON schema of the call a forced ``tool_choice`` demands (None when not forced)."""
    tools = offered_tools(options)
    choice = options.tool_choice
    if not tools or choice == "auto":
        return None
    if isinstance(choice, NamedTool):
        chosen = [t for t in tools if t.name == choice.name]
        if not chosen:
            raise InputError(f"tool_choice names {choice.name!r}, which is not among the tools",
                             f"offer it in tools, or name one of: "
                             f"{', '.join(t.name for t in tools)}")
        tools = tuple(chosen)
    variants = [{"type": "object",
                 "properties": {"name": {"const": t.name},
                                "arguments": dict(t.parameters) or {"type": "object"}},
                 "required": ["name", "arguments"], "additionalProperties": False}
                for t in tools]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


@dataclass(frozen=True, slots=True)
class Provider:
    """How one server family spells the Qwen3 thinking switch.

    ``thinking_on`` / ``thinking_off`` are the extra request fields sent when
    thinking is asked for or not (``chat_template_kwargs`` is merged, other
    keys are set). ``hosts`` (host-name suffixes) and ``ports`` let
    :func:`detect_provider` recognise the server from its base URL.
    """

    name: str
    thinking_on: Mapping[str, Any]
    thinking_off: Mapping[str, Any]
    hosts: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()


def _template_switch(on: bool) -> dict[str, Any]:
    return {"chat_template_kwargs": {"enable_thinking": on}}


PROVIDERS: Mapping[str, Provider] = {
    p.name: p
    for p in (
        # Unknown server: send both spellings; servers ignore fields they do not know.
        Provider("openai", {**_template_switch(True), "enable_thinking": True},
                 {**_template_switch(False), "enable_thinking": False}),
        Provider("vllm", _template_switch(True), _template_switch(False)),
        Provider("sglang", _template_switch(True), _template_switch(False)),
        Provider("llama.cpp", _template_switch(True), _template_switch(False)),
        Provider("lmstudio", _template_switch(True), _template_switch(False)),
        # DashScope reads a top-level enable_thinking (the SDK's extra_body).
        Provider("dashscope", {"enable_thinking": True}, {"enable_thinking": False},
                 hosts=("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com")),
        # Ollama thinks by default on capable models; reasoning_effort "none" turns it off.
        Provider("ollama", {}, {"reasoning_effort": "none"}, ports=(11434,)),
    )
}


def detect_provider(base_url: str) -> Provider:
    """The :data:`PROVIDERS` row a base URL points at; ``openai`` when unsure."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    for p in PROVIDERS.values():
        if any(host == h or host.endswith("." + h) for h in p.hosts):
            return p
    for p in PROVIDERS.values():
        if parts.port in p.ports:
            return p
    return PROVIDERS["openai"]


_CONTEXT_OVERFLOW = re.compile(
    r"context[ _-]?(length|size|window)|maximum context|exceed_context|too many tokens"
    r"|prompt is too long|input length|input is too long|longer than the model",
    re.IGNORECASE,
)


def is_context_overflow(text: str) -> bool:
    """True when a server's error text says the prompt did not fit the context (every
    server family words it differently; this is the one place that knows how)."""
    return bool(_CONTEXT_OVERFLOW.search(text))


def request_body(
    messages: list[dict[str, Any]],
    options: GenerateOptions,
    profile: QwenProfile,
    *,
    model: str | None = None,
    stream: bool = True,
    provider: Provider | None = None,
) -> dict[str, Any]:
    """The OpenAI-style chat request both the embedded engine and servers accept.

    ``provider``: how the server reads the thinking switch (default: llama.cpp's spelling,
    ``chat_template_kwargs``, which the embedded engine reads); spelled here, once.
    """
    body: dict[str, Any] = {"messages": messages, "stream": stream}
    if model is not None:
        body["model"] = model
    if stream:
        body["stream_options"] = {"include_usage": True}
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.top_p is not None:
        body["top_p"] = options.top_p
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    if options.stop:
        body["stop"] = list(options.stop)
    if options.seed is not None:
        body["seed"] = options.seed
    for name in ("frequency_penalty", "presence_penalty", "repeat_penalty", "dry_multiplier"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    tools = offered_tools(options)
    forced = call_schema(options)
    if forced is not None and options.json_schema is not None:
        raise InputError("a JSON schema for the answer and a forced tool call exclude each other",
                         "use tool_choice auto, or drop response_format")
    schema = forced if forced is not None else options.json_schema
    if tools:
        body["tools"] = [t.to_openai() for t in tools]
        if forced is None:
            body["tool_choice"] = "auto"
        body["parallel_tool_calls"] = options.parallel_tool_calls
    if schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "tool_call" if forced is not None else "output",
                            "strict": True, "schema": schema},
        }
    kwargs = profile.template_kwargs(options.think)
    if kwargs:
        switch = provider or PROVIDERS["llama.cpp"]
        extra = switch.thinking_on if kwargs["enable_thinking"] else switch.thinking_off
        template = {k: v for k, v in kwargs.items() if k != "enable_thinking"}
        template.update(extra.get("chat_template_kwargs", {}))
        if template:
            body["chat_template_kwargs"] = template
        body.update({k: v for k, v in extra.items() if k != "chat_template_kwargs"})
    return body


_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "error",
}


async def openai_chunks_to_events(
    chunks: AsyncIterator[dict[str, Any]],
    tools: Sequence[ToolSpec] = (),
) -> AsyncGenerator[Event, None]:
    """Translate OpenAI ``chat.completion.chunk`` dicts into our events.

    The one place that knows the wire shape. ``tools`` are the tools the
    request offered: with them, calls written into the text are read too.
    Raises :class:`BackendError` on an error chunk, a malformed chunk, or a
    stream that ends without a finish reason.
    """
    splitter = ThinkSplitter()
    native = NativeCalls()
    calls = ToolTextParser([t.name for t in tools]) if tools else None
    called = False
    finish: FinishReason | None = None
    usage: Usage | None = None

    def text_events(evs: Iterator[TextDelta | ReasoningDelta]) -> Iterator[Event]:
        for ev in evs:
            if calls is not None and isinstance(ev, TextDelta):
                yield from calls.feed(ev.text)
            else:
                yield ev
    async for chunk in chunks:
        if not isinstance(chunk, dict):
            raise BackendError("the server sent a malformed stream chunk",
                               "check that the endpoint speaks the OpenAI chat API")
        if "error" in chunk:
            raise error_from_payload(chunk["error"])
        if chunk.get("usage"):
            u = chunk["usage"]
            details = u.get("prompt_tokens_details") or {}
            usage = Usage(
                prompt_tokens=int(u.get("prompt_tokens") or 0),
                completion_tokens=int(u.get("completion_tokens") or 0),
                cached_tokens=int(details.get("cached_tokens") or 0),
            )
        choices = chunk.get("choices")
        if choices is None:
            if chunk.get("usage"):
                continue
            raise BackendError("the server sent a stream chunk without choices",
                               "check that the endpoint speaks the OpenAI chat API")
        for choice in choices:
            delta = choice.get("delta") or choice.get("message") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning:
                yield ReasoningDelta(reasoning)
            content = delta.get("content")
            if content:
                for ev in text_events(splitter.feed(content)):
                    yield ev
            for call in native.feed(delta.get("tool_calls")):
                yield call
            reason = choice.get("finish_reason")
            if reason:
                finish = _FINISH.get(reason, "stop")
    for ev in text_events(splitter.flush()):
        yield ev
    tail: list[Event] = list(calls.flush()) if calls is not None else []
    tail.extend(native.finish())
    for ev in tail:
        called = called or isinstance(ev, ToolCall | ToolCallError)
        yield ev
    called = called or (calls is not None and calls.count > 0)
    if finish is None:
        raise BackendError("the model stream stopped before the answer was finished",
                           "the server may have crashed or dropped the connection; try again")
    if usage is not None:
        yield usage
    if called and finish in ("stop", "tool_calls"):
        finish = "tool_calls"
    elif finish == "tool_calls":
        finish = "stop"  # the server said so, but no call could be read
    yield Finish(finish)


def error_from_payload(err: Any, status: int | None = None) -> BackendError:
    """Map an OpenAI-style ``{"error": {...}}`` payload to a typed error."""
    if isinstance(err, dict):
        msg = str(err.get("message") or err)
        kind = str(err.get("type") or "")
        code = err.get("code")
        status = status or (code if isinstance(code, int) else None)
    else:
        msg, kind = str(err), ""
    if is_context_overflow(kind + " " + msg):
        return ContextOverflowError(f"the conversation is too long for the model: {msg}",
                                    "start a new conversation or raise QWENAPP_CONTEXT",
                                    status=status)
    if status == 400:
        return BadRequestError(f"the model rejected the request: {msg}", status=status)
    return BackendError(f"the model server reported an error: {msg}", status=status)
