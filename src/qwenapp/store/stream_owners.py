"""Which process streams an answer, so that only the answers of dead processes are cut off.

An answer is saved as it streams (``status = 'streaming'``). A process killed mid-answer
(``kill -9``, a power cut) leaves it so, and it would say "still being written" forever;
a starting app process used to mark *every* streaming answer interrupted, including the
ones another live app process on the same database was streaming.

Now each app process registers a row in ``stream_owners`` and refreshes its ``seen_at``
every few seconds (:meth:`StreamOwners.beat`); the answers it streams carry its id
(``messages.owner``, written by a :class:`~.conversations.ConversationStore` made with
``owner=``). :meth:`StreamOwners.interrupt_orphans` marks interrupted only the streaming
answers whose owner has not been seen for ``stale_after`` seconds (or has no row: it
stopped), at start-up and again on every beat, so a live process also cleans up after a
dead neighbour without waiting for a restart.

Why a heartbeat row rather than a PostgreSQL session-level advisory lock: it works the
same on SQLite (several ``serve`` processes on one file) and on PostgreSQL, through any
connection pooler (a transaction-mode PgBouncer does not keep session locks), and an
app process whose database connection blips is not declared dead by the blip. The cost
is that a killed process's answers stay ``streaming`` for up to ``stale_after`` seconds
(plus one beat), unless the owner ran on this machine: a process whose pid is gone
is gone at once (so a restart after ``kill -9`` closes its answers right away). "This
machine" is the host name and the pid namespace, so containers sharing a host name do
not judge each other's pids. Time is the database's clock (seconds since the epoch), so
app processes on machines whose clocks disagree still agree on who is silent.

Unowned streaming answers (saved before migration 0003, or by ``qwenapp chat``) are
interrupted at an app process's start only (``unowned=True``), as before; the beats leave
them alone, since a ``qwenapp chat`` may be writing one right now.
"""

from __future__ import annotations

import os
import socket
from typing import Final

from .connection import Connection, dialect_of
from .conversations import INTERRUPTED
from .db import db_path_of, storage_errors, transaction
from .ids import new_id

__all__ = ["StreamOwners"]

# the database's "now" in seconds since the epoch (one clock for every app process)
_NOW: Final = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())::double precision",
}


def _machine() -> str:
    """The host name, with the pid namespace where there is one (a container's own)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class StreamOwners:
    """The app processes that stream answers on one database, by heartbeat."""

    def __init__(self, conn: Connection, *, stale_after: float = 30.0) -> None:
        if stale_after <= 0:
            raise ValueError("stale_after must be positive")
        self._conn = conn
        self.stale_after = stale_after
        self._now = _NOW[dialect_of(conn)]
        self._path = db_path_of(conn)
        self._machine = _machine()

    def register(self) -> str:
        """A new owner id for this process, seen now."""
        owner = new_id()
        with transaction(self._conn) as c:
            c.execute(f"INSERT INTO stream_owners (id, host, pid, started_at, seen_at) "
                      f"VALUES (?, ?, ?, {self._now}, {self._now})",
                      (owner, self._machine, os.getpid()))
        return owner

    def beat(self, owner: str) -> None:
        """``owner`` is alive: seen now (its row back if a long pause let it be swept)."""
        with transaction(self._conn) as c:
            cur = c.execute(f"UPDATE stream_owners SET seen_at = {self._now} WHERE id = ?",
                            (owner,))
            if cur.rowcount == 0:
                c.execute(f"INSERT INTO stream_owners (id, host, pid, started_at, seen_at) "
                          f"VALUES (?, ?, ?, {self._now}, {self._now})",
                          (owner, self._machine, os.getpid()))

    def release(self, owner: str) -> int:
        """``owner`` stops: its row goes, and any answer it left streaming is interrupted."""
        with transaction(self._conn) as c:
            c.execute("DELETE FROM stream_owners WHERE id = ?", (owner,))
            cur = c.execute(f"UPDATE messages SET {INTERRUPTED} "
                            "WHERE status = 'streaming' AND owner = ?", (owner,))
            return int(cur.rowcount)

    def interrupt_orphans(self, *, unowned: bool = False) -> int:
        """Interrupt the streaming answers of owners gone silent; returns how many.

        Silent: not seen for ``stale_after`` seconds, or no row at all, or on this machine
        with its process gone. ``unowned``:
        also the answers that name no owner (an app process's start-up).
        """
        orphan = "(owner IS NOT NULL AND owner NOT IN (SELECT id FROM stream_owners))"
        if unowned:
            orphan = f"(owner IS NULL OR {orphan})"
        with storage_errors(self._path):
            here = self._conn.execute("SELECT id, pid FROM stream_owners WHERE host = ?",
                                      (self._machine,)).fetchall()
        dead = [str(r[0]) for r in here if int(r[1]) != os.getpid() and not _pid_alive(int(r[1]))]
        with transaction(self._conn) as c:
            c.execute(f"DELETE FROM stream_owners WHERE seen_at < {self._now} - ?",
                      (self.stale_after,))
            for owner in dead:
                c.execute("DELETE FROM stream_owners WHERE id = ?", (owner,))
            cur = c.execute(f"UPDATE messages SET {INTERRUPTED} "
                            f"WHERE status = 'streaming' AND {orphan}")
            return int(cur.rowcount)

    def alive(self) -> list[tuple[str, str, int]]:
        """``(id, host, pid)`` of the owners seen within ``stale_after`` seconds."""
        with storage_errors(self._path):
            rows = self._conn.execute(
                f"SELECT id, host, pid FROM stream_owners WHERE seen_at >= {self._now} - ? "
                "ORDER BY started_at", (self.stale_after,)).fetchall()
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]
