"""What a chat answer's ``[n]`` citations refer to, kept with the answer (migration 0201).

A turn with documents attached gives the model numbered excerpts; the page
needs the same list to open the passage behind ``[n]``, today and after a
reload. Rows go when their message does (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from ..store import transaction

__all__ = ["load_sources", "save_sources"]


def save_sources(conn: sqlite3.Connection, message_id: str,
                 sources: list[dict[str, Any]]) -> None:
    with transaction(conn) as c:
        c.execute("INSERT OR REPLACE INTO server_message_sources (message_id, sources) "
                  "VALUES (?, ?)", (message_id, json.dumps(sources, ensure_ascii=False)))


def load_sources(conn: sqlite3.Connection,
                 message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Sources by message id, for those of ``message_ids`` that have any."""
    ids = list(message_ids)
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        for mid, data in conn.execute("SELECT message_id, sources FROM server_message_sources "
                                      f"WHERE message_id IN ({marks})", part):
            out[mid] = json.loads(data)
    return out
