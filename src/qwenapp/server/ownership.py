"""Who owns what: conversations, documents and jobs, scoped to one user.

The core stores (conversations, library) have no owner concept; the server
records owners in side tables (migration 0200) and every read goes through
a query here that joins them. A row with no owner belongs to the local user
of a loopback server without accounts (so the CLI's history shows up in the
web UI); with accounts, such a row is nobody's. Ids are matched exactly:
the prefix matching the CLI offers would let a caller probe other users' ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..store import Conversation, transaction
from ..store.connection import Connection, Row
from ..store.db import bounded_int, compact_search, db_path_of, storage_errors
from .jobs.store import delete_jobs

__all__ = ["OwnedDocument", "Ownership", "Purged"]

_OWNER = "coalesce(o.user_id, 'local') = ?"


@dataclass(frozen=True, slots=True)
class OwnedDocument:
    id: str
    filename: str  # the name the uploader gave (display only)
    title: str
    kind: str
    size: int
    sections: int
    chunks: int
    added_at: str
    stored_name: str | None  # the server's file for uploads; None for CLI-added documents
    path: str  # the library's key: the stored file, or the CLI user's own path


@dataclass(frozen=True, slots=True)
class Purged:
    conversations: int
    uploads: list[str]  # stored file names under the uploads folder
    jobs: list[str]  # job ids (each has a folder of artifacts)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _conversation(r: Row) -> Conversation:
    return Conversation(id=r["id"], title=r["title"], model=r["model"],
                        system_prompt=r["system_prompt"],
                        created_at=datetime.fromisoformat(r["created_at"]),
                        updated_at=datetime.fromisoformat(r["updated_at"]),
                        message_count=int(r["message_count"]))


def _document(r: Row) -> OwnedDocument:
    return OwnedDocument(r["id"], r["filename"] or Path(r["path"]).name, r["title"], r["kind"],
                         int(r["size"]), int(r["sections"]), int(r["n"]), r["added_at"],
                         r["stored_name"], r["path"])


class Ownership:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._path = db_path_of(conn)

    # -- conversations --------------------------------------------------------------------

    def claim_conversation(self, conversation_id: str, user_id: str) -> None:
        with transaction(self.conn) as c:
            c.execute("INSERT INTO conversation_owners (conversation_id, user_id) VALUES (?, ?)",
                      (conversation_id, user_id))

    def owns_conversation(self, conversation_id: str, user_id: str) -> bool:
        with storage_errors(self._path):
            return self.conn.execute(
                "SELECT 1 FROM conversations c LEFT JOIN conversation_owners o "
                f"ON o.conversation_id = c.id WHERE c.id = ? AND {_OWNER}",
                (conversation_id, user_id)).fetchone() is not None

    def conversations(self, user_id: str, limit: int, offset: int = 0) -> list[Conversation]:
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT c.id, c.title, c.model, c.system_prompt, c.created_at, c.updated_at, "
                "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS "
                "message_count FROM conversations c LEFT JOIN conversation_owners o "
                f"ON o.conversation_id = c.id WHERE {_OWNER} "
                "ORDER BY c.updated_at DESC, c.seq DESC LIMIT ? OFFSET ?",
                (user_id, bounded_int(limit), bounded_int(offset))).fetchall()
        return [_conversation(r) for r in rows]

    def owned_conversations(self, user_id: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT c.id FROM conversations c LEFT JOIN conversation_owners o "
                f"ON o.conversation_id = c.id WHERE c.id IN ({marks}) AND {_OWNER}",
                (*ids, user_id)).fetchall()
        return {r[0] for r in rows}

    # -- documents ------------------------------------------------------------------------

    def claim_document(self, document_id: str, user_id: str, filename: str, stored_name: str,
                       media_type: str) -> None:
        with transaction(self.conn) as c:
            c.execute("INSERT INTO document_owners (document_id, user_id, filename, stored_name,"
                      " media_type, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                      (document_id, user_id, filename, stored_name, media_type, _now()))

    def _documents(self, where: str, params: tuple[object, ...]) -> list[OwnedDocument]:
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT d.id, d.path, d.title, d.kind, d.size, d.sections, d.added_at, "
                "o.filename, o.stored_name, "
                "(SELECT count(*) FROM library_chunks k WHERE k.document_id = d.id) AS n "
                "FROM library_documents d LEFT JOIN document_owners o ON o.document_id = d.id "
                f"WHERE {where} ORDER BY d.added_at DESC, d.id DESC", params).fetchall()
        return [_document(r) for r in rows]

    def documents(self, user_id: str) -> list[OwnedDocument]:
        # Pages fetched for reports are keyed by URL; they are not anyone's uploads.
        return self._documents(f"{_OWNER} AND d.path NOT LIKE 'http%'", (user_id,))

    def document(self, document_id: str, user_id: str) -> OwnedDocument | None:
        found = self._documents(f"d.id = ? AND {_OWNER} AND d.path NOT LIKE 'http%'",
                                (document_id, user_id))
        return found[0] if found else None

    # -- removing a user's data -----------------------------------------------------------

    def purge(self, user_id: str, *, account: bool = False) -> Purged:
        """Delete every row ``user_id`` owns, in one transaction; with ``account``, the
        account too (sessions, keys). The caller deletes the files named.

        Everything derived goes with it: messages and their saved sources, document
        chunks, jobs with their events, artifacts rows and reports (stages and
        passages). The search indexes are then merged so no deleted term stays in
        an old index segment (the database runs with ``secure_delete``, so freed
        pages are zeroed).
        """
        with transaction(self.conn) as c:
            convs = [r[0] for r in c.execute(
                "SELECT conversation_id FROM conversation_owners WHERE user_id = ?",
                (user_id,))]
            docs = c.execute("SELECT document_id, stored_name FROM document_owners "
                             "WHERE user_id = ?", (user_id,)).fetchall()
            jobs = [r[0] for r in c.execute("SELECT id FROM server_jobs WHERE user_id = ?",
                                            (user_id,))]
            delete_jobs(c, jobs)
            for cid in convs:
                c.execute("DELETE FROM server_message_sources WHERE message_id IN "
                          "(SELECT id FROM messages WHERE conversation_id = ?)", (cid,))
                c.execute("DELETE FROM messages WHERE conversation_id = ?", (cid,))
                c.execute("DELETE FROM conversation_owners WHERE conversation_id = ?", (cid,))
                c.execute("DELETE FROM conversations WHERE id = ?", (cid,))
            for d in docs:
                c.execute("DELETE FROM library_chunks WHERE document_id = ?", (d[0],))
                c.execute("DELETE FROM document_owners WHERE document_id = ?", (d[0],))
                c.execute("DELETE FROM library_documents WHERE id = ?", (d[0],))
            if account:
                c.execute("DELETE FROM server_sessions WHERE user_id = ?", (user_id,))
                c.execute("DELETE FROM server_api_keys WHERE user_id = ?", (user_id,))
                c.execute("DELETE FROM server_users WHERE id = ?", (user_id,))
        compact_search(self.conn)
        return Purged(len(convs), [d[1] for d in docs], jobs)
