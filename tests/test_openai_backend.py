"""The OpenAI-compatible backend, against a real llama.cpp server and a liar.

The first half talks to a genuine llama-server (xllamacpp) running a tiny
random Qwen2 GGUF in a subprocess. The second half uses a small stand-in
server written here that misbehaves on purpose: refused connections, HTTP
errors, truncated and malformed streams, reasoning in both wire shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from qwenapp.errors import BackendError, BadRequestError, ContextOverflowError
from qwenapp.models import (
    Event,
    Finish,
    GenerateOptions,
    Message,
    ReasoningDelta,
    TextDelta,
    Usage,
    complete,
)
from qwenapp.models.events import NamedTool, ToolCall, ToolSpec
from qwenapp.models.openai_compat import (
    PROVIDERS,
    OpenAICompatBackend,
    detect_provider,
    iter_sse_data,
)

T = TypeVar("T")
HI = [Message("user", "hi")]
KEY = "secret"


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def collect(backend: OpenAICompatBackend, options: GenerateOptions | None = None,
                  messages: list[Message] = HI) -> list[Event]:
    return [e async for e in backend.stream(messages, options or GenerateOptions())]


# ---------------------------------------------------------------------------
# Against a real llama.cpp server
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_url(tiny_gguf: Path) -> Iterator[str]:
    """One real llama-server (2 slots, API key required) for this module."""
    pytest.importorskip("xllamacpp")
    from qwenapp.testing.llama_server import running_llama_server

    with running_llama_server(tiny_gguf, api_key=KEY) as url:
        yield url


def test_llama_stream_yields_text_usage_and_length_finish(llama_url: str) -> None:
    async def go() -> list[Event]:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            return await collect(b, GenerateOptions(max_tokens=8, temperature=0))

    events = run(go())
    assert any(isinstance(e, TextDelta) and e.text for e in events)
    assert not any(isinstance(e, ReasoningDelta) for e in events)
    assert isinstance(events[-2], Usage) and events[-2].completion_tokens == 8
    assert events[-1] == Finish("length")


def test_llama_complete_and_model_list(llama_url: str) -> None:
    async def go() -> tuple[Any, list[str]]:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            return await complete(b, HI, GenerateOptions(max_tokens=5)), await b.models()

    done, ids = run(go())
    assert done.text and done.finish_reason == "length"
    assert done.usage is not None and done.usage.completion_tokens == 5
    assert ids and ids[0].endswith(".gguf")


def test_llama_same_seed_same_text(llama_url: str) -> None:
    opts = GenerateOptions(max_tokens=12, temperature=0, seed=1234)

    async def go() -> list[str]:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            return [(await complete(b, HI, opts)).text for _ in range(2)]

    first, second = run(go())
    assert first and first == second


def test_llama_json_schema_output_validates(llama_url: str) -> None:
    from pydantic import BaseModel, ConfigDict

    class Answer(BaseModel):
        model_config = ConfigDict(extra="forbid")
        a: int

    schema = Answer.model_json_schema()
    opts = GenerateOptions(max_tokens=64, temperature=0, seed=7, json_schema=schema)

    async def go() -> str:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            done = await complete(b, [Message("user", "give me a")], opts)
            assert done.finish_reason == "stop"
            return done.text

    Answer.model_validate_json(run(go()))


def test_llama_two_concurrent_streams_both_finish(llama_url: str) -> None:
    async def go() -> list[list[Event]]:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            opts = GenerateOptions(max_tokens=16)
            return list(await asyncio.gather(collect(b, opts), collect(b, opts)))

    for events in run(go()):
        assert events[-1] == Finish("length")


def test_llama_wrong_key_is_401(llama_url: str) -> None:
    async def go() -> None:
        async with OpenAICompatBackend(llama_url, "tiny", "not-the-key") as b:
            await collect(b, GenerateOptions(max_tokens=4))

    with pytest.raises(BackendError) as info:
        run(go())
    assert info.value.status == 401
    assert "rejected the API key" in info.value.message
    assert "QWENAPP_API_KEY" in info.value.hint


def test_llama_one_backend_across_event_loops(llama_url: str) -> None:
    # The CLI may call asyncio.run more than once with the same backend.
    b = OpenAICompatBackend(llama_url, "tiny", KEY)
    for _ in range(2):
        assert run(complete(b, HI, GenerateOptions(max_tokens=3))).finish_reason == "length"
    run(b.aclose())


def test_llama_cancel_then_next_request_works(llama_url: str) -> None:
    async def go() -> list[Event]:
        async with OpenAICompatBackend(llama_url, "tiny", KEY) as b:
            stream = b.stream(HI, GenerateOptions(max_tokens=400))
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                seen = 0
                async for _ in stream:
                    seen += 1
                    if seen == 2:
                        break
            task = asyncio.create_task(collect(b, GenerateOptions(max_tokens=400)))
            await asyncio.sleep(0.05)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return await collect(b, GenerateOptions(max_tokens=4))

    assert run(go())[-1] == Finish("length")


UNIT = ToolSpec("set_unit", "Choose the temperature unit.", {
    "type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["unit"], "additionalProperties": False})


@pytest.fixture(scope="module")
def llama_tools_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real llama-server running the tiny model with Qwen2.5's tool-aware chat template."""
    pytest.importorskip("xllamacpp")
    from qwenapp.testing.llama_server import running_llama_server
    from qwenapp.testing.tiny_gguf import write_tiny_qwen_gguf

    template = (Path(__file__).parent / "fixtures" / "qwen25_tools_template.jinja").read_text()
    path = write_tiny_qwen_gguf(tmp_path_factory.mktemp("gguf") / "tools.gguf",
                                chat_template=template)
    with running_llama_server(path, ctx=4096, parallel=1) as url:
        yield url


