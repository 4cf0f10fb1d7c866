"""PostgreSQL for all state, against a real server (tests/pg_fixture.py): connection
failures said plainly, the server's stores (accounts, keys, sessions, jobs, ownership,
versions), search in Chinese and English, and ``db copy`` of a populated SQLite home
that loses no row and leaves an app that works on PostgreSQL."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher

from qwenapp.errors import InputError, StorageError
from qwenapp.library import Library
from qwenapp.reports.versions import ReportVersions
from qwenapp.server.citations import load_sources, save_sources
from qwenapp.server.jobs.store import JobStore
from qwenapp.server.ownership import Ownership
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import Connection, ConversationStore, open_db, transaction
from qwenapp.store.copy import copy_database, table_counts
from qwenapp.store.deck_versions import DeckVersions
from qwenapp.store.postgres import redact, to_pg_sql

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

if TYPE_CHECKING:
    from pg_fixture import PgServer

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CORPUS = Path(__file__).parent / "fixtures" / "corpus"


# -- translation and settings (no server needed) ----------------------------------------

def test_placeholders_are_translated_outside_literals_only() -> None:
    assert to_pg_sql("SELECT 1 FROM t WHERE a = ? AND b LIKE 'x%?' || ?") == \
        "SELECT 1 FROM t WHERE a = %s AND b ILIKE 'x%%?' || %s"
    assert to_pg_sql("SELECT * FROM m WHERE parent_id IS ? AND x IS NOT ?") == \
        "SELECT * FROM m WHERE parent_id IS NOT DISTINCT FROM %s AND x IS DISTINCT FROM %s"
    assert to_pg_sql('SELECT "we?ird" FROM t WHERE x = \'it\'\'s ?\'') == \
        'SELECT "we?ird" FROM t WHERE x = \'it\'\'s ?\''
    # SQLite's LIKE ignores case; so does the translation (ILIKE is left alone)
    assert to_pg_sql("SELECT 1 WHERE a NOT LIKE 'http%' AND b ILIKE 'x'", bound=False) == \
        "SELECT 1 WHERE a NOT ILIKE 'http%' AND b ILIKE 'x'"


def test_a_password_never_shows() -> None:
    assert redact("postgresql://me:s3cret@db:5432/q") == "postgresql://me:***@db:5432/q"
    assert redact("postgresql://me@db/q") == "postgresql://me@db/q"


def test_database_url_setting(tmp_path: Path) -> None:
    s = load_settings({"QWENAPP_HOME": str(tmp_path)})
    assert s.database_url is None and s.database == tmp_path / "qwenapp.db"
    url = "postgresql://u:p@h/db"
    assert load_settings({"QWENAPP_HOME": str(tmp_path),
                          "QWENAPP_DATABASE_URL": url}).database == url
    (tmp_path / "config.toml").write_text(f'database_url = "{url}"\n')
    assert load_settings({"QWENAPP_HOME": str(tmp_path)}).database == url
    with pytest.raises(InputError, match="postgresql:// URL"):
        load_settings({"QWENAPP_HOME": str(tmp_path), "QWENAPP_DATABASE_URL": "mysql://x"})


# -- failures a user can meet -------------------------------------------------------------

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_down_is_one_line_with_a_hint() -> None:
    with pytest.raises(StorageError) as e:
        open_db(f"postgresql://u:secret@127.0.0.1:{_closed_port()}/q")
    assert e.value.message.startswith("cannot reach PostgreSQL at postgresql://u:***@")
    assert "\n" not in e.value.message and "secret" not in e.value.message
    assert "running" in e.value.hint and "QWENAPP_DATABASE_URL" in e.value.hint


def test_without_psycopg_the_hint_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(StorageError, match="PostgreSQL support is not installed") as e:
        open_db("postgresql://u:p@127.0.0.1/db")
    assert "qwenapp[postgres]" in e.value.hint


def test_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="not a valid PostgreSQL URL") as e:
        open_db("postgresql://u:secret@host/db?nonsense=1")
    assert "secret" not in e.value.message and "postgresql://user:password@" in e.value.hint
    with pytest.raises(StorageError, match="cannot reach PostgreSQL"):
        open_db("postgresql://u:p@no-such-host.invalid/db")


def test_wrong_password_and_missing_database(pg_server: PgServer) -> None:
    with pytest.raises(StorageError, match="refused the user or password") as e:
        open_db(pg_server.url("postgres", password="wrong-password"))
    assert "wrong-password" not in str(e.value) + e.value.hint
    with pytest.raises(StorageError, match="does not exist") as e:
        open_db(pg_server.url("no_such_db"))
    assert "createdb" in e.value.hint


def test_a_lost_connection_is_a_storage_error(pg_url: str) -> None:
    conn = open_db(pg_url)
    conn.close()
    with pytest.raises(StorageError):
        ConversationStore(conn).create("m")


_KILL = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "


def test_a_dropped_connection_is_opened_again(pg_server: PgServer, pg_url: str) -> None:
    conn = open_db(pg_url)
    store = ConversationStore(conn)
    conv = store.create("m")
    pg_server.admin(_KILL + f"'{pg_url.rsplit('/', 1)[1]}'")  # a restart, as the app sees it
    with pytest.raises(StorageError, match="cannot reach PostgreSQL"):
        store.get(conv.id)  # the statement that met the break fails, plainly
    assert store.get(conv.id).id == conv.id  # and the next one reconnects
    # mid-transaction, a break is never papered over by a new connection: all or nothing
    with pytest.raises(StorageError), transaction(conn) as c:
        c.execute("INSERT INTO conversations (id, model, created_at, updated_at) "
                  "VALUES ('HALF', 'm', 'x', 'x')")
        pg_server.admin(_KILL + f"'{pg_url.rsplit('/', 1)[1]}'")
        c.execute("UPDATE conversations SET title = 'x' WHERE id = 'HALF'")
    assert conn.execute("SELECT count(*) FROM conversations WHERE id = 'HALF'"
                        ).fetchone()[0] == 0
    conn.close()


def test_migrations_are_idempotent_and_a_newer_schema_is_refused(pg_server: PgServer) -> None:
    url = pg_server.new_database(migrated=False)
    conn = open_db(url)
    versions = [r[0] for r in conn.execute("SELECT version FROM migrations ORDER BY version")]
    assert versions[0] == 1 and 200 in versions
    conn.close()
    conn = open_db(url)  # nothing left to apply
    conn.execute("INSERT INTO migrations VALUES (9999, 'future', '2100-01-01')")
    conn.close()
    with pytest.raises(StorageError, match="newer qwenapp"):
        open_db(url)


# -- the server's stores on PostgreSQL ----------------------------------------------------

@pytest.fixture
def pg(pg_url: str) -> Any:
    conn = open_db(pg_url)
    yield conn
    conn.close()


def test_accounts_keys_and_sessions(pg: Connection) -> None:
    users = UserStore(pg, FAST)
    alice = users.add("Alice", "alice-password", admin=True)
    with pytest.raises(InputError, match="already exists"):
        users.add("alice", "other-password")  # usernames are case-insensitive, as in SQLite
    assert users.get("ALICE").id == alice.id and users.get("alice").is_admin
    assert users.verify("alice", "alice-password") == alice
    assert users.verify("alice", "nope") is None
    token, session = users.create_session(alice, days=1)
    assert users.session(token) == session
    new = users.add_key(alice, "ci")
    assert users.key_user(new.secret) == alice
    assert users.revoke_key(alice, new.key.id) and users.key_user(new.secret) is None
    users.set_password("alice", "another-password")
    assert users.session(token) is None  # a new password ends every session


def test_jobs_events_artifacts_and_purge(pg: Connection) -> None:
    store, jobs, owners = ConversationStore(pg), JobStore(pg), Ownership(pg)
    conv = store.create("m")
    owners.claim_conversation(conv.id, "u1")
    q = store.add_message(conv.id, "user", "hello")
    save_sources(pg, q.id, [{"n": 1, "text": "a passage"}])
    job = jobs.create("u1", "report", "T", {"question": "q"}, conversation_id=conv.id,
                      after_message_id=q.id)
    assert [jobs.append_event(job.id, "progress", {"i": i}) for i in range(3)] == [1, 2, 3]
    assert [e.seq for e in jobs.events(job.id, after=1)] == [2, 3]
    jobs.add_artifact(job.id, "report.md", "text/markdown", 10)
    jobs.add_artifact(job.id, "report.md", "text/markdown", 12)  # an upsert, not a second row
    assert [(a.name, a.size) for a in jobs.artifacts(job.id)] == [("report.md", 12)]
    assert [j.id for j in jobs.for_user("u1")] == [job.id]
    assert jobs.for_conversation(conv.id, "u1")[0].after_message_id == q.id
    assert load_sources(pg, [q.id]) == {q.id: [{"n": 1, "text": "a passage"}]}
    assert owners.owns_conversation(conv.id, "u1") and not owners.owns_conversation(conv.id, "u2")
    purged = owners.purge("u1")
    assert purged.conversations == 1 and purged.jobs == [job.id]
    assert jobs.get_any(job.id) is None and owners.conversations("u1", 10) == []
    assert table_counts(pg, ["server_job_events", "messages", "server_message_sources"]) == \
        {"server_job_events": 0, "messages": 0, "server_message_sources": 0}


def test_writers_in_several_processes_never_share_an_event_number(pg_url: str) -> None:
    # Each thread has its own connection, as each app process would: read-then-write code
    # (the next event number of a job) stays correct under the one write lock.
    import threading

    job = JobStore(pg_setup := open_db(pg_url)).create("u", "report", "t", {})
    pg_setup.close()
    got: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        conn = open_db(pg_url)
        try:
            store = JobStore(conn)
            got.extend(store.append_event(job.id, "p", {}) for _ in range(25))
        except BaseException as e:  # reported by the assert below
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and sorted(got) == list(range(1, 101))


def _cells_with(conn: Connection, word: str) -> list[tuple[str, str]]:
    """(table, column) of every cell of every table whose text contains ``word``."""
    found = []
    for (t,) in conn.execute("SELECT table_name FROM information_schema.tables WHERE "
                             "table_schema = current_schema()").fetchall():
        cur = conn.execute(f'SELECT * FROM "{t}"')
        cols = [d.name for d in cur.description]
        for row in cur:
            for col, value in zip(cols, row, strict=True):
                if word in str(value).lower():
                    found.append((t, col))
    return found


def test_removing_a_user_leaves_no_trace_of_their_words(pg: Connection, tmp_path: Path) -> None:
    users, store, owners, jobs = UserStore(pg, FAST), ConversationStore(pg), Ownership(pg), \
        JobStore(pg)
    lib = Library(pg)
    for name, word in (("alice", "quokkavelt"), ("bob", "wombatrix")):
        user = users.add(name, f"{name}-password")
        conv = store.create("m", title=f"{word} plans")
        owners.claim_conversation(conv.id, user.id)
        q = store.add_message(conv.id, "user", f"tell me about {word}")
        save_sources(pg, q.id, [{"text": word}])
        doc = tmp_path / f"{name}.md"
        doc.write_text(f"# Notes\n\nThe {word} project ships in March.\n")
        got = lib.ingest_file(doc)
        owners.claim_document(got.document_id or "", user.id, doc.name, doc.name, "text/md")
        job = jobs.create(user.id, "report", word, {"question": word})
        jobs.append_event(job.id, "progress", {"text": word})
        users.add_key(user, f"{word}-key")
    alice = users.get("alice")
    owners.purge(alice.id, account=True)
    assert _cells_with(pg, "quokkavelt") == []
    assert {t for t, _ in _cells_with(pg, "wombatrix")} >= {
        "conversations", "messages", "server_message_sources", "library_chunks",
        "library_fts", "server_jobs", "server_job_events", "server_api_keys"}


def test_deck_and_report_versions(pg: Connection) -> None:
    decks = DeckVersions(pg)
    assert decks.add("JOB1", "u", "{}", "plain").version == 1
    assert decks.add("JOB1", "u", "{}", "plain", summary="shorter").version == 2
    latest = decks.latest("JOB1", "u")
    assert decks.resolve("JOB", "u") == "JOB1" and latest is not None and latest.version == 2
    versions = ReportVersions(pg)
    v = versions.add("R1", "R2", request="shorter", summary="s", changed=[1])
    assert (v.version, [h.report_id for h in versions.history("R2")]) == (2, ["R1", "R2"])


def test_library_search_finds_chinese_and_english(pg: Connection, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    lib = Library(pg)
    assert all(o.status == "added" for o in lib.ingest([docs]))
    zh = lib.search("模型", limit=3)
    assert zh and all("模型" in h.text for h in zh)
    assert lib.search("千问生态")[0].title.startswith("千问")  # the title counts too
    en = lib.search("licensing", limit=3)  # stemmed: "license", "licensed" match
    assert en and any("licens" in h.text.lower() for h in en)
    assert en[0].score >= en[-1].score > 0
    doc = lib.find(zh[0].document_id[-8:])  # by the id suffix `docs list` shows
    assert lib.search("模型", document_ids=[doc.id])
    lib.remove(doc.id)  # its search rows go with its chunks
    assert all(h.document_id != doc.id for h in lib.search("模型"))


def test_conversation_search_chinese_and_english(pg: Connection) -> None:
    store = ConversationStore(pg)
    zh = store.create("m")
    store.add_message(zh.id, "user", "请介绍一下北京的历史")
    en = store.create("m", title="Sorting in Python")
    store.add_message(en.id, "user", "How do I sort a list?")
    assert [h.conversation_id for h in store.search("北京")] == [zh.id]
    assert {h.conversation_id for h in store.search("SORT")} == {en.id}
    assert [h.message_id for h in store.search("python")] == [None]  # the title matched
    assert store.search("100%") == [] and store.search("_") == []  # LIKE syntax is text


# -- db copy: a populated SQLite home into PostgreSQL -------------------------------------

def _populate(conn: Connection, tmp_path: Path) -> dict[str, Any]:
    store, users, jobs, owners = (ConversationStore(conn), UserStore(conn, FAST), JobStore(conn),
                                  Ownership(conn))
    alice = users.add("alice", "alice-password")
    users.add_key(alice, "laptop")
    users.create_session(alice, days=3)
    conv = store.create("qwen3", system_prompt="Be brief.")
    owners.claim_conversation(conv.id, alice.id)
    q = store.add_message(conv.id, "user", "北京有多少年的历史？ And sorting?")
    a1 = store.add_message(conv.id, "assistant", "三千多年。", parent_id=q.id)
    store.add_message(conv.id, "assistant", "Over 3,000 years.", parent_id=q.id)  # a branch
    q2 = store.add_message(conv.id, "user", "Why?", parent_id=a1.id)
    store.add_message(conv.id, "assistant", "Because of the Zhou.", parent_id=q2.id)
    save_sources(conn, a1.id, [{"n": 1, "text": "source"}])
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    outcomes = list(Library(conn).ingest([docs]))
    owners.claim_document(outcomes[0].document_id or "", alice.id, "a.txt", "X.txt", "text/plain")
    job = jobs.create(alice.id, "report", "Beijing", {"question": "北京?"},
                      conversation_id=conv.id, after_message_id=q.id)
    for i in range(5):
        jobs.append_event(job.id, "progress", {"step": i, "text": "第几步"})
    jobs.add_artifact(job.id, "report.md", "text/markdown", 123)
    jobs.set_status(job.id, "done")
    DeckVersions(conn).add(job.id, alice.id, "{}", "plain")
    return {"conv": conv.id, "leaf": store.leaf(conv.id), "alice": alice, "job": job.id}


def test_db_copy_loses_no_row_and_the_app_works_on_postgres(tmp_path: Path,
                                                             pg_url: str) -> None:
    src = open_db(tmp_path / "home" / "qwenapp.db")
    made = _populate(src, tmp_path)
    dst = open_db(pg_url)
    copied = {t.name: t.rows for t in copy_database(src, dst)}
    tables = list(copied)
    assert table_counts(src, tables) == table_counts(dst, tables) == copied
    for t in ("conversations", "messages", "library_documents", "library_chunks",
              "library_fts", "server_users", "server_api_keys", "server_sessions",
              "server_jobs", "server_job_events", "server_job_artifacts",
              "conversation_owners", "document_owners", "server_message_sources",
              "deck_versions"):
        assert copied[t] > 0, t
    assert "messages_fts" not in copied and "migrations" not in copied
    for t, key in (("messages", "seq"), ("library_chunks", "id"), ("server_job_events", "seq")):
        assert [tuple(r) for r in src.execute(f"SELECT {key} FROM {t} ORDER BY {key}")] == \
            [tuple(r) for r in dst.execute(f"SELECT {key} FROM {t} ORDER BY {key}")]

    # The app on PostgreSQL: the same conversation, its branches, search, jobs, accounts.
    store = ConversationStore(dst)
    assert [m.content for m in store.thread(made["conv"])] == \
        [m.content for m in ConversationStore(src).thread(made["conv"])]
    first_q = store.thread(made["conv"])[0]
    assert len(store.children(first_q.id)) == 2  # the regenerated answer is kept
    assert [h.conversation_id for h in store.search("北京")] == [made["conv"]]
    assert {h.conversation_id for h in store.search("sorting")} == {made["conv"]}
    assert Library(dst).search("模型") and Library(dst).search("licensing")
    jobs = JobStore(dst)
    assert [j.id for j in jobs.for_user(made["alice"].id)] == [made["job"]]
    assert jobs.append_event(made["job"], "late", {}) == 6  # numbering carries on
    assert UserStore(dst, FAST).verify("alice", "alice-password") == made["alice"]
    # identity sequences were advanced past the copied ids: new rows do not collide
    new = store.create("m")
    store.add_message(new.id, "user", "a new message")
    Library(dst).add_document(Library(src).worker.prepare(CORPUS / "gardening.txt",
                                                          Library(src).limits).document,
                              "https://example.com/new")

    # a second copy refuses, clearly, and writes nothing
    before = table_counts(dst, tables)
    with pytest.raises(StorageError, match="not empty") as e:
        copy_database(src, dst)
    assert "nothing was written" in e.value.hint and table_counts(dst, tables) == before
    src.close()
    dst.close()
