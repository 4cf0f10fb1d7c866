"""MCP tools for ``/v1`` clients: the official ``openai`` client sends OpenAI's remote-MCP tool
entries (``{"type": "mcp", "server_label": ...}``) to a live server; the server-wide and the
caller's own MCP servers (real processes) are run by the server's bounded tool loop and the
client gets the final answer, whole or streamed. Approval, allowed tools, unknown labels, mixed
tool kinds, ``server_url`` and a failing server each get their plain answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from user_mcp_world import TOKEN, World, world

pytest.importorskip("mcp")
pytestmark = pytest.mark.slow  # real MCP server processes and a live server


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(tmp_path_factory.mktemp("home")) as running:
        alice = running.clients["alice"]
        assert alice.post("/api/tools/mcp", json={
            "name": "mine", "url": running.own_url, "headers": {"X-Token": TOKEN}}
        ).status_code == 201
        assert alice.post("/api/tools/mcp", json={"name": "gone", "url": running.dead_url}
                          ).status_code == 201
        yield running


def _client(w: World, who: str) -> openai.OpenAI:
    secret = w.clients[who].post("/api/keys", json={"name": "sdk"}).json()["secret"]
    return openai.OpenAI(base_url=w.url + "/v1", api_key=secret, max_retries=0)


@pytest.fixture(scope="module")
def alice(w: World) -> Iterator[openai.OpenAI]:
    with _client(w, "alice") as c:
        yield c


@pytest.fixture(scope="module")
def bob(w: World) -> Iterator[openai.OpenAI]:
    with _client(w, "bob") as c:
        yield c


def _ask(client: openai.OpenAI, text: str, *tools: dict[str, Any], **kw: Any) -> Any:
    return client.chat.completions.create(
        model="scripted", messages=[{"role": "user", "content": text}], tools=list(tools),
        **kw)


def _mcp(label: str, **kw: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": label, **kw}


def test_a_server_wide_mcp_server_answers_through_the_loop(alice: openai.OpenAI,
                                                           w: World) -> None:
    r = _ask(alice, "use the echo tool", _mcp("demo"))
    message = r.choices[0].message
    assert message.content == "From the tool: echo: hello mcp"
    assert not message.tool_calls and r.choices[0].finish_reason == "stop"
    assert r.usage is not None and r.usage.completion_tokens > 0
    first = w.model.calls[-2]  # the round that called it
    assert [t.name for t in first.options.tools] == ["demo_echo"]


def test_the_callers_own_server_streamed(alice: openai.OpenAI) -> None:
    stream = _ask(alice, "what is my token?", _mcp("mine", allowed_tools=["token"]),
                  stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"From the tool: token: {TOKEN}"
    assert all(not c.choices or not c.choices[0].delta.tool_calls for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_another_user_cannot_name_someone_elses_server(bob: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        _ask(bob, "what is my token?", _mcp("mine"))
    err = e.value.body
    assert isinstance(err, dict)
    assert err["code"] == "unknown_mcp_server" and err["param"] == "tools.0.server_label"
    # ...while the server-wide one is his too
    assert _ask(bob, "use the echo tool", _mcp("demo")).choices[0].message.content == \
        "From the tool: echo: hello mcp"


def test_side_effects_need_require_approval_never(alice: openai.OpenAI, w: World) -> None:
    r = _ask(alice, "note hello", _mcp("mine"))  # default: "always"
    answer = r.choices[0].message.content or ""
    assert answer.startswith("From the tool: ERROR: mine_write_note failed:")
    assert "needs an approval that nobody can give" in answer
    assert not w.notes.exists()
    r = _ask(alice, "note hello", _mcp("mine", require_approval={
        "never": {"tool_names": ["token"]}}))  # another tool's approval is not this one's
    assert "needs an approval" in (r.choices[0].message.content or "")
    assert not w.notes.exists()
    r = _ask(alice, "note hello", _mcp("mine", require_approval={
        "never": {"tool_names": ["write_note"]}}))
    assert r.choices[0].message.content == "From the tool: written"
    assert w.notes.read_text() == "hello"
    w.notes.unlink()
    r = _ask(alice, "note hello", _mcp("mine", require_approval="never"))
    assert r.choices[0].message.content == "From the tool: written"
    assert w.notes.read_text() == "hello"
    w.notes.unlink()


def test_read_only_tools_run_without_approval(alice: openai.OpenAI) -> None:
    r = _ask(alice, "add 2 and 40", _mcp("mine", require_approval="always"))
    assert r.choices[0].message.content == "From the tool: 42"


def test_allowed_tools_limit_what_the_model_sees(alice: openai.OpenAI, w: World) -> None:
    r = _ask(alice, "add 2 and 40", _mcp("mine", allowed_tools={"tool_names": ["token"]}))
    assert r.choices[0].message.content == "I have no tool called mine_add."
    assert [t.name for t in w.model.calls[-1].options.tools] == ["mine_token"]
    r = _ask(alice, "note hello", _mcp("mine", allowed_tools={"read_only": True},
                                       require_approval="never"))
    assert r.choices[0].message.content == "I have no tool called mine_write_note."
    assert not w.notes.exists()


@pytest.mark.parametrize(("tools", "status", "code", "param"), [
    ([{"type": "function", "function": {"name": "f"}}, _mcp("demo")], 400, "mixed_tools",
     "tools"),
    ([_mcp("nope")], 400, "unknown_mcp_server", "tools.0.server_label"),
    ([_mcp("demo"), _mcp("demo")], 400, "invalid", "tools.1.server_label"),
    ([_mcp("demo", server_url="http://169.254.169.254/")], 400, "unsupported_server_url",
     "tools.0.server_url"),
    ([_mcp("mine", allowed_tools=["rm_rf"])], 400, "unknown_tool", "tools.0.allowed_tools"),
    ([_mcp("gone")], 424, "mcp_server_failed", "tools.0.server_label"),
    ([{"type": "web_search"}], 400, "invalid_request", None),
], ids=["mixed", "unknown-label", "twice", "server-url", "unknown-allowed", "failing",
        "other-type"])
def test_bad_mcp_entries_are_plain_errors(w: World, alice: openai.OpenAI, tools: list[Any],
                                          status: int, code: str, param: str | None) -> None:
    with pytest.raises(openai.APIStatusError) as e:
        _ask(alice, "use the echo tool", *tools)
    assert e.value.status_code == status
    err = e.value.body
    assert isinstance(err, dict) and err["code"] == code, err
    if param is not None:
        assert err["param"] == param


def test_a_named_tool_choice_may_name_an_mcp_tool(alice: openai.OpenAI, w: World) -> None:
    r = _ask(alice, "use the echo tool", _mcp("demo"),
             tool_choice={"type": "function", "function": {"name": "demo_echo"}})
    assert r.choices[0].message.content == "From the tool: echo: hello mcp"
    with pytest.raises(openai.BadRequestError):
        _ask(alice, "hi", _mcp("demo"),
             tool_choice={"type": "function", "function": {"name": "mine_token"}})


def test_raw_stream_is_chat_completion_chunks_then_done(w: World, alice: openai.OpenAI) -> None:
    key = alice.api_key
    with httpx.stream("POST", w.url + "/v1/chat/completions", timeout=60,
                      headers={"Authorization": f"Bearer {key}"},
                      json={"model": "scripted", "stream": True,
                            "messages": [{"role": "user", "content": "use the echo tool"}],
                            "tools": [_mcp("demo")]}) as r:
        assert r.status_code == 200
        lines = [ln for ln in r.iter_lines() if ln.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert all('"object":"chat.completion.chunk"' in ln.replace(" ", "") for ln in lines[:-1])