def test_llama_server_forced_tool_call_is_parsed(llama_tools_url: str) -> None:
    async def go() -> Any:
        async with OpenAICompatBackend(llama_tools_url, "tiny", provider="llama.cpp") as b:
            return await complete(b, [Message("user", "in fahrenheit please")], GenerateOptions(
                max_tokens=200, seed=3, tools=(UNIT,), tool_choice=NamedTool("set_unit")))

    out = run(go(), 60)
    assert out.finish_reason == "tool_calls" and out.text == ""
    [call] = out.tool_calls
    assert call.name == "set_unit" and call.arguments["unit"] in ("celsius", "fahrenheit")


def test_llama_server_takes_a_tool_round_trip(llama_tools_url: str) -> None:
    call = ToolCall("call_7", "set_unit", {"unit": "celsius"})
    convo = [Message("user", "weather?"), Message("assistant", "", tool_calls=(call,)),
             Message("tool", "21 degrees " * 30, tool_call_id="call_7", name="set_unit")]

    async def go(messages: list[Message]) -> Any:
        async with OpenAICompatBackend(llama_tools_url, "tiny", provider="llama.cpp") as b:
            return await complete(b, messages, GenerateOptions(max_tokens=2, tools=(UNIT,)))

    with_result = run(go(convo), 60)
    without = run(go(convo[:1]), 60)
    assert with_result.finish_reason in ("length", "stop", "tool_calls")
    assert with_result.usage and without.usage
    # the call and its 330-character result are rendered into the prompt
    assert with_result.usage.prompt_tokens - without.usage.prompt_tokens > 300


# ---------------------------------------------------------------------------
# A stand-in server that misbehaves on purpose
# ---------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    writer: asyncio.StreamWriter

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Request], Awaitable[None]]


@dataclass
class StandIn:
    url: str
    hits: list[Request] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)


def _reply(status: int, body: Any = b"", headers: dict[str, str] | None = None) -> bytes:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json",
            f"Content-Length: {len(raw)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + raw


SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Connection: close\r\n\r\n")


def chunk(content: str | None = None, reasoning: str | None = None,
          finish: str | None = None) -> str:
    delta: dict[str, str] = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta,
                                               "finish_reason": finish}]}) + "\n\n"


