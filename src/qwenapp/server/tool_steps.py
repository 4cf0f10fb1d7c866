"""The tool steps of a chat answer, kept with the answer (migration 0205).

A turn in the web app may call tools; the page shows each call and its
result as a step, while streaming and after a reload, so the steps are saved
as they happen (an answer cut short keeps the steps it made). Rows go when
their message does (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from ..store import transaction

__all__ = ["load_steps", "save_steps"]


def save_steps(conn: sqlite3.Connection, message_id: str, steps: list[dict[str, Any]]) -> None:
    with transaction(conn) as c:
        c.execute("INSERT OR REPLACE INTO server_message_tools (message_id, steps) "
                  "VALUES (?, ?)", (message_id, json.dumps(steps, ensure_ascii=False)))


def load_steps(conn: sqlite3.Connection,
               message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Steps by message id, for those of ``message_ids`` that have any."""
    ids = list(message_ids)
    out: dict[str, list[dict[str, Any]]] = {}
    for i in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        part = ids[i:i + 500]
        marks = ",".join("?" * len(part))
        for mid, data in conn.execute("SELECT message_id, steps FROM server_message_tools "
                                      f"WHERE message_id IN ({marks})", part):
            out[mid] = json.loads(data)
    return out
