"""The PostgreSQL implementation of :class:`~.connection.Connection` (psycopg 3).

Only this module imports psycopg, and only when a ``postgresql://`` URL is
opened, so the embedded default needs nothing beyond the standard library
(``pip install 'qwenapp[postgres]'`` adds it).

What it translates, once per SQL text (cached): ``?`` placeholders to ``%s``
(a literal ``%`` doubled), SQLite's null-safe ``IS ?`` / ``IS NOT ?`` to
``IS [NOT] DISTINCT FROM``, and ``LIKE`` to ``ILIKE`` (SQLite's LIKE ignores
case, PostgreSQL's does not). Quoted literals and identifiers are left alone.
Everything else the stores write is SQL both databases read the same way.

A connection the server dropped (a restart, a failover) is opened again on
the next statement outside a transaction; the statement that met the break
fails with a :class:`~qwenapp.errors.StorageError` rather than being retried,
since it may have been applied.

Writes keep SQLite's guarantees: :meth:`PgConnection.write` opens a transaction
and takes one advisory transaction lock, the equivalent of ``BEGIN IMMEDIATE``,
so read-then-write code (the next event number of a job, the next version of a
deck) stays correct with several app processes on one database. Finer locks
(a durable job queue's ``FOR UPDATE SKIP LOCKED``) can come later without
touching the stores.

Every psycopg error becomes a :class:`~qwenapp.errors.StorageError` with one
line and a hint (server down, wrong password, missing database, bad URL); the
URL in a message never shows the password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import StorageError

if TYPE_CHECKING:
    import psycopg

__all__ = ["WRITE_LOCK", "PgConnection", "clean", "connect", "redact", "to_pg_sql"]

WRITE_LOCK = 0x717765  # the advisory lock every write transaction takes ("qwe")
_CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
_LOCK_TIMEOUT = "30s"  # a writer waits this long for another one, then fails plainly
_URL_HINT = "check QWENAPP_DATABASE_URL (or database_url in config.toml)"

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\bIS\s+NOT\s+\?|\bIS\s+\?|\bLIKE\b|\?|%",
                    re.IGNORECASE)


@lru_cache(maxsize=1024)
def to_pg_sql(sql: str, bound: bool = True) -> str:
    """``sql`` written for SQLite (``?`` placeholders) as psycopg takes it (``%s``).

    ``bound=False``: for a statement sent without parameters, where psycopg reads
    ``%`` as written and there is no ``?`` to replace.
    """
    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok[0] in "'\"":
            return tok.replace("%", "%%") if bound else tok
        if tok == "?":
            return "%s"
        if tok == "%":
            return "%%" if bound else tok
        if tok.upper() == "LIKE":
            return "ILIKE"
        if "NOT" in tok.upper():
            return "IS DISTINCT FROM %s"
        return "IS NOT DISTINCT FROM %s"
    return _TOKEN.sub(sub, sql)


def clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL (SQLite's can): it is kept visible, as U+FFFD.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value \
        else value


def _params(parameters: Sequence[Any]) -> list[Any]:
    return [clean(v) for v in parameters]


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


class _Row(tuple[Any, ...]):
    """A row that answers ``r[0]`` and ``r["name"]``, as :class:`sqlite3.Row` does."""

    _names: tuple[str, ...] = ()
    _index: dict[str, int] = {}  # noqa: RUF012 - replaced per result shape

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[_Row]:
    return type("Row", (_Row,), {"_names": names, "_index": {n: i for i, n in
                                                          enumerate(names)}})


def _row_factory(cursor: Any) -> Any:
    desc = cursor.description
    cls = _row_class(tuple(d.name for d in desc) if desc else ())
    return lambda values: cls(values)


def _translate(e: Exception, label: str) -> StorageError:
    """The :class:`StorageError` a user should see for the psycopg error ``e``."""
    text = str(e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    low = text.lower()
    state = getattr(e, "sqlstate", None) or ""
    if state in ("28P01", "28000") or "password authentication failed" in low \
            or "no password supplied" in low:
        return StorageError(f"PostgreSQL refused the user or password for {label}",
                            "check the user and password in QWENAPP_DATABASE_URL")
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return StorageError(f"the PostgreSQL database of {label} does not exist",
                            "create it first (createdb NAME), or " + _URL_HINT)
    if state.startswith(("08", "57P")) or "connection refused" in low \
            or "could not connect" in low \
            or "could not translate host" in low or "failed to resolve host" in low \
            or "timeout expired" in low or "connection timeout" in low \
            or "server closed the connection" in low or "connection is closed" in low \
            or "the connection is lost" in low:
        return StorageError(f"cannot reach PostgreSQL at {label}: {first}",
                            "check that the server is running and " + _URL_HINT)
    if state in ("55P03", "40P01", "40001") or "lock timeout" in low:
        return StorageError(f"the database {label} is busy: another qwenapp is writing",
                            "try again in a moment")
    if state == "53100":
        return StorageError(f"the PostgreSQL server of {label} has no space left",
                            "free disk space on the database server")
    if state == "42501":
        return StorageError(f"the PostgreSQL user of {label} lacks a permission: {first}",
                            "grant it CREATE on the database (migrations create tables and "
                            "the pg_trgm and citext extensions)")
    return StorageError(f"database error on {label}: {first}")


class PgConnection:
    """A psycopg connection that speaks the stores' SQL (see the module docstring)."""

    def __init__(self, raw: psycopg.Connection[Any], label: str, conninfo: str = "") -> None:
        self._raw = raw
        self.label = label  # the URL without its password
        self._conninfo = conninfo  # to connect again after the server dropped us
        self._closed = False
        self._writing = False  # inside write(): a new connection would lose the transaction

    def _live(self) -> psycopg.Connection[Any]:
        """The connection, opened again if the server dropped it (outside a transaction)."""
        if self._raw.closed and self._conninfo and not self._closed and not self._writing:
            import psycopg

            try:
                self._raw = psycopg.connect(self._conninfo, autocommit=True,
                                            row_factory=_row_factory)
                self._raw.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'".encode())
            except psycopg.Error as e:
                raise _translate(e, self.label) from None
        return self._raw

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """The psycopg connection, for what only PostgreSQL has (LISTEN/NOTIFY, COPY)."""
        return self._raw

    @property
    def in_transaction(self) -> bool:
        import psycopg

        return self._raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        import psycopg

        raw = self._live()
        try:
            if parameters:
                return raw.execute(to_pg_sql(sql), _params(parameters))
            return raw.execute(to_pg_sql(sql, bound=False).encode("utf-8"))
        except psycopg.Error as e:
            raise _translate(e, self.label) from None

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]],
                    /) -> psycopg.Cursor[Any]:
        import psycopg

        cur = self._live().cursor()
        try:
            cur.executemany(to_pg_sql(sql), [_params(p) for p in parameters])
        except psycopg.Error as e:
            raise _translate(e, self.label) from None
        return cur

    def script(self, sql: str) -> None:
        """Run several statements as written (a migration file)."""
        import psycopg

        try:
            self._live().execute(sql.encode("utf-8"))
        except psycopg.Error as e:
            raise _translate(e, self.label) from None

    @contextmanager
    def write(self) -> Iterator[PgConnection]:
        """A write transaction holding the write lock, rolled back on error."""
        import psycopg

        self.execute("BEGIN")
        self._writing = True
        try:
            self.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            yield self
            self.execute("COMMIT")
        except BaseException:
            if not self._raw.closed and self.in_transaction:
                with suppress(psycopg.Error):  # the first error is the one worth reporting
                    self._raw.execute("ROLLBACK")
            raise
        finally:
            self._writing = False

    def close(self) -> None:
        self._closed = True
        self._raw.close()


def connect(url: str) -> PgConnection:
    """Connect to ``url`` (autocommit; a :class:`StorageError` when that fails)."""
    label = redact(url)
    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo
    except ImportError:
        raise StorageError("PostgreSQL support is not installed",
                           "pip install 'qwenapp[postgres]' (psycopg 3)") from None
    try:
        options: dict[str, Any] = conninfo_to_dict(url)
    except psycopg.Error as e:
        raise StorageError(f"not a valid PostgreSQL URL: {label} ({str(e).strip()})",
                           "write it like postgresql://user:password@host:5432/dbname"
                           ) from None
    options.setdefault("connect_timeout", _CONNECT_TIMEOUT)
    options.setdefault("application_name", "qwenapp")
    try:
        conninfo = make_conninfo("", **options)
        raw = psycopg.connect(conninfo, autocommit=True, row_factory=_row_factory)
    except psycopg.Error as e:
        raise _translate(e, label) from None
    conn = PgConnection(raw, label, conninfo)
    try:
        conn.execute(f"SET lock_timeout = '{_LOCK_TIMEOUT}'")
        conn.execute("SET client_encoding = 'UTF8'")
    except BaseException:
        conn.close()
        raise
    return conn
