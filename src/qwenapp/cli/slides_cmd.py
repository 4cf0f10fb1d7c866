"""``qwenapp slides``: a topic or documents in, an editable .pptx out.

An adapter only: options become a :class:`~qwenapp.slides.DeckRequest`, a
theme and a list of source passages; the build's progress events are printed
on stderr; the written path (or, with ``--json``, the deck's structure) goes
to stdout. Everything that can be checked without the model (topic, slide
count, language, output path, template, preview tools, source documents)
is checked before the model is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from ..errors import InputError
from ..models.base import job_parallel
from ..slides import (
    THEMES,
    BuildEvent,
    DataTable,
    DeckBuilt,
    DeckGenerated,
    DeckRequest,
    DeckResult,
    Exported,
    Finding,
    Note,
    OutlineReady,
    OutlineRetry,
    OutlineStarted,
    Passage,
    Rendered,
    Rendering,
    SlideChanged,
    SlideRetry,
    SlideStarted,
    SlideWritten,
    StageReused,
    Theme,
    build_deck,
    findings_from_report,
    get_theme,
    load_sources,
    load_template,
    passages_from_report,
)
from ..slides.export import require_tools
from ..slides.language import resolve_language
from ..slides.output import check_output
from ..slides.pipeline import check_request
from . import slides_versions as versions
from .progress import PageProgress
from .state import AppState

__all__ = ["slides"]


def _print(err: Console, ev: BuildEvent) -> None:
    if isinstance(ev, OutlineStarted):
        err.print(f"[bold]outline[/]: planning {ev.content_slides} content slide(s) in "
                  f"{escape(ev.language)}…")
    elif isinstance(ev, OutlineRetry):
        err.print(f"[yellow]outline rejected[/] (try {ev.attempt}): {escape(ev.reason)}")
    elif isinstance(ev, OutlineReady):
        err.print(f"[bold]outline[/]: {escape(ev.outline.title)}")
        for i, planned in enumerate(ev.outline.slides, 1):
            err.print(f"  {i}. {escape(planned.heading)} [dim]({planned.kind})[/]")
    elif isinstance(ev, SlideStarted):
        err.print(f"[dim]writing slide {ev.index}/{ev.total}: {escape(ev.heading)}[/]")
    elif isinstance(ev, SlideRetry):
        err.print(f"[yellow]slide {ev.index} rejected[/] (try {ev.attempt}): "
                  f"{escape(ev.reason)}")
    elif isinstance(ev, SlideWritten):
        err.print(f"[green]slide {ev.index}/{ev.total}[/] {escape(ev.heading)} "
                  f"[dim]({ev.kind}, {ev.tokens} tokens)[/]")
    elif isinstance(ev, SlideChanged):
        err.print(f"[yellow]changed:[/] {escape(ev.text())}")
    elif isinstance(ev, StageReused):
        err.print(f"[dim]reusing saved stage: {escape(ev.stage)}[/]")
    elif isinstance(ev, Note):
        err.print(f"[yellow]note:[/] {escape(ev.text)}")
    elif isinstance(ev, DeckGenerated):
        s = ev.stats
        err.print(f"generated in {s.model_seconds:.1f} s: {s.completion_tokens} tokens, "
                  f"{s.calls} call(s), {s.retries} retr{'y' if s.retries == 1 else 'ies'}")
        changed = [f"{n} {what}" for n, what in ((s.degraded, "simplified"),
                                                 (s.replaced, "replaced"),
                                                 (s.dropped, "left out")) if n]
        if changed or s.data_slides:
            err.print(f"slides: {', '.join(changed) or 'none changed'}; {s.data_slides} chart(s) "
                      f"or table(s) made from {s.tables_found} table(s) found")
    elif isinstance(ev, Rendering):
        err.print(f"[dim]rendering {ev.slides} slides…[/]")
    elif isinstance(ev, Rendered):
        err.print(f"[bold green]wrote[/] {escape(str(ev.path))} "
                  f"[dim](rendered in {ev.seconds:.2f} s)[/]")
    elif isinstance(ev, Exported):
        for p in ev.paths:
            err.print(f"[bold green]wrote[/] {escape(str(p))}")


def _report_passages(state: AppState, report_id: str, topic: str
                     ) -> tuple[str, list[Passage], list[Finding]]:
    """A saved report's retrieved passages (ids kept, so notes cite its sources) and its
    verified sentences as findings (the deck's first slides, as deck jobs do)."""
    from ..reports import load_report
    from ..store import open_db

    report = load_report(open_db(state.settings.database), report_id)
    passages = passages_from_report(report)
    if not passages:
        raise InputError(f"report {report_id} has no sources to build a deck from")
    findings = findings_from_report(report)
    state.err.print(f"report {escape(report.title)}: {len(passages)} passage(s), "
                    f"{len(findings)} section(s) of verified sentences")
    return topic or report.title, passages, findings


def _default_output(topic: str) -> Path:
    words = re.findall(r"[a-z0-9]+", topic.lower())
    slug = "-".join(words)[:48].strip("-")
    return Path(f"{slug or 'deck'}.pptx")


async def _run(state: AppState, model: str | None, request: DeckRequest, out: Path,
               theme: Theme, passages: list[Passage], tables: list[DataTable] | None,
               pdf: bool, png: bool, findings: list[Finding]) -> DeckResult:
    backend = state.backend(model)
    request = dataclasses.replace(request, parallel=job_parallel(
        backend, state.settings.job_parallel, state.settings.parallel))
    try:
        result: DeckResult | None = None
        async for ev in build_deck(backend, request, out, theme=theme, passages=passages,
                                   tables=tables, findings=findings, pdf=pdf, png=png):
            _print(state.err, ev)
            if isinstance(ev, DeckBuilt):
                result = ev.result
        assert result is not None
        return result
    finally:
        with contextlib.suppress(Exception):
            await backend.aclose()


@click.command("slides")
@click.argument("words", nargs=-1)
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="The .pptx to write (default: a name made from the topic).")
@click.option("-n", "--slides", "count", type=int, default=8, show_default=True,
              help="Slides in the deck, title and closing included (3-30).")
