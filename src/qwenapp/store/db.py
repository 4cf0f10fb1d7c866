"""Opening the database, migrating it, and saying plainly why it failed.

By default one SQLite file (``Settings.db_path``) holds everything. SQLite
suits a single-user, self-hosted app: no server to run, one file to back up.
WAL mode lets the CLI read while the server writes; a busy timeout makes a
second writer wait a few seconds instead of failing at once. Given a
``postgresql://`` URL instead (``Settings.database``), :func:`open_db` opens
PostgreSQL through :mod:`.postgres`; both are a :class:`~.connection.Connection`.

The schema lives in numbered ``migrations/NNNN_name.sql`` files shipped in
the package and applied in order, each in its own transaction, with the
version recorded in a ``migrations`` table (as simonw/llm does). The same
numbers are applied to both databases: where PostgreSQL needs other SQL for
a number (identity columns, ``pg_trgm`` and ``tsvector`` search instead of
FTS5), ``NNNN_name.postgresql.sql`` stands beside the SQLite file and is used
in its place; every other file is shared.

Every ``sqlite3`` failure a user can meet (another process writing, a
read-only folder, a full disk, a file that is not a database) is turned into
a :class:`~qwenapp.errors.StorageError` with a one-line message and a hint.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import overload
from urllib.parse import quote

from ..errors import StorageError
from .connection import Connection, Dialect, dialect_of, is_database_url

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "SQLITE_MAX_INT",
    "Connection",
    "Migration",
    "applied_versions",
    "bounded_int",
    "compact_search",
    "db_path_of",
    "load_migrations",
    "open_db",
    "schema_version",
    "storage_errors",
    "transaction",
]

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another one to finish

SQLITE_MAX_INT = 2**63 - 1


def bounded_int(n: int, low: int = 0, high: int = SQLITE_MAX_INT) -> int:
    """``n`` clamped to what SQLite can bind (an offset or id past the end is just past it).

    Python ints are unbounded and SQLite's are 64-bit: binding a bigger one raises
    OverflowError, which a client can trigger with ``?offset=1e22``-style input.
    """
    return max(low, min(int(n), high))


_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)(\.postgresql)?\.sql$")
_HOME_HINT = "set QWENAPP_HOME to a writable folder"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: Dialect = "sqlite") -> list[Migration]:
    """The packaged migrations for ``dialect``, in version order."""
    found: list[Migration] = []
    own: dict[int, Migration] = {}  # NNNN_name.postgresql.sql, for PostgreSQL
    for entry in (resources.files(__package__) / "migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            mig = Migration(int(m.group(1)), m.group(2), entry.read_text("utf-8"))
            if not m.group(3):
                found.append(mig)
            elif dialect == "postgresql":
                own[mig.version] = mig
    found = [own.pop(mig.version, mig) for mig in found]
    if own:
        raise RuntimeError(f"PostgreSQL migrations without a SQLite one: {sorted(own)}")
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _primary_code(e: sqlite3.Error) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _translate(e: sqlite3.Error, path: Path | str) -> StorageError:
    """The :class:`StorageError` a user should see for ``e`` on database ``path``."""
    code = _primary_code(e)
    text = str(e).lower()
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return StorageError(f"the database {path} is busy: another qwenapp is writing",
                            "try again in a moment")
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return StorageError(f"the database {path} is read-only", _HOME_HINT)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return StorageError(f"no space left to write the database {path}",
                            "free some disk space, or set QWENAPP_HOME to another disk")
    if code == sqlite3.SQLITE_CANTOPEN:
        return StorageError(f"cannot open the database {path}: its folder is missing or "
                            "read-only", _HOME_HINT)
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return StorageError(f"{path} is not a qwenapp database, or it is damaged",
                            "move the file aside (a new one is created) or set QWENAPP_HOME")
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return StorageError(f"cannot read or write the database {path}: {e}", _HOME_HINT)
    return StorageError(f"database error on {path}: {e}")


def db_path_of(conn: Connection) -> str:
    """The file behind ``conn`` (for messages), ``":memory:"``, or the URL (no password)."""
    if not isinstance(conn, sqlite3.Connection):
        return str(getattr(conn, "label", "the database"))
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "the database"
    return str(row[2]) if row and row[2] else ":memory:"


@contextmanager
def storage_errors(path: Path | str) -> Iterator[None]:
    """Turn any ``sqlite3.Error`` raised inside into a :class:`StorageError`."""
    try:
        yield
    except sqlite3.Error as e:
        raise _translate(e, path) from e


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """A write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on error.

    ``IMMEDIATE`` takes the write lock up front, so a second writer waits
    (busy timeout) at the start rather than failing halfway through; on
    PostgreSQL an advisory lock does the same (see :meth:`.postgres.PgConnection.write`).
    Requires a connection from :func:`open_db` (autocommit mode).
    """
    if not isinstance(conn, sqlite3.Connection):
        from .postgres import PgConnection

        assert isinstance(conn, PgConnection)
        with conn.write():
            yield conn
        return
    with storage_errors(db_path_of(conn)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            # SQLite may already have rolled back (disk full); the first error is the one
            # worth reporting, not a failed ROLLBACK after it.
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def applied_versions(conn: Connection) -> set[int]:
    """The migrations applied to ``conn`` (none for a new database)."""
    if dialect_of(conn) == "postgresql":
        has_table = conn.execute("SELECT to_regclass('migrations')").fetchone()[0]
    else:
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
        ).fetchone()
    if not has_table:
        return set()
    return {int(row[0]) for row in conn.execute("SELECT version FROM migrations")}


def schema_version(conn: Connection) -> int:
    """The highest migration applied to ``conn`` (0 for a new database)."""
    return max(applied_versions(conn), default=0)


def _is_blank(sql: str) -> bool:
    return all(not ln.strip() or ln.strip().startswith("--") for ln in sql.splitlines())


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements (trigger bodies contain ``;`` too)."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if not _is_blank(buf):
                yield buf.strip()
            buf = ""
    if not _is_blank(buf):
        raise RuntimeError(f"incomplete SQL statement at the end of a migration: {buf[:80]!r}")


def _newer(path: Path | str, current: int, latest: int) -> StorageError:
    return StorageError(
        f"the database {path} was written by a newer qwenapp "
        f"(schema {current}, this one knows {latest})",
        "upgrade qwenapp, or set QWENAPP_HOME to another folder",
    )


def _migrate(conn: Connection, path: Path | str, migrations: list[Migration]) -> None:
    # Versions are tracked one by one, not as a high-water mark: numbers may
    # leave gaps (another module's migrations start at 0100), and a migration
    # numbered below one already applied must still run.
    known = {mig.version for mig in migrations}
    latest = max(known, default=0)
    applied = applied_versions(conn)
    unknown = applied - known
    if unknown and max(unknown) > latest:
        raise _newer(path, max(unknown), latest)
    if known <= applied:
        return  # the common case: a read, no write lock taken
    with transaction(conn):
        conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    for mig in migrations:
        # Each migration in its own transaction, re-checked under the write
        # lock: two processes may open a new database at once.
        with transaction(conn):
            if mig.version in applied_versions(conn):
                continue
            if dialect_of(conn) == "postgresql":
                conn.script(mig.sql)  # type: ignore[attr-defined]  # PgConnection
            else:
                for stmt in _statements(mig.sql):
                    conn.execute(stmt)
            conn.execute("INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
                         (mig.version, mig.name, _now()))


def _ensure_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise StorageError(f"the folder {path.parent} is read-only", _HOME_HINT) from None
        if e.errno == errno.ENOSPC:
            raise StorageError(f"no space left to create {path.parent}",
                               "free some disk space, or set QWENAPP_HOME to another disk"
                               ) from None
        raise StorageError(f"cannot create the folder {path.parent}: {e.strerror}",
                           _HOME_HINT) from None


def open_postgres(url: str, *, migrate: bool = True) -> Connection:
    """Connect to the PostgreSQL database at ``url`` and apply the migrations it lacks."""
    from .postgres import connect

    conn = connect(url)
    try:
        if migrate:
            _migrate(conn, conn.label, load_migrations("postgresql"))
        else:
            current, latest = schema_version(conn), max(
                m.version for m in load_migrations("postgresql"))
            if current > latest:
                raise _newer(conn.label, current, latest)
    except BaseException:
        conn.close()
        raise
    return conn


@overload
def open_db(path: Path, *, busy_timeout: float = ...,
            read_only: bool = ...) -> sqlite3.Connection: ...
@overload
def open_db(path: Path | str, *, busy_timeout: float = ...,
            read_only: bool = ...) -> Connection: ...
def open_db(path: Path | str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
            read_only: bool = False) -> Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    ``path`` is a SQLite file, or a ``postgresql://`` URL (``Settings.database``);
    given a :class:`~pathlib.Path` it is always SQLite (typed so).
    The connection is in autocommit mode: write through :func:`transaction`.
    Rows come back as :class:`sqlite3.Row` (or rows that behave the same).
    ``read_only`` opens a SQLite file without write access (``mode=ro``):
    inspecting a database that another user owns, or one on read-only media;
    every write then fails with a :class:`StorageError`.
    """
    if is_database_url(path):
        return open_postgres(str(path), migrate=not read_only)
    path = Path(path)
    if not read_only:
        _ensure_folder(path)
    migrations = load_migrations()
    with storage_errors(path):
        if read_only:
            uri = f"file:{quote(str(path.resolve()))}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout,
                                   isolation_level=None)
        else:
            conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        with storage_errors(path):
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            # deleted means deleted: freed pages are zeroed, not left readable in the file
            conn.execute("PRAGMA secure_delete = ON")
            if not read_only:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, fewer fsyncs
            _migrate(conn, path, migrations)
    except BaseException:
        conn.close()
        raise
    return conn


def compact_search(conn: Connection) -> None:
    """Merge every FTS5 index into one segment, then checkpoint the WAL.

    An FTS5 delete only adds a tombstone: the deleted text's terms stay in older
    index segments until they merge. After a privacy deletion (a user removed)
    this drops them at once; with ``secure_delete`` the freed pages are zeroed,
    and the checkpoint copies that into the main file. Best effort: a busy
    database just merges later. PostgreSQL keeps no index segments of deleted
    text (its search indexes are ordinary GIN indexes over the rows); the freed
    row versions go at its next (auto)vacuum.
    """
    if dialect_of(conn) != "sqlite":
        return
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
        "'CREATE VIRTUAL TABLE%USING fts5%'")]
    with suppress(sqlite3.Error, StorageError):
        with transaction(conn):
            for t in tables:
                conn.execute(f'INSERT INTO "{t}" ("{t}") VALUES (\'optimize\')')
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
