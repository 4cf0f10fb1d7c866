"""Tools in the server's chat (``POST /api/conversations/{id}/messages``): the SSE events of a
tool turn, the steps saved with the answer, asking before a call with side effects (allow and
refuse), jobs started from the chat, MCP servers from the config, and isolation between users."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import Reply, ScriptedModel, ScriptedToolCalls
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import SseEvent, chat, live_server, login, parse_sse
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
MCP_SERVER = """
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

app = MCPServer("demo")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    \"\"\"Say the text back.\"\"\"
    return f"echo: {text}"

app.run()
"""


def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
    """Calls a tool for the questions below, and answers from the tool's result."""
    last = messages[-1]
    if last.role == "tool":
        return f"From the tool: {last.content[:120]}"
    if last.role != "user" or not options.tools:
        return f"You said: {last.content}"
    text = last.content
    if "1234" in text:
        return ScriptedToolCalls((("calculator", {"expression": "1234*5678"}),))
    if "slides about tea" in text:
        return ScriptedToolCalls((("make_deck", {"topic": "Tea at work", "slides": 3}),))
    if "my notes" in text:
        return ScriptedToolCalls((("library_search", {"query": "zanzibar"}),))
    if "report on zanzibar" in text:
        return ScriptedToolCalls((("write_report", {"question": "What is the zanzibar plan?"}),))
    if "read the admin page" in text:
        return ScriptedToolCalls((("fetch_url", {"url": "http://127.0.0.1:9/admin"}),))
    if "echo tool" in text:
        return ScriptedToolCalls((("demo_echo", {"text": "hello mcp"}),))
    return f"You said: {text}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    conn = open_db(home / "qwenapp.db")
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    server_py = home / "demo_mcp.py"
    server_py.write_text(MCP_SERVER, encoding="utf-8")
    (home / "config.toml").write_text(
        '[tools]\nenabled = ["calculator", "library_search", "make_deck", "write_report", '
        '"fetch_url"]\n'
        f'[mcp.servers.demo]\ncommand = "{sys.executable}"\nargs = ["{server_py}"]\n',
        encoding="utf-8")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(host="0.0.0.0", limits=ServerLimits(requests_per_minute=10_000,
                                                              burst=10_000),
                          report_pdf=False, deck_previews=False)
    model = ScriptedModel(responder=respond)
    with live_server(create_app(settings, [model], config, hasher=FAST)) as url:
        alice = httpx.Client(base_url=url, timeout=60)
        bob = httpx.Client(base_url=url, timeout=60)
        login(alice, "alice", "alice-password")
        login(bob, "bob", "bob-password")
        yield {"url": url, "alice": alice, "bob": bob, "model": model}
        alice.close()
        bob.close()


def _new(client: httpx.Client) -> str:
    cid: str = client.post("/api/conversations", json={}).json()["id"]
    return cid


def _names(events: list[SseEvent]) -> list[str]:
    return [e.event for e in events]


def test_the_catalogue_lists_builtin_and_mcp_tools(world: dict[str, Any]) -> None:
    data = world["alice"].get("/api/tools").json()
    tools = {t["name"]: t for t in data["tools"]}
    assert list(tools)[:4] == ["calculator", "library_search", "make_deck", "write_report"]
    assert tools["make_deck"]["side_effects"] and not tools["calculator"]["side_effects"]
    assert tools["demo_echo"]["source"] == "mcp:demo"
    assert data["problems"] == []


def test_a_tool_turn_streams_its_steps_and_saves_them(world: dict[str, Any]) -> None:
    alice = world["alice"]
    cid = _new(alice)
    events = chat(alice, cid, "What is 1234 × 5678?")
    names = _names(events)
    assert names.index("tool_delta") < names.index("tool_call") < names.index("tool_result") \
        < names.index("text") < names.index("saved")
    call = next(e.data for e in events if e.event == "tool_call")
    assert call["name"] == "calculator" and call["arguments"] == {"expression": "1234*5678"}
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["id"] == call["id"] and not result["error"]
    assert "7006652" in result["content"]
    text = "".join(e.data["text"] for e in events if e.event == "text")
    assert "7006652" in text
    saved = alice.get(f"/api/conversations/{cid}").json()["messages"][-1]
    assert saved["role"] == "assistant" and saved["content"] == text
    [step] = saved["tool_steps"]
    assert step["name"] == "calculator" and step["status"] == "done"
    assert step["arguments"] == {"expression": "1234*5678"} and "7006652" in step["content"]


