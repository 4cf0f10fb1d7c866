"""The whole job: generate, render, write atomically, export previews.

:func:`build_deck` is what the CLI, the HTTP API and the report command
drive. Every check that can fail fast (output path, template, preview
tools) runs before the first model call; a deck that fails validation
raises before anything is written, so no file is ever left half-made.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from ..models.base import Backend
from .deck import Deck
from .errors import DeckError
from .events import DeckBuilt, DeckResult, Exported, Rendered, Rendering
from .export import export_pdf, export_pngs, require_tools
from .layout import overflow
from .output import check_output, write_atomic
from .pipeline import DeckGenerated, DeckRequest, Progress, check_request, generate_deck
from .render import render_pptx
from .sources import Finding, Passage
from .stages import Stages
from .tables import DataTable
from .themes import THEMES, Theme
from .write import Fit

__all__ = [
    "BuildEvent",
    "DeckBuilt",
    "DeckResult",
    "Exported",
    "Rendered",
    "Rendering",
    "build_deck",
    "deck_from_passages",
    "make_deck",
    "save_deck",
]


BuildEvent = Progress | Rendering | Rendered | Exported | DeckBuilt


def save_deck(deck: Deck, theme: Theme, out: Path) -> float:
    """Render ``deck`` and write it atomically to ``out``; returns the render seconds."""
    t0 = time.perf_counter()
    data = render_pptx(deck, theme)
    seconds = time.perf_counter() - t0
    write_atomic(out, data)
    return seconds


def _fit(theme: Theme) -> Fit:
    """The layout's overflow check for ``theme`` (problems; empty when a slide fits)."""
    return lambda slide: overflow(slide, theme)


async def _export(out: Path, pdf: bool, png: bool) -> tuple[Path | None, list[Path]]:
    if pdf:
        made = await asyncio.to_thread(export_pdf, out, out.with_suffix(".pdf"))
        pngs = await asyncio.to_thread(export_pngs, made, out.with_suffix("")) if png else []
        return made, pngs
    with tempfile.TemporaryDirectory(prefix="qwenapp-preview-") as tmp:
        made = await asyncio.to_thread(export_pdf, out, Path(tmp) / (out.stem + ".pdf"))
        return None, await asyncio.to_thread(export_pngs, made, out.with_suffix(""))


async def build_deck(
    backend: Backend,
    request: DeckRequest,
    out: Path,
    *,
    theme: Theme | None = None,
    passages: Sequence[Passage] = (),
    tables: Sequence[DataTable] | None = None,
    findings: Sequence[Finding] = (),
    stages: Stages | None = None,
    pdf: bool = False,
    png: bool = False,
) -> AsyncIterator[BuildEvent]:
    """Generate, render and write a deck, yielding progress; ends with :class:`DeckBuilt`.

    ``tables`` are the sources' tables (None: found in the passages); ``findings`` a
    report's verified sentences by section (the deck's first slides, as they are);
    ``stages`` keeps each finished stage, so a run with the stages of an
    interrupted one resumes (the server's deck job passes its folder).
    """
    theme = theme or THEMES["light"]
    check_request(request, bool(passages))
    out = check_output(out)
    require_tools(pdf, png)
    started = time.perf_counter()
    generated: DeckGenerated | None = None
    async for event in generate_deck(backend, request, passages, tables=tables,
                                     findings=findings, stages=stages, fit=_fit(theme)):
        if isinstance(event, DeckGenerated):
            generated = event
        yield event
    if generated is None:  # pragma: no cover - generate_deck always ends with it or raises
        raise DeckError("the deck generator ended without a deck")
    deck, stats = generated.deck, generated.stats
    yield Rendering(len(deck.slides))
    stats.render_seconds = save_deck(deck, theme, out)
    yield Rendered(out, stats.render_seconds)
    pdf_path: Path | None = None
    pngs: list[Path] = []
    if pdf or png:
        pdf_path, pngs = await _export(out, pdf, png)
        yield Exported(tuple(p for p in (pdf_path, *pngs) if p is not None))
    stats.total_seconds = time.perf_counter() - started
    yield DeckBuilt(DeckResult(deck, out, stats, pdf_path, pngs))


async def make_deck(
    backend: Backend,
    request: DeckRequest,
    out: Path,
    *,
    theme: Theme | None = None,
    passages: Sequence[Passage] = (),
    findings: Sequence[Finding] = (),
    pdf: bool = False,
    png: bool = False,
    on_progress: Callable[[BuildEvent], None] | None = None,
) -> DeckResult:
    """:func:`build_deck` for callers that want only the result (and maybe a callback)."""
    result: DeckResult | None = None
    async for event in build_deck(backend, request, out, theme=theme, passages=passages,
                                  findings=findings, pdf=pdf, png=png):
        if on_progress is not None:
            on_progress(event)
        if isinstance(event, DeckBuilt):
            result = event.result
    assert result is not None
    return result


async def deck_from_passages(
    backend: Backend,
    passages: Sequence[Passage | tuple[str, str, str, str]],
    brief: str,
    out: Path,
    *,
    slides: int = 8,
    language: str | None = None,
    audience: str = "",
    tone: str = "",
    theme: Theme | None = None,
    parallel: int = 4,
    findings: Sequence[Finding] = (),
    on_progress: Callable[[BuildEvent], None] | None = None,
) -> DeckResult:
    """A deck from cited passages, e.g. a saved report's sources: ``--from-report``.

    ``passages`` are ``Passage`` objects or ``(source_id, title, location, text)``
    tuples; the ids are kept, so speaker notes cite the report's own sources.
    ``findings`` (:func:`~.sources.findings_from_report`) make the report's verified
    sentences the deck's first slides.
    """
    items = [p if isinstance(p, Passage) else Passage(*p) for p in passages]
    request = DeckRequest(topic=brief, slides=slides, audience=audience, tone=tone,
                          language=language, parallel=parallel)
    return await make_deck(backend, request, out, theme=theme, passages=items,
                           findings=findings, on_progress=on_progress)
