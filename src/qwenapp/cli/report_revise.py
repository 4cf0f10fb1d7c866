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

from ..errors import InputError
from ..library import Library
from ..reports import ReportStore, load_report, write_report
from ..reports.render import to_markdown
from ..reports.revise import Clarify, ReportRevision, revise_report
from ..reports.tools import source_tools
from ..reports.versions import ReportVersions, compare_reports
from ..store import open_db
from .state import AppState

__all__ = ["CLARIFY_EXIT", "diff_versions", "list_versions", "revise"]

CLARIFY_EXIT = 3


async def _apply(state: AppState, report_id: str, request: str,
                 model: str | None) -> ReportRevision | Clarify:
    conn = open_db(state.settings.database)
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


def list_versions(state: AppState, report_id: str) -> None:
    conn = open_db(state.settings.database)
    rid = ReportStore(conn).find(report_id).id
    found = ReportVersions(conn).history(rid)
    if not found:
        click.echo(f"report {rid} has one version (it was never revised)")
        return
    click.echo(f"report {found[0].chain_id}: {len(found)} version(s), the last is current")
    for v in found:
        asked = f'"{v.request}"' if v.request else v.summary
        changed = f" sections changed: {', '.join(map(str, v.changed))}" if v.changed else ""
        click.echo(f"v{v.version}  {v.created_at[:19].replace('T', ' ')}  report "
                   f"{v.report_id}  {asked}{changed}")


def diff_versions(state: AppState, report_id: str, a: int, b: int) -> None:
    conn = open_db(state.settings.database)
    found = {v.version: v for v in ReportVersions(conn).history(
        ReportStore(conn).find(report_id).id)}
    for n in (a, b):
        if n not in found:
            raise InputError(f"report {report_id} has no version {n}",
                             "list them with --versions ID")
    diff = compare_reports(load_report(conn, found[a].report_id),
                           load_report(conn, found[b].report_id))
    for d in diff:
        if d.status == "removed":
            click.echo(f"removed: section {d.was} of v{a} ({d.heading})")
        else:
            was = f" (section {d.was} of v{a})" if d.was and d.was != d.section else ""
            click.echo(f"section {d.section}: {d.status}{was}  {d.heading}")
