"""The one chunk translator and the <think> splitter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from qwenapp.errors import BackendError, ContextOverflowError
from qwenapp.models.events import (
    Finish,
    GenerateOptions,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from qwenapp.models.profile import (
    QwenProfile,
    ThinkSplitter,
    openai_chunks_to_events,
    request_body,
    strip_think,
)


def split(pieces: list[str]) -> tuple[str, str]:
    s = ThinkSplitter()
    text, reasoning = "", ""
    for ev in [e for p in pieces for e in s.feed(p)] + list(s.flush()):
        if isinstance(ev, TextDelta):
            text += ev.text
        else:
            reasoning += ev.text
    return text, reasoning


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_think_tags_split_at_any_chunk_boundary(size: int) -> None:
    raw = "<think>\nLet me see: 2+2.\n</think>\n\nThe answer is 4."
    pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
    assert split(pieces) == ("The answer is 4.", "\nLet me see: 2+2.\n")


def test_text_without_tags_passes_through_including_lookalikes() -> None:
    assert split(["a < b and <th", "ing> stays"]) == ("a < b and <thing> stays", "")


def test_empty_think_block_of_non_thinking_qwen3() -> None:
    assert split(["<think>\n\n</think>\n\n", "Hi!"]) == ("Hi!", "\n\n")


@pytest.mark.parametrize("raw", [
    "<think>\nLet me see: 2+2.\n</think>\n\nThe answer is 4.",
    "<think>\n\n</think>\n\nHi!",
    "a < b and <thing> stays",
    "<think>one</think>A<think>two</think>B",
    "Answer.<think>never closed",
])
def test_strip_think_is_the_splitters_text(raw: str) -> None:
    assert strip_think(raw) == split([raw])[0]
    assert "<think>" not in strip_think(raw)


async def _events(chunks: list[Any]) -> list[Any]:
    async def gen() -> AsyncIterator[Any]:
        for c in chunks:
            yield c

    return [e async for e in openai_chunks_to_events(gen())]


def chunk(content: str | None = None, reasoning: str | None = None,
          finish: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_reasoning_content_field_and_usage() -> None:
    evs = asyncio.run(_events([
        chunk(reasoning="hmm"), chunk(content="Hello"), chunk(finish="stop"),
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2,
                                   "prompt_tokens_details": {"cached_tokens": 3}}},
    ]))
    assert evs == [ReasoningDelta("hmm"), TextDelta("Hello"), Usage(5, 2, 3), Finish("stop")]


def test_stream_that_stops_midway_is_an_error() -> None:
    with pytest.raises(BackendError, match="stopped before"):
        asyncio.run(_events([chunk(content="Hel")]))


def test_error_chunk_for_context_overflow_is_typed() -> None:
    err = {"error": {"code": 400, "type": "exceed_context_size_error",
                     "message": "request (2018 tokens) exceeds the available context size"}}
    with pytest.raises(ContextOverflowError):
        asyncio.run(_events([err]))


def test_malformed_chunk_is_an_error() -> None:
    with pytest.raises(BackendError, match="malformed"):
        asyncio.run(_events(["not a dict"]))
    with pytest.raises(BackendError, match="without choices"):
        asyncio.run(_events([{"id": "x"}]))


def test_request_body_maps_every_option() -> None:
    opts = GenerateOptions(temperature=0.2, top_p=0.9, max_tokens=7, stop=("END",), seed=3,
                           json_schema={"type": "object"}, think=True)
    body = request_body([{"role": "user", "content": "q"}], opts, QwenProfile(thinking=True),
                        model="m")
    assert body["temperature"] == 0.2 and body["top_p"] == 0.9 and body["max_tokens"] == 7
    assert body["stop"] == ["END"] and body["seed"] == 3 and body["model"] == "m"
    assert body["response_format"]["json_schema"]["schema"] == {"type": "object"}
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    plain = request_body([], GenerateOptions(think=True), QwenProfile(thinking=False))
    assert "chat_template_kwargs" not in plain
    assert not {"frequency_penalty", "repeat_penalty", "dry_multiplier"} & plain.keys()


def test_request_body_maps_anti_repetition_samplers() -> None:
    opts = GenerateOptions(frequency_penalty=0.4, presence_penalty=0.1, repeat_penalty=1.15,
                           dry_multiplier=0.8)
    body = request_body([], opts, QwenProfile(thinking=False))
    assert (body["frequency_penalty"], body["presence_penalty"]) == (0.4, 0.1)
    assert (body["repeat_penalty"], body["dry_multiplier"]) == (1.15, 0.8)
