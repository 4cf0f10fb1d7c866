"""MCP servers as tool sources: a real server process (the official SDK) over stdio and HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import qwenapp_cmd
from qwenapp.models.events import ToolCall
from qwenapp.models.scripted import ScriptedModel, ScriptedToolCalls
from qwenapp.settings import McpServerConfig
from qwenapp.tools import ToolBox, ToolFinished, run_with_tools

pytest.importorskip("mcp")

SERVER = '''
import os, sys, time
from pathlib import Path
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

app = MCPServer("demo")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b

@app.tool()
def write_note(text: str) -> str:
    """Write a note to the notes file."""
    Path(os.environ["NOTES"]).write_text(text)
    return "written"

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def fail() -> str:
    """Always raises."""
    raise ValueError("kaput")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def slow() -> str:
    """Takes a minute."""
    time.sleep(60)
    return "late"

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def crash() -> str:
    """Kills the server."""
    os._exit(3)

if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        app.run()
'''

HANG = "import sys, time\nsys.stdin.read()\ntime.sleep(60)\n"


@pytest.fixture
def server_py(tmp_path: Path) -> Path:
    path = tmp_path / "demo_server.py"
    path.write_text(SERVER, encoding="utf-8")
    return path


def stdio(server_py: Path, tmp_path: Path, timeout: float = 20.0) -> McpServerConfig:
    return McpServerConfig("demo", command=sys.executable, args=(str(server_py),),
                           env={"NOTES": str(tmp_path / "notes.txt")}, timeout=timeout)


def run(coro: Any, timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall("c1", name, args)


async def _with_box(configs: list[McpServerConfig], body: Any,
                    start_timeout: float | None = None) -> Any:
    from qwenapp.mcp.client import add_mcp_tools

    box = ToolBox()
    try:
        problems = await add_mcp_tools(box, configs, start_timeout=start_timeout)
        return await body(box, problems)
    finally:
        await box.aclose()


def test_stdio_server_tools_become_tools(server_py: Path, tmp_path: Path) -> None:
    async def body(box: ToolBox, problems: list[str]) -> Any:
        assert problems == []
        assert box.names == ["demo_add", "demo_write_note", "demo_fail", "demo_slow",
                             "demo_crash"]
        add = box.get("demo_add")
        assert add is not None and not add.side_effects  # annotated read-only
        write = box.get("demo_write_note")
        assert write is not None and write.side_effects  # no annotation: ask first
        assert add.spec.parameters["required"] == ["a", "b"]
        assert "from the MCP server demo" in add.spec.description
        return [await box.execute(call("demo_add", a=2, b=40)),
                await box.execute(call("demo_fail")),
                await box.execute(call("demo_add", a="x", b=1))]

    ok, failed, bad = run(_with_box([stdio(server_py, tmp_path)], body))
    assert (ok.content, ok.error) == ("42", False)
    assert failed.error and "fail" in failed.content
    assert bad.error and "must be integer" in bad.content


def test_a_hanging_call_and_a_crash_are_error_results(server_py: Path, tmp_path: Path) -> None:
    async def body(box: ToolBox, problems: list[str]) -> Any:
        slow = await box.execute(call("demo_slow"))
        crash = await box.execute(call("demo_crash"))
        after = await box.execute(call("demo_add", a=1, b=1))
        return slow, crash, after

    # a call may take 3 s; starting may take longer (a busy machine starts Python slowly)
    slow, crash, after = run(_with_box([stdio(server_py, tmp_path, timeout=3)], body,
                                       start_timeout=45))
    assert slow.error and "did not finish within 3 s" in slow.content
    assert crash.error and "demo" in crash.content
    assert after.error  # the server is gone: said plainly, the turn goes on


def test_missing_and_hanging_servers_are_problems_not_crashes(server_py: Path,
                                                              tmp_path: Path) -> None:
    hang = tmp_path / "hang.py"
    hang.write_text(HANG)
    configs = [McpServerConfig("missing", command="/nonexistent/mcp-server"),
               McpServerConfig("hangs", command=sys.executable, args=(str(hang),), timeout=2),
               stdio(server_py, tmp_path)]

    async def body(box: ToolBox, problems: list[str]) -> Any:
        return problems, box.names

    started = time.monotonic()
    problems, names = run(_with_box(configs, body))
    assert time.monotonic() - started < 30
    assert len(problems) == 2
    assert "'missing' could not be started" in problems[0]
    assert "'hangs' could not be started: no answer within 2 s" in problems[1]
    assert "demo_add" in names  # the good server is still used


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(server_py: Path, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "NOTES": str(tmp_path / "notes.txt")}
    proc = subprocess.Popen([sys.executable, str(server_py), "http", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_streamable_http_server(http_server: str) -> None:
    async def body(box: ToolBox, problems: list[str]) -> Any:
        assert problems == []
        return await box.execute(call("web_add", a=20, b=22))

    result = run(_with_box([McpServerConfig("web", url=http_server)], body))
    assert (result.content, result.error) == ("42", False)


def test_unreachable_http_server_is_a_problem() -> None:
    async def body(box: ToolBox, problems: list[str]) -> Any:
        return problems

    problems = run(_with_box([McpServerConfig("gone", url=f"http://127.0.0.1:{_free_port()}"
                                              "/mcp", timeout=5)], body))
    assert len(problems) == 1 and "'gone' could not be started" in problems[0]


def test_the_loop_asks_before_a_side_effect_and_then_runs_it(server_py: Path,
                                                             tmp_path: Path) -> None:
    model = ScriptedModel([ScriptedToolCalls((("demo_write_note", {"text": "hello"}),)),
                           "Noted."])
    asked: list[str] = []

    async def confirm(c: ToolCall) -> bool:
        asked.append(c.name)
        return True

    async def body(box: ToolBox, problems: list[str]) -> Any:
        from qwenapp.models.events import GenerateOptions, Message

        return [e async for e in run_with_tools(model, [Message("user", "note hello")],
                                                GenerateOptions(), box, confirm=confirm)]

    events = run(_with_box([stdio(server_py, tmp_path)], body))
    assert asked == ["demo_write_note"]
    assert [e.content for e in events if isinstance(e, ToolFinished)] == ["written"]
    assert (tmp_path / "notes.txt").read_text() == "hello"


def test_chat_cli_uses_configured_mcp_servers(cli_env: dict[str, str], home: Path,
                                              server_py: Path, tmp_path: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    notes = tmp_path / "notes.txt"
    (home / "config.toml").write_text(
        "[mcp.servers.demo]\n"
        f"command = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(server_py))}]\n"
        f"env = {{ NOTES = {json.dumps(str(notes))} }}\n"
        "[mcp.servers.broken]\ncommand = \"/nonexistent/server\"\n", encoding="utf-8")
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"rules": [
        {"contains": "written", "reply": "Saved your note."},
        {"contains": "remember", "reply": {"tool_calls": [
            {"name": "demo_write_note", "arguments": {"text": "buy milk"}}]}}]}))
    cmd = [*qwenapp_cmd(), "chat", "remember: buy milk", "--model", f"scripted:{script}",
           "--tools"]
    # without a terminal to ask on, a tool with side effects is refused...
    p = subprocess.run(cmd, env=cli_env, text=True, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "'broken' could not be started" in p.stderr
    assert "did not allow demo_write_note" in p.stderr and not notes.exists()
    # ...and --yes allows it
    p = subprocess.run([*cmd, "--yes"], env=cli_env, text=True, capture_output=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Saved your note." and notes.read_text() == "buy milk"
    assert "Traceback" not in p.stderr
