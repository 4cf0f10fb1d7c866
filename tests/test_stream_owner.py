"""Streaming answers have an owner: only a gone process's answers are interrupted.

Every test runs on SQLite and on a real PostgreSQL (tests/pg_fixture.py). Two "processes"
are two connections with their own :class:`StreamOwners` registration; a silent one is
made by moving its ``seen_at`` into the past (its clock is the database's), never by
sleeping.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from qwenapp.store import Connection, ConversationStore, open_db
from qwenapp.store.db import transaction
from qwenapp.store.stream_owners import StreamOwners

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    if request.param == "sqlite":
        yield tmp_path / "qwenapp.db"
    else:
        yield request.getfixturevalue("pg_url")


def _silence(conn: Connection, owner: str, seconds: float) -> None:
    """``owner`` was last seen ``seconds`` ago (as if its process had died then)."""
    with transaction(conn) as c:
        c.execute("UPDATE stream_owners SET seen_at = seen_at - ? WHERE id = ?",
                  (seconds, owner))


def _answer(store: ConversationStore, text: str = "Once upon a") -> str:
    conv = store.create(model="scripted")
    q = store.add_message(conv.id, "user", "tell me a story")
    return store.add_message(conv.id, "assistant", text, parent_id=q.id,
                             status="streaming").id


def test_a_start_interrupts_only_answers_of_gone_processes(target: Path | str) -> None:
    a_conn, b_conn = open_db(target), open_db(target)
    try:
        a, b = StreamOwners(a_conn, stale_after=30), StreamOwners(b_conn, stale_after=30)
        a_id, b_id = a.register(), b.register()
        a_store = ConversationStore(a_conn, owner=a_id)
        b_store = ConversationStore(b_conn, owner=b_id)
        mine, theirs = _answer(a_store), _answer(b_store)
        assert b_store.message(theirs).status == "streaming"
        unowned = _answer(ConversationStore(a_conn))  # `qwenapp chat`, or before 0003
        # A restarts (a new registration), B streams on: B's answer is left alone
        restarted = StreamOwners(a_conn, stale_after=30)
        restarted.register()
        _silence(a_conn, a_id, 60)  # the old A died 60 s ago
        assert restarted.interrupt_orphans(unowned=True) == 2
        assert a_store.message(mine).status == "interrupted"
        assert a_store.message(mine).finish_reason == "interrupted"
        assert a_store.message(mine).content == "Once upon a"  # what was saved is kept
        assert a_store.message(unowned).status == "interrupted"
        assert b_store.message(theirs).status == "streaming"
        b_store.update_message(theirs, content="Once upon a time.", status="complete")
        assert b_store.message(theirs).status == "complete"
    finally:
        a_conn.close()
        b_conn.close()


def test_beats_keep_an_owner_and_sweep_a_silent_one(target: Path | str) -> None:
    conn = open_db(target)
    try:
        owners = StreamOwners(conn, stale_after=30)
        live, dead = owners.register(), owners.register()
        store = ConversationStore(conn)
        live_answer = _answer(ConversationStore(conn, owner=live))
        dead_answer = _answer(ConversationStore(conn, owner=dead))
        unowned = _answer(store)
        _silence(conn, live, 20)  # 20 s: still within stale_after
        _silence(conn, dead, 31)
        assert {o for o, _, _ in owners.alive()} == {live}
        assert owners.interrupt_orphans() == 1  # a beat's sweep: not the unowned one
        assert store.message(dead_answer).status == "interrupted"
        assert store.message(live_answer).status == "streaming"
        assert store.message(unowned).status == "streaming"
        # a live owner swept after a long pause comes back on its next beat
        _silence(conn, live, 300)
        assert owners.interrupt_orphans() == 1
        owners.beat(live)
        assert {o for o, _, _ in owners.alive()} == {live}
        later = _answer(ConversationStore(conn, owner=live))
        assert owners.interrupt_orphans() == 0
        # a clean stop releases the owner and closes what it left streaming
        assert owners.release(live) == 1
        assert store.message(later).status == "interrupted"
        assert owners.alive() == []
    finally:
        conn.close()


def test_only_streaming_answers_carry_the_owner(target: Path | str) -> None:
    conn = open_db(target)
    try:
        owner = StreamOwners(conn).register()
        store = ConversationStore(conn, owner=owner)
        conv = store.create(model="scripted")
        q = store.add_message(conv.id, "user", "hi")
        a = store.add_message(conv.id, "assistant", "", parent_id=q.id, status="streaming")
        rows = dict(conn.execute("SELECT id, owner FROM messages").fetchall())
        assert rows == {q.id: None, a.id: owner}
        assert store.interrupt_streaming() == 1  # one process alone: every streaming one
    finally:
        conn.close()


def test_an_owner_on_this_machine_whose_process_is_gone_is_gone_at_once(
        target: Path | str) -> None:
    conn = open_db(target)
    try:
        owners = StreamOwners(conn, stale_after=3600)
        dead = owners.register()
        gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
        with transaction(conn) as c:  # as if that process had registered it, seen just now
            c.execute("UPDATE stream_owners SET pid = ? WHERE id = ?",
                      (int(gone.stdout), dead))
            c.execute("INSERT INTO stream_owners (id, host, pid, started_at, seen_at) "
                      "SELECT 'ELSEWHERE', 'another-machine', pid, started_at, seen_at "
                      "FROM stream_owners WHERE id = ?", (dead,))
        answer = _answer(ConversationStore(conn, owner=dead))
        elsewhere = _answer(ConversationStore(conn, owner="ELSEWHERE"))
        assert owners.interrupt_orphans() == 1
        store = ConversationStore(conn)
        assert store.message(answer).status == "interrupted"
        # the same pid on another machine is not judged here: it is seen, so it lives
        assert store.message(elsewhere).status == "streaming"
    finally:
        conn.close()
