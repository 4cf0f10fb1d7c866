"""The storage layer against a real SQLite file: schema, branches, search, failures, exports.

Tests taking ``store`` run twice: on SQLite and on a real PostgreSQL (tests/pg_fixture.py;
skipped, saying why, where PostgreSQL is not installed).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qwenapp.errors import InputError, StorageError
from qwenapp.models.events import Usage
from qwenapp.store import ConversationStore, dialect_of, new_id, open_db, title_from
from qwenapp.store.db import Migration, _migrate, applied_versions, load_migrations, schema_version
from qwenapp.store.export import from_json, to_json, to_markdown
from qwenapp.store.ids import is_ulid, ulid_timestamp_ms

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "qwenapp.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, db_path: Path) -> Iterator[ConversationStore]:
    conn = open_db(db_path if request.param == "sqlite" else request.getfixturevalue("pg_url"))
    yield ConversationStore(conn)
    conn.close()


# -- schema and ids -----------------------------------------------------------


def test_open_creates_folder_and_migrations_are_idempotent(db_path: Path) -> None:
    conn = open_db(db_path)
    latest = load_migrations()[-1].version
    assert schema_version(conn) == latest
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    ConversationStore(conn).create("m", title="kept")
    conn.close()

    again = open_db(db_path)  # a second open applies nothing and keeps the data
    rows = again.execute("SELECT version FROM migrations").fetchall()
    assert [r[0] for r in rows] == [m.version for m in load_migrations()]
    assert [c.title for c in ConversationStore(again).recent()] == ["kept"]
    again.close()


def test_a_migration_numbered_below_an_applied_one_still_runs(db_path: Path) -> None:
    conn = open_db(db_path)
    known = load_migrations()
    free = next(v for v in range(2, 100) if v not in {m.version for m in known})
    late = Migration(free, "late", "-- added later\nCREATE TABLE late (x);\n")
    assert late.version not in applied_versions(conn)
    _migrate(conn, db_path, [*known, late])
    _migrate(conn, db_path, [*known, late])  # and only once
    assert late.version in applied_versions(conn)
    assert conn.execute("SELECT count(*) FROM late").fetchone()[0] == 0
    conn.close()


def test_ulids_are_unique_sortable_and_well_formed() -> None:
    before = int(time.time() * 1000)
    ids = [new_id() for _ in range(10_000)]
    after = int(time.time() * 1000)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)  # monotonic, even within one millisecond
    assert all(is_ulid(i) for i in ids)
    assert before <= ulid_timestamp_ms(ids[0]) <= ulid_timestamp_ms(ids[-1]) <= after


def test_title_from_trims_long_text() -> None:
    assert title_from("  hello\n  world ") == "hello world"
    long = "word " * 40
    title = title_from(long)
    assert len(title) <= 61 and title.endswith("…") and not title.endswith(" …")
    cjk = "北京" * 50
    assert title_from(cjk) == "北京" * 30 + "…"


# -- conversations and messages -------------------------------------------------


def test_cached_prompt_tokens_are_kept(store: ConversationStore) -> None:
    conv = store.create("qwen3-8b")
    q = store.add_message(conv.id, "user", "hello")
    a = store.add_message(conv.id, "assistant", "", parent_id=q.id, status="streaming")
    store.update_message(a.id, content="hi", usage=Usage(700, 12, 675), status="complete")
    saved = store.message(a.id)
    assert saved.cached_tokens == 675 and saved.usage == Usage(700, 12, 675)
    data = to_json(store.get(conv.id), store.thread(conv.id))
    assert data["messages"][-1]["usage"]["cached_tokens"] == 675
    assert from_json(data)[1][-1].cached_tokens == 675
    old = store.add_message(conv.id, "assistant", "x", parent_id=q.id, usage=Usage(5, 1))
    assert store.message(old.id).usage == Usage(5, 1, 0)


def test_create_add_and_default_title(store: ConversationStore) -> None:
    conv = store.create("qwen3-8b", system_prompt="Be brief.")
    assert conv.title is None and conv.display_title == "(untitled)"
    store.add_message(conv.id, "system", "ignored for titles")
    q = store.add_message(conv.id, "user", "What is the capital of France? " * 5)
    a = store.add_message(conv.id, "assistant", "Paris.", parent_id=q.id,
                          reasoning="The user asks about France.", model="qwen3-8b",
                          usage=Usage(12, 3), finish_reason="stop")
    store.add_message(conv.id, "user", "And of Italy?", parent_id=a.id)
    got = store.get(conv.id)
    assert got.title == title_from(q.content) and got.message_count == 4
    assert got.system_prompt == "Be brief."
    saved = store.message(a.id)
    assert saved.usage == Usage(12, 3) and saved.reasoning.startswith("The user")
    assert saved.content == "Paris." and saved.status == "complete"
    assert store.set_title_if_empty(conv.id, "other") is False
    assert store.rename(conv.id, "  France\nquestions ").title == "France questions"


def test_branches_regenerate_and_edit(store: ConversationStore) -> None:
    conv = store.create("m")
    q1 = store.add_message(conv.id, "user", "Tell me a joke")
    a1 = store.add_message(conv.id, "assistant", "Joke one", parent_id=q1.id)
    a2 = store.add_message(conv.id, "assistant", "Joke two", parent_id=q1.id)  # regenerate
    assert [m.id for m in store.thread(conv.id)] == [q1.id, a2.id]
    assert [m.id for m in store.thread(conv.id, leaf_id=a1.id)] == [q1.id, a1.id]
    assert [m.id for m in store.children(q1.id)] == [a1.id, a2.id]

    # Editing the question adds a sibling root; the thread follows the newest branch.
    q2 = store.add_message(conv.id, "user", "Tell me a pun", parent_id=None)
    a3 = store.add_message(conv.id, "assistant", "Pun", parent_id=q2.id)
    assert [m.id for m in store.thread(conv.id)] == [q2.id, a3.id]
    assert [m.id for m in store.siblings(q2)] == [q1.id, q2.id]
    assert [m.id for m in store.thread(conv.id, leaf_id=a2.id)] == [q1.id, a2.id]
    assert store.leaf(conv.id) == a3

    other = store.create("m")
    with pytest.raises(InputError, match="no message"):
        store.thread(other.id, leaf_id=a1.id)
    with pytest.raises(InputError, match="no message"):
        store.add_message(other.id, "assistant", "x", parent_id=a1.id)


def test_streaming_answer_saved_then_interrupted(store: ConversationStore) -> None:
    conv = store.create("m")
    q = store.add_message(conv.id, "user", "Write a poem")
    a = store.add_message(conv.id, "assistant", "", parent_id=q.id, status="streaming")
    store.update_message(a.id, content="Roses are", reasoning="Poem time.")
    done = store.update_message(a.id, content="Roses are red", status="interrupted",
                                usage=Usage(5, 4), finish_reason="cancelled")
    assert (done.content, done.reasoning, done.status) == ("Roses are red", "Poem time.",
                                                           "interrupted")
    assert done.usage == Usage(5, 4) and done.finish_reason == "cancelled"
    # The search index follows the updates.
    assert [h.message_id for h in store.search("red")] == [a.id]
    assert store.search("Roses are red")[0].message_id == a.id
    cleared = store.update_message(a.id, usage=None, finish_reason=None)
    assert cleared.usage is None and cleared.finish_reason is None
    with pytest.raises(InputError):
        store.update_message(a.id, status="bogus")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no message"):
        store.update_message("01NOSUCHMESSAGE0000000000", content="x")


def test_bad_role_and_status_are_input_errors(store: ConversationStore) -> None:
    conv = store.create("m")
    with pytest.raises(InputError, match="role"):
        store.add_message(conv.id, "tool", "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="status"):
        store.add_message(conv.id, "user", "x", status="done")  # type: ignore[arg-type]


def test_get_by_id_prefix(store: ConversationStore) -> None:
    a = store.create("m", title="first")
    b = store.create("m", title="second")
    assert store.get(a.id.lower()).id == a.id
    shared = a.id[: next(i for i, (x, y) in enumerate(zip(a.id, b.id, strict=True)) if x != y)]
    unique = a.id[: max(4, len(shared) + 1)]
    assert store.get(unique).id == a.id
    assert len(shared) >= 4  # created in the same second: they share the time prefix
    with pytest.raises(InputError, match="more than one"):
        store.get(shared)
    with pytest.raises(InputError, match="at least 4") as e:
        store.get(a.id[:3])
    assert "history list" in e.value.hint
    with pytest.raises(InputError, match="no conversation with id"):
        store.get("ZZZZZZZZ")
    short = store.short_ids([a.id, b.id])
    assert all(len(s) >= 8 and store.get(s).id == full for full, s in short.items())


def test_list_latest_and_counts(store: ConversationStore) -> None:
    assert store.latest() is None and store.recent() == []
    convs = [store.create("m", title=f"c{i}") for i in range(3)]
    store.add_message(convs[0].id, "user", "bump")  # now the most recently updated
    listed = store.recent()
    assert [c.title for c in listed] == ["c0", "c2", "c1"]
    assert [c.message_count for c in listed] == [1, 0, 0]
    assert store.latest() == listed[0]
    assert [c.title for c in store.recent(limit=1, offset=1)] == ["c2"]
    with pytest.raises(InputError):
        store.recent(limit=0)


def test_delete_cascades_to_messages_and_search(store: ConversationStore) -> None:
    keep = store.create("m")
    store.add_message(keep.id, "user", "kangaroo facts")
    gone = store.create("m")
    q = store.add_message(gone.id, "user", "kangaroo jokes")
    store.add_message(gone.id, "assistant", "A kangaroo walks into a bar", parent_id=q.id)
    store.delete(gone.id)
    conn = store.connection
    assert conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                        (gone.id,)).fetchone()[0] == 0
    assert {h.conversation_id for h in store.search("kangaroo")} == {keep.id}
    if dialect_of(conn) == "sqlite":  # PostgreSQL checks every foreign key as it goes
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(InputError):
        store.get(gone.id)


# -- search ----------------------------------------------------------------------


@pytest.fixture
def searchable(store: ConversationStore) -> ConversationStore:
    en = store.create("m")
    q = store.add_message(en.id, "user", "How do I sort a list in Python?")
    store.add_message(en.id, "assistant", "Use sorted(xs) or xs.sort() — both are O(n log n).",
                      parent_id=q.id, reasoning="secret-thought about zebras")
    zh = store.create("m")
    q = store.add_message(zh.id, "user", "请介绍一下北京的历史")
    store.add_message(zh.id, "assistant", "北京有三千多年的建城史。", parent_id=q.id)
    titled = store.create("m", title="Holiday planning")
    store.add_message(titled.id, "user", "Where should we go in June?")
    return store


def test_search_english(searchable: ConversationStore) -> None:
    hits = searchable.search("SORT")  # case-insensitive, substrings match ("sorted")
    assert {h.role for h in hits} == {"user", "assistant"}
    assert all("sort" in h.snippet.lower() for h in hits)
    assert [h.role for h in searchable.search("sort python")] == ["user"]  # every term
    assert [h.role for h in searchable.search('"sort a list"')] == ["user"]  # a phrase
    assert searchable.search('"list a sort"') == []
    assert searchable.search("zebras") == []  # reasoning is not searched
    by_title = searchable.search("holiday")
    assert [(h.message_id, h.conversation_title) for h in by_title] == [
        (None, "Holiday planning")]


def test_search_chinese(searchable: ConversationStore) -> None:
    for query in ("北京的历史", "北京", "建城史", "历史"):  # 2-character words too
        hits = searchable.search(query)
        assert hits, query
        assert all(query in h.snippet for h in hits)
    assert [h.role for h in searchable.search("三千多年")] == ["assistant"]
    assert searchable.search("上海") == []


@pytest.mark.parametrize("query", [
    '"', '""', '"unbalanced', 'a"b', "-", "--x", "a:b", "content:北京", "*", "sort*",
    "NEAR(a b)", "AND", "OR NOT", "(", ")", "^sort", "'", "%", "_", "\\", "\x00",
    "a AND OR", "{col}: x", "🙂", "xs.sort()", "O(n log n)", "— both",
])
def test_hostile_queries_never_raise_sqlite_errors(searchable: ConversationStore,
                                                   query: str) -> None:
    try:
        hits = searchable.search(query)
    except InputError as e:  # only for queries with nothing to search for
        assert e.message == "nothing to search for"
        assert not query.replace("\x00", " ").strip('" ')  # control characters separate
        return
    for h in hits:
        assert h.snippet


def test_search_finds_punctuation_literally(searchable: ConversationStore) -> None:
    assert [h.role for h in searchable.search("xs.sort()")] == ["assistant"]
    assert [h.role for h in searchable.search("O(n log n)")] == ["assistant"]
    assert [h.role for h in searchable.search("?")] == ["user", "user"]


# -- failures a user can meet -----------------------------------------------------


def test_locked_database_is_a_plain_storage_error(db_path: Path) -> None:
    open_db(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        conn = open_db(db_path, busy_timeout=0.1)  # WAL: reading still works
        store = ConversationStore(conn)
        assert store.recent() == []
        started = time.monotonic()
        with pytest.raises(StorageError) as e:
            store.create("m")
        assert time.monotonic() - started < 2
        assert "another qwenapp is writing" in e.value.message
        assert e.value.hint == "try again in a moment"
        conn.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_locked_new_database(db_path: Path) -> None:
    # Another process is creating the file (rollback journal, exclusive lock): even reads wait.
    db_path.parent.mkdir(parents=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE x (y)")
    try:
        with pytest.raises(StorageError, match="another qwenapp is writing"):
            open_db(db_path, busy_timeout=0.1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_read_only_database_file(db_path: Path) -> None:
    # Tests run as root, for whom chmod does not stop writes. ``read_only=True``
    # opens the file with SQLite's ``mode=ro``: every write then fails inside
    # SQLite with SQLITE_READONLY, the very error a user gets for a database
    # file they may read but not write, so the translation is really exercised.
    open_db(db_path).close()
    conn = open_db(db_path, read_only=True)
    store = ConversationStore(conn)
    assert store.recent() == []
    with pytest.raises(StorageError) as e:
        store.create("m")
    assert e.value.message == f"the database {db_path} is read-only"
    assert "QWENAPP_HOME" in e.value.hint
    conn.close()


def test_read_only_file_needing_migration(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()  # an empty database: migrations are due
    with pytest.raises(StorageError, match="read-only"):
        open_db(db_path, read_only=True)


def _without_root(fn: Callable[[], str]) -> str:
    """Run ``fn`` where file permissions apply, returning its result.

    As a normal user, that is here. As root (these tests run as root, and
    root ignores permission bits), it is a forked child that first drops to
    the uid of ``nobody``: the kernel then really refuses the writes, so the
    code path is the one a user on a read-only folder meets.
    """
    if os.geteuid() != 0:
        return fn()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_fd)
            try:
                os.setgid(65534)
                os.setuid(65534)
            except OSError:
                out = "SKIP"
            else:
                out = fn()
        except BaseException as e:
            out = f"CRASH {e!r}"
            code = 1
        os.write(write_fd, out.encode("utf-8", "replace"))
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        result = f.read().decode("utf-8")
    os.waitpid(pid, 0)
    if result == "SKIP":
        pytest.skip("cannot drop root privileges here")
    return result


def _try_open(path: Path, write: bool) -> str:
    try:
        conn = open_db(path)
        if write:
            ConversationStore(conn).create("m")
        conn.close()
    except StorageError as e:
        return f"{e.message} | {e.hint}"
    return "opened"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    # Not under tmp_path: pytest makes that private to root, so "nobody" could not enter it.
    base = Path(tempfile.mkdtemp(prefix="qwenapp-test-"))
    base.chmod(0o755)
    yield base
    for p in (base, *base.rglob("*")):
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(base)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_read_only_folder(shared_dir: Path) -> None:
    home = shared_dir / "home"
    home.mkdir()
    home.chmod(0o555)
    result = _without_root(lambda: _try_open(home / "qwenapp.db", write=True))
    assert result.startswith(f"cannot open the database {home / 'qwenapp.db'}"), result
    assert "read-only" in result and "set QWENAPP_HOME to a writable folder" in result
    nested = _without_root(lambda: _try_open(home / "sub" / "qwenapp.db", write=True))
    assert nested == f"the folder {home / 'sub'} is read-only | " \
                     "set QWENAPP_HOME to a writable folder", nested


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_read_only_file_real_permissions(shared_dir: Path) -> None:
    home = shared_dir / "home"
    path = home / "qwenapp.db"
    open_db(path).close()
    path.chmod(0o644)  # owned by root: another user may read it, not write it
    home.chmod(0o755)
    result = _without_root(lambda: _try_open(path, write=True))
    assert "read-only" in result and "QWENAPP_HOME" in result, result


def test_not_a_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not SQLite at all " * 200)
    with pytest.raises(StorageError, match="not a qwenapp database") as e:
        open_db(db_path)
    assert "move the file aside" in e.value.hint


def test_home_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot create the folder"):
        open_db(blocker / "qwenapp.db")


def test_disk_full(store: ConversationStore) -> None:
    # SQLite reports a database that reached max_page_count exactly as a full disk.
    conn = store.connection
    if dialect_of(conn) != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    conv = store.create("m")
    with pytest.raises(StorageError, match="no space left") as e:
        store.add_message(conv.id, "user", "x" * 200_000)
    assert "disk space" in e.value.hint
    assert store.get(conv.id).message_count == 0  # rolled back


def test_newer_schema_is_refused(db_path: Path) -> None:
    conn = open_db(db_path)
    conn.execute("INSERT INTO migrations VALUES (9999, 'future', '2100-01-01')")
    conn.close()
    with pytest.raises(StorageError, match="newer qwenapp"):
        open_db(db_path)


# -- exports ----------------------------------------------------------------------


@pytest.fixture
def exported(store: ConversationStore) -> tuple[ConversationStore, str]:
    conv = store.create("qwen3-8b", system_prompt="Answer in one line.")
    q = store.add_message(conv.id, "user", "Why is the sky blue?")
    a = store.add_message(conv.id, "assistant", "Rayleigh scattering.", parent_id=q.id,
                          reasoning="Short wavelengths scatter more.\n\nSo: blue.",
                          model="qwen3-8b", usage=Usage(20, 4), finish_reason="stop")
    q2 = store.add_message(conv.id, "user", "And at sunset?", parent_id=a.id)
    store.add_message(conv.id, "assistant", "Longer path, so", parent_id=q2.id,
                      status="interrupted", model="qwen3-4b")
    return store, conv.id


def test_markdown_export(exported: tuple[ConversationStore, str]) -> None:
    store, cid = exported
    md = to_markdown(store.get(cid), store.thread(cid))
    assert md.startswith("# Why is the sky blue?\n")
    assert "- Model: `qwen3-8b`" in md and f"`{cid}`" in md and "> Answer in one line." in md
    assert md.count("### User") == 2 and md.count("### Assistant") == 2
    assert "### Assistant (qwen3-4b)" in md  # a different model answered that turn
    # Reasoning sits in a collapsed, quoted block before the answer, never in it.
    block = md[md.index("<details>"):md.index("</details>")]
    assert "> Short wavelengths scatter more.\n>\n> So: blue." in block
    assert "Rayleigh" not in block
    answer = md[md.index("</details>"):]
    assert "Rayleigh scattering." in answer and "Short wavelengths" not in answer
    assert md.rstrip().endswith("*[interrupted: stopped before the answer was finished]*")


def test_json_export_round_trips(exported: tuple[ConversationStore, str]) -> None:
    store, cid = exported
    conv, thread = store.get(cid), store.thread(cid)
    data = json.loads(json.dumps(to_json(conv, thread)))
    assert data["format"] == "qwenapp.conversation" and data["version"] == 1
    assert data["messages"][1]["usage"] == {"prompt_tokens": 20, "completion_tokens": 4,
                                            "cached_tokens": 0}
    assert data["messages"][1]["reasoning"].startswith("Short wavelengths")
    assert data["messages"][3]["status"] == "interrupted"
    assert data["messages"][1]["parent_id"] == data["messages"][0]["id"]
    back_conv, back_thread = from_json(data)
    assert back_thread == thread
    assert back_conv.id == conv.id and back_conv.created_at == conv.created_at
    assert to_json(back_conv, back_thread) == data
    with pytest.raises(InputError):
        from_json({"format": "something else"})
    with pytest.raises(InputError, match="malformed"):
        from_json({"format": "qwenapp.conversation", "version": 1, "conversation": {}})