@click.option("--audience", default="", help="Who the deck is for.")
@click.option("--tone", default="", help="How it should sound (e.g. formal, upbeat).")
@click.option("--notes", default="", metavar="TEXT",
              help="What the deck should focus on, or other instructions for the writer.")
@click.option("--language", default=None,
              help="en, zh, fr, de, es or ja (default: the language of the request).")
@click.option("--theme", "theme_name", type=click.Choice(sorted(THEMES)), default=None,
              help="A built-in theme (default: light).")
@click.option("--template", type=click.Path(path_type=Path),
              help="A .pptx whose layouts and theme the deck reuses.")
@click.option("--from", "sources", multiple=True, type=click.Path(path_type=Path),
              metavar="FILE", help="Build from this document (PDF, DOCX, PPTX, XLSX, CSV, "
              "Markdown, HTML, text, or a scan or picture of text: PNG, JPEG, WebP, TIFF); "
              "repeat or list several.")
@click.option("--from-report", "report_id", metavar="ID",
              help="Build from a saved report (id or prefix, see `qwenapp report --list`).")
@click.option("--pdf", is_flag=True, help="Also write a PDF preview (needs LibreOffice).")
@click.option("--png", is_flag=True, help="Also write a PNG per slide (LibreOffice, pdftoppm).")
@click.option("--model", default=None, help="Model name, .gguf path or endpoint.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the deck's structure as JSON.")
@click.option("--revise", "revise_id", metavar="ID",
              help='Revise a deck made before: --revise ID "make slide 3 a chart" (a new '
              "version; only the slides the request touches are made again).")
@click.option("--versions", "versions_id", metavar="ID", help="List a deck's versions.")
@click.option("--diff", "diff_args", nargs=3, type=(str, int, int), default=None,
              metavar="ID A B", help="Which slides differ between versions A and B.")
@click.option("--restore", "restore_args", nargs=2, type=(str, int), default=None,
              metavar="ID N", help="Go back to version N (recorded as a new version).")
