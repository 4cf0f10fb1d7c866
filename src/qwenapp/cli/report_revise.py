"""``qwenapp report --revise ID "expand the section on risks"``: a report revised by asking.

The revision is a new saved report (its id printed, reopened with ``--show``); the old
one stays as it was. A request the rules cannot map to an edit, or that names a section
the report does not have, prints a short question on stdout and exits with status 3.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click
from rich.markup import escape

from ..library import Library
from ..reports import ReportStore, write_report
from ..reports.render import to_markdown
from ..reports.revise import Clarify, ReportRevision, revise_report
from ..reports.tools import source_tools
from ..store import open_db
from .state import AppState

__all__ = ["CLARIFY_EXIT", "revise"]

CLARIFY_EXIT = 3


async def _apply(state: AppState, report_id: str, request: str,
                 model: str | None) -> ReportRevision | Clarify:
    conn = open_db(state.settings.db_path)
    try:
        saved = ReportStore(conn).request(ReportStore(conn).find(report_id).id)
        backend = state.backend(model)
        try:
            library = Library(conn, limits=state.settings.documents.limits())
            async with source_tools(library, saved,
                                    search_env=state.settings.search_keys) as tools:
                return await revise_report(conn, backend, report_id, request, tools)
        finally:
            with contextlib.suppress(Exception):
                await backend.aclose()
    finally:
        conn.close()


def revise(state: AppState, report_id: str, request: str, model: str | None,
           output: Path | None) -> None:
    result = asyncio.run(_apply(state, report_id, request, model))
    if isinstance(result, Clarify):
        click.echo(result.question)
        raise SystemExit(CLARIFY_EXIT)
    rep = result.report
    if output is None:
        click.echo(to_markdown(rep), nl=False)
    else:
        state.err.print(f"[bold green]wrote[/] {escape(str(write_report(rep, output)))}")
    changed = ", ".join(map(str, result.changed)) or "none (the summary only)"
    state.err.print(f"revised as report {rep.id}: {escape(result.summary)}; sections "
                    f"rewritten: {changed} ({result.calls} model call(s)); the old report "
                    "is kept")
