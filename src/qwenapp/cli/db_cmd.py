"""``qwenapp db``: the database itself: migrate it, copy a SQLite home into PostgreSQL.

``db migrate`` applies the numbered migrations the configured database lacks
(the SQLite file in QWENAPP_HOME, or QWENAPP_DATABASE_URL); every command
does that on open as well, so this is for an operator who wants it done, and
said, before starting app processes. ``db copy --to postgresql://…`` moves
every row of the SQLite home into an empty PostgreSQL database (see
:mod:`qwenapp.store.copy`) and prints each table's count.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from ..errors import InputError
from .state import AppState

__all__ = ["db"]


def _applied_before(target: Path | str) -> set[int]:
    from ..store.connection import Connection, is_database_url
    from ..store.db import applied_versions, open_postgres, storage_errors

    conn: Connection
    if is_database_url(target):
        conn = open_postgres(str(target), migrate=False)
    elif Path(target).exists():
        conn = sqlite3.connect(Path(target))
    else:
        return set()
    try:
        with storage_errors(str(target)):  # a file that is not a database, say
            return applied_versions(conn)
    finally:
        conn.close()


def _where(target: Path | str) -> str:
    from ..store.postgres import redact

    return redact(target) if isinstance(target, str) else str(target)


@click.group()
def db() -> None:
    """The database: migrate it, or copy a SQLite home into PostgreSQL."""


@db.command("migrate")
@click.pass_obj
def migrate(state: AppState) -> None:
    """Apply the migrations the configured database lacks (and, on PostgreSQL, install
    the job queue's tables)."""
    from ..store.connection import is_database_url
    from ..store.db import applied_versions, open_db

    target = state.settings.database
    before = _applied_before(target)
    conn = open_db(target)
    try:
        after = applied_versions(conn)
        queue = False
        if is_database_url(target):  # the job queue's own tables (procrastinate)
            from ..server.jobs.queue import ensure_schema

            queue = ensure_schema(conn)
    finally:
        conn.close()
    new = sorted(after - before)
    where = _where(target)
    if new:
        click.echo(f"applied {len(new)} migration(s) to {where}: "
                   f"{', '.join(f'{v:04d}' for v in new)}")
    else:
        click.echo(f"{where} is up to date (schema {max(after, default=0):04d})")
    if queue:
        click.echo(f"installed the job queue's tables in {where}")


@db.command("copy")
@click.option("--to", "to", required=True, metavar="URL",
              help="The empty PostgreSQL database to fill (postgresql://user:pw@host/db).")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite file to copy (default: the one in QWENAPP_HOME).")
@click.pass_obj
def copy(state: AppState, to: str, source: Path | None) -> None:
    """Copy every row of the SQLite home into PostgreSQL, ids kept, counts checked."""
    from ..store.connection import is_database_url
    from ..store.copy import copy_database
    from ..store.db import open_db

    if not is_database_url(to):
        raise InputError(f"--to must be a postgresql:// URL, got {to!r}",
                         "write it like postgresql://user:password@host:5432/qwenapp")
    path = source or state.settings.db_path
    if not path.exists():
        raise InputError(f"there is no SQLite database at {path}",
                         "set QWENAPP_HOME to the home to copy, or pass --from FILE")
    src = open_db(path)
    try:
        dst = open_db(to)
        try:
            copied = copy_database(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    width = max((len(t.name) for t in copied), default=0)
    for t in copied:
        click.echo(f"{t.name:<{width}}  {t.rows}")
    total = sum(t.rows for t in copied)
    click.echo(f"copied {total} rows in {len(copied)} tables from {path} to {_where(to)}; "
               "every count matches")
    state.err.print("[dim]to use it: QWENAPP_DATABASE_URL=" + _where(to).replace("[", "\\[")
                    + " (the SQLite file is left as it was)[/]")
