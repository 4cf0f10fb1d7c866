"""Moving a SQLite home into PostgreSQL without losing a row (``qwenapp db copy``).

Both databases are first migrated to the same schema (:func:`~.db.open_db`
does that), so a table is the same table on both sides. Every table of the
target that the source has is copied whole, ids and all (identity columns
are generated ``BY DEFAULT``, so explicit values are kept; their sequences
are advanced past the highest copied value afterwards). SQLite's FTS5 tables
that only index other tables' text (``messages_fts``, ``conversations_fts``
and their shadow tables) are not copied: PostgreSQL's own indexes cover the
copied rows. ``library_fts`` holds text of its own (CJK as bigrams) and is
copied like any table. Rows are sent with ``COPY … FROM STDIN``.

Rows go in foreign-key order (the target's constraints), each table in
``rowid`` order, so a message's parent always precedes it. All of it is one
transaction on the target: a failure leaves the target as it was. The target
must be empty: a second run refuses rather than doubling rows or guessing
which ones are the same. Before committing, every table's row count is
compared on both sides; a difference rolls everything back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import StorageError
from .connection import Connection, dialect_of
from .db import applied_versions, transaction

__all__ = ["CopiedTable", "copy_database", "table_counts"]

_BATCH = 1000
_SKIP = ("migrations",)  # each side records its own


@dataclass(frozen=True, slots=True)
class CopiedTable:
    name: str
    rows: int


def _sqlite_tables(conn: Connection) -> tuple[list[str], set[str]]:
    """(ordinary tables, tables derived from an FTS5 index) of a SQLite database."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    fts = {r[0] for r in rows if "USING fts5" in (r[1] or "").replace("\n", " ")}
    derived = {r[0] for r in rows if any(r[0].startswith(f + "_") for f in fts)} | fts
    return [r[0] for r in rows], derived


def _pg_tables(conn: Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name")]


def _pg_columns(conn: Connection, table: str) -> list[str]:
    """The columns a row is written with (generated ones left out)."""
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position", (table,))]


def _fk_order(conn: Connection, tables: list[str]) -> list[str]:
    """``tables`` with every table after the tables its foreign keys reference."""
    deps: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"):
        if child in deps and parent in deps and child != parent:
            deps[child].add(parent)
    done: list[str] = []

    def visit(t: str, path: tuple[str, ...]) -> None:
        if t in done:
            return
        if t in path:
            raise StorageError(f"foreign keys form a cycle through {t}")
        for p in sorted(deps[t]):
            visit(p, (*path, t))
        done.append(t)

    for t in tables:
        visit(t, ())
    return done


def table_counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}


def _rows(source: Connection, table: str, columns: list[str]) -> Iterator[list[tuple[object, ...]]]:
    cols = ", ".join(f'"{c}"' if c != "rowid" else "rowid" for c in columns)
    cur = source.execute(f'SELECT {cols} FROM "{table}" ORDER BY rowid')
    while True:
        batch = cur.fetchmany(_BATCH)  # type: ignore[attr-defined]  # sqlite3.Cursor
        if not batch:
            return
        yield [tuple(r) for r in batch]


def _copy_in(target: Connection, statement: str,
             batches: Iterator[list[tuple[object, ...]]]) -> None:
    """Rows into PostgreSQL with COPY (tens of times faster than one INSERT per row)."""
    import psycopg

    from .postgres import PgConnection, clean

    assert isinstance(target, PgConnection)
    try:
        with target.raw.cursor() as cur, cur.copy(statement.encode()) as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row([clean(v) for v in row])
    except psycopg.Error as e:
        raise StorageError(f"copying into {target.label} failed: "
                           f"{str(e).strip().splitlines()[0]}", "nothing was written") from None


def copy_database(source: Connection, target: Connection) -> list[CopiedTable]:
    """Copy every row of the SQLite ``source`` into the empty PostgreSQL ``target``.

    Both must be open with :func:`~.db.open_db` (migrated). Returns each table
    with its row count, which the target was checked to match.
    """
    if not isinstance(source, sqlite3.Connection) or dialect_of(target) != "postgresql":
        raise StorageError("db copy moves a SQLite database into PostgreSQL",
                           "give a postgresql:// URL with --to")
    if applied_versions(source) != applied_versions(target):
        raise StorageError("the two databases are at different schema versions",
                           "run `qwenapp db migrate` on both with this qwenapp")
    src_tables, derived = _sqlite_tables(source)
    dst_tables = set(_pg_tables(target))
    missing = [t for t in src_tables if t not in dst_tables and t not in derived
               and t not in _SKIP]
    if missing:
        raise StorageError(f"the target has no table for {', '.join(missing)}",
                           "copy with the qwenapp version that wrote the source")
    tables = _fk_order(target, [t for t in src_tables if t in dst_tables and t not in _SKIP])
    full = {t: n for t, n in table_counts(target, tables).items() if n}
    if full:
        held = ", ".join(f"{n} in {t}" for t, n in sorted(full.items()))
        raise StorageError(f"the target database is not empty ({held} rows)",
                           "copy into a new, empty database (createdb), or drop this one's "
                           "tables first; nothing was written")
    expected = table_counts(source, tables)
    with transaction(target) as c:
        for t in tables:
            src_cols = {r[1] for r in source.execute(f'PRAGMA table_info("{t}")')}
            cols = [col for col in _pg_columns(target, t)
                    if col in src_cols or col == "rowid"]
            names = ", ".join(f'"{col}"' for col in cols)
            _copy_in(target, f'COPY "{t}" ({names}) FROM STDIN', _rows(source, t, cols))
        for t, col in c.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
            c.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                      f'coalesce((SELECT max("{col}") FROM "{t}"), 0) + 1, false)', (t, col))
        got = table_counts(c, tables)
        wrong = [f"{t}: {expected[t]} → {got[t]}" for t in tables if got[t] != expected[t]]
        if wrong:
            raise StorageError("the copy does not match the source (" + "; ".join(wrong) +
                               "); nothing was written")
    return [CopiedTable(t, got[t]) for t in tables]
