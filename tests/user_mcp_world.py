"""A server with accounts, a server-wide stdio MCP server, and a user's own HTTP MCP server.

Shared by the tests of per-user MCP servers (``test_user_mcp.py``) and of MCP tools
for ``/v1`` clients (``test_openai_mcp.py``). Everything is real: the MCP servers are
processes written with the official ``mcp`` SDK, the qwenapp server listens on
127.0.0.1 (:func:`~qwenapp.server.testing.live_server`), and the model is scripted.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import Reply, ScriptedModel, ScriptedToolCalls
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, login
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
TOKEN = "s3cret-token-value"

# the server-wide one (config file, stdio)
SHARED = '''
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

app = MCPServer("demo")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def echo(text: str) -> str:
    """Say the text back."""
    return f"echo: {text}"

app.run()
'''

# a user's own (streamable HTTP): it tells which token came, and writes notes (side effect)
OWN = '''
import os, sys
from pathlib import Path
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

app = MCPServer("mine")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def token(ctx: Context) -> str:
    """Which token the request carried."""
    return "token: " + dict(ctx.headers or {}).get("x-token", "none")

@app.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b

@app.tool()
def write_note(text: str) -> str:
    """Write a note to the notes file."""
    Path(os.environ["NOTES"]).write_text(text)
    return "written"

app.run("streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
'''


def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
    """Calls the tool a question names, when it is offered; answers from a tool's result."""
    last = messages[-1]
    if last.role == "tool":
        return f"From the tool: {last.content[:300]}"
    offered = {t.name for t in options.tools}
    for needle, name, args in (("my token", "mine_token", {}),
                               ("root echo", "rootecho_echo", {"text": "from root"}),
                               ("echo tool", "demo_echo", {"text": "hello mcp"}),
                               ("add 2 and 40", "mine_add", {"a": 2, "b": 40}),
                               ("note hello", "mine_write_note", {"text": "hello"})):
        if needle in last.content:
            if name in offered:
                return ScriptedToolCalls(((name, args),))
            return f"I have no tool called {name}."
    return f"You said: {last.content}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def http_mcp_server(script: Path, notes: Path) -> Iterator[int]:
    """The user's own MCP server, over streamable HTTP on a free loopback port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), str(port)],
                            env={**os.environ, "NOTES": str(notes)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, "MCP server down"
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class World:
    url: str
    home: Path
    model: ScriptedModel
    own_url: str  # the user's HTTP MCP server (its host:port is allowed)
    dead_url: str  # allowed too, but nothing listens there
    notes: Path
    shared_py: Path
    clients: dict[str, httpx.Client]


@contextlib.contextmanager
def world(home: Path) -> Iterator[World]:
    """alice and bob (users), root (an administrator), logged in; see the module doc."""
    conn = open_db(home / "qwenapp.db")
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    users.add("root", "root-password", admin=True)
    conn.close()
    shared_py = home / "shared_mcp.py"
    shared_py.write_text(SHARED, encoding="utf-8")
    own_py = home / "own_mcp.py"
    own_py.write_text(OWN, encoding="utf-8")
    notes = home / "notes.txt"
    (home / "config.toml").write_text(
        '[tools]\nenabled = ["calculator"]\n'
        f'[mcp.servers.demo]\ncommand = "{sys.executable}"\nargs = ["{shared_py}"]\n',
        encoding="utf-8")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    dead = free_port()
    with http_mcp_server(own_py, notes) as port:
        config = ServerConfig(
            host="0.0.0.0", report_pdf=False, deck_previews=False,
            limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
            web_allowed_hosts=frozenset({f"127.0.0.1:{port}", f"127.0.0.1:{dead}"}))
        model = ScriptedModel(responder=respond)
        with live_server(create_app(settings, [model], config, hasher=FAST)) as url:
            clients = {}
            for name in ("alice", "bob", "root"):
                clients[name] = httpx.Client(base_url=url, timeout=60)
                login(clients[name], name, f"{name}-password")
            try:
                yield World(url, home, model, f"http://127.0.0.1:{port}/mcp",
                            f"http://127.0.0.1:{dead}/mcp", notes, shared_py, clients)
            finally:
                for c in clients.values():
                    c.close()
