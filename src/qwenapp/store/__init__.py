"""Saved conversations: SQLite (or PostgreSQL), numbered migrations, ULID ids, search.

Open the database with :func:`open_db` (it creates and migrates the file, or
the PostgreSQL database a ``postgresql://`` URL names) and wrap the connection
in a :class:`ConversationStore`::

    store = ConversationStore(open_db(settings.database))
    conv = store.create(model="qwen3-8b")
    q = store.add_message(conv.id, "user", "Hello")
    store.add_message(conv.id, "assistant", "Hi!", parent_id=q.id)

:mod:`.export` turns a conversation into Markdown or JSON.
"""

from __future__ import annotations

from .connection import Connection, Row, dialect_of
from .conversations import (
    UNSET,
    Conversation,
    ConversationStore,
    MessageStatus,
    SearchHit,
    StoredMessage,
    search_terms,
    title_from,
)
from .db import open_db, transaction
from .export import from_json, to_json, to_markdown
from .ids import new_id

__all__ = [
    "UNSET",
    "Connection",
    "Conversation",
    "ConversationStore",
    "MessageStatus",
    "Row",
    "SearchHit",
    "StoredMessage",
    "dialect_of",
    "from_json",
    "new_id",
    "open_db",
    "search_terms",
    "title_from",
    "to_json",
    "to_markdown",
    "transaction",
]
