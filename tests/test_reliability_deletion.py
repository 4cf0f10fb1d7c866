"""Issue 9, item 6: deleting a job or a user deletes everything derived from it.

A user's words go into many rows: messages, titles, saved chat sources,
document chunks, job requests and events, report rows and their saved stages
(the passages gathered from the user's documents). After ``DELETE /api/jobs/ID``
and ``qwenapp users rm``, every table of the database (search-index shadow
tables included) is scanned for the user's marker word, and so are the
database file and its WAL.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from conftest import qwenapp_cmd
from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import chat, live_server, login, parse_sse, write_demo_script
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
MARK = "quokkavelt"  # alice's word; nothing else in the database says it
KEEP = "wombatrix"  # bob's word: it must survive alice's removal


def _cells_with(conn: sqlite3.Connection, word: str) -> list[tuple[str, str]]:
    """(table, column) of every cell in every table that contains ``word``."""
    found = []
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert len(tables) > 20  # shadow tables included
    needle = word.encode()
    for t in tables:
        cur = conn.execute(f'SELECT * FROM "{t}"')
        cols = [d[0] for d in cur.description]
        for row in cur:
            for col, value in zip(cols, row, strict=True):
                raw = value.encode() if isinstance(value, str) else value
                if isinstance(raw, bytes) and needle in raw.lower():
                    found.append((t, col))
    return found


def _report_job(c: httpx.Client, doc_id: str, question: str) -> dict[str, Any]:
    job: dict[str, Any] = c.post("/api/jobs", json={
        "kind": "report", "question": question, "depth": "quick",
        "document_ids": [doc_id]}).json()
    with c.stream("GET", f"/api/jobs/{job['id']}/events") as r:
        assert list(parse_sse(r.iter_lines()))[-1].event == "done"
    got: dict[str, Any] = c.get(f"/api/jobs/{job['id']}").json()
    return got


def test_deleted_job_and_user_leave_no_trace(tmp_path: Path, cli_env: dict[str, str]) -> None:
    home = Path(cli_env["QWENAPP_HOME"])
    conn = open_db(home / "qwenapp.db")
    UserStore(conn, FAST).add("alice", "alice-password")
    UserStore(conn, FAST).add("bob", "bob-password")
    conn.close()
    script = write_demo_script(tmp_path / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config,
                                hasher=FAST)) as url:
        alice = httpx.Client(base_url=url, timeout=60)
        bob = httpx.Client(base_url=url, timeout=60)
        login(alice, "alice", "alice-password")
        login(bob, "bob", "bob-password")
        conv = alice.post("/api/conversations", json={"title": f"{MARK} plans"}).json()
        doc = alice.post("/api/documents", files={"file": (
            f"{MARK}.md", f"# Notes\n\nThe {MARK} launch is planned for March in Lisbon, "
                          "with Dana Ruiz in charge.\n".encode())}).json()
        chat(alice, conv["id"], f"what about {MARK}?", document_ids=[doc["id"]])
        kept = _report_job(alice, doc["id"], f"When is the {MARK} launch?")
        gone = _report_job(alice, doc["id"], f"Who runs {MARK}?")
        bconv = bob.post("/api/conversations", json={"title": f"{KEEP} notes"}).json()
        chat(bob, bconv["id"], f"tell me about {KEEP}")

        db = sqlite3.connect(home / "qwenapp.db")
        report_id = db.execute("SELECT json_extract(state, '$.report_id') FROM server_jobs "
                               "WHERE id = ?", (gone["id"],)).fetchone()[0]
        assert report_id and db.execute("SELECT count(*) FROM report_stages WHERE "
                                        "report_id = ?", (report_id,)).fetchone()[0] > 0
        assert alice.delete(f"/api/jobs/{gone['id']}").status_code == 204
        for sql in ("SELECT count(*) FROM reports WHERE id = ?",
                    "SELECT count(*) FROM report_stages WHERE report_id = ?"):
            assert db.execute(sql, (report_id,)).fetchone()[0] == 0, sql
        for table in ("server_jobs", "server_job_events", "server_job_artifacts"):
            col = "id" if table == "server_jobs" else "job_id"
            assert db.execute(f"SELECT count(*) FROM {table} WHERE {col} = ?",
                              (gone["id"],)).fetchone()[0] == 0
        assert not (home / "server" / "jobs" / gone["id"]).exists()
        assert (home / "server" / "jobs" / kept["id"]).exists()
        db.close()
        alice.close()
        bob.close()

    conn = open_db(home / "qwenapp.db")
    assert _cells_with(conn, MARK)  # the scan sees alice's words before removal
    conn.close()
    p = subprocess.run([*qwenapp_cmd(), "users", "rm", "alice", "--yes"], env=cli_env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "removed alice" in p.stdout

    conn = open_db(home / "qwenapp.db")
    assert _cells_with(conn, MARK) == []
    assert _cells_with(conn, KEEP)  # bob's data is untouched
    assert conn.execute("SELECT count(*) FROM server_users").fetchone()[0] == 1
    conn.close()
    # not in freed pages of the file either (secure_delete, FTS merged, WAL checkpointed)
    for f in home.glob("qwenapp.db*"):
        assert MARK.encode() not in f.read_bytes().lower(), f.name
    uploads = list((home / "server" / "uploads").iterdir())
    assert uploads == []
    assert not (home / "server" / "jobs" / kept["id"]).exists()
