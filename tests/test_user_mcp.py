"""Per-user MCP servers kept on the server (``/api/tools/mcp``): adding, listing and removing
one's own; the URL's SSRF check when added and when connected; stdio for administrators only
(and not started for one who is no longer one); name clashes; their tools in the user's own
``GET /api/tools`` and chat turns, and never in another user's. Real MCP server processes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qwenapp.server.testing import chat
from qwenapp.server.user_mcp import UserMcpServer, UserMcpStore
from qwenapp.store import open_db
from user_mcp_world import TOKEN, World, world

pytest.importorskip("mcp")
pytestmark = pytest.mark.slow  # real MCP server processes and a live server


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world(tmp_path_factory.mktemp("home")) as running:
        running.clients["alice"].post("/api/tools/mcp", json={
            "name": "mine", "url": running.own_url, "headers": {"X-Token": TOKEN}})
        yield running


def _tools(w: World, who: str) -> dict[str, Any]:
    r = w.clients[who].get("/api/tools")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _new(w: World, who: str) -> str:
    cid: str = w.clients[who].post("/api/conversations", json={}).json()["id"]
    return cid


def _insert(w: World, user: str, server: UserMcpServer) -> None:
    """A row written past the API's checks (a host that resolved elsewhere when added,
    a user who was an administrator then)."""
    conn = open_db(w.home / "qwenapp.db")
    try:
        uid = conn.execute("SELECT id FROM server_users WHERE username = ?",
                           (user,)).fetchone()[0]
        UserMcpStore(conn).add(uid, server)
    finally:
        conn.close()


def test_own_servers_are_listed_without_header_values(w: World) -> None:
    alice, bob = w.clients["alice"], w.clients["bob"]
    r = alice.get("/api/tools/mcp")
    assert r.status_code == 200 and TOKEN not in r.text
    data = r.json()
    assert data["shared"] == ["demo"] and data["may_add_commands"] is False
    [mine] = data["servers"]
    assert (mine["name"], mine["kind"], mine["url"]) == ("mine", "http", w.own_url)
    assert mine["header_names"] == ["X-Token"]
    assert bob.get("/api/tools/mcp").json()["servers"] == []
    assert bob.delete("/api/tools/mcp/mine").status_code == 404  # not his to remove


def test_add_and_remove_and_a_query_is_not_shown(w: World) -> None:
    alice = w.clients["alice"]
    r = alice.post("/api/tools/mcp", json={"name": "second", "url": w.own_url + "?key=abc"})
    assert r.status_code == 201, r.text
    assert r.json()["url"] == w.own_url + "?…" and "abc" not in r.text
    assert "second" in [s["name"] for s in alice.get("/api/tools/mcp").json()["servers"]]
    assert alice.delete("/api/tools/mcp/second").status_code == 204
    assert alice.delete("/api/tools/mcp/second").status_code == 404
    assert [s["name"] for s in alice.get("/api/tools/mcp").json()["servers"]] == ["mine"]


@pytest.mark.parametrize(("url", "code"), [
    ("http://127.0.0.1:9/mcp", "blocked_url"),  # loopback, port not allowed
    ("http://169.254.169.254/latest", "blocked_url"),  # cloud metadata
    ("http://[::ffff:10.0.0.1]/mcp", "blocked_url"),  # private, written as IPv6
    ("http://localhost:8000/mcp", "blocked_url"),
    ("file:///etc/passwd", "blocked_url"),
    ("http://" + "a" * 70 + ".example/mcp", "blocked_url"),  # a label IDNA cannot encode
])
def test_private_and_loopback_urls_are_refused_when_added(w: World, url: str,
                                                          code: str) -> None:
    r = w.clients["bob"].post("/api/tools/mcp", json={"name": "peek", "url": url})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code and r.json()["error"]["param"] == "url"
    assert w.clients["bob"].get("/api/tools/mcp").json()["servers"] == []


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "demo", "url": "https://mcp.example.com/mcp"}, 409, "name_taken"),  # server's
    ({"name": "mine", "url": "https://mcp.example.com/mcp"}, 409, "name_taken"),  # her own
    ({"name": "Bad Name", "url": "https://mcp.example.com/mcp"}, 400, "invalid_request"),
    ({"name": "both", "url": "https://mcp.example.com/mcp", "command": "ls"}, 400,
     "invalid_input"),
    ({"name": "none"}, 400, "invalid_input"),
    ({"name": "hdr", "url": "https://mcp.example.com/mcp", "headers": {"Host": "x"}}, 400,
     "invalid_input"),
    ({"name": "hdr", "url": "https://mcp.example.com/mcp", "headers": {"X-A": "a\r\nB: c"}},
     400, "invalid_input"),
], ids=["shared-name", "own-name", "bad-name", "both", "neither", "host-header",
        "header-injection"])
def test_bad_servers_are_refused_plainly(w: World, body: dict[str, Any], status: int,
                                         code: str) -> None:
    r = w.clients["alice"].post("/api/tools/mcp", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_a_stdio_server_is_for_administrators_only(w: World, tmp_path: Path) -> None:
    body = {"name": "rootecho", "command": sys.executable, "args": [str(w.shared_py)]}
    r = w.clients["alice"].post("/api/tools/mcp", json=body)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "admin_only" and "run a program on this server" in err["message"]
    root = w.clients["root"]
    assert root.get("/api/tools/mcp").json()["may_add_commands"] is True
    r = root.post("/api/tools/mcp", json={"name": "missing", "command": "/nonexistent/mcp"})
    assert r.status_code == 400 and "no program" in r.json()["error"]["message"]
    r = root.post("/api/tools/mcp", json=body)
    assert r.status_code == 201 and r.json()["kind"] == "stdio"
    try:
        tools = {t["name"]: t for t in _tools(w, "root")["tools"]}
        assert tools["rootecho_echo"]["source"] == "mcp:rootecho"
        answer = chat(root, _new(w, "root"), "use the root echo please")
        result = next(e.data for e in answer if e.event == "tool_result")
        assert result["name"] == "rootecho_echo" and "echo: from root" in result["content"]
        assert "rootecho_echo" not in {t["name"] for t in _tools(w, "alice")["tools"]}
    finally:
        root.delete("/api/tools/mcp/rootecho")


def test_a_stored_stdio_server_of_a_non_administrator_is_never_started(
        w: World, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    _insert(w, "bob", UserMcpServer("sneaky", command=sys.executable,
                                    args=("-c", f"open({str(marker)!r}, 'w')")))
    try:
        data = _tools(w, "bob")
        assert any("'sneaky' was not started: only an administrator" in p
                   for p in data["problems"]), data["problems"]
        chat(w.clients["bob"], _new(w, "bob"), "hello")  # a turn connects his servers
        assert not marker.exists()
    finally:
        assert w.clients["bob"].delete("/api/tools/mcp/sneaky").status_code == 204


def test_the_url_is_checked_again_when_connected(w: World) -> None:
    _insert(w, "bob", UserMcpServer("moved", url="http://127.0.0.1:9/mcp"))
    try:
        data = _tools(w, "bob")
        problem = next(p for p in data["problems"] if "'moved'" in p)
        assert "could not be started" in problem and "refusing" in problem
    finally:
        w.clients["bob"].delete("/api/tools/mcp/moved")


def test_own_tools_are_listed_for_their_user_only(w: World) -> None:
    mine = {t["name"]: t for t in _tools(w, "alice")["tools"]}
    assert mine["mine_token"]["source"] == "mcp:mine" and not mine["mine_token"]["side_effects"]
    assert mine["mine_write_note"]["side_effects"]
    assert mine["demo_echo"]["source"] == "mcp:demo"  # the server's are there too
    theirs = _tools(w, "bob")
    assert not any(t["name"].startswith("mine_") for t in theirs["tools"])
    assert theirs["problems"] == []


def test_a_server_that_fails_is_named_in_problems(w: World) -> None:
    alice = w.clients["alice"]
    assert alice.post("/api/tools/mcp", json={"name": "gone", "url": w.dead_url}
                      ).status_code == 201
    try:
        data = _tools(w, "alice")
        assert any("'gone' could not be started" in p for p in data["problems"])
        assert "mine_token" in {t["name"] for t in data["tools"]}  # the others still work
        events = chat(alice, _new(w, "alice"), "add 2 and 40")  # the turn goes on
        result = next(e.data for e in events if e.event == "tool_result")
        assert result["content"] == "42"
    finally:
        alice.delete("/api/tools/mcp/gone")


def test_own_tools_answer_in_the_users_chat_with_the_stored_header(w: World) -> None:
    alice = w.clients["alice"]
    events = chat(alice, _new(w, "alice"), "what is my token?")
    result = next(e.data for e in events if e.event == "tool_result")
    assert result["name"] == "mine_token" and not result["error"]
    assert result["content"] == f"token: {TOKEN}"  # the header reached the MCP server
    events = chat(alice, _new(w, "alice"), "what is my token?", tools=["mine_token"])
    assert [t.name for t in w.model.calls[-2].options.tools] == ["mine_token"]


def test_another_user_never_gets_them(w: World) -> None:
    bob = w.clients["bob"]
    events = chat(bob, _new(w, "bob"), "what is my token?")
    assert "tool_call" not in [e.event for e in events]
    assert not any(t.name.startswith("mine_") for t in w.model.calls[-1].options.tools)
    text = "".join(e.data["text"] for e in events if e.event == "text")
    assert text == "I have no tool called mine_token."
    r = bob.post(f"/api/conversations/{_new(w, 'bob')}/messages",
                 json={"content": "what is my token?", "tools": ["mine_token"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_tool"


def test_the_stored_row_keeps_the_header_for_its_owner_only(w: World) -> None:
    conn = open_db(w.home / "qwenapp.db")
    try:
        rows = conn.execute("SELECT u.username, m.name, m.headers FROM "
                            "server_user_mcp_servers m JOIN server_users u ON u.id = m.user_id"
                            ).fetchall()
    finally:
        conn.close()
    assert [(r[0], r[1], json.loads(r[2])) for r in rows] == [
        ("alice", "mine", {"X-Token": TOKEN})]


def test_removing_an_account_forgets_its_servers(w: World) -> None:
    import os
    import subprocess

    from conftest import qwenapp_cmd
    from qwenapp.server.users import UserStore
    from user_mcp_world import FAST

    conn = open_db(w.home / "qwenapp.db")
    try:
        UserStore(conn, FAST).add("carol", "carol-password")
    finally:
        conn.close()
    _insert(w, "carol", UserMcpServer("hers", url="https://mcp.example.com/mcp",
                                      headers={"Authorization": "Bearer carols-token"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    p = subprocess.run([*qwenapp_cmd(), "users", "rm", "carol", "--yes"], capture_output=True,
                       text=True, timeout=120, env={**env, "QWENAPP_HOME": str(w.home)})
    assert p.returncode == 0, p.stderr
    conn = open_db(w.home / "qwenapp.db")
    try:
        rows = conn.execute("SELECT name FROM server_user_mcp_servers").fetchall()
    finally:
        conn.close()
    assert [r[0] for r in rows] == ["mine"]  # alice's stays; carol's token is gone


def test_each_request_is_checked_and_sent_to_the_checked_address(w: World) -> None:
    """A name that resolves to a loopback address is refused at request time (DNS that
    changed after the check), and an allowed one is sent to the address that was checked,
    with the name kept in the Host header."""
    import asyncio
    from urllib.parse import urlsplit

    import httpx2

    from qwenapp.mcp.client import GuardedTransport
    from qwenapp.web.safety import UrlPolicy

    port = urlsplit(w.own_url).port

    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def go() -> tuple[str, int]:
        refused = GuardedTransport(UrlPolicy(), to_loopback)
        async with httpx2.AsyncClient(transport=refused) as c:
            try:
                await c.get("http://rebound.example/mcp")
                said = "sent"
            except httpx2.ConnectError as e:
                said = str(e)
        allowed = GuardedTransport(UrlPolicy(allowed_hosts=frozenset({f"mcp.test:{port}"})),
                                   to_loopback)
        async with httpx2.AsyncClient(transport=allowed) as c:
            r = await c.post(f"http://mcp.test:{port}/mcp", json={})
        return said, r.status_code

    said, status = asyncio.run(asyncio.wait_for(go(), 60))
    assert "refusing to fetch" in said and "loopback" in said
    assert 400 <= status < 500  # the MCP server answered (the Host name is not its own)
