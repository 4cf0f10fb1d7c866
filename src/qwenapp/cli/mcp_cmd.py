"""``qwenapp mcp``: serve the library and cited reports to other agents over MCP.

Stdio by default (an MCP client starts ``qwenapp mcp`` itself); ``--http``
serves streamable HTTP on 127.0.0.1 (``--port``), for clients that connect
to a URL.
"""

from __future__ import annotations

import click

from ..errors import InputError
from .state import AppState

__all__ = ["mcp"]


@click.command("mcp")
@click.option("-m", "--model",
              help="Model for research_report and slide_deck (default: the configured one).")
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for --http.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535),
              help="Port for --http.")
@click.pass_obj
def mcp(state: AppState, model: str | None, http: bool, host: str, port: int) -> None:
    """Offer library_search, list_documents, research_report and slide_deck as MCP tools."""
    from ..mcp.server import build_server
    from ..store import open_db

    if http and host not in ("127.0.0.1", "::1", "localhost"):
        raise InputError(f"qwenapp mcp serves only on this machine, not on {host}",
                         "it has no login; use --host 127.0.0.1 (and a tunnel if needed)")
    conn = open_db(state.settings.database)
    app = build_server(conn, lambda: state.backend(model), settings=state.settings)
    try:
        if http:
            state.err.print(f"[dim]MCP over streamable HTTP at http://{host}:{port}/mcp[/]")
            app.run("streamable-http", host=host, port=port)
        else:
            app.run()
    finally:
        conn.close()
