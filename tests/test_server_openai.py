"""The official ``openai`` client against a live ``qwenapp serve`` on 127.0.0.1.

The server runs the real console script with the shipped scripted model,
so everything between the client and the model is the production path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from conftest import qwenapp_cmd
from qwenapp.server.testing import ServeProcess, serve_process

SCRIPT = {
    "rules": [
        # the tool loop: the second request holds the tool's result, so its rule comes first
        {"contains": "7006652", "reply": "1234 × 5678 = 7,006,652."},
        {"contains": "multiply", "reply": {"tool_calls": [
            {"name": "calculator", "arguments": {"expression": "1234*5678"}}]}},
        {"contains": "clock and sum", "reply": {"content": "Two things at once.", "tool_calls": [
            {"name": "current_time", "arguments": {}},
            {"name": "calculator", "arguments": {"expression": "1+1"}}]}},
        {"contains": "written call", "reply":
            '{"name": "calculator", "arguments": {"expression": "9*9"}}'},
        {"contains": "sloppy call", "reply": {"tool_calls": [
            {"name": "calculator", "arguments": "{'expression': '2+3',"}]}},
        {"contains": "weather", "reply": {"city": "Paris", "temperature": 21}},
        {"contains": "2+2", "reply": "<think>two and two make four</think>The answer is 4."},
        {"contains": "long answer", "reply": "word " * 200},
    ],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("home")
    script = home / "script.json"
    script.write_text(json.dumps(SCRIPT), encoding="utf-8")
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1")
    running = serve_process(qwenapp_cmd(), env, args=["-m", f"scripted:{script}",
                                                      "--log-level", "warning"])
    yield running
    running.stop()


@pytest.fixture
def client(server: ServeProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0) as c:
        yield c


def test_models_lists_the_served_model(client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models.data] == ["scripted"]
    assert models.data[0].owned_by == "qwenapp"


def test_chat_completion_whole(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="scripted", messages=[{"role": "system", "content": "be brief"},
                                    {"role": "user", "content": "hello there"}])
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "You said: hello there"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_completion_streamed_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "stream me"}], stream=True,
        stream_options={"include_usage": True})
    pieces: list[str] = []
    finish: list[str | None] = []
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                pieces.append(choice.delta.content)
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert "".join(pieces) == "You said: stream me"
    assert len(pieces) > 1  # really streamed, in chunks
    assert finish == ["stop"]
    assert usage is not None and usage.completion_tokens == len(pieces)


def test_json_schema_response_format(client: openai.OpenAI) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"},
                                               "temperature": {"type": "integer"}},
              "required": ["city", "temperature"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "the weather in Paris?"}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "weather", "schema": schema, "strict": True}})
    data = json.loads(r.choices[0].message.content or "")
    assert data == {"city": "Paris", "temperature": 21}


def test_json_schema_reaches_the_model_as_a_constraint(client: openai.OpenAI) -> None:
    # No rule matches: the scripted model answers the schema's minimal instance,
    # which it can only do if the schema arrived in GenerateOptions.json_schema.
    schema: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                              "required": ["ok"]}
    r = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "anything"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert json.loads(r.choices[0].message.content or "") == {"ok": False}


def test_thinking_comes_back_as_reasoning_content(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "what is 2+2?"}],
        extra_body={"chat_template_kwargs": {"enable_thinking": True}})
    msg: Any = r.choices[0].message
    assert msg.content == "The answer is 4."
    assert msg.reasoning_content == "two and two make four"
    plain = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "what is 2+2?"}])
    assert plain.choices[0].message.content == "The answer is 4."
    assert getattr(plain.choices[0].message, "reasoning_content", None) is None


def test_max_tokens_gives_finish_reason_length(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": "a long answer please"}],
        max_tokens=3)
    assert r.choices[0].finish_reason == "length"


def test_unknown_model_is_a_404_with_openai_error_shape(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o",
                                       messages=[{"role": "user", "content": "hi"}])
    body: Any = e.value.body
    assert body["code"] == "model_not_found"
    assert "scripted" in body["hint"]


def test_bad_requests_are_400s(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="scripted", messages=[])
    assert e.value.status_code == 400


def test_embeddings_unsupported_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model="scripted", input=["hello"])
    body: Any = e.value.body
    assert body["code"] == "embeddings_not_supported"
    assert "--embed" in body["hint"]


def test_raw_sse_framing_ends_with_done(server: ServeProcess) -> None:
    with httpx.stream("POST", server.url + "/v1/chat/completions",
                      headers={"Authorization": "Bearer x"},
                      json={"model": "scripted", "stream": True,
                            "messages": [{"role": "user", "content": "hi"}]}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln]
    assert lines[-1] == "data: [DONE]"
    assert all(ln.startswith("data: ") for ln in lines)


def test_nothing_is_saved_by_the_openai_api(server: ServeProcess, tmp_path: Path) -> None:
    r = httpx.get(server.url + "/api/conversations")
    assert r.status_code == 200
    assert r.json()["conversations"] == []


class _Embedder:
    """A deterministic embedder: the vector counts a few letters."""

    name = "tiny-embed"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def embed(self, texts: Any) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(t.count(c)) for c in "aeiou"] for t in texts]


def test_embeddings_with_a_configured_embedder(tmp_path: Path) -> None:
    from qwenapp.models.scripted import ScriptedModel
    from qwenapp.server import create_app
    from qwenapp.server.testing import live_server
    from qwenapp.settings import load_settings

    embedder = _Embedder()
    app = create_app(load_settings({"QWENAPP_HOME": str(tmp_path)}), [ScriptedModel()],
                     embedder=embedder)
    with live_server(app) as url, openai.OpenAI(base_url=url + "/v1", api_key="x",
                                                max_retries=0) as client:
        assert "tiny-embed" in [m.id for m in client.models.list().data]
        # the client asks for base64 by default and decodes it
        r = client.embeddings.create(model="tiny-embed", input=["banana", "kiwi"])
        assert [d.embedding for d in r.data] == [[3.0, 0.0, 0.0, 0.0, 0.0],
                                                 [0.0, 0.0, 2.0, 0.0, 0.0]]
        assert r.model == "tiny-embed" and r.usage.total_tokens > 0
        f = client.embeddings.create(model="tiny-embed", input="aaa", encoding_format="float")
        assert f.data[0].embedding == [3.0, 0.0, 0.0, 0.0, 0.0]
    assert embedder.calls == [["banana", "kiwi"], ["aaa"]]


# -- tools ------------------------------------------------------------------------------

CALCULATOR: Any = {"type": "function", "function": {
    "name": "calculator", "description": "Evaluate arithmetic exactly.",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}},
                   "required": ["expression"]}}}
CLOCK: Any = {"type": "function", "function": {
    "name": "current_time", "description": "The current date and time.",
    "parameters": {"type": "object", "properties": {}}}}


def run_tool(name: str, arguments: str) -> str:
    """The client's own tools, as an application would run them."""
    args = json.loads(arguments)
    if name == "calculator":
        a, b = args["expression"].split("*")
        return str(int(a) * int(b))
    return "2026-12-02T10:00:00Z"