USAGE = 'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}\n\n'
DONE = "data: [DONE]\n\n"


def sse(*events: str) -> Handler:
    async def handle(req: Request) -> None:
        req.writer.write(SSE_HEAD + "".join(events).encode())

    return handle


def status(code: int, body: Any = b"", headers: dict[str, str] | None = None) -> Handler:
    async def handle(req: Request) -> None:
        req.writer.write(_reply(code, body, headers))

    return handle


def error(code: int, message: str, headers: dict[str, str] | None = None) -> Handler:
    return status(code, {"error": {"message": message, "code": code}}, headers)


OK = sse(chunk("Hel"), chunk("lo"), chunk(finish="stop"), USAGE, DONE)


@contextlib.asynccontextmanager
async def stand_in(**routes: Handler | list[Handler]) -> AsyncIterator[StandIn]:
    """Serve ``routes`` (``chat``, ``models``) on 127.0.0.1; a list answers in turn."""
    paths = {"chat": "/v1/chat/completions", "models": "/v1/models"}
    queues = {paths[k]: (v if isinstance(v, list) else [v]) for k, v in routes.items()}
    state = StandIn(url="")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            line, *rest = head.decode().split("\r\n")
            method, path, _ = line.split(" ", 2)
            headers = {k.lower(): v.strip() for k, _, v in
                       (h.partition(":") for h in rest if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            req = Request(method, path, headers, body, writer)
            state.hits.append(req)
            handlers = queues.get(path)
            if not handlers:
                writer.write(_reply(404, {"error": {"message": "File Not Found"}}))
            else:
                handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
                await handler(req)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            state.disconnected.set()
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/v1"
    async with server:
        yield state
        server.close()


def backend(url: str, key: str | None = KEY, **kw: Any) -> OpenAICompatBackend:
    kw.setdefault("backoff", 0.01)
    return OpenAICompatBackend(url, "qwen3", key, **kw)


async def fails(handler: Handler | list[Handler], **kw: Any) -> tuple[BackendError, StandIn]:
    models = kw.pop("models", None)
    routes: dict[str, Handler | list[Handler]] = {"chat": handler}
    if models is not None:
        routes["models"] = models
    async with stand_in(**routes) as srv, backend(srv.url, **kw) as b:
        with pytest.raises(BackendError) as info:
            await collect(b)
        return info.value, srv


def test_stand_in_happy_path_and_request_shape() -> None:
    async def go() -> tuple[list[Event], Request]:
        async with stand_in(chat=OK) as srv, backend(srv.url) as b:
            events = await collect(b, GenerateOptions(max_tokens=5, seed=3))
            return events, srv.hits[0]

    events, req = run(go())
    assert events == [TextDelta("Hel"), TextDelta("lo"), Usage(3, 2), Finish("stop")]
    body = req.json()
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert body["model"] == "qwen3" and body["stream"] is True
    assert body["max_tokens"] == 5 and body["seed"] == 3
    assert body["messages"] == [{"role": "user", "content": "hi"}]


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_connection_refused_retries_then_raises() -> None:
    from qwenapp.testing.llama_server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    transport = CountingTransport()

    async def go() -> BackendError:
        async with httpx.AsyncClient(transport=transport) as client:
            b = backend(url, max_retries=2, backoff=0.01, client=client)
            with pytest.raises(BackendError) as info:
                await collect(b)
            return info.value

    start = time.monotonic()
    err = run(go())
    assert transport.calls == 3  # the first try and max_retries=2 retries
    assert time.monotonic() - start < 3
    assert f"cannot reach the model server at {url}" in err.message
    assert "running" in err.hint and err.retryable


def test_401_and_missing_key() -> None:
    err, srv = run(fails(error(401, "Invalid API Key")))
    assert err.status == 401 and "rejected the API key" in err.message
    assert "Invalid API Key" in err.message and len(srv.hits) == 1
    err, _ = run(fails(error(401, "Invalid API Key"), key=None))
    assert "without an API key" in err.message and "QWENAPP_API_KEY" in err.hint


def test_404_unknown_model_lists_served_models() -> None:
    listing = status(200, {"object": "list", "data": [{"id": "Qwen/Qwen3-8B"}]})
    err, _ = run(fails(error(404, "The model `qwen3` does not exist."), models=listing))
    assert err.status == 404
    assert "model 'qwen3' not found" in err.message
    assert "Qwen/Qwen3-8B" in err.hint


def test_404_wrong_path_says_check_v1() -> None:
    err, _ = run(fails(error(404, "File Not Found"), models=error(404, "File Not Found")))
    assert err.status == 404 and "/chat/completions" in err.message
    assert "/v1" in err.hint


def test_429_reports_retry_after_without_retrying() -> None:
    err, srv = run(fails(error(429, "slow down", {"Retry-After": "7"})))
    assert err.status == 429 and err.retryable
    assert "rate limiting" in err.message and "retry after 7 s" in err.message
    assert len(srv.hits) == 1


def test_500_is_reported_not_retried() -> None:
    err, srv = run(fails(error(500, "CUDA out of memory")))
    assert err.status == 500 and "CUDA out of memory" in err.message
    assert not err.retryable and len(srv.hits) == 1


def test_503_is_retried_before_streaming_starts() -> None:
    async def go() -> tuple[list[Event], int]:
        async with stand_in(chat=[error(503, "loading"), error(502, "bad gw"), OK]) as srv, \
                backend(srv.url, max_retries=3) as b:
            return await collect(b), len(srv.hits)

    events, hits = run(go())
    assert events[-1] == Finish("stop") and hits == 3


def test_503_gives_up_after_max_retries() -> None:
    err, srv = run(fails(error(503, "loading model"), max_retries=1))
    assert err.status == 503 and err.retryable and len(srv.hits) == 2


def test_400_bad_request_and_context_overflow() -> None:
    err, _ = run(fails(error(400, "'temperature' must be >= 0")))
    assert isinstance(err, BadRequestError) and not isinstance(err, ContextOverflowError)
    assert "'temperature' must be >= 0" in err.message and err.status == 400
    vllm = ("This model's maximum context length is 4096 tokens. However, you requested "
            "5000 tokens.")
    llama = "request (9018 tokens) exceeds the available context size (1024 tokens)"
    for message in (vllm, llama):
        err, _ = run(fails(error(400, message)))
        assert isinstance(err, ContextOverflowError), message
        assert message[:30] in err.message


def test_stream_that_stops_midway_is_an_error_and_not_retried() -> None:
    async def go(handler: Handler) -> tuple[list[Event], BackendError, int]:
        seen: list[Event] = []
        async with stand_in(chat=handler) as srv, backend(srv.url) as b:
            with pytest.raises(BackendError) as info:
                async for event in b.stream(HI, GenerateOptions()):
                    seen.append(event)
            return seen, info.value, len(srv.hits)

    # A clean close before any finish_reason or [DONE].
    seen, err, hits = run(go(sse(chunk("partial"))))
    assert seen == [TextDelta("partial")] and hits == 1
    assert "stopped before the answer was finished" in err.message

    # A chunked body cut off in the middle of a chunk.
    async def cut(req: Request) -> None:
        data = chunk("partial").encode()
        req.writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
        req.writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        req.writer.write(b"400\r\ndata: {\"cho")

    seen, err, hits = run(go(cut))
    assert seen == [TextDelta("partial")] and hits == 1
    assert "stopped before the answer was finished" in err.message


def test_malformed_chunk_is_an_error() -> None:
    err, _ = run(fails(sse(chunk("ok"), "data: {not json\n\n", DONE)))
    assert "malformed" in err.message and "{not json" in err.message
    err, _ = run(fails(sse('data: ["a list"]\n\n', DONE)))
    assert "malformed" in err.message


def test_error_chunk_mid_stream_is_an_error() -> None:
    err, _ = run(fails(sse(chunk("a"), 'data: {"error": {"message": "slot crashed"}}\n\n')))
    assert "slot crashed" in err.message


@pytest.mark.parametrize("handler", [
    sse(chunk(reasoning="Let me "), chunk(reasoning="think."), chunk("Answer."),
        chunk(finish="stop"), DONE),
    sse(chunk("<thi"), chunk("nk>Let me "), chunk("think.</th"), chunk("ink>\n\nAnswer."),
        chunk(finish="stop"), DONE),
], ids=["reasoning_content", "think_tags"])
def test_reasoning_never_becomes_text(handler: Handler) -> None:
    async def go() -> list[Event]:
        async with stand_in(chat=handler) as srv, backend(srv.url) as b:
            return await collect(b, GenerateOptions(think=True))

    events = run(go())
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert text == "Answer."
    assert reasoning == "Let me think."
    assert events[-1] == Finish("stop")


def test_sse_framing_crlf_comments_multiline_and_done() -> None:
    whole = json.dumps({"choices": [{"index": 0, "delta": {"content": "x"},
                                     "finish_reason": None}]})
    split_at = whole.index('"delta"')
    body = (": keep-alive\r\n\r\n"
            "event: message\r\nid: 1\r\n"
            f"data: {whole[:split_at]}\r\ndata: {whole[split_at:]}\r\n\r\n"
            f"data:{chunk(finish='stop')[6:].rstrip()}\r\n\r\n"
            "retry: 100\r\n\r\n"
            "data: [DONE]\r\n\r\n"
            "data: {this is after done and never read}\r\n\r\n")
    err_free = run(_collect_handler(sse(body)))
    assert err_free == [TextDelta("x"), Finish("stop")]


async def _collect_handler(handler: Handler) -> list[Event]:
    async with stand_in(chat=handler) as srv, backend(srv.url) as b:
        return await collect(b)


def test_iter_sse_data_unit() -> None:
    async def lines() -> AsyncIterator[str]:
        for line in ["data: a", "data: b", "", ":comment", "", "data: c", "", "data: [DONE]",
                     "", "data: d", ""]:
            yield line

    async def go() -> list[str]:
        return [d async for d in iter_sse_data(lines())]

    assert run(go()) == ["a\nb", "c"]


def test_plain_json_reply_to_a_stream_request_is_accepted() -> None:
    reply = {"choices": [{"index": 0, "finish_reason": "stop",
                          "message": {"role": "assistant", "content": "whole answer"}}],
             "usage": {"prompt_tokens": 4, "completion_tokens": 2}}
    events = run(_collect_handler(status(200, reply)))
    assert events == [TextDelta("whole answer"), Usage(4, 2), Finish("stop")]


def test_read_timeout_is_a_clear_error() -> None:
    async def silent(req: Request) -> None:
        req.writer.write(SSE_HEAD)
        await req.writer.drain()
        await asyncio.sleep(5)

    err, _ = run(fails(silent, timeout=0.3))
    assert "sent nothing for 0.3 s" in err.message and "timeout" in err.hint


def _endless(srv_events: list[str]) -> Handler:
    async def handle(req: Request) -> None:
        req.writer.write(SSE_HEAD)
        for _ in range(500):
            req.writer.write(chunk("tok").encode())
            await req.writer.drain()
            await asyncio.sleep(0.01)
        srv_events.append("finished")  # only if nobody hung up

    return handle


def test_closing_the_stream_hangs_up_on_the_server() -> None:
    finished: list[str] = []

    async def go() -> StandIn:
        async with stand_in(chat=_endless(finished)) as srv, backend(srv.url) as b:
            stream = b.stream(HI, GenerateOptions())
            got = [await stream.__anext__(), await stream.__anext__()]
            assert got == [TextDelta("tok"), TextDelta("tok")]
            await stream.aclose()  # type: ignore[attr-defined]
            await asyncio.wait_for(srv.disconnected.wait(), 3)
            return srv

    run(go())
    assert not finished


def test_cancelling_the_task_hangs_up_on_the_server() -> None:
    finished: list[str] = []

    async def go() -> None:
        async with stand_in(chat=_endless(finished)) as srv, backend(srv.url) as b:
            first = asyncio.Event()

            async def consume() -> None:
                async for _ in b.stream(HI, GenerateOptions()):
                    first.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(first.wait(), 3)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.wait_for(srv.disconnected.wait(), 3)

    run(go())
    assert not finished


# ---------------------------------------------------------------------------
# Providers are data
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("https://dashscope.aliyuncs.com/compatible-mode/v1", "dashscope"),
    ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dashscope"),
    ("http://localhost:11434/v1", "ollama"),
    ("http://localhost:8000/v1", "openai"),
    ("http://gpu-box:8080/v1", "openai"),
])
def test_detect_provider(url: str, expected: str) -> None:
    assert detect_provider(url).name == expected


