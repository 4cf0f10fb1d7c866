"""Search the user's document library (the same BM25 index ``qwenapp docs`` builds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..models.events import ToolSpec
from .base import FunctionTool, ToolFailure

if TYPE_CHECKING:
    from ..library import Library

__all__ = ["library_tool"]


def library_tool(library: Library, *, document_ids: Sequence[str] | None = None,
                 limit: int = 5, chars: int = 1200) -> FunctionTool:
    """``document_ids`` confines the search (on a shared server: the caller's own documents)."""
    ids = None if document_ids is None else list(document_ids)

    async def search(args: Mapping[str, Any]) -> str:
        query = str(args.get("query") or "").strip()
        if not query:
            raise ToolFailure("the query is empty")
        n = min(max(int(args.get("limit") or limit), 1), 10)
        hits = library.search(query, limit=n, document_ids=ids)
        if not hits:
            return f"no passage of the library matches {query!r}"
        return "\n\n".join(f"[{i}] {h.title} ({h.location})\n{h.text[:chars]}"
                           for i, h in enumerate(hits, 1))

    return FunctionTool(ToolSpec(
        "library_search",
        "Search the user's own documents (their library) and return the best passages, "
        "each with its document title and location.",
        {"type": "object", "properties": {
            "query": {"type": "string", "description": "keywords to look for"},
            "limit": {"type": "integer", "description": "passages to return, 1-10"}},
         "required": ["query"]}), search, timeout=15.0)
