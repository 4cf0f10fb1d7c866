"""Conversations and their messages: what the chat saves and ``history`` reads.

Messages form a tree, not a list. Each message points at its parent (the
message it follows); regenerating an answer or editing a question adds a
*sibling* instead of overwriting, so nothing a user saw is lost. What a chat
shows is a *thread*: the path from the root to one leaf, by default the most
recent message.

An answer being streamed is saved as it grows (``status="streaming"``,
updated with :meth:`ConversationStore.update_message`) and marked
``"interrupted"`` if the user stops it, so a crash or Ctrl-C keeps what was
said. Qwen3's thinking is kept in ``reasoning``, never mixed into ``content``.

Every method that takes a conversation id also accepts a unique prefix of
at least four characters, like a git hash. Bad ids raise
:class:`~qwenapp.errors.InputError`; database failures raise
:class:`~qwenapp.errors.StorageError`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Final, Literal, cast, get_args

from ..errors import InputError
from ..models.events import Message, Role, Usage
from .connection import Connection, Row
from .db import db_path_of, storage_errors, transaction
from .ids import new_id
from .search import SearchHit, search, search_terms

__all__ = [
    "MIN_PREFIX",
    "TITLE_LENGTH",
    "UNSET",
    "Conversation",
    "ConversationStore",
    "MessageStatus",
    "SearchHit",
    "StoredMessage",
    "search_terms",
    "title_from",
]

MessageStatus = Literal["complete", "interrupted", "error", "streaming"]
_STATUSES: Final = get_args(MessageStatus)
# The roles a saved message may have (the table's CHECK): not every wire Role (``tool``).
_ROLES: Final = ("system", "user", "assistant")

TITLE_LENGTH = 60  # characters of the first user message kept as a default title
MIN_PREFIX = 4  # shortest id prefix accepted
_FIND_HINT = "see the ids with `qwenapp history list`, or find one with `qwenapp history search`"


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Default of :meth:`ConversationStore.update_message` arguments: leave the field as it is."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    title: str | None
    model: str
    system_prompt: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int = 0

    @property
    def display_title(self) -> str:
        return self.title or "(untitled)"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    conversation_id: str
    parent_id: str | None
    role: Role
    content: str
    reasoning: str
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None
    status: MessageStatus
    created_at: datetime
    cached_tokens: int | None = None  # prompt tokens served from the engine's cache

    @property
    def usage(self) -> Usage | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return Usage(self.prompt_tokens or 0, self.completion_tokens or 0, self.cached_tokens or 0)

    def to_message(self) -> Message:
        """The message as the model layer takes it (reasoning is not sent back)."""
        return Message(self.role, self.content)


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> str:
    # Fixed width, always UTC: these strings sort in time order.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def title_from(text: str, limit: int = TITLE_LENGTH) -> str:
    """A one-line title from ``text``: whitespace folded, cut near ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:  # cut at a word boundary when there is one (not in CJK text)
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _common_prefix_length(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _conversation(row: Row) -> Conversation:
    keys = row.keys()
    return Conversation(
        id=row["id"], title=row["title"], model=row["model"],
        system_prompt=row["system_prompt"], created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
        message_count=int(row["message_count"]) if "message_count" in keys else 0,
    )


def _message(row: Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"], conversation_id=row["conversation_id"], parent_id=row["parent_id"],
        role=cast(Role, row["role"]), content=row["content"], reasoning=row["reasoning"],
        model=row["model"], prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"], finish_reason=row["finish_reason"],
        status=cast(MessageStatus, row["status"]), created_at=_dt(row["created_at"]),
        cached_tokens=row["cached_tokens"],
    )


# what marks a streamed answer as cut off (the text saved so far is kept)
INTERRUPTED: Final = ("status = 'interrupted', "
                      "finish_reason = coalesce(finish_reason, 'interrupted')")

_CONVERSATION_COLUMNS = (
    "c.id, c.title, c.model, c.system_prompt, c.created_at, c.updated_at, "
    "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count"
)
_MESSAGE_COLUMNS = (
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.reasoning, m.model, "
    "m.prompt_tokens, m.completion_tokens, m.finish_reason, m.status, m.created_at, "
    "m.cached_tokens"
)


class ConversationStore:
    """Conversations in an open database (see :func:`~qwenapp.store.db.open_db`)."""

    def __init__(self, conn: Connection, *, owner: str | None = None) -> None:
        """``owner``: the :class:`~.stream_owners.StreamOwners` id of this process, put
        on the answers it streams (an app process; ``None``: unowned, as ``qwenapp chat``).
        """
        self._conn = conn
        self.owner = owner
        if isinstance(conn, sqlite3.Connection):  # PostgreSQL rows are named already
            conn.row_factory = sqlite3.Row
        self._path = db_path_of(conn)

    @property
    def connection(self) -> Connection:
        return self._conn

    def _read(self) -> AbstractContextManager[None]:
        return storage_errors(self._path)

    def _write(self) -> AbstractContextManager[Connection]:
        return transaction(self._conn)

    # -- ids -----------------------------------------------------------------

    def _resolve(self, ref: str) -> str:
        """The full id of the conversation ``ref`` names (its id or a unique prefix)."""
        key = ref.strip().upper()
        if not key:
            raise InputError("no conversation id given", _FIND_HINT)
        row = self._conn.execute("SELECT id FROM conversations WHERE id = ?", (key,)).fetchone()
        if row:
            return str(row["id"])
        if len(key) < MIN_PREFIX:
            raise InputError(f"no conversation with id {ref!r} (a prefix needs at least "
                             f"{MIN_PREFIX} characters)", _FIND_HINT)
        # '~' sorts after every ULID character: this range is "starts with key".
        rows = self._conn.execute(
            "SELECT id FROM conversations WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            (key, key + "~"),
        ).fetchall()
        if not rows:
            raise InputError(f"no conversation with id {ref!r}", _FIND_HINT)
        if len(rows) > 1:
            raise InputError(f"the id prefix {ref!r} matches more than one conversation",
                             "type more characters of the id")
        return str(rows[0]["id"])

    def short_ids(self, ids: Iterable[str], min_length: int = 8) -> dict[str, str]:
        """The shortest unambiguous prefix of each id (at least ``min_length``), as git shows."""
        out: dict[str, str] = {}
        with self._read():
            for cid in ids:
                need = max(min_length, MIN_PREFIX)
                for op, order in ((">", "ASC"), ("<", "DESC")):
                    row = self._conn.execute(
                        f"SELECT id FROM conversations WHERE id {op} ? ORDER BY id {order}"
                        " LIMIT 1", (cid,),
                    ).fetchone()
                    if row:
                        need = max(need, _common_prefix_length(cid, row["id"]) + 1)
                out[cid] = cid[:need]
        return out

    def _touch(self, conversation_id: str, when: datetime) -> None:
        self._conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                           (_ts(when), conversation_id))

    # -- conversations -------------------------------------------------------

    def create(self, model: str, system_prompt: str | None = None,
               title: str | None = None) -> Conversation:
        """A new, empty conversation. Without ``title``, the first user message names it."""
        now = _now()
        conv = Conversation(id=new_id(), title=" ".join(title.split()) if title else None,
                            model=model, system_prompt=system_prompt or None,
                            created_at=now, updated_at=now)
        with self._write() as c:
            c.execute(
                "INSERT INTO conversations (id, title, model, system_prompt, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (conv.id, conv.title, conv.model, conv.system_prompt, _ts(now), _ts(now)),
            )
        return conv

    def get(self, conversation_id: str) -> Conversation:
        """The conversation with this id or unique id prefix."""
        with self._read():
            cid = self._resolve(conversation_id)
            row = self._conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?", (cid,)
            ).fetchone()
        return _conversation(row)

    def latest(self) -> Conversation | None:
        """The conversation updated most recently, if any."""
        found = self.recent(limit=1)
        return found[0] if found else None

    def rename(self, conversation_id: str, title: str) -> Conversation:
        clean = " ".join(title.split())
        if not clean:
            raise InputError("a title cannot be empty")
        with self._write() as c:
            cid = self._resolve(conversation_id)
            c.execute("UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                      (clean, _ts(_now()), cid))
        return self.get(cid)

    def set_title_if_empty(self, conversation_id: str, text: str) -> bool:
        """Title the conversation from ``text`` unless it has a title; ``True`` if it did."""
        title = title_from(text)
        with self._write() as c:
            cid = self._resolve(conversation_id)
            if not title:
                return False
            cur = c.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND coalesce(title, '') = ''",
                (title, cid),
            )
            return cur.rowcount > 0

    def delete(self, conversation_id: str) -> None:
        """Delete the conversation and all its messages."""
        with self._write() as c:
            cid = self._resolve(conversation_id)
            c.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    # -- messages ------------------------------------------------------------

    def add_message(
        self, conversation_id: str, role: Role, content: str, *,
        parent_id: str | None = None, reasoning: str = "", model: str | None = None,
        usage: Usage | None = None, finish_reason: str | None = None,
        status: MessageStatus = "complete",
    ) -> StoredMessage:
        """Add a message after ``parent_id`` (``None``: a root message).

        To continue a thread pass the id of its last message (see :meth:`leaf`);
        to regenerate an answer or edit a question, pass the parent of the
        message being replaced: the new one becomes its sibling. The first
        user message also titles an untitled conversation.
        """
        if role not in _ROLES:
            raise InputError(f"unknown role {role!r}", f"use one of {', '.join(_ROLES)}")
        if status not in _STATUSES:
            raise InputError(f"unknown message status {status!r}",
                             f"use one of {', '.join(_STATUSES)}")
        now = _now()
        with self._write() as c:
            cid = self._resolve(conversation_id)
            if parent_id is not None:
                parent = c.execute("SELECT conversation_id FROM messages WHERE id = ?",
                                   (parent_id,)).fetchone()
                if parent is None or parent["conversation_id"] != cid:
                    raise InputError(f"no message {parent_id!r} in conversation {cid}")
            msg = StoredMessage(
                id=new_id(), conversation_id=cid, parent_id=parent_id, role=role,
                content=content, reasoning=reasoning, model=model,
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
                finish_reason=finish_reason, status=status, created_at=now,
                cached_tokens=usage.cached_tokens if usage else None,
            )
            c.execute(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning,"
                " model, prompt_tokens, completion_tokens, finish_reason, status, created_at,"
                " cached_tokens, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (msg.id, cid, parent_id, role, content, reasoning, model, msg.prompt_tokens,
                 msg.completion_tokens, finish_reason, status, _ts(now), msg.cached_tokens,
                 self.owner if status == "streaming" else None),
            )
            self._touch(cid, now)
            title = title_from(content) if role == "user" else ""
            if title:
                c.execute("UPDATE conversations SET title = ? WHERE id = ?"
                          " AND coalesce(title, '') = ''", (title, cid))
        return msg

    def update_message(
        self, message_id: str, *, content: str | _Unset = UNSET,
        reasoning: str | _Unset = UNSET, usage: Usage | _Unset | None = UNSET,
        finish_reason: str | _Unset | None = UNSET, status: MessageStatus | _Unset = UNSET,
    ) -> StoredMessage:
        """Change the given fields of a message (saving a streamed answer as it grows)."""
        sets: list[str] = []
        values: list[object] = []
        if not isinstance(content, _Unset):
            sets.append("content = ?")
            values.append(content)
        if not isinstance(reasoning, _Unset):
            sets.append("reasoning = ?")
            values.append(reasoning)
        if not isinstance(usage, _Unset):
            sets += ["prompt_tokens = ?", "completion_tokens = ?", "cached_tokens = ?"]
            values += [usage.prompt_tokens if usage else None,
                       usage.completion_tokens if usage else None,
                       usage.cached_tokens if usage else None]
        if not isinstance(finish_reason, _Unset):
            sets.append("finish_reason = ?")
            values.append(finish_reason)
        if not isinstance(status, _Unset):
            if status not in _STATUSES:
                raise InputError(f"unknown message status {status!r}",
                                 f"use one of {', '.join(_STATUSES)}")
            sets.append("status = ?")
            values.append(status)
        with self._write() as c:
            row = c.execute("SELECT conversation_id FROM messages WHERE id = ?",
                            (message_id,)).fetchone()
            if row is None:
                raise InputError(f"no message with id {message_id!r}")
            if sets:
                c.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?",
                          (*values, message_id))
                self._touch(row["conversation_id"], _now())
        return self.message(message_id)

    def interrupt_streaming(self) -> int:
        """Mark every answer still ``streaming`` as ``interrupted``; returns how many.

        For one process alone on its database (a test, a tool): an app process sharing
        the database with others interrupts only the answers of processes that are gone
        (:meth:`StreamOwners.interrupt_orphans <.stream_owners.StreamOwners.interrupt_orphans>`).
        What was saved (at most a second behind, see :mod:`qwenapp.chat.assistant`) is
        kept, as Ctrl-C keeps it.
        """
        with self._write() as c:
            cur = c.execute(f"UPDATE messages SET {INTERRUPTED} WHERE status = 'streaming'")
            return int(cur.rowcount)

    def message(self, message_id: str) -> StoredMessage:
        """One message by its full id."""
        with self._read():
            row = self._conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?",
                                     (message_id,)).fetchone()
        if row is None:
            raise InputError(f"no message with id {message_id!r}")
        return _message(row)

    def leaf(self, conversation_id: str) -> StoredMessage | None:
        """The most recent message of the conversation: where a new turn goes by default."""
        with self._read():
            cid = self._resolve(conversation_id)
            row = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ?"
                " ORDER BY m.seq DESC LIMIT 1", (cid,),
            ).fetchone()
        return _message(row) if row else None

    def thread(self, conversation_id: str,
               leaf_id: str | None = None) -> list[StoredMessage]:
        """The messages from the root down to ``leaf_id`` (default: the most recent one)."""
        with self._read():
            cid = self._resolve(conversation_id)
            if leaf_id is None:
                last = self.leaf(cid)
                if last is None:
                    return []
                leaf_id = last.id
            owner = self._conn.execute("SELECT conversation_id FROM messages WHERE id = ?",
                                       (leaf_id,)).fetchone()
            if owner is None or owner["conversation_id"] != cid:
                raise InputError(f"no message {leaf_id!r} in conversation {cid}")
            rows = self._conn.execute(
                "WITH RECURSIVE path (id, parent_id, depth) AS ("
                "  SELECT id, parent_id, 0 FROM messages WHERE id = ?"
                "  UNION ALL"
                "  SELECT m.id, m.parent_id, path.depth + 1"
                "  FROM messages m JOIN path ON m.id = path.parent_id"
                f") SELECT {_MESSAGE_COLUMNS} FROM path JOIN messages m ON m.id = path.id"
                " ORDER BY path.depth DESC",
                (leaf_id,),
            ).fetchall()
        return [_message(r) for r in rows]

    def children(self, message_id: str) -> list[StoredMessage]:
        """The messages that follow ``message_id``: more than one where the thread branches."""
        with self._read():
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.parent_id = ?"
                " ORDER BY m.seq", (message_id,),
            ).fetchall()
        return [_message(r) for r in rows]

    def siblings(self, message: StoredMessage) -> list[StoredMessage]:
        """The versions of ``message`` (itself included): answers regenerated, questions edited."""
        with self._read():
            rows = self._conn.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ?"
                " AND m.parent_id IS ? ORDER BY m.seq",
                (message.conversation_id, message.parent_id),
            ).fetchall()
        return [_message(r) for r in rows]

    # -- listing and search --------------------------------------------------

    def recent(self, limit: int = 20, offset: int = 0) -> list[Conversation]:
        """Conversations, most recently updated first, with their message counts."""
        if limit < 1 or offset < 0:
            raise InputError("the limit must be at least 1 and the offset at least 0")
        with self._read():
            rows = self._conn.execute(
                f"SELECT {_CONVERSATION_COLUMNS} FROM conversations c"
                " ORDER BY c.updated_at DESC, c.seq DESC LIMIT ? OFFSET ?", (limit, offset),
            ).fetchall()
        return [_conversation(r) for r in rows]

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Conversations whose title, and messages whose text, contain every term of ``query``.

        Terms match anywhere, case-insensitively, in any language (``"quoted
        phrases"`` too); characters with a meaning in FTS syntax are taken
        literally. Title matches come first, then messages by relevance.
        """
        with self._read():
            return search(self._conn, query, limit)
