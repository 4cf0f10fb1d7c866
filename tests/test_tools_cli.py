"""Tools in chat: the assistant with a tool box, and ``qwenapp chat --tool`` end to end."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from conftest import qwenapp_cmd
from qwenapp.chat import Assistant, ChatResult
from qwenapp.models.scripted import ScriptedModel, ScriptedToolCalls
from qwenapp.store import ConversationStore
from qwenapp.tools import ToolBox, ToolFinished, ToolStarted
from qwenapp.tools.calculator import calculator_tool

SCRIPT = {"rules": [
    {"contains": "7006652", "reply": "1234 × 5678 = 7,006,652."},
    {"contains": "multiply", "reply": {"tool_calls": [
        {"name": "calculator", "arguments": {"expression": "1234*5678"}}]}},
    {"contains": "loop forever", "reply": {"tool_calls": [
        {"name": "calculator", "arguments": {"expression": "1+1"}}]}},
]}


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env=env, input=stdin, text=True,
                          capture_output=True, timeout=120)


def script(tmp_path: Path) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(SCRIPT), encoding="utf-8")
    return f"scripted:{path}"


def test_assistant_runs_tools_and_saves_only_the_answer(conn: sqlite3.Connection) -> None:
    store = ConversationStore(conn)
    model = ScriptedModel([ScriptedToolCalls((("calculator", {"expression": "1234*5678"}),)),
                           "1234 × 5678 = 7,006,652."])
    assistant = Assistant(model, store, tools=ToolBox([calculator_tool()]))

    async def go() -> tuple[ChatResult, list[Any]]:
        result, events = ChatResult(), []
        async for ev in assistant.chat("What is 1234 × 5678?"):
            result.add(ev)
            events.append(ev)
        return result, events

    result, events = asyncio.run(go())
    assert [type(e).__name__ for e in events if isinstance(e, ToolStarted | ToolFinished)] == \
        ["ToolStarted", "ToolFinished"]
    assert result.text == "1234 × 5678 = 7,006,652." and result.status == "complete"
    assert result.tool_calls == [{"id": "call_scripted_0", "name": "calculator",
                                  "arguments": {"expression": "1234*5678"},
                                  "result": "1234*5678 = 7006652 (7,006,652)", "error": False}]
    thread = store.thread(result.conversation_id)
    assert [(m.role, m.content) for m in thread] == [
        ("user", "What is 1234 × 5678?"), ("assistant", "1234 × 5678 = 7,006,652.")]


def test_assistant_without_tools_makes_one_call_as_before(conn: sqlite3.Connection) -> None:
    model = ScriptedModel(["plain"])
    result = asyncio.run(Assistant(model, ConversationStore(conn)).ask("hi"))
    assert result.text == "plain" and len(model.calls) == 1
    assert model.calls[0].options.tools == ()


def test_cli_shows_each_call_and_result_dimmed(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "chat", "please multiply 1234 by 5678", "--model", script(tmp_path),
            "--tool", "calculator")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1234 × 5678 = 7,006,652."  # stdout holds only the answer
    assert '⚙ calculator(expression="1234*5678")' in p.stderr
    assert "→ 1234*5678 = 7006652 (7,006,652)" in p.stderr
    assert "Traceback" not in p.stderr


def test_cli_json_lists_the_tool_calls(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "chat", "multiply please", "--model", script(tmp_path), "--tools", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["content"] == "1234 × 5678 = 7,006,652."
    assert data["tool_calls"][0]["name"] == "calculator"
    assert data["tool_calls"][0]["result"].startswith("1234*5678 = 7006652")


def test_cli_round_limit_from_the_config(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, QWENAPP_TOOLS="calculator", QWENAPP_TOOL_ROUNDS="2")
    p = run(env, "chat", "loop forever", "--model", script(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("⚙ calculator") == 1  # the repeat is refused, not run
    assert "already called calculator" in p.stderr
    assert "repeated a call" in p.stderr


def test_cli_without_tools_is_unchanged(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "chat", "multiply please", "--model", script(tmp_path), "--json")
    data = json.loads(p.stdout)
    assert "tool_calls" not in data and "⚙" not in p.stderr
    # no tools were offered, so the scripted call is not run: the turn just ends
    assert (data["content"], data["finish_reason"]) == ("", "tool_calls")


def test_unknown_tool_is_a_one_line_error(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "hi", "--model", "scripted", "--tool", "abacus")
    assert p.returncode != 0
    assert "unknown tool(s): abacus" in p.stderr and "calculator" in p.stderr
    assert "Traceback" not in p.stderr
