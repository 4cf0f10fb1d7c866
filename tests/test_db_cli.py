"""``qwenapp db migrate`` / ``db copy`` and ``qwenapp serve`` on PostgreSQL, through the
real console script: a SQLite home copied row for row, then served from PostgreSQL
(scripted model) and chatted with over the HTTP API."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import qwenapp_cmd
from qwenapp.server.testing import api_client, chat, serve_process
from qwenapp.store import ConversationStore, open_db
from qwenapp.store.copy import table_counts

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_db_migrate_on_sqlite_and_postgres(tmp_path: Path, pg_server: object) -> None:
    home = tmp_path / "home"
    r = _run(_env(home), "db", "migrate")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("applied ") and "0001" in r.stdout and "0200" in r.stdout
    r = _run(_env(home), "db", "migrate")
    assert "is up to date" in r.stdout
    url = pg_server.new_database(migrated=False)  # type: ignore[attr-defined]
    r = _run(_env(home, QWENAPP_DATABASE_URL=url), "db", "migrate")
    assert r.returncode == 0, r.stderr
    assert "applied 8 migration(s)" in r.stdout or "applied " in r.stdout
    assert "qwenapp-test" not in r.stdout + r.stderr  # the password is never printed
    r = _run(_env(home, QWENAPP_DATABASE_URL=url), "db", "migrate")
    assert "is up to date" in r.stdout


def test_db_errors_are_one_line(tmp_path: Path) -> None:
    r = _run(_env(tmp_path / "home", QWENAPP_DATABASE_URL="postgresql://u:pw@127.0.0.1:1/x"),
             "db", "migrate")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cannot reach PostgreSQL" in r.stderr and ":pw@" not in r.stderr
    r = _run(_env(tmp_path / "home", QWENAPP_DATABASE_URL="postgresql://u:pw@127.0.0.1:1/x"),
             "serve", "-m", "scripted", "--port", "0")  # checked before the server starts
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "cannot reach PostgreSQL" in r.stderr and ":pw@" not in r.stderr
    r = _run(_env(tmp_path / "home"), "db", "copy", "--to", "sqlite:///x")
    assert r.returncode != 0 and "--to must be a postgresql:// URL" in r.stderr
    r = _run(_env(tmp_path / "empty"), "db", "copy", "--to", "postgresql://u@h/d")
    assert r.returncode != 0 and "no SQLite database" in r.stderr


def test_copy_then_serve_from_postgres(tmp_path: Path, pg_url: str) -> None:
    home = tmp_path / "home"
    conn = open_db(home / "qwenapp.db")
    store = ConversationStore(conn)
    conv = store.create("scripted", title="Before the move")
    q = store.add_message(conv.id, "user", "北京的历史有多长？")
    store.add_message(conv.id, "assistant", "三千多年。", parent_id=q.id)
    conn.close()

    r = _run(_env(home), "db", "copy", "--to", pg_url)
    assert r.returncode == 0, r.stderr
    assert "every count matches" in r.stdout and "qwenapp-test" not in r.stdout
    counts = dict(line.split() for line in r.stdout.splitlines()[:-1])
    assert counts["conversations"] == "1" and counts["messages"] == "2"
    r = _run(_env(home), "db", "copy", "--to", pg_url)  # a second time: refused, plainly
    assert r.returncode != 0 and "not empty" in r.stderr and "Traceback" not in r.stderr

    # Served from PostgreSQL: the copied conversation is there, search works, chat is saved.
    server = serve_process(qwenapp_cmd(), _env(home, QWENAPP_DATABASE_URL=pg_url),
                           args=["-m", "scripted"])
    try:
        with api_client(server.url) as api:
            listed = api.get("/api/conversations").json()
            assert conv.id in [c["id"] for c in listed["conversations"]]
            hits = api.get("/api/conversations", params={"q": "北京"}).json()["conversations"]
            assert [c["id"] for c in hits] == [conv.id]
            new = api.post("/api/conversations", json={}).json()
            events = chat(api, new["id"], "hello from postgres")
            assert events[-1].event == "done", events
            saved = api.get(f"/api/conversations/{new['id']}").json()["messages"]
            assert [m["role"] for m in saved][-2:] == ["user", "assistant"]
            assert saved[-1]["content"]
    finally:
        server.stop()
    pg = open_db(pg_url)
    assert table_counts(pg, ["conversations"])["conversations"] == 2
    pg.close()
