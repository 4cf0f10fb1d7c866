"""What the stores need from a database connection, whichever database it is.

Two backends hold the same tables: SQLite (the embedded default, one file) and
PostgreSQL (``QWENAPP_DATABASE_URL=postgresql://…``, for a team). The stores
keep writing one SQL text with ``?`` placeholders and call ``conn.execute``;
:class:`Connection` is the part of :class:`sqlite3.Connection` they use, so a
plain SQLite connection *is* a connection (no wrapper, no cost on the default
path) and :class:`~.postgres.PgConnection` is the other implementation.

Why this shape rather than an ORM or a repository per backend: the SQL the two
databases disagree on is small and known (full-text search, ``sqlite_master``
and ``PRAGMA``, ``lastrowid``), while everything else (joins, recursive CTEs,
``ON CONFLICT … DO UPDATE``, ``RETURNING``, ``coalesce``) is the same text in
both. So the PostgreSQL connection translates only what is mechanical (``?``
to ``%s``, ``IS ?`` to ``IS NOT DISTINCT FROM``) and the few places that
differ branch on :func:`dialect_of` right where the SQL is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal, Protocol

__all__ = ["Connection", "Cursor", "Dialect", "Row", "dialect_of", "is_database_url"]

Dialect = Literal["sqlite", "postgresql"]


class Row(Protocol):
    """A result row: by position (``r[0]``) or by column name (``r["id"]``)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of :meth:`Connection.execute`."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """An open database: :class:`sqlite3.Connection` or :class:`~.postgres.PgConnection`.

    Connections from :func:`~.db.open_db` are in autocommit mode; write through
    :func:`~.db.transaction`. Rows are :class:`Row`.
    """

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    def close(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...


def dialect_of(conn: Connection) -> Dialect:
    """Which SQL ``conn`` speaks: where the two differ, the store branches on this."""
    return "sqlite" if isinstance(conn, sqlite3.Connection) else "postgresql"


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))
