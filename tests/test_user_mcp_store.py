"""The store of users' own MCP servers (migration 0302) on SQLite and on a real PostgreSQL
(tests/pg_fixture.py): rows scoped to their user, JSON fields kept, removal and purge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qwenapp.server.user_mcp import UserMcpServer, UserMcpStore, shown
from qwenapp.store import open_db

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UserMcpStore]:
    conn = open_db(tmp_path / "qwenapp.db" if request.param == "sqlite"
                   else request.getfixturevalue("pg_url"))
    yield UserMcpStore(conn)
    conn.close()


def test_rows_belong_to_one_user(store: UserMcpStore) -> None:
    wiki = UserMcpServer("wiki", url="https://mcp.example.com/mcp?key=k",
                         headers={"Authorization": "Bearer t", "X-Team": "é"})
    tool = UserMcpServer("files", command="/usr/bin/env", args=("mcp-files", "--ro"))
    added = store.add("alice", wiki)
    assert added.created_at
    store.add("alice", tool)
    store.add("bob", UserMcpServer("wiki", url="https://other.example/mcp"))
    mine = store.servers("alice")
    assert [s.name for s in mine] == ["files", "wiki"]  # by name
    assert mine[1].headers == {"Authorization": "Bearer t", "X-Team": "é"}
    assert mine[0].args == ("mcp-files", "--ro") and mine[0].url is None
    assert mine[1].config().headers == wiki.headers and mine[0].config().command == "/usr/bin/env"
    out = shown(mine[1])
    assert out.url == "https://mcp.example.com/mcp?…" and out.header_names == [
        "Authorization", "X-Team"]
    assert [s.url for s in store.servers("bob")] == ["https://other.example/mcp"]
    assert not store.remove("bob", "files")  # not his
    assert store.remove("alice", "files") and not store.remove("alice", "files")
    store.purge("alice")
    assert store.servers("alice") == [] and len(store.servers("bob")) == 1
