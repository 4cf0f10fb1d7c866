"""The tool steps of a chat answer, kept with the answer (migration 0205).

A turn in the web app may call tools; the page shows each call and its
result as a step, while streaming and after a reload, so the steps are saved
as they happen (an answer cut short keeps the steps it made). Rows go when
their message does (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..store.connection import Connection
from .message_extras import load_extras, save_extras

__all__ = ["load_steps", "save_steps"]


def save_steps(conn: Connection, message_id: str, steps: list[dict[str, Any]]) -> None:
    save_extras(conn, "server_message_tools", "steps", message_id, steps)


def load_steps(conn: Connection,
               message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Steps by message id, for those of ``message_ids`` that have any."""
    return load_extras(conn, "server_message_tools", "steps", message_ids)
