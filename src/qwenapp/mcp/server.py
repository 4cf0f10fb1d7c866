"""``qwenapp mcp``: qwenapp's library, cited reports and decks as MCP tools for other agents.

Why: a coding assistant or another agent that speaks MCP can then search the
user's own documents, or ask for a cited research report over them, without
knowing anything about qwenapp. The tools are thin wrappers over the same
library, report and deck pipelines the CLI uses; the model is loaded only when
a report or a deck is asked for. A deck is an editable .pptx written under
``$QWENAPP_HOME/decks/``; the tool answers with its path and its slides.

Over stdio (the default) stdout carries the protocol, so nothing else may
print there: progress goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ..library import Library
from ..models.base import Backend
from ..store.connection import Connection

__all__ = ["build_server"]


def build_server(conn: Connection, backend: Callable[[], Backend], *,
                 settings: Any) -> Any:
    """An ``MCPServer`` offering ``library_search``, ``list_documents``, ``research_report``
    and ``slide_deck``.

    ``backend`` is called once, the first time a report or a deck is asked for.
    """
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    from ..reports import ReportRequest, run_report
    from ..reports.events import Finished
    from ..reports.render import to_markdown
    from ..reports.tools import run_config, source_tools

    library = Library(conn)
    # The tools are async on purpose: they run on the server's event loop, in the thread
    # that opened ``conn`` (sqlite3 connections stay in their thread; the SDK runs plain
    # functions in worker threads).
    app = MCPServer("qwenapp", instructions=(
        "qwenapp's document library: search the user's own documents, list them, or ask for "
        "a research report that cites them."))
    loaded: list[Backend] = []
    read_only = ToolAnnotations(read_only_hint=True)

    def model() -> Backend:
        if not loaded:
            loaded.append(backend())
        return loaded[0]

    @app.tool(annotations=read_only)
    async def library_search(query: str, limit: int = 5) -> str:
        """Search the user's document library; returns the best passages with their
        document title and location (page, slide, section)."""
        hits = library.search(query, limit=min(max(limit, 1), 20))
        if not hits:
            return f"no passage matches {query!r}"
        return "\n\n".join(f"[{i}] {h.title} ({h.location}) document_id={h.document_id}\n"
                           f"{h.text}" for i, h in enumerate(hits, 1))

    @app.tool(annotations=read_only)
    async def list_documents() -> str:
        """The documents in the library: id, title and kind."""
        docs = library.documents()
        if not docs:
            return "the library is empty (add files with: qwenapp docs add PATH)"
        return "\n".join(f"{d.id}\t{d.title}\t{d.kind}" for d in docs)

    @app.tool()
    async def research_report(question: str, depth: str = "quick",
                              length: str = "short") -> str:
        """Write a research report that answers the question from the user's documents,
        with numbered citations and a reference list (Markdown). Takes minutes on a CPU.
        depth: quick, standard or deep; length: short, medium or long."""
        if depth not in ("quick", "standard", "deep") or length not in ("short", "medium",
                                                                        "long"):
            raise ValueError("depth must be quick, standard or deep; length short, medium "
                             "or long")
        request = ReportRequest(question=question, depth=depth,  # type: ignore[arg-type]
                                length=length, use_library=True)  # type: ignore[arg-type]
        result: Finished | None = None
        async with source_tools(library, request, search_env={}) as tools:
            async for ev in run_report(conn, model(), request, tools,
                                       config=run_config(model(), settings)):
                print(f"report: {type(ev).__name__}", file=sys.stderr, flush=True)
                if isinstance(ev, Finished):
                    result = ev
        if result is None:
            raise RuntimeError("the report did not finish")
        return to_markdown(result.report)

    @app.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def slide_deck(topic: str, slides: int = 8, use_library: bool = True) -> str:
        """Make an editable PowerPoint deck (.pptx) about the topic, from the user's documents
        when they cover it (speaker notes cite them). Takes minutes on a CPU. Answers with
        the file's path and the slides' headings. slides: 3 to 20."""
        from ..slides import Passage, deck_from_passages
        from ..store.ids import new_id

        if not topic.strip():
            raise ValueError("give a topic")
        count = min(max(slides, 3), 20)
        hits = library.search(topic, limit=12) if use_library else []
        passages = [Passage(str(h.chunk_id), h.title, h.location, h.text) for h in hits]
        folder = settings.home / "decks"
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"deck-{new_id().lower()}.pptx"
        result = await deck_from_passages(
            model(), passages, topic.strip(), out, slides=count,
            on_progress=lambda ev: print(f"deck: {type(ev).__name__}", file=sys.stderr,
                                         flush=True))
        heads = "\n".join(f"{i}. {s.title}" for i, s in enumerate(result.deck.slides, 1))
        cited = f", citing {len({p.title for p in passages})} document(s)" if passages else ""
        return f"wrote {result.path}{cited}\n{heads}"

    return app
