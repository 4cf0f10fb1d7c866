"""``qwenapp serve`` on the real embedded engine (the tiny random-weight GGUF fixture), with
the official ``openai`` client: streaming, JSON-schema grammar, typed errors, and a dropped
stream that frees its engine slot."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from conftest import qwenapp_cmd
from qwenapp.server.testing import ServeProcess, serve_process


@pytest.fixture(scope="module")
def server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    # One engine slot: a stream that did not free its slot would block the next request.
    env.update(QWENAPP_HOME=str(home), QWENAPP_THREADS="2", QWENAPP_PARALLEL="1",
               QWENAPP_CONTEXT="512", PYTHONUNBUFFERED="1")
    running = serve_process(qwenapp_cmd(), env, args=["-m", str(tiny_gguf),
                                                      "--log-level", "warning"], timeout=120)
    yield running
    running.stop()


@pytest.fixture
def client(server: ServeProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url + "/v1", api_key="local", max_retries=0,
                       timeout=120) as c:
        yield c


def test_the_engine_streams_through_the_server(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list().data] == ["tiny-qwen"]
    stream = client.chat.completions.create(
        model="tiny-qwen", messages=[{"role": "user", "content": "hello"}], stream=True,
        max_tokens=8, seed=1, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens <= 8
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("length", "stop")


def test_json_schema_is_enforced_by_the_engine_grammar(client: openai.OpenAI) -> None:
    # Random weights write gibberish; the grammar still forces JSON of this shape.
    schema: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                              "required": ["ok"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="tiny-qwen", messages=[{"role": "user", "content": "answer"}], max_tokens=40,
        seed=3, response_format={"type": "json_schema",
                                 "json_schema": {"name": "x", "schema": schema}})
    assert isinstance(json.loads(r.choices[0].message.content or "")["ok"], bool)


def test_a_prompt_too_long_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="tiny-qwen", messages=[{"role": "user", "content": "word " * 3000}],
            max_tokens=4)
    body: Any = e.value.body
    assert body["code"] == "context_length_exceeded"


def test_a_dropped_stream_frees_the_engine_slot(server: ServeProcess,
                                                client: openai.OpenAI) -> None:
    with httpx.stream("POST", server.url + "/v1/chat/completions", timeout=60,
                      headers={"Authorization": "Bearer local"},
                      json={"stream": True, "max_tokens": 400, "seed": 1,
                            "messages": [{"role": "user", "content": "go on"}]}) as r:
        for line in r.iter_lines():
            if '"content":"' in line and '"content":""' not in line:
                break  # one token seen: hang up
    t0 = time.monotonic()
    r2 = client.chat.completions.create(
        model="tiny-qwen", messages=[{"role": "user", "content": "next"}], max_tokens=4)
    assert r2.choices[0].finish_reason in ("length", "stop")
    assert time.monotonic() - t0 < 30  # not stuck behind 400 tokens in the only slot