@pytest.mark.parametrize(("provider", "think", "fields"), [
    ("openai", False, {"chat_template_kwargs": {"enable_thinking": False},
                       "enable_thinking": False}),
    ("vllm", True, {"chat_template_kwargs": {"enable_thinking": True}}),
    ("dashscope", True, {"enable_thinking": True}),
    ("ollama", False, {"reasoning_effort": "none"}),
    ("ollama", True, {}),
])
def test_thinking_switch_is_spelled_per_provider(provider: str, think: bool,
                                                 fields: dict[str, Any]) -> None:
    async def go() -> dict[str, Any]:
        async with stand_in(chat=OK) as srv, backend(srv.url, provider=provider) as b:
            await collect(b, GenerateOptions(think=think))
            body: dict[str, Any] = srv.hits[0].json()
            return body

    body = run(go())
    switch_keys = {"chat_template_kwargs", "enable_thinking", "reasoning_effort"}
    assert {k: v for k, v in body.items() if k in switch_keys} == fields
    assert set(PROVIDERS) >= {"openai", "vllm", "sglang", "llama.cpp", "dashscope", "ollama"}


def test_no_thinking_switch_for_models_without_thinking() -> None:
    async def go() -> dict[str, Any]:
        async with stand_in(chat=OK) as srv, backend(srv.url, thinking=False) as b:
            await collect(b, GenerateOptions(think=True))
            body: dict[str, Any] = srv.hits[0].json()
            return body

    body = run(go())
    assert "chat_template_kwargs" not in body and "enable_thinking" not in body


