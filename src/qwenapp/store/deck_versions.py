"""Numbered versions of a deck, as rows (migration 0300).

A revision never overwrites: it adds the next version, and going back to an
old one adds a copy of it as the newest, so the history only grows. A
version holds the deck as data (its JSON, kept opaque here so the store
does not depend on the slides package) and its theme; any version's file is
rendered from those. Rows are keyed by ``job_id`` (a server deck job, whose
deletion removes them with its other rows) and checked against ``owner``
(the job's user, or ``cli`` for decks made on the command line), so one
user can never read another's versions through this store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..errors import InputError
from .connection import Connection, Row
from .db import db_path_of, storage_errors, transaction

__all__ = ["CLI_OWNER", "DeckVersion", "DeckVersions"]

CLI_OWNER = "cli"


@dataclass(frozen=True, slots=True)
class DeckVersion:
    job_id: str
    version: int
    owner: str
    created_at: str
    request: str  # what the user asked for ("" for the first version)
    summary: str  # what was done, in words
    theme: str
    deck: str  # the Deck as JSON
    changed: list[int] = field(default_factory=list)  # slides new or rewritten in it
    path: str = ""  # a CLI deck's .pptx


_COLUMNS = "job_id, version, owner, created_at, request, summary, theme, deck, changed, path"


def _row(r: Row | tuple[object, ...]) -> DeckVersion:
    return DeckVersion(str(r[0]), int(str(r[1])), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                       str(r[6]), str(r[7]), [int(x) for x in json.loads(str(r[8]))], str(r[9]))


class DeckVersions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._path = db_path_of(conn)

    def add(self, job_id: str, owner: str, deck: str, theme: str, *, request: str = "",
            summary: str = "", changed: list[int] | None = None, path: str = "") -> DeckVersion:
        """The next version of ``job_id`` (1 for the first), written in one transaction."""
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with transaction(self.conn) as c:
            row = c.execute("SELECT coalesce(max(version), 0) FROM deck_versions WHERE "
                            "job_id = ?", (job_id,)).fetchone()
            version = int(row[0]) + 1
            c.execute(f"INSERT INTO deck_versions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                      "?, ?)", (job_id, version, owner, now, request, summary, theme, deck,
                                json.dumps(changed or []), path))
        got = self.get(job_id, owner, version)
        assert got is not None
        return got

    def history(self, job_id: str, owner: str) -> list[DeckVersion]:
        """Every version of the deck, oldest first ([] when it is not ``owner``'s)."""
        with storage_errors(self._path):
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM deck_versions WHERE job_id = ? "
                                     "AND owner = ? ORDER BY version", (job_id, owner)).fetchall()
        return [_row(r) for r in rows]

    def get(self, job_id: str, owner: str, version: int) -> DeckVersion | None:
        with storage_errors(self._path):
            r = self.conn.execute(f"SELECT {_COLUMNS} FROM deck_versions WHERE job_id = ? AND "
                                  "owner = ? AND version = ?",
                                  (job_id, owner, int(version))).fetchone()
        return None if r is None else _row(r)

    def latest(self, job_id: str, owner: str) -> DeckVersion | None:
        with storage_errors(self._path):
            r = self.conn.execute(f"SELECT {_COLUMNS} FROM deck_versions WHERE job_id = ? AND "
                                  "owner = ? ORDER BY version DESC LIMIT 1",
                                  (job_id, owner)).fetchone()
        return None if r is None else _row(r)

    def resolve(self, prefix: str, owner: str) -> str:
        """The one deck id of ``owner`` starting with ``prefix`` (InputError otherwise)."""
        p = prefix.strip()
        if not p:
            raise InputError("the deck id is empty", "see the id printed when the deck was made")
        with storage_errors(self._path):
            ids = [str(r[0]) for r in self.conn.execute(
                "SELECT DISTINCT job_id FROM deck_versions WHERE owner = ? AND job_id LIKE ? "
                "ESCAPE '\\' LIMIT 3", (owner, p.replace("\\", "\\\\").replace("%", "\\%")
                                        .replace("_", "\\_") + "%")).fetchall()]
        if not ids:
            raise InputError(f"no deck {p}", "the id is printed when a deck is made; list "
                             "the versions of one with --versions ID")
        if len(ids) > 1:
            raise InputError(f"the id {p} matches more than one deck", "give more of it")
        return ids[0]
