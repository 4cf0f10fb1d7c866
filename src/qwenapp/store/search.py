"""Full-text search over conversations: the one place that speaks FTS5 (or pg_trgm).

The search tables use FTS5's trigram tokenizer (see migration 0001): every
substring of three or more characters is indexed, so Chinese and Japanese,
which put no spaces between words, are as searchable as English, and
"sort" finds "sorted". Terms shorter than three characters (``北京``, ``Go``)
cannot use that index; they are matched with a plain scan instead.

A user's query is never passed to FTS as syntax. It is split into words and
``"quoted phrases"``, and each is sent as a quoted FTS string, so ``-``,
``:``, ``*``, ``NEAR`` or a stray quote are text to find, never an error.

On PostgreSQL the same terms are matched with ``ILIKE '%term%'`` (``%``, ``_``
and ``\\`` escaped), which the trigram GIN indexes of migration 0001 serve
for terms of three or more characters in any script; hits come newest first
(PostgreSQL has no bm25 over trigrams).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from ..errors import InputError
from ..models.events import Role
from .connection import Connection, dialect_of

__all__ = ["SearchHit", "search", "search_terms"]

_MIN_INDEXED = 3  # the trigram index cannot find shorter terms
_SNIPPET_WIDTH = 90  # characters of context shown around a match


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: str
    conversation_title: str | None
    message_id: str | None  # None when the conversation's title matched
    role: Role | None
    snippet: str
    created_at: datetime


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def search_terms(query: str) -> list[str]:
    """The terms of a user's search: words, or ``"quoted phrases"``; stray quotes dropped.

    Every other character is taken literally, so FTS syntax typed by a user
    (``-``, ``:``, ``*``, ``NEAR``, parentheses) is just text to find.
    """
    terms = []
    # control characters (NUL ends an FTS5 string early) are separators, never text
    query = _CONTROL.sub(" ", query)
    for phrase, word in re.findall(r'"([^"]*)"|([^\s"]+)', query):
        term = " ".join((phrase or word).split())
        if term:
            terms.append(term)
    return terms


def _fts_quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _snippet(text: str, terms: list[str], width: int = _SNIPPET_WIDTH) -> str:
    """One line of ``text`` around the first match, with ``…`` where it was cut."""
    flat = " ".join(text.split())
    low = flat.lower()
    found = [i for i in (low.find(t.lower()) for t in terms) if i >= 0]
    pos = min(found, default=0)
    start = max(0, min(pos - width // 3, len(flat) - width))
    end = min(len(flat), start + width)
    return ("…" if start > 0 else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _matching(table: str, column: str, terms: list[str]) -> tuple[str, str, list[object]]:
    """FROM, WHERE and parameters selecting rows of ``table`` containing every term.

    ``table`` is ``conversations`` (alias ``c``) or ``messages`` (``m``); each
    has a ``<table>_fts`` index whose rowid is the table's ``seq``.
    """
    indexed = [t for t in terms if len(t) >= _MIN_INDEXED]
    short = [t for t in terms if len(t) < _MIN_INDEXED]
    alias = table[0]
    params: list[object] = []
    where: list[str] = []
    source = f"{table} {alias}"
    if indexed:
        source = f"{table}_fts JOIN {table} {alias} ON {alias}.seq = {table}_fts.rowid"
        where.append(f"{table}_fts MATCH ?")
        params.append(" ".join(_fts_quote(t) for t in indexed))  # implicit AND
    for t in short:  # too short for the trigram index: a scan
        where.append(f"instr(lower({alias}.{column}), ?) > 0")
        params.append(t.lower())
    return source, " AND ".join(where), params


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching_pg(table: str, column: str, terms: list[str]) -> tuple[str, str, list[object]]:
    """The same as :func:`_matching` for PostgreSQL: every term, as a substring, any case."""
    alias = table[0]
    where = [f"{alias}.{column} ILIKE ? ESCAPE '\\'" for _ in terms]
    return f"{table} {alias}", " AND ".join(where), [_like(t) for t in terms]


def _source(conn: Connection, table: str, column: str,
            terms: list[str]) -> tuple[str, str, list[object], str]:
    """FROM, WHERE, parameters and ORDER BY for rows of ``table`` containing every term."""
    if dialect_of(conn) == "postgresql":
        return (*_matching_pg(table, column, terms), f"{table[0]}.seq DESC")
    return (*_matching(table, column, terms), _order(table, terms))


def _order(table: str, terms: list[str]) -> str:
    alias = table[0]
    if any(len(t) >= _MIN_INDEXED for t in terms):
        return f"{table}_fts.rank, {alias}.seq DESC"  # best match first (bm25)
    return f"{alias}.seq DESC"  # newest first


def _by_title(conn: Connection, terms: list[str], limit: int) -> Iterator[SearchHit]:
    source, where, params, order = _source(conn, "conversations", "title", terms)
    rows = conn.execute(
        f"SELECT c.id, c.title, c.updated_at FROM {source} WHERE {where}"
        f" ORDER BY {order} LIMIT ?", (*params, limit),
    ).fetchall()
    for r in rows:
        yield SearchHit(conversation_id=r["id"], conversation_title=r["title"],
                        message_id=None, role=None, snippet=_snippet(r["title"] or "", terms),
                        created_at=datetime.fromisoformat(r["updated_at"]))


def _in_messages(conn: Connection, terms: list[str], limit: int) -> Iterator[SearchHit]:
    source, where, params, order = _source(conn, "messages", "content", terms)
    rows = conn.execute(
        "SELECT m.id, m.conversation_id, m.role, m.content, m.created_at,"
        " (SELECT title FROM conversations c WHERE c.id = m.conversation_id) AS title"
        f" FROM {source} WHERE {where}"
        f" ORDER BY {order} LIMIT ?", (*params, limit),
    ).fetchall()
    for r in rows:
        yield SearchHit(conversation_id=r["conversation_id"], conversation_title=r["title"],
                        message_id=r["id"], role=cast(Role, r["role"]),
                        snippet=_snippet(r["content"], terms),
                        created_at=datetime.fromisoformat(r["created_at"]))


def search(conn: Connection, query: str, limit: int = 20) -> list[SearchHit]:
    """Hits for ``query``: conversations by title, then messages by relevance.

    ``conn`` must return rows by column name (as :func:`~.db.open_db`'s do).
    A title hit is left out when a message of the same conversation matched:
    an untitled conversation is named after its first message, so it would
    show twice.
    """
    terms = search_terms(query)
    if not terms:
        raise InputError("nothing to search for", "give one or more words")
    if limit < 1:
        raise InputError("the limit must be at least 1")
    in_messages = list(_in_messages(conn, terms, limit))
    seen = {h.conversation_id for h in in_messages}
    by_title = [h for h in _by_title(conn, terms, limit) if h.conversation_id not in seen]
    return [*by_title, *in_messages][:limit]