def test_official_client_runs_a_multi_step_tool_loop(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "Please multiply 1234 by 5678."}]
    first = client.chat.completions.create(model="scripted", messages=messages,
                                           tools=[CALCULATOR, CLOCK])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    fn: Any = call.function
    assert fn.name == "calculator" and json.loads(fn.arguments) == {"expression": "1234*5678"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id,
                     "content": run_tool(fn.name, fn.arguments)})
    final = client.chat.completions.create(model="scripted", messages=messages,
                                           tools=[CALCULATOR, CLOCK])
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "1234 × 5678 = 7,006,652."
    assert not final.choices[0].message.tool_calls


def test_streamed_tool_calls_are_openai_deltas(client: openai.OpenAI) -> None:
    """The SDK's own stream accumulator rebuilds the calls: the delta shape is OpenAI's."""
    with client.chat.completions.stream(
            model="scripted", tools=[CALCULATOR, CLOCK],
            messages=[{"role": "user", "content": "the clock and sum please"}]) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Two things at once."
    calls: Any = choice.message.tool_calls
    assert [c.function.name for c in calls] == ["current_time", "calculator"]
    assert [json.loads(c.function.arguments) for c in calls] == [{}, {"expression": "1+1"}]
    assert len({c.id for c in calls}) == 2


def test_raw_tool_call_chunks(server: ServeProcess) -> None:
    with httpx.stream("POST", server.url + "/v1/chat/completions",
                      headers={"Authorization": "Bearer x"},
                      json={"model": "scripted", "stream": True, "tools": [CALCULATOR],
                            "messages": [{"role": "user", "content": "multiply them"}]}) as r:
        chunks = [json.loads(ln[6:]) for ln in r.iter_lines()
                  if ln.startswith("data: {")]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    with_calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    head, body = with_calls
    assert head["index"] == 0 and head["type"] == "function" and head["id"].startswith("call_")
    assert head["function"] == {"name": "calculator", "arguments": ""}
    assert body == {"index": 0, "function": {"arguments": '{"expression": "1234*5678"}'}}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_a_call_written_as_text_becomes_a_tool_call(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="scripted", tools=[CALCULATOR],
        messages=[{"role": "user", "content": "a written call"}])
    calls: Any = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls"
    assert json.loads(calls[0].function.arguments) == {"expression": "9*9"}
    # tool_choice none: the tools are not offered, so the same answer stays text
    plain = client.chat.completions.create(
        model="scripted", tools=[CALCULATOR], tool_choice="none",
        messages=[{"role": "user", "content": "a written call"}])
    assert plain.choices[0].finish_reason == "stop" and not plain.choices[0].message.tool_calls
    assert json.loads(plain.choices[0].message.content or "")["name"] == "calculator"


