"""``qwenapp report --revise / --versions / --diff / --restore / --export``: reports by id.

``--revise ID "expand the section on risks"`` revises the newest version of ID's chain
(any version's id names the chain, as with decks), so an old id never forks a second line
of versions. The revision is a new saved report (its id printed, reopened with
``--show``); the old one stays as it was. A request the rules cannot map to an edit, or
that names a section the report does not have, prints a short question on stdout and
exits with status 3, changing nothing. ``--restore ID N`` makes version N the newest
again (recorded as a version of its own) and ``--export ID N`` prints or writes version N;
neither loads a model.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click
from rich.markup import escape

from ..errors import InputError
from ..library import Library
from ..reports import Report, ReportStore, load_report, write_report
from ..reports.render import to_markdown
from ..reports.revise import Clarify, ReportRevision, revise_report
from ..reports.tools import source_tools
from ..reports.versions import ReportVersions, compare_reports
from ..store import open_db
from .state import AppState

__all__ = ["CLARIFY_EXIT", "diff_versions", "export_version", "list_versions",
           "restore_version", "revise"]

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


def _current(state: AppState, report_id: str) -> str:
    """The newest version of ``report_id``'s chain (said when it is not ``report_id``)."""
    conn = open_db(state.settings.database)
    try:
        rid = ReportStore(conn).find(report_id).id
        versions = ReportVersions(conn)
        current = versions.current(rid)
        if current != rid:
            n = versions.history(rid)[-1].version
            state.err.print(f"[dim]revising version {n}, the current one (report "
                            f"{current})[/]")
        return current
    finally:
        conn.close()


def _emit(state: AppState, rep: Report, output: Path | None) -> None:
    if output is None:
        click.echo(to_markdown(rep), nl=False)
    else:
        state.err.print(f"[bold green]wrote[/] {escape(str(write_report(rep, output)))}")


def revise(state: AppState, report_id: str, request: str, model: str | None,
           output: Path | None) -> None:
    result = asyncio.run(_apply(state, _current(state, report_id), request, model))
    if isinstance(result, Clarify):
        click.echo(result.question)
        raise SystemExit(CLARIFY_EXIT)
    rep = result.report
    _emit(state, rep, output)
    changed = ", ".join(map(str, result.changed)) or "none (the summary only)"
    conn = open_db(state.settings.database)
    try:
        n = ReportVersions(conn).history(rep.id)[-1].version
    finally:
        conn.close()
    state.err.print(f"revised as report {rep.id}: {escape(result.summary)}; sections "
                    f"rewritten: {changed} ({result.calls} model call(s)); this is version "
                    f"{n}, the old report is kept (--versions {rep.id} lists them)")


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
    rid = ReportStore(conn).find(report_id).id
    va, vb = (ReportVersions(conn).version(rid, n) for n in (a, b))
    diff = compare_reports(load_report(conn, va.report_id), load_report(conn, vb.report_id))
    for d in diff:
        if d.status == "removed":
            click.echo(f"removed: section {d.was} of v{a} ({d.heading})")
        else:
            was = f" (section {d.was} of v{a})" if d.was and d.was != d.section else ""
            click.echo(f"section {d.section}: {d.status}{was}  {d.heading}")


def restore_version(state: AppState, report_id: str, n: int, output: Path | None) -> None:
    """Version ``n`` becomes the newest version again; it is printed (or written to -o)."""
    conn = open_db(state.settings.database)
    try:
        versions = ReportVersions(conn)
        rid = ReportStore(conn).find(report_id).id
        if n == versions.versions(rid)[-1].version:
            raise InputError(f"version {n} is already the current one",
                             "list the versions with --versions ID")
        v = versions.restore(rid, n)
        rep = load_report(conn, v.report_id)
    finally:
        conn.close()
    _emit(state, rep, output)
    changed = ", ".join(map(str, v.changed)) or "none"
    state.err.print(f"version {v.version}: a copy of version {n} (report {v.report_id}); "
                    f"sections that differ from the version it replaces: {changed}")


def export_version(state: AppState, report_id: str, n: int, output: Path | None) -> None:
    """Version ``n`` as it was, printed as Markdown or written to -o (any format)."""
    conn = open_db(state.settings.database)
    try:
        v = ReportVersions(conn).version(ReportStore(conn).find(report_id).id, n)
        rep = load_report(conn, v.report_id)
    finally:
        conn.close()
    _emit(state, rep, output)