def test_tools_none_or_unknown(world: dict[str, Any]) -> None:
    alice, model = world["alice"], world["model"]
    cid = _new(alice)
    events = chat(alice, cid, "What is 1234 × 5678?", tools=[])
    assert "tool_call" not in _names(events)
    assert model.calls[-1].options.tools == ()
    r = alice.post(f"/api/conversations/{cid}/messages",
                   json={"content": "hi", "tools": ["rm_rf"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_tool"
    chat(alice, cid, "What is 1234 × 5678?", tools=["calculator"])
    assert [t.name for t in model.calls[-1].options.tools] == ["calculator"]


def _turn_answering(client: httpx.Client, cid: str, content: str, allow: bool,
                    answerer: httpx.Client | None = None) -> tuple[list[SseEvent], int]:
    """A turn whose tool_confirm is answered (by ``answerer``, default the same user)."""
    events: list[SseEvent] = []
    status: list[int] = []
    with client.stream("POST", f"/api/conversations/{cid}/messages",
                       json={"content": content}) as r:
        assert r.status_code == 200
        for ev in parse_sse(r.iter_lines()):
            events.append(ev)
            if ev.event == "tool_confirm":
                def answer(token: str = ev.data["token"]) -> None:
                    who = answerer or client
                    status.append(who.post(f"/api/tools/approvals/{token}",
                                           json={"allow": allow}).status_code)
                    if answerer is not None:  # the intruder failed: the owner says no
                        client.post(f"/api/tools/approvals/{token}", json={"allow": False})
                threading.Thread(target=answer).start()
    return events, status[0] if status else 0


def test_a_side_effect_asks_first_and_allowed_starts_a_job(world: dict[str, Any]) -> None:
    alice = world["alice"]
    cid = _new(alice)
    events, status = _turn_answering(alice, cid, "make slides about tea", allow=True)
    assert status == 204
    names = _names(events)
    assert names.index("tool_confirm") < names.index("tool_call") < names.index("tool_result")
    ask = next(e.data for e in events if e.event == "tool_confirm")
    assert ask["name"] == "make_deck" and ask["arguments"]["topic"] == "Tea at work"
    result = next(e.data for e in events if e.event == "tool_result")
    assert not result["error"] and result["job"]["kind"] == "deck"
    job = alice.get(f"/api/jobs/{result['job']['id']}").json()
    assert job["conversation_id"] == cid and job["title"].startswith("Tea at work")
    detail = alice.get(f"/api/conversations/{cid}").json()
    answer = detail["messages"][-1]
    assert job["after_message_id"] == answer["id"]  # its card shows after the answer
    assert [j["id"] for j in detail["jobs"]] == [job["id"]]
    assert answer["tool_steps"][0]["job"]["id"] == job["id"]
    alice.post(f"/api/jobs/{job['id']}/cancel")


def test_a_refused_side_effect_runs_nothing(world: dict[str, Any]) -> None:
    alice = world["alice"]
    before = len(alice.get("/api/jobs").json()["jobs"])
    cid = _new(alice)
    events, status = _turn_answering(alice, cid, "make slides about tea", allow=False)
    assert status == 204
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["error"] and "did not allow" in result["content"]
    assert "tool_call" in _names(events)  # the step is shown, refused
    assert len(alice.get("/api/jobs").json()["jobs"]) == before
    step = alice.get(f"/api/conversations/{cid}").json()["messages"][-1]["tool_steps"][0]
    assert step["error"] and step["status"] == "done"


def test_an_mcp_tool_from_the_config_answers_in_the_chat(world: dict[str, Any]) -> None:
    alice = world["alice"]
    cid = _new(alice)
    events = chat(alice, cid, "use the echo tool", tools=["demo_echo"])
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["name"] == "demo_echo" and not result["error"]
    assert "hello mcp" in result["content"]


def test_isolation_of_tool_steps_questions_and_documents(world: dict[str, Any]) -> None:
    alice, bob = world["alice"], world["bob"]
    doc = alice.post("/api/documents", files={"file": (
        "plans.md", b"# Plans\n\nThe zanzibar plan is Alice's secret.\n")}).json()
    cid = _new(alice)
    events = chat(alice, cid, "what do my notes say?")
    mine = next(e.data for e in events if e.event == "tool_result")
    assert "zanzibar plan" in mine["content"]
    # Bob can neither read Alice's conversation nor its steps...
    assert bob.get(f"/api/conversations/{cid}").status_code == 404
    assert all(cid not in str(c) for c in bob.get("/api/conversations").json()["conversations"])
    # ...nor does his own library search reach her document
    bob_cid = _new(bob)
    theirs = next(e.data for e in chat(bob, bob_cid, "what do my notes say?")
                  if e.event == "tool_result")
    assert "zanzibar plan" not in theirs["content"] and "no passage" in theirs["content"]
    # ...nor answer the question her turn is waiting on
    acid = _new(alice)
    events, status = _turn_answering(alice, acid, "make slides about tea", allow=True,
                                     answerer=bob)
    assert status == 404
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["error"] and "did not allow" in result["content"]
    assert alice.delete(f"/api/documents/{doc['id']}").status_code == 204


def test_write_report_starts_a_report_job_of_the_callers_documents(
        world: dict[str, Any]) -> None:
    alice, bob = world["alice"], world["bob"]
    bob_cid = _new(bob)
    events, _ = _turn_answering(bob, bob_cid, "write a report on zanzibar", allow=True)
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["error"] and "no documents" in result["content"]  # asked, then refused
    assert bob.get("/api/jobs").json()["jobs"] == []
    doc = alice.post("/api/documents", files={"file": (
        "plans.md", b"# Plans\n\nThe zanzibar plan is to ship in May.\n")}).json()
    cid = _new(alice)
    events, _ = _turn_answering(alice, cid, "write a report on zanzibar", allow=True)
    result = next(e.data for e in events if e.event == "tool_result")
    assert not result["error"] and result["job"]["kind"] == "report", result
    job = alice.get(f"/api/jobs/{result['job']['id']}").json()
    assert job["kind"] == "report" and job["conversation_id"] == cid
    assert job["request"]["question"] == "What is the zanzibar plan?"
    assert bob.get(f"/api/jobs/{job['id']}").status_code == 404
    alice.post(f"/api/jobs/{job['id']}/cancel")
    alice.delete(f"/api/documents/{doc['id']}")


def test_leaving_while_asked_keeps_the_step_and_ends_the_question(
        world: dict[str, Any]) -> None:
    """The page goes away while a call waits for its yes: the answer is saved interrupted,
    with the step it had (asked), and the question can no longer be answered."""
    import time

    alice = world["alice"]
    cid = _new(alice)
    token = ""
    with alice.stream("POST", f"/api/conversations/{cid}/messages",
                      json={"content": "make slides about tea"}) as r:
        for ev in parse_sse(r.iter_lines()):
            if ev.event == "tool_confirm":
                token = ev.data["token"]
                break
    assert token
    deadline = time.monotonic() + 30
    while True:
        last = alice.get(f"/api/conversations/{cid}").json()["messages"][-1]
        if last["status"] != "streaming":
            break
        assert time.monotonic() < deadline, last
        time.sleep(0.05)
    assert last["status"] == "interrupted"
    assert [(s["name"], s["status"]) for s in last["tool_steps"]] == [("make_deck", "asked")]
    assert alice.post(f"/api/tools/approvals/{token}", json={"allow": True}).status_code == 404


def test_an_unanswered_question_is_a_no() -> None:
    import asyncio

    from qwenapp.models.events import ToolCall
    from qwenapp.server.chat_tools import Approvals

    async def go() -> tuple[bool, bool, bool]:
        approvals = Approvals(timeout=0.01)
        token = approvals.ask("alice", ToolCall("c1", "make_deck", {}))
        wrong_user = approvals.answer("bob", token, True)
        answer = await approvals.wait(token)
        late = approvals.answer("alice", token, True)
        return wrong_user, answer, late

    assert asyncio.run(go()) == (False, False, False)


def test_fetch_url_in_the_servers_chat_cannot_reach_its_network(world: dict[str, Any]) -> None:
    """A user's turn cannot make the server fetch loopback or private addresses."""
    alice = world["alice"]
    events = chat(alice, _new(alice), "read the admin page")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["name"] == "fetch_url" and result["error"]
    assert "refusing to fetch" in result["content"]


def test_the_wire_cuts_a_huge_result_and_folds_events_into_steps() -> None:
    from qwenapp.models.events import ToolCall
    from qwenapp.server.wire import RESULT_CHARS, ToolSteps, chat_event
    from qwenapp.tools import ToolConfirm, ToolFinished, ToolNotice, ToolStarted

    call = ToolCall("c1", "make_deck", {"topic": "Tea"})
    name, data = chat_event(ToolFinished("c1", "make_deck", "x" * 10_000_000, False, 0.5,
                                         {"job": {"id": "J", "kind": "deck"}}))
    assert name == "tool_result" and len(data["content"]) < RESULT_CHARS + 100
    assert data["content"].endswith("more characters]") and data["job"]["id"] == "J"
    steps = ToolSteps()
    for ev in (ToolConfirm(call, 1), ToolStarted(call, 1),
               ToolFinished("c1", "make_deck", "ok", False, 0.1), ToolNotice("limit")):
        assert steps.add(ev)
    assert steps.steps == [{"id": "c1", "name": "make_deck", "arguments": {"topic": "Tea"},
                            "status": "done", "content": "ok", "error": False,
                            "seconds": 0.1}, {"notice": "limit"}]