def test_bad_url_and_unknown_provider_are_input_errors() -> None:
    from qwenapp.errors import InputError

    with pytest.raises(InputError):
        OpenAICompatBackend("localhost:8000/v1", "m")
    with pytest.raises(InputError, match="unknown provider"):
        OpenAICompatBackend("http://localhost:8000/v1", "m", provider="nope")


def test_backend_protocol_and_pool_reuse() -> None:
    from qwenapp.models import Backend

    async def go() -> tuple[int, bool]:
        async with stand_in(chat=OK) as srv:
            b = backend(srv.url, context_length=4096)
            assert isinstance(b, Backend)
            assert b.name == "qwen3" and b.context_length == 4096 and b.supports_thinking
            await collect(b)
            client = b._slot.client
            await collect(b)
            same = b._slot.client is client
            await b.aclose()
            return len(srv.hits), same and b._slot.client is None

    hits, reused = run(go())
    assert hits == 2 and reused


def test_redirect_is_reported_with_its_target() -> None:
    err, _ = run(fails(status(308, b"", {"Location": "https://example.test/v1/chat/completions"})))
    assert err.status == 308 and "https://example.test/v1/chat/completions" in err.message


def test_injected_client_is_left_open() -> None:
    async def go() -> bool:
        async with stand_in(chat=OK) as srv, httpx.AsyncClient() as client:
            b = backend(srv.url, client=client)
            await collect(b)
            await b.aclose()
            await collect(b)  # still usable: the backend did not close it
            return client.is_closed

    assert run(go()) is False
