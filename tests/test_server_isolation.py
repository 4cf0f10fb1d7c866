"""The isolation matrix: user B can never read, stream, continue, modify or delete user A's
conversations, documents, jobs or artifacts. Every attempt is a 404, never a 403, so B
cannot even learn that A's ids exist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import chat, live_server, login, parse_sse, write_demo_script
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    conn = open_db(home / "qwenapp.db")
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    script = write_demo_script(home / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config,
                                hasher=FAST)) as url:
        alice = httpx.Client(base_url=url, timeout=60)
        bob = httpx.Client(base_url=url, timeout=60)
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
        yield {"url": url, "alice": alice, "bob": bob, "conv": conv, "msg": msgs[-1],
               "doc": doc, "job": job, "key": key}
        alice.close()
        bob.close()


def _attempts(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    cid, did, jid = w["conv"]["id"], w["doc"]["id"], w["job"]["id"]
    return [
        # conversations: read, stream/continue, modify, delete
        ("GET", f"/api/conversations/{cid}", {}),
        ("PATCH", f"/api/conversations/{cid}", {"json": {"title": "pwned"}}),
        ("DELETE", f"/api/conversations/{cid}", {}),
        ("POST", f"/api/conversations/{cid}/messages", {"json": {"content": "continue"}}),
        ("POST", f"/api/conversations/{cid}/messages",
         {"json": {"content": "regenerate", "parent_id": w["msg"]["parent_id"]}}),
        # documents: read, delete, use in a chat, use in a job
        ("GET", f"/api/documents/{did}", {}),
        ("DELETE", f"/api/documents/{did}", {}),
        ("POST", "/api/jobs", {"json": {"kind": "report", "question": "q",
                                        "document_ids": [did]}}),
        ("POST", "/api/jobs", {"json": {"kind": "deck", "topic": "t", "slides": 5,
                                        "document_ids": [did]}}),
        # jobs: read, stream, cancel, delete; artifacts
        ("GET", f"/api/jobs/{jid}", {}),
        ("GET", f"/api/jobs/{jid}/events", {}),
        ("GET", f"/api/jobs/{jid}/events", {"headers": {"Last-Event-ID": "1"}}),
        ("POST", f"/api/jobs/{jid}/cancel", {}),
        ("DELETE", f"/api/jobs/{jid}", {}),
        ("GET", f"/api/jobs/{jid}/artifacts/report.md", {}),
        ("GET", f"/api/jobs/{jid}/artifacts/report.html", {"params": {"inline": 1}}),
        ("GET", f"/api/jobs/{jid}/artifacts/report.json", {}),
        # a deck from another's report; a job shown in another's conversation
        ("POST", "/api/jobs", {"json": {"kind": "deck", "from_job": jid, "slides": 5}}),
        ("POST", "/api/jobs", {"json": {"kind": "deck", "topic": "t", "slides": 5,
                                        "conversation_id": cid}}),
        ("POST", "/api/jobs", {"json": {"kind": "report", "question": "q",
                                        "allow_uncited": True, "conversation_id": cid,
                                        "after_message_id": w["msg"]["id"]}}),
        # API keys
        ("DELETE", f"/api/keys/{w['key']['id']}", {}),
    ]


def test_every_access_to_another_users_things_is_404(world: dict[str, Any]) -> None:
    bob: httpx.Client = world["bob"]
    for method, path, kw in _attempts(world):
        r = bob.request(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["error"]["code"] == "not_found"
        assert "zanzibar" not in r.text


def test_and_with_an_api_key_too(world: dict[str, Any]) -> None:
    bob: httpx.Client = world["bob"]
    secret = bob.post("/api/keys", json={"name": "bob"}).json()["secret"]
    with httpx.Client(base_url=world["url"],
                      headers={"Authorization": f"Bearer {secret}"}) as c:
        for method, path, kw in _attempts(world):
            assert c.request(method, path, **kw).status_code == 404, (method, path)


def test_attaching_anothers_document_to_a_chat_is_404(world: dict[str, Any]) -> None:
    bob: httpx.Client = world["bob"]
    own = bob.post("/api/conversations", json={}).json()
    r = bob.post(f"/api/conversations/{own['id']}/messages",
                 json={"content": "zanzibar?", "document_ids": [world["doc"]["id"]]})
    assert r.status_code == 404
    # a message id of alice's, as the parent in bob's own conversation
    r = bob.post(f"/api/conversations/{own['id']}/messages",
                 json={"content": "x", "parent_id": world["msg"]["id"]})
    assert r.status_code == 404


def test_lists_and_search_show_only_ones_own(world: dict[str, Any]) -> None:
    bob: httpx.Client = world["bob"]
    assert world["conv"]["id"] not in str(bob.get("/api/conversations").json())
    assert bob.get("/api/conversations", params={"q": "zanzibar"}).json() == \
        {"conversations": []}
    assert world["doc"]["id"] not in str(bob.get("/api/documents").json())
    assert world["job"]["id"] not in str(bob.get("/api/jobs").json())
    assert "alice-key" not in str(bob.get("/api/keys").json())


def test_bobs_report_cannot_read_alices_documents(world: dict[str, Any]) -> None:
    """A report with no document list uses the caller's documents only (bob has none)."""
    bob: httpx.Client = world["bob"]
    job = bob.post("/api/jobs", json={"kind": "report", "question": "zanzibar notes?",
                                      "depth": "quick"}).json()
    with bob.stream("GET", f"/api/jobs/{job['id']}/events") as r:
        events = list(parse_sse(r.iter_lines()))
    assert events[-1].event == "failed" and "no sources" in events[-1].data["error"]
    assert "zanzibar notes" not in str([e.data for e in events if e.event != "queued"])


def test_alices_things_are_intact(world: dict[str, Any]) -> None:
    alice: httpx.Client = world["alice"]
    conv = alice.get(f"/api/conversations/{world['conv']['id']}").json()
    assert conv["conversation"]["title"] == "alice's secrets"
    assert len(conv["messages"]) == 3
    assert alice.get(f"/api/documents/{world['doc']['id']}").status_code == 200
    job = alice.get(f"/api/jobs/{world['job']['id']}").json()
    assert job["status"] == "done"
    md = alice.get(f"/api/jobs/{world['job']['id']}/artifacts/report.md")
    assert md.status_code == 200 and "private.md" in md.text
    assert [k["name"] for k in alice.get("/api/keys").json()] == ["alice-key"]


def test_removing_a_user_removes_their_data(tmp_path: Path) -> None:
    from qwenapp.server.ownership import Ownership
    from qwenapp.store import ConversationStore

    conn = open_db(tmp_path / "q.db")
    users = UserStore(conn, FAST)
    carol = users.add("carol", "carol-password")
    store = ConversationStore(conn)
    conv = store.create(model="m")
    owners = Ownership(conn)
    owners.claim_conversation(conv.id, carol.id)
    purged = owners.purge(carol.id)
    users.remove("carol")
    assert purged.conversations == 1
    assert store.recent() == []