@click.option("--export", "export_args", nargs=2, type=(str, int), default=None,
              metavar="ID N", help="Write version N's .pptx (to -o, or NAME-vN.pptx).")
@click.pass_obj
def slides(state: AppState, words: tuple[str, ...], output: Path | None, count: int,
           audience: str, tone: str, notes: str, language: str | None, theme_name: str | None,
           template: Path | None, sources: tuple[Path, ...], report_id: str | None, pdf: bool,
           png: bool, model: str | None, seed: int, as_json: bool, revise_id: str | None,
           versions_id: str | None, diff_args: tuple[str, int, int] | None,
           restore_args: tuple[str, int] | None, export_args: tuple[str, int] | None) -> None:
    """Make an editable PowerPoint deck about TOPIC (or from --from documents)."""
    if revise_id or versions_id or diff_args or restore_args or export_args:
        _by_id(state, words, output, model, pdf, png, as_json, revise_id, versions_id,
               diff_args, restore_args, export_args)
        return
    files = list(sources)
    topic_words: list[str] = []
    for word in words:  # `--from a.pdf b.docx`: further files land here
        if files and Path(word).is_file():
            files.append(Path(word))
        else:
            topic_words.append(word)
    topic = " ".join(topic_words)
    report_passages: list[Passage] = []
    findings: list[Finding] = []
    if report_id:
        topic, report_passages, findings = _report_passages(state, report_id, topic)
    request = DeckRequest(topic=topic, slides=count, audience=audience, tone=tone,
                          notes=notes.strip(), language=language, seed=seed)
    check_request(request, bool(files) or bool(report_passages))
    if language:
        resolve_language(language, topic)
    out = check_output(output or _default_output(topic or " ".join(p.stem for p in files)))
    theme = load_template(template) if template else get_theme(theme_name or "light")
    require_tools(pdf, png)
    passages: list[Passage] = list(report_passages)
    tables: list[DataTable] | None = None  # None: found in the report's passages
    if files:
        for f in files:
            state.err.print(f"[dim]reading {escape(str(f))}…[/]")
        pages = PageProgress(state.err)  # long scans: "scan.pdf: OCR page 3 of 40"
        try:
            read, tables = load_sources(files, state.settings.documents.limits(), pages)
        finally:
            pages.close()
        passages += read
        state.err.print(f"read {len(read)} passage(s) and {len(tables)} table(s) from "
                        f"{len(files)} file(s)")
        if not passages:
            raise InputError("the --from documents hold no text to build a deck from",
                             "check that they are not empty")
    result = asyncio.run(_run(state, model, request, out, theme, passages, tables, pdf, png,
                              findings))
    theme_label = f"template:{template.resolve()}" if template else (theme_name or "light")
    versions.record_deck(state, result.deck, theme_label, result.path)
    if as_json:
        click.echo(result.deck.model_dump_json(indent=2))
    else:
        click.echo(str(result.path))


def _by_id(state: AppState, words: tuple[str, ...], output: Path | None, model: str | None,
           pdf: bool, png: bool, as_json: bool, revise_id: str | None, versions_id: str | None,
           diff_args: tuple[str, int, int] | None, restore_args: tuple[str, int] | None,
           export_args: tuple[str, int] | None) -> None:
    """The deck-by-id actions (one at a time): revise, list, compare, restore, export."""
    chosen = [x for x in (revise_id, versions_id, diff_args, restore_args, export_args) if x]
    if len(chosen) > 1:
        raise InputError("give one of --revise, --versions, --diff, --restore, --export")
    if revise_id:
        request = " ".join(words).strip()
        if not request:
            raise InputError("say what to change", 'e.g. --revise ID "make slide 3 a chart"')
        versions.revise(state, revise_id, request, model, output, pdf, png, as_json)
    elif versions_id:
        versions.list_versions(state, versions_id, as_json)
    elif diff_args:
        versions.diff_versions(state, diff_args[0], diff_args[1], diff_args[2], as_json)
    elif restore_args:
        versions.restore_version(state, restore_args[0], restore_args[1], output, as_json)
    elif export_args:
        versions.export_version(state, export_args[0], export_args[1], output)
