"""What a chat answer's ``[n]`` citations refer to, kept with the answer (migration 0201).

A turn with documents attached gives the model numbered excerpts; the page
needs the same list to open the passage behind ``[n]``, today and after a
reload. Rows go when their message does (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..store.connection import Connection
from .message_extras import load_extras, save_extras

__all__ = ["load_sources", "save_sources"]


def save_sources(conn: Connection, message_id: str, sources: list[dict[str, Any]]) -> None:
    save_extras(conn, "server_message_sources", "sources", message_id, sources)


def load_sources(conn: Connection,
                 message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Sources by message id, for those of ``message_ids`` that have any."""
    return load_extras(conn, "server_message_sources", "sources", message_ids)
