"""Jobs, their progress events and artifacts, as rows (migration 0200).

Every progress event is stored with a per-job sequence number: that number
is the SSE event id, so a client that reconnects with ``Last-Event-ID``
gets exactly the events it missed, even across a server restart.

Several processes may share these rows (app processes and workers on one
PostgreSQL), so what must hold across them is decided inside one write
transaction: the per-user and queue limits are counted where the job is
inserted (:meth:`JobStore.create`), a job ends once (:meth:`JobStore.finish`
moves only a queued or running job), and a job that has ended takes no more
events (:meth:`JobStore.append_event` with ``only_running``). On PostgreSQL
each new event is announced with ``NOTIFY`` on :data:`EVENTS_CHANNEL`; the
payload is only ``"<job id> <seq>"`` (bounded, whatever the event holds): a
follower in any process reads the row itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ...reports.versions import delete_chain
from ...store import new_id, transaction
from ...store.connection import Connection, Row, dialect_of
from ...store.db import bounded_int, db_path_of, storage_errors

__all__ = ["EVENTS_CHANNEL", "TERMINAL", "Artifact", "Full", "JobEventRow", "JobRow",
           "JobStatus", "JobStore", "delete_jobs"]

EVENTS_CHANNEL = "qwenapp_job_events"  # NOTIFY payload: "<job id> <seq>" (0: deleted)
OnWrite = Callable[["Connection", str], None]  # runs inside a job's write transaction

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class JobRow:
    id: str
    user_id: str
    kind: str
    status: JobStatus
    title: str
    request: dict[str, Any]
    state: dict[str, Any]
    error: str | None
    created_at: str
    updated_at: str
    conversation_id: str | None = None  # started from this conversation (the web chat box)
    after_message_id: str | None = None  # ...after this message of it

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True, slots=True)
class JobEventRow:
    seq: int
    type: str
    data: dict[str, Any]
    created_at: str


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    media_type: str
    size: int
    created_at: str


class Full(Exception):
    """A limit counted when the job was to be stored: ``which`` is "user" or "queue"."""

    def __init__(self, which: str) -> None:
        super().__init__(which)
        self.which = which


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _job(r: Row) -> JobRow:
    return JobRow(r["id"], r["user_id"], r["kind"], r["status"], r["title"],
                  json.loads(r["request"]), json.loads(r["state"]), r["error"],
                  r["created_at"], r["updated_at"], r["conversation_id"], r["after_message_id"])


_COLUMNS = ("id, user_id, kind, status, title, request, state, error, created_at, updated_at, "
            "conversation_id, after_message_id")


class JobStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._path = db_path_of(conn)

    def create(self, user_id: str, kind: str, title: str, request: dict[str, Any], *,
               conversation_id: str | None = None, after_message_id: str | None = None,
               per_user: int | None = None, queued: int | None = None,
               first_event: tuple[str, dict[str, Any]] | None = None,
               then: OnWrite | None = None) -> JobRow:
        """Store a queued job. In the same transaction: the limits are counted
        (:class:`Full` when ``per_user`` jobs of the user are queued or running, or
        ``queued`` jobs are queued), ``first_event`` is stored as event 1, and ``then``
        runs (a durable queue enqueues the job there, so a job is never stored without
        being queued, nor queued without being stored)."""
        now = _now()
        jid = new_id()
        with transaction(self.conn) as c:
            if per_user is not None and self._active(c, user_id) >= per_user:
                raise Full("user")
            if queued is not None and int(c.execute(
                    "SELECT count(*) FROM server_jobs WHERE status = 'queued'"
                    ).fetchone()[0]) >= queued:
                raise Full("queue")
            c.execute(f"INSERT INTO server_jobs ({_COLUMNS}) VALUES (?, ?, ?, 'queued', ?, ?, "
                      "'{}', NULL, ?, ?, ?, ?)",
                      (jid, user_id, kind, title, json.dumps(request, ensure_ascii=False), now,
                       now, conversation_id, after_message_id))
            if first_event is not None:
                self._append(c, jid, *first_event)
            if then is not None:
                then(c, jid)
        found = self.get_any(jid)
        assert found is not None
        return found

    def get_any(self, job_id: str) -> JobRow | None:
        with storage_errors(self._path):
            r = self.conn.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE id = ?",
                                  (job_id,)).fetchone()
        return None if r is None else _job(r)

    def get(self, job_id: str, user_id: str) -> JobRow | None:
        """The job if ``user_id`` owns it (exact id only)."""
        with storage_errors(self._path):
            r = self.conn.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE id = ? AND "
                                  "user_id = ?", (job_id, user_id)).fetchone()
        return None if r is None else _job(r)

    def for_user(self, user_id: str, limit: int = 50,
                 kind: str | None = None) -> list[JobRow]:
        sql = f"SELECT {_COLUMNS} FROM server_jobs WHERE user_id = ?"
        params: list[object] = [user_id]
        if kind:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(bounded_int(limit))
        with storage_errors(self._path):
            return [_job(r) for r in self.conn.execute(sql, params).fetchall()]

    def for_conversation(self, conversation_id: str, user_id: str) -> list[JobRow]:
        """The jobs started from a conversation, oldest first."""
        with storage_errors(self._path):
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE "
                                     "conversation_id = ? AND user_id = ? ORDER BY id",
                                     (conversation_id, user_id)).fetchall()
        return [_job(r) for r in rows]

    def unfinished(self) -> list[JobRow]:
        with storage_errors(self._path):
            rows = self.conn.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE status IN "
                                     "('queued', 'running') ORDER BY id").fetchall()
        return [_job(r) for r in rows]

    def active_count(self, user_id: str) -> int:
        with storage_errors(self._path):
            return self._active(self.conn, user_id)

    @staticmethod
    def _active(c: Connection, user_id: str) -> int:
        return int(c.execute("SELECT count(*) FROM server_jobs WHERE user_id = ? AND status "
                             "IN ('queued', 'running')", (user_id,)).fetchone()[0])

    def queued_count(self) -> int:
        with storage_errors(self._path):
            return int(self.conn.execute("SELECT count(*) FROM server_jobs WHERE status = "
                                         "'queued'").fetchone()[0])

    def set_status(self, job_id: str, status: JobStatus, error: str | None = None) -> None:
        with transaction(self.conn) as c:
            c.execute("UPDATE server_jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                      (status, error, _now(), job_id))

    def claim(self, job_id: str) -> JobRow | None:
        """Mark a queued (or left running) job as running; ``None`` if it has ended or is
        gone. The row returned is the one read before: its status says whether an earlier
        run was interrupted (``"running"``)."""
        with transaction(self.conn) as c:
            r = c.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE id = ?",
                          (job_id,)).fetchone()
            if r is None or r["status"] not in ("queued", "running"):
                return None
            c.execute("UPDATE server_jobs SET status = 'running', updated_at = ? WHERE id = ?",
                      (_now(), job_id))
        return _job(r)

    def finish(self, job_id: str, status: JobStatus, error: str | None,
               ended: tuple[str, dict[str, Any]], *, then: OnWrite | None = None) -> bool:
        """End a queued or running job with ``status`` and its ``ended`` event, once: a job
        that has ended already (cancelled from another process) is left as it is.
        ``then`` runs in the same transaction when it did end the job."""
        with transaction(self.conn) as c:
            moved = c.execute("UPDATE server_jobs SET status = ?, error = ?, updated_at = ? "
                              "WHERE id = ? AND status IN ('queued', 'running')",
                              (status, error, _now(), job_id)).rowcount
            if not moved:
                return False
            done = c.execute("SELECT 1 FROM server_job_events WHERE job_id = ? AND type IN "
                             "('done', 'failed', 'cancelled') LIMIT 1", (job_id,)).fetchone()
            if done is None:
                self._append(c, job_id, *ended)
            if then is not None:
                then(c, job_id)
        return True

    def set_state(self, job_id: str, state: dict[str, Any]) -> None:
        with transaction(self.conn) as c:
            c.execute("UPDATE server_jobs SET state = ?, updated_at = ? WHERE id = ?",
                      (json.dumps(state, ensure_ascii=False), _now(), job_id))

    def delete(self, job_id: str) -> None:
        """The job and everything derived from it, in one transaction (see
        :func:`delete_jobs`); its folder of artifact files is the manager's to remove."""
        with transaction(self.conn) as c:
            delete_jobs(c, [job_id])
            _notify(c, job_id, 0)

    # -- events ---------------------------------------------------------------------------

    def append_event(self, job_id: str, type: str, data: dict[str, Any], *,
                     only_running: bool = False) -> int | None:
        """Store the job's next event; its number. ``only_running``: only while the job is
        running (``None`` otherwise: it was cancelled or deleted, perhaps by another
        process, and its runner should stop)."""
        with transaction(self.conn) as c:
            if only_running:
                r = c.execute("SELECT status FROM server_jobs WHERE id = ?",
                              (job_id,)).fetchone()
                if r is None or r[0] != "running":
                    return None
            return self._append(c, job_id, type, data)

    @staticmethod
    def _append(c: Connection, job_id: str, type: str, data: dict[str, Any]) -> int:
        row = c.execute("SELECT coalesce(max(seq), 0) FROM server_job_events WHERE job_id = ?",
                        (job_id,)).fetchone()
        seq = int(row[0]) + 1
        c.execute("INSERT INTO server_job_events (job_id, seq, type, data, created_at) "
                  "VALUES (?, ?, ?, ?, ?)",
                  (job_id, seq, type, json.dumps(data, ensure_ascii=False), _now()))
        _notify(c, job_id, seq)
        return seq

    def replace_event_data(self, job_id: str, type: str, data: dict[str, Any]) -> None:
        """The data of the job's events of ``type``, rewritten in place (same ids): a
        report revision makes the ``result`` event describe what the job's files now hold."""
        with transaction(self.conn) as c:
            c.execute("UPDATE server_job_events SET data = ? WHERE job_id = ? AND type = ?",
                      (json.dumps(data, ensure_ascii=False), job_id, type))

    def events(self, job_id: str, after: int = 0) -> list[JobEventRow]:
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT seq, type, data, created_at FROM server_job_events WHERE job_id = ? "
                "AND seq > ? ORDER BY seq", (job_id, bounded_int(after))).fetchall()
        return [JobEventRow(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    # -- artifacts ------------------------------------------------------------------------

    def add_artifact(self, job_id: str, name: str, media_type: str, size: int) -> None:
        with transaction(self.conn) as c:
            c.execute("INSERT INTO server_job_artifacts (job_id, name, media_type, size, "
                      "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id, name) DO UPDATE "
                      "SET media_type = excluded.media_type, size = excluded.size, "
                      "created_at = excluded.created_at",
                      (job_id, name, media_type, size, _now()))

    def artifacts(self, job_id: str) -> list[Artifact]:
        with storage_errors(self._path):
            rows = self.conn.execute("SELECT name, media_type, size, created_at FROM "
                                     "server_job_artifacts WHERE job_id = ? ORDER BY created_at, "
                                     "name", (job_id,)).fetchall()
        return [Artifact(*r) for r in rows]

    def artifact(self, job_id: str, name: str) -> Artifact | None:
        with storage_errors(self._path):
            r = self.conn.execute("SELECT name, media_type, size, created_at FROM "
                                  "server_job_artifacts WHERE job_id = ? AND name = ?",
                                  (job_id, name)).fetchone()
        return None if r is None else Artifact(*r)


def _notify(c: Connection, job_id: str, seq: int) -> None:
    """Announce a job's new event (or, with 0, its deletion) to every process: delivered
    when the transaction commits, so a follower woken by it finds the row."""
    if dialect_of(c) == "postgresql":
        c.execute("SELECT pg_notify(?, ?)", (EVENTS_CHANNEL, f"{job_id} {seq}"))


def _job_tables(c: Connection) -> list[str]:
    """Every table with a ``job_id`` column (events, artifacts, any kind's saved stages)."""
    if dialect_of(c) == "postgresql":
        return [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'job_id' "
            "AND table_schema = current_schema() AND table_name != 'server_jobs' "
            "AND table_name NOT LIKE 'procrastinate%' ORDER BY table_name")]  # the queue's
    names = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'server_jobs' "
        "AND name NOT LIKE 'sqlite_%'")]
    return [n for n in names
            if any(col[1] == "job_id" for col in c.execute(f'PRAGMA table_info("{n}")'))]


def delete_jobs(c: Connection, job_ids: list[str]) -> int:
    """Inside the caller's transaction: jobs and all rows derived from them.

    That is the job row, its events and artifacts rows, any other table keyed
    by ``job_id`` (a kind's saved stages), and the report a report job wrote
    (its row and every saved stage, which hold the passages gathered from the
    user's documents). Each is deleted explicitly rather than by relying on
    ``ON DELETE CASCADE``, so a second storage backend runs the same
    statements. Returns how many jobs were deleted.
    """
    tables = _job_tables(c) if job_ids else []
    n = 0
    for job_id in job_ids:
        row = c.execute("SELECT state FROM server_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            continue
        try:
            state = json.loads(row[0] or "{}")
        except ValueError:
            state = {}
        report_id = state.get("report_id") if isinstance(state, dict) else None
        if isinstance(report_id, str) and report_id:
            delete_chain(c, report_id)  # the report and every revision of it
        for table in tables:
            c.execute(f'DELETE FROM "{table}" WHERE job_id = ?', (job_id,))
        n += c.execute("DELETE FROM server_jobs WHERE id = ?", (job_id,)).rowcount
    return n