def test_sloppy_arguments_arrive_repaired(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(
        model="scripted", tools=[CALCULATOR],
        messages=[{"role": "user", "content": "a sloppy call"}])
    calls: Any = r.choices[0].message.tool_calls
    assert json.loads(calls[0].function.arguments) == {"expression": "2+3"}


@pytest.mark.parametrize("choice", ["required", {"type": "function",
                                                 "function": {"name": "current_time"}}])
def test_forced_tool_choice_reaches_the_model(client: openai.OpenAI, choice: Any) -> None:
    # No rule matches: the scripted model answers the forced call schema's minimal instance,
    # which it can only do if tool_choice arrived as a constraint.
    r = client.chat.completions.create(
        model="scripted", tools=[CLOCK, CALCULATOR], tool_choice=choice,
        parallel_tool_calls=False, messages=[{"role": "user", "content": "anything"}])
    calls: Any = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in calls] == ["current_time"]


@pytest.mark.parametrize(("body", "code"), [
    ({"messages": [{"role": "user", "content": "hi"},
                   {"role": "tool", "tool_call_id": "call_nope", "content": "4"}]},
     "unknown_tool_call_id"),
    ({"messages": [{"role": "tool", "content": "4"}]}, "invalid_tool_message"),
    ({"messages": [{"role": "user", "content": "hi"}], "tools": [CALCULATOR],
      "tool_choice": {"type": "function", "function": {"name": "missing"}}}, "invalid"),
    ({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"}, "invalid"),
    ({"messages": [{"role": "user", "content": "hi"}], "tools": [CALCULATOR, CALCULATOR]},
     "invalid"),
    ({"messages": [{"role": "user", "content": "hi"},
                   {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                    "function": {"name": "calculator", "arguments": "not json"}}]}]},
     "invalid"),
], ids=["unknown-id", "no-id", "unknown-named", "required-without-tools", "duplicate",
        "bad-history-arguments"])
def test_bad_tool_requests_are_clear_400s(server: ServeProcess, body: dict[str, Any],
                                          code: str) -> None:
    r = httpx.post(server.url + "/v1/chat/completions", headers={"Authorization": "Bearer x"},
                   json={"model": "scripted", **body})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    if code == "unknown_tool_call_id":
        assert "call_nope" in r.json()["error"]["message"]


def test_langchain_bind_tools_runs_a_tool_loop(server: ServeProcess) -> None:
    """An agent framework driving the loop: LangChain's ChatOpenAI with bound tools."""
    lc_openai = pytest.importorskip("langchain_openai")
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def calculator(expression: str) -> str:
        """Evaluate arithmetic exactly."""
        a, b = expression.split("*")
        return str(int(a) * int(b))

    llm = lc_openai.ChatOpenAI(base_url=server.url + "/v1", api_key="x", model="scripted",
                               max_retries=0)
    bound = llm.bind_tools([calculator])
    history: list[Any] = [HumanMessage("multiply 1234 by 5678")]
    for _ in range(3):
        reply = bound.invoke(history)
        history.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            history.append(ToolMessage(calculator.invoke(call["args"]),
                                       tool_call_id=call["id"]))
    assert [type(m).__name__ for m in history] == ["HumanMessage", "AIMessage", "ToolMessage",
                                                   "AIMessage"]
    assert history[1].tool_calls[0]["args"] == {"expression": "1234*5678"}
    assert history[2].content == "7006652"
    assert history[-1].content == "1234 × 5678 = 7,006,652."
