"""The native API's tests and the isolation matrix again, with the server on PostgreSQL.

The test functions are those of test_server_api.py and test_server_isolation.py,
imported; only the fixtures that build the server are redefined here, with
``QWENAPP_DATABASE_URL`` pointing at a database of the throwaway cluster
(tests/pg_fixture.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import test_server_api
import test_server_isolation
from qwenapp.models.scripted import ScriptedModel, load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import chat, live_server, login, parse_sse, write_demo_script
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db
from test_server_api import *  # noqa: F403 - the same tests, on PostgreSQL
from test_server_isolation import *  # noqa: F403

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


@pytest.fixture(scope="module")  # type: ignore[no-redef]  # replaces the SQLite one
def server(
        tmp_path_factory: pytest.TempPathFactory,
        pg_server: PgServer) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home),
                              "QWENAPP_DATABASE_URL": pg_server.new_database()})
    model = ScriptedModel(responder=test_server_api._responder, chunk_size=3)
    config = ServerConfig(limits=ServerLimits(upload_bytes=200_000, requests_per_minute=10_000,
                                              burst=10_000))
    with live_server(create_app(settings, [model], config)) as url:
        yield url, home


@pytest.fixture(scope="module")  # type: ignore[no-redef]  # replaces the SQLite one
def world(
        tmp_path_factory: pytest.TempPathFactory,
        pg_server: PgServer) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    url = pg_server.new_database()
    conn = open_db(url)
    users = UserStore(conn, test_server_isolation.FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    script = write_demo_script(home / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_DATABASE_URL": url})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config,
                                hasher=test_server_isolation.FAST)) as base:
        alice = httpx.Client(base_url=base, timeout=60)
        bob = httpx.Client(base_url=base, timeout=60)
        login(alice, "alice", "alice-password")
        login(bob, "bob", "bob-password")
        conv = alice.post("/api/conversations", json={"title": "alice's secrets"}).json()
        chat(alice, conv["id"], "my secret plan is zanzibar")
        msgs = alice.get(f"/api/conversations/{conv['id']}").json()["messages"]
        doc = alice.post("/api/documents", files={"file": (
            "private.md", b"# Private\n\nAlice's confidential zanzibar notes say that Qwen models "
            b"are released under the Apache 2.0 license.\n")}).json()
        job = alice.post("/api/jobs", json={"kind": "report", "question": "zanzibar?",
                                            "depth": "quick", "document_ids": [doc["id"]]}
                         ).json()
        with alice.stream("GET", f"/api/jobs/{job['id']}/events") as r:
            assert list(parse_sse(r.iter_lines()))[-1].event == "done"
        key = alice.post("/api/keys", json={"name": "alice-key"}).json()
        yield {"url": base, "alice": alice, "bob": bob, "conv": conv, "msg": msgs[-1],
               "doc": doc, "job": job, "key": key}
        alice.close()
        bob.close()


def test_the_server_really_is_on_postgres(server: tuple[str, Path],
                                          world: dict[str, Any]) -> None:
    assert not (server[1] / "qwenapp.db").exists()  # no SQLite file was made
    assert world["alice"].get("/api/conversations").json()["conversations"]
