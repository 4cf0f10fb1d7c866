"""``qwenapp report``: a research report from documents, URLs and web search.

This module is an adapter: it turns options into a
:class:`~qwenapp.reports.ReportRequest`, builds the collaborators (library,
fetcher, search provider, backend), prints the pipeline's events, and
writes the output by extension. Everything it checks up front (output path
and extension, docs folders, having any source at all) fails before a model
is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ..clarify import MAX_NOTES
from ..errors import InputError
from ..library import (
    Library,
    LibraryError,
    OpenAIEmbeddings,
    parse_embedder,
    split_embed_spec,
)
from ..reports import (
    Finished,
    NoSourcesError,
    PassagesReady,
    PlanReady,
    RenderError,
    ReportEvent,
    ReportRequest,
    ReportStore,
    RunStarted,
    SearchDone,
    SectionStarted,
    SectionWritten,
    SourceRead,
    SourceSkipped,
    StageReused,
    Warned,
    check_output,
    load_report,
    run_report,
    write_report,
)
from ..reports.render import to_markdown
from ..reports.tools import run_config, source_tools
from ..store import open_db
from .progress import PageProgress
from .state import AppState

__all__ = ["report"]


def _p(err: Console, text: str) -> None:
    err.print(text, soft_wrap=True)


def _print_event(err: Console, ev: ReportEvent) -> None:
    if isinstance(ev, RunStarted):
        verb = "resuming" if ev.resumed else "report"
        _p(err, f"[bold]{verb}[/] {ev.report_id} (language: {escape(ev.language)})")
    elif isinstance(ev, StageReused):
        _p(err, f"[dim]reusing saved stage: {ev.stage}[/]")
    elif isinstance(ev, PlanReady):
        note = " [yellow](generic outline: the model's could not be used)[/]" if ev.fallback \
            else ""
        _p(err, f"[bold]plan:[/] {escape(ev.plan.title)}{note}")
        for i, s in enumerate(ev.plan.sections, start=1):
            _p(err, f"  {i}. {escape(s.heading)}")
            for q in s.questions:
                _p(err, f"     [dim]- {escape(q)}[/]")
    elif isinstance(ev, SourceRead):
        _p(err, f"[green]read[/]    {escape(ev.title or ev.locator)} [dim]({escape(ev.detail)}"
                  f"; {escape(ev.locator)})[/]")
    elif isinstance(ev, SourceSkipped):
        _p(err, f"[yellow]skipped[/] {escape(ev.locator)}: {escape(ev.reason)}")
    elif isinstance(ev, SearchDone):
        _p(err, f"[cyan]search[/]  {escape(ev.query)} → {ev.results} result(s)")
    elif isinstance(ev, PassagesReady):
        _p(err, f"retrieved {ev.passages} passage(s) from {ev.sources} source(s)")
    elif isinstance(ev, SectionStarted):
        _p(err, f"[dim]writing section {ev.index}/{ev.total}: {escape(ev.heading)}[/]")
    elif isinstance(ev, SectionWritten):
        extra = f", {ev.removed} unknown citation(s) removed" if ev.removed else ""
        _p(err, f"[green]section {ev.index}/{ev.total} written[/]: {escape(ev.heading)} "
                  f"({ev.citations} source(s) cited{extra})")
    elif isinstance(ev, Warned):
        _p(err, f"[yellow]warning:[/] {escape(ev.message)}")


def _request(question: str | None, docs: tuple[Path, ...], urls: tuple[str, ...], web: bool,
             search: str | None, use_library: bool, depth: str, length: str, language: str,
             audience: str, notes: str, allow_uncited: bool, allow_private_urls: bool,
             allow_host: tuple[str, ...], default_search: str = "duckduckgo") -> ReportRequest:
    if not question or not question.strip():
        raise InputError("give a question", 'qwenapp report "What drove X?" --docs ./folder')
    if len(notes.strip()) > MAX_NOTES:
        raise InputError(f"--notes is longer than {MAX_NOTES} characters", "shorten the notes")
    for d in docs:
        if not d.expanduser().exists():
            raise LibraryError(f"no such file or folder: {d}", "check the path given to --docs")
    return ReportRequest(
        question=question.strip(), depth=depth, length=length,  # type: ignore[arg-type]
        language=language, audience=audience, notes=notes.strip(),
        docs=[str(d.expanduser().resolve()) for d in docs], urls=list(urls), web=web,
        search=search or default_search,
        use_library=use_library, allow_uncited=allow_uncited,
        allow_private_urls=allow_private_urls, allowed_hosts=list(allow_host),
    )


def _by_id(state: AppState, question: str | None, output: Path | None, model: str | None,
           revise_id: str | None, versions_id: str | None,
           diff_args: tuple[str, int, int] | None, restore_args: tuple[str, int] | None,
           export_args: tuple[str, int] | None) -> None:
    """The report-by-id actions (one at a time): revise, list, compare, restore, export."""
    from . import report_revise as versions

    chosen = [x for x in (revise_id, versions_id, diff_args, restore_args, export_args) if x]
    if len(chosen) > 1:
        raise InputError("give one of --revise, --versions, --diff, --restore, --export")
    if revise_id:
        if not question or not question.strip():
            raise InputError("say what to change", 'e.g. --revise ID "make it shorter"')
        versions.revise(state, revise_id, question, model, output)
    elif versions_id:
        versions.list_versions(state, versions_id)
    elif diff_args:
        versions.diff_versions(state, *diff_args)
    elif restore_args:
        versions.restore_version(state, *restore_args, output)
    elif export_args:
        versions.export_version(state, *export_args, output)


async def _run(state: AppState, model: str | None, request: ReportRequest,
               report_id: str | None, url_timeout: float, embed: str | None,
               holder: dict[str, str]) -> Finished:
    settings = state.settings
    conn = open_db(settings.database)
    embedder: OpenAIEmbeddings | None = parse_embedder(embed) if embed else None
    backend = state.backend(model)
    pages = PageProgress(state.err)  # long scans in --docs: "scan.pdf: OCR page 3 of 40"
    try:
        library = Library(conn, limits=settings.documents.limits())  # OCR options too
        async with source_tools(library, request, search_env=settings.search_keys,
                                url_timeout=url_timeout, embedder=embedder,
                                page_progress=pages) as tools:
            result: Finished | None = None
            async for ev in run_report(conn, backend, request, tools, report_id=report_id,
                                       config=run_config(backend, settings)):
                if isinstance(ev, RunStarted):
                    holder["id"] = ev.report_id
                if isinstance(ev, Finished):
                    result = ev
                _print_event(state.err, ev)
        assert result is not None
        return result
    finally:
        pages.close()
        with contextlib.suppress(Exception):
            await backend.aclose()
        if embedder is not None:
            await embedder.aclose()
        conn.close()


@click.command("report")
@click.argument("question", required=False)
@click.option("--docs", "docs", multiple=True, type=click.Path(path_type=Path),
              help="A file or folder of documents (repeatable). Added to the library.")
@click.option("--url", "urls", multiple=True, help="A web page to read (repeatable).")
@click.option("--web", is_flag=True, help="Search the web for sources.")
@click.option("--search", "search", metavar="PROVIDER[:URL]",
              help="searxng:URL, duckduckgo, brave or tavily (default $QWENAPP_SEARCH or "
                   "duckduckgo); keys from BRAVE_API_KEY / TAVILY_API_KEY.")
@click.option("--library", "use_library", is_flag=True,
              help="Search the whole document library, not only --docs.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to FILE: .md, .html, .pdf or .docx (default: Markdown on stdout).")
@click.option("--depth", type=click.Choice(["quick", "standard", "deep"]), default="standard",
              show_default=True)
@click.option("--length", type=click.Choice(["short", "medium", "long"]), default="medium",
              show_default=True)
@click.option("--language", default="auto", show_default=True,
              help="en, zh, ... (auto: the question's language).")
@click.option("--audience", default="", help="Who the report is for.")
@click.option("--notes", default="", metavar="TEXT",
              help="What the report should focus on, or other instructions for the writer.")
@click.option("--model", default=None, help="Model name, .gguf path or endpoint.")
@click.option("--allow-uncited", is_flag=True,
              help="Write a report even when no sources are found (it cites nothing).")
@click.option("--allow-private-urls", is_flag=True,
              help="Allow fetching loopback, private and link-local addresses.")
@click.option("--allow-host", multiple=True, metavar="HOST",
              help="Allow one private host (repeatable).")
@click.option("--embed", "embed", metavar="openai:URL#MODEL",
              help="Hybrid retrieval: fuse BM25 with embeddings from this endpoint "
                   "(or $QWENAPP_EMBED).")
@click.option("--url-timeout", default=30.0, show_default=True, type=click.FloatRange(1, 600),
              help="Seconds allowed for each web page.")
@click.option("--resume", "resume_id", metavar="ID", help="Finish an interrupted report.")
@click.option("--show", "show_id", metavar="ID",
              help="Reopen a saved report (print it, or export it with -o).")
@click.option("--list", "list_reports", is_flag=True, help="List saved reports.")
@click.option("--revise", "revise_id", metavar="ID",
              help='Revise a saved report: --revise ID "expand the section on risks" (the '
              "newest version of ID's report, saved as the next version; only the sections "
              "the request touches are rewritten).")
@click.option("--versions", "versions_id", metavar="ID", help="List a report's versions.")
@click.option("--diff", "diff_args", nargs=3, type=(str, int, int), default=None,
              metavar="ID A B", help="Which sections differ between versions A and B.")
@click.option("--restore", "restore_args", nargs=2, type=(str, int), default=None,
              metavar="ID N", help="Go back to version N (recorded as a new version).")
@click.option("--export", "export_args", nargs=2, type=(str, int), default=None,
              metavar="ID N", help="Print version N, or write it with -o.")
@click.pass_obj
def report(state: AppState, question: str | None, docs: tuple[Path, ...],
           urls: tuple[str, ...], web: bool, search: str | None, use_library: bool,
           output: Path | None, depth: str, length: str, language: str, audience: str,
           notes: str, model: str | None, allow_uncited: bool, allow_private_urls: bool,
           allow_host: tuple[str, ...], embed: str | None, url_timeout: float,
           resume_id: str | None,
           show_id: str | None, list_reports: bool, revise_id: str | None,
           versions_id: str | None, diff_args: tuple[str, int, int] | None,
           restore_args: tuple[str, int] | None, export_args: tuple[str, int] | None) -> None:
    """Write a research report on QUESTION, citing the sources it read."""
    err = state.err
    if output is not None:
        check_output(output)
    if revise_id or versions_id or diff_args or restore_args or export_args:
        _by_id(state, question, output, model, revise_id, versions_id, diff_args,
               restore_args, export_args)
        return
    if list_reports:
        from ..reports.versions import ReportVersions

        conn = open_db(state.settings.database)
        places = ReportVersions(conn).places()
        for r in ReportStore(conn).recent():
            chain, n, count = places.get(r.id, (r.id, 1, 1))
            of = f"  [version {n} of report {chain}]" if n > 1 else \
                f"  [revised: {count} versions]" if count > 1 else ""
            click.echo(f"{r.id}  {r.status:8} {r.created_at[:16]}  {r.title or r.question}{of}")
        return
    if show_id:
        rep = load_report(open_db(state.settings.database), show_id)
        if output is None:
            click.echo(to_markdown(rep), nl=False)
        else:
            _p(err, f"wrote {escape(str(write_report(rep, output)))}")
        return
    if resume_id:
        store = ReportStore(open_db(state.settings.database))
        saved = store.find(resume_id)
        request = store.request(saved.id)
        rid: str | None = saved.id
    else:
        request = _request(question, docs, urls, web, search, use_library, depth, length,
                           language, audience, notes, allow_uncited, allow_private_urls,
                           allow_host, state.settings.search)
        rid = None
        if not (request.docs or request.urls or request.web or request.use_library):
            lib = Library(open_db(state.settings.database))
            if lib.documents():
                request = request.model_copy(update={"use_library": True})
                _p(err, "[dim]no sources given: searching the whole document library[/]")
            elif not request.allow_uncited:
                raise NoSourcesError("no sources given and the library is empty",
                                     "add --docs, --url or --web, or pass --allow-uncited")
    holder: dict[str, str] = {}
    try:
        embed = embed or state.settings.embed
        if embed:
            split_embed_spec(embed)  # a malformed spec fails before the model loads
        finished = asyncio.run(_run(state, model, request, rid, url_timeout, embed, holder))
    except KeyboardInterrupt:
        if "id" in holder:
            _p(err, f"\ninterrupted: resume with `qwenapp report --resume {holder['id']}`")
        sys.exit(130)
    rep = finished.report
    if output is None:
        click.echo(to_markdown(rep), nl=False)
    else:
        try:
            path = write_report(rep, output)
        except RenderError as e:
            raise RenderError(e.message, f"the report is saved: export it with `qwenapp report "
                              f"--show {rep.id} -o FILE`") from None
        _p(err, f"[bold green]wrote[/] {escape(str(path))}")
    _p(err, f"saved as report {rep.id} ({len(rep.references)} reference(s)); "
              f"reopen with `qwenapp report --show {rep.id}`")
