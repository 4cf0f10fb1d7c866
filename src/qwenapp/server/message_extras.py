"""JSON kept beside a chat message in a table of its own: the one reader and writer.

Citations (migration 0201) and tool steps (migration 0205) are both a JSON list
per message id, in a table whose rows go when their message does
(``ON DELETE CASCADE``); this module reads and writes any such table.
``table`` and ``column`` are this package's constants, never user input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..store import transaction
from ..store.connection import Connection

__all__ = ["load_extras", "save_extras"]

_CHUNK = 500  # under SQLite's bound-parameter limit


def save_extras(conn: Connection, table: str, column: str, message_id: str,
                value: list[dict[str, Any]]) -> None:
    with transaction(conn) as c:
        c.execute(f"INSERT INTO {table} (message_id, {column}) VALUES (?, ?) ON CONFLICT "
                  f"(message_id) DO UPDATE SET {column} = excluded.{column}",
                  (message_id, json.dumps(value, ensure_ascii=False)))


def load_extras(conn: Connection, table: str, column: str,
                message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The JSON by message id, for those of ``message_ids`` that have a row."""
    ids = list(message_ids)
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        marks = ",".join("?" * len(part))
        for mid, data in conn.execute(f"SELECT message_id, {column} FROM {table} "
                                      f"WHERE message_id IN ({marks})", part):
            out[mid] = json.loads(data)
    return out
