"""``qwenapp docs``: the persistent document library (add, list, search, rm)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import click
from rich.markup import escape

from ..errors import InputError
from ..library import Hit, IngestOutcome, Library, parse_embedder
from ..store import open_db
from .progress import PageProgress
from .state import AppState

__all__ = ["docs"]


def _library(state: AppState) -> Library:
    return Library(open_db(state.settings.database), limits=state.settings.documents.limits())


def _embed_spec(state: AppState, spec: str | None) -> str | None:
    return spec or state.settings.embed


@click.group("docs")
def docs() -> None:
    """Manage the local document library that chat and reports draw on."""


@docs.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--embed", "embed", metavar="openai:URL#MODEL",
              help="Also compute embeddings through this endpoint (or $QWENAPP_EMBED).")
@click.option("--reread", is_flag=True,
              help="Read files already in the library again (after switching OCR on).")
@click.pass_obj
def add(state: AppState, paths: tuple[Path, ...], embed: str | None, reread: bool) -> None:
    """Add files or folders (PDF, DOCX, PPTX, XLSX, CSV, Markdown, HTML, text, and scans
    and pictures of text: PNG, JPEG, WebP, TIFF, read by OCR)."""
    lib = _library(state)
    err = state.err
    named = {p.expanduser().resolve() for p in paths if not p.is_dir()}
    failed = total = 0
    pages = PageProgress(err)  # long scans: "scan.pdf: OCR page 3 of 40"
    for o in _ingest(lib, paths, pages, reread):
        total += 1
        name = escape(str(o.path))
        if o.status in ("added", "updated"):
            err.print(f"[green]{o.status:9}[/] {name} ({o.sections} sections, "
                      f"{o.chunks} passages)")
            for note in o.notes:
                err.print(f"[yellow]          {escape(note)}[/]")
                if "switched off" in note:
                    err.print(f"[dim]          switch OCR on, then: qwenapp docs add --reread "
                              f"{name}[/]")
        elif o.status == "unchanged":
            note = f": {o.reason}" if o.reason else ""
            err.print(f"[dim]unchanged {name}{escape(note)}[/]")
        elif o.status == "skipped" and o.path not in named:
            err.print(f"[yellow]skipped[/]   {name}: {escape(o.reason)}")
        else:
            failed += 1
            err.print(f"[red]failed[/]    {name}: {escape(o.reason)}")
    spec = _embed_spec(state, embed)
    if spec:
        embedder = parse_embedder(spec)

        async def run() -> int:
            try:
                return await lib.embed_missing(embedder)
            finally:
                await embedder.aclose()

        n = asyncio.run(run())
        err.print(f"embedded {n} passages with {escape(embedder.name)}")
    if failed:
        raise InputError(f"{failed} of {total} file(s) could not be added (reasons above)")


def _ingest(lib: Library, paths: tuple[Path, ...], pages: PageProgress, reread: bool
            ) -> Iterator[IngestOutcome]:
    try:
        for o in lib.ingest(paths, progress=pages, reread=reread):
            pages.done(o.path)
            yield o
    finally:
        pages.close()


@docs.command("list")
@click.pass_obj
def list_(state: AppState) -> None:
    """List the documents in the library."""
    rows = _library(state).documents()
    if not rows:
        state.err.print("the library is empty: add files with `qwenapp docs add PATH`")
        return
    for d in rows:
        click.echo(f"{d.id[-8:]}  {d.kind:8} {d.sections:4} sec {d.chunks:5} psg  "
                   f"{d.title}  ({d.path})")


@docs.command("search")
@click.argument("query")
@click.option("-n", "--limit", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--hybrid", is_flag=True, help="Fuse BM25 with embedding similarity.")
@click.option("--embed", "embed", metavar="openai:URL#MODEL",
              help="Embedding endpoint for --hybrid (or $QWENAPP_EMBED).")
@click.pass_obj
def search(state: AppState, query: str, limit: int, hybrid: bool, embed: str | None) -> None:
    """Search the library (BM25; --hybrid adds embeddings)."""
    lib = _library(state)
    if hybrid:
        spec = _embed_spec(state, embed)
        if not spec:
            raise InputError("--hybrid needs an embedding endpoint",
                             "pass --embed openai:URL#MODEL or set QWENAPP_EMBED")
        embedder = parse_embedder(spec)

        async def run() -> list[Hit]:
            try:
                return list(await lib.hybrid_search(query, embedder, limit=limit))
            finally:
                await embedder.aclose()

        hits = asyncio.run(run())
    else:
        hits = list(lib.search(query, limit=limit))
    if not hits:
        state.err.print("no matches")
        return
    for h in hits:
        text = " ".join(h.text.split())
        click.echo(f"{h.score:7.3f}  {h.title} — {h.location}\n"
                   f"         {text[:200]}{'…' if len(text) > 200 else ''}")


@docs.command("rm")
@click.argument("refs", nargs=-1, required=True)
@click.pass_obj
def rm(state: AppState, refs: tuple[str, ...]) -> None:
    """Remove documents by id (or a unique suffix/prefix of it) or path."""
    lib = _library(state)
    for ref in refs:
        d = lib.remove(ref)
        state.err.print(f"removed {escape(d.title)} ({escape(d.path)})")
