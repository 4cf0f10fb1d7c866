"""Qwen-family quirks, in one place.

Qwen3 reasons before answering. Depending on the server, that reasoning
arrives either as a separate ``reasoning_content`` field (llama.cpp with a
reasoning parser, vLLM/SGLang with ``--reasoning-parser qwen3``, DashScope)
or inline in ``content`` between ``<think>`` and ``</think>`` tags (raw
templates, Ollama's older builds, LM Studio). :class:`ThinkSplitter` turns
both into separate text and reasoning deltas, so nothing above the model
layer ever sees a think tag, and reasoning never lands in an answer.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import BackendError, BadRequestError, ContextOverflowError
from .events import (
    Event,
    Finish,
    FinishReason,
    GenerateOptions,
    ReasoningDelta,
    TextDelta,
    Usage,
)

__all__ = [
    "QwenProfile",
    "ThinkSplitter",
    "error_from_payload",
    "openai_chunks_to_events",
    "request_body",
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
            keep = _partial_suffix(self._buf, tag)
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


def _partial_suffix(buf: str, tag: str) -> int:
    """Length of the longest suffix of *buf* that is a proper prefix of *tag*."""
    for n in range(min(len(tag) - 1, len(buf)), 0, -1):
        if buf.endswith(tag[:n]):
            return n
    return 0


def request_body(
    messages: list[dict[str, str]],
    options: GenerateOptions,
    profile: QwenProfile,
    *,
    model: str | None = None,
    stream: bool = True,
) -> dict[str, Any]:
    """The OpenAI-style chat request both the embedded engine and servers accept."""
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
    if options.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "strict": True, "schema": options.json_schema},
        }
    kwargs = profile.template_kwargs(options.think)
    if kwargs:
        body["chat_template_kwargs"] = kwargs
        # vLLM/SGLang read the same switch from extra_body; DashScope reads enable_thinking.
        body["enable_thinking"] = kwargs["enable_thinking"]
    return body


_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "length": "length",
    "tool_calls": "stop",
    "content_filter": "error",
}


async def openai_chunks_to_events(
    chunks: AsyncIterator[dict[str, Any]],
) -> AsyncGenerator[Event, None]:
    """Translate OpenAI ``chat.completion.chunk`` dicts into our events.

    The one place that knows the wire shape. Raises :class:`BackendError` on
    an error chunk, a malformed chunk, or a stream that ends without a
    finish reason.
    """
    splitter = ThinkSplitter()
    finish: FinishReason | None = None
    usage: Usage | None = None
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
                for ev in splitter.feed(content):
                    yield ev
            reason = choice.get("finish_reason")
            if reason:
                finish = _FINISH.get(reason, "stop")
    for ev in splitter.flush():
        yield ev
    if finish is None:
        raise BackendError("the model stream stopped before the answer was finished",
                           "the server may have crashed or dropped the connection; try again")
    if usage is not None:
        yield usage
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
    low = (kind + " " + msg).lower()
    if "exceed_context" in low or "context length" in low or "context size" in low \
            or "maximum context" in low:
        return ContextOverflowError(f"the conversation is too long for the model: {msg}",
                                    "start a new conversation or raise QWENAPP_CONTEXT",
                                    status=status)
    if status == 400:
        return BadRequestError(f"the model rejected the request: {msg}", status=status)
    return BackendError(f"the model server reported an error: {msg}", status=status)
