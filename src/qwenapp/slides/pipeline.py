"""Topic (and sources) → validated :class:`~qwenapp.slides.deck.Deck`.

Plain stages with typed inputs and outputs (in :mod:`.write`):

1. :func:`~.write.data_slides`: tables in the sources and number series in
   the request become chart and table slides by code; the model writes only
   their headings and one-sentence takeaways.
2. :func:`~.write.plan_outline`: one constrained-JSON call for the deck
   title and a heading and kind for each other content slide (kinds offered
   by what the sources hold: figures → kpi, quotable sentences → quote,
   dates → timeline), plus spare headings.
3. :func:`~.write.write_slides`: one bounded call per slide; a slide that
   will not validate becomes bullets, a repeat is rewritten or replaced by
   one on a new heading, so the deck has the slides asked for.
4. :func:`~.variety.restyle`: bullet slides whose points are figures, dates,
   ordered steps, two sides or a quotable source become KPI, timeline,
   process, comparison or quote slides (code's choice, the model's words).
5. :func:`assemble`: title, agenda, content and closing slides (no model).

:func:`generate_deck` runs them and yields typed progress events, ending
with :class:`DeckGenerated`. Each stage is saved in ``stages``, so a run
given the stages of an interrupted one resumes. Nothing here prints,
renders or writes files.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..errors import InputError
from ..models.base import Backend
from .checks import extract_numbers
from .content import quotable
from .deck import Deck, Slide
from .events import (
    DeckGenerated,
    DeckRequest,
    DeckStats,
    Emit,
    Note,
    OutlineReady,
    OutlineRetry,
    OutlineStarted,
    Progress,
    SlideChanged,
    SlideRetry,
    SlideStarted,
    SlideWritten,
    StageReused,
)
from .language import Language, resolve_language
from .outline import ContentKind, Outline, PlannedSlide, Rules, limits_for
from .prompts import Brief, instruction_text
from .sources import Finding, Passage, numbers_in
from .stages import MemoryStages, Stages
from .tables import DataTable, find_tables, series_in_request, table_numbers
from .variety import restyle
from .write import Fit, Job, data_slides, plan_outline, report_slides, write_slides

__all__ = [
    "MAX_NOTES",
    "MAX_SLIDES",
    "MAX_TOPIC",
    "MIN_SLIDES",
    "DeckGenerated",
    "DeckRequest",
    "DeckStats",
    "Note",
    "OutlineReady",
    "OutlineRetry",
    "OutlineStarted",
    "Progress",
    "SlideChanged",
    "SlideRetry",
    "SlideStarted",
    "SlideWritten",
    "StageReused",
    "assemble",
    "check_request",
    "choose_kinds",
    "generate_deck",
]

MIN_SLIDES, MAX_SLIDES = 3, 30
MAX_TOPIC = 2000  # characters; a brief, not a document (use --from for documents)
MAX_NOTES = 1500  # characters of notes (answers to clarifying questions)


def check_request(req: DeckRequest, has_sources: bool = False) -> None:
    """Reject a request that cannot make a sensible deck (InputError, one line)."""
    topic = req.topic.strip()
    if not topic and not has_sources:
        raise InputError("the topic is empty", "say what the deck is about, or give --from FILE")
    if len(topic) > MAX_TOPIC:
        raise InputError(f"the topic is {len(topic)} characters long; the limit is {MAX_TOPIC}",
                         "shorten it, or put the material in a file and use --from FILE")
    if not MIN_SLIDES <= req.slides <= MAX_SLIDES:
        raise InputError(f"--slides must be between {MIN_SLIDES} and {MAX_SLIDES}, "
                         f"got {req.slides}")
    for name, value in (("--audience", req.audience), ("--tone", req.tone)):
        if len(value) > 200:
            raise InputError(f"{name} is longer than 200 characters")
    if len(req.notes) > MAX_NOTES:
        raise InputError(f"--notes is longer than {MAX_NOTES} characters", "shorten the notes")
    if req.parallel < 1 or req.attempts < 1:
        raise InputError("parallel and attempts must be at least 1")


_SALIENT = re.compile(r"\d[\d,.]*\s?(?:%|％|percent|per cent|million|billion|thousand|[kKmMbB]\b|"
                      r"x\b|×|万|亿|倍|美元|元)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def choose_kinds(text: str, passages: Sequence[Passage]) -> list[ContentKind]:
    """The slide kinds the outline may use, by what the request and sources hold.

    Bullets, comparisons, processes and tables always; KPIs when there are
    three or more salient figures (45 %, 1.2 million) to show; quotes when a
    source has a sentence fit to quote; timelines when three or more years
    appear. Kinds without material would only invite made-up content.
    """
    kinds: list[ContentKind] = ["bullets", "compare", "process", "table"]
    body = " ".join([text, *(p.text for p in passages)])
    if len(set(_SALIENT.findall(body))) >= 3:
        kinds.append("kpi")
    if passages and quotable(passages, limit=1):
        kinds.append("quote")
    if len(set(_YEAR.findall(body))) >= 3:
        kinds.append("timeline")
    return kinds


def _merge(outline: Outline, data: Sequence[Slide], count: int, first: int = 0) -> Outline:
    """The outline with the slides made by code in it, ``count`` content slides in all:
    the first ``first`` of ``data`` (a report's sections) lead, in order; the rest (the
    data slides) are spread among the model's, one after the first, then every other."""
    model = list(outline.slides)
    spares = list(outline.spares)
    while len(model) < count - len(data) and spares:
        model.append(PlannedSlide("bullets", spares.pop(0)))
    planned = [PlannedSlide("chart" if d.kind == "chart" else
                            "table" if d.kind == "table" else "bullets", d.title, k)
               for k, d in enumerate(data)]
    merged: list[PlannedSlide] = planned[:first]
    planned = planned[first:]
    j = 0
    for p in model:
        merged.append(p)
        if j < len(planned) and (len(merged) - first) % 2 == 1:
            merged.append(planned[j])
            j += 1
    merged += planned[j:]
    return Outline(outline.title, outline.subtitle, tuple(merged), tuple(spares))


def assemble(outline: Outline, content: Sequence[Slide], lang: Language, agenda: bool) -> Deck:
    """Stage 4: the whole deck around the content slides (no model call)."""
    slides = [Slide(kind="title", title=outline.title, subtitle=outline.subtitle,
                    notes=outline.subtitle)]
    if agenda and len(content) >= 3:  # an agenda of one or two items is no agenda
        heads = [s.title for s in content]
        slides.append(Slide(kind="agenda", title=lang.agenda, bullets=heads,
                            notes="; ".join(heads)))
    slides += content
    slides.append(Slide(kind="closing", title=lang.closing, subtitle=lang.closing_sub))
    return Deck(title=outline.title, subtitle=outline.subtitle, language=lang.code.split("-")[0],
                slides=slides)


def _topic_from(passages: Sequence[Passage]) -> str:
    titles = list(dict.fromkeys(p.title for p in passages))
    return ", ".join(titles[:5])


async def _generate(backend: Backend, req: DeckRequest, passages: Sequence[Passage],
                    tables: Sequence[DataTable] | None, findings: Sequence[Finding],
                    stages: Stages, fit: Fit | None, emit: Emit) -> None:
    check_request(req, bool(passages))
    started = time.perf_counter()
    topic = " ".join(req.topic.split()) or _topic_from(passages)
    sample = req.topic if req.topic.strip() else " ".join(p.text for p in passages[:8])[:3000]
    lang = resolve_language(req.language, sample)
    notes = req.notes.strip()
    asked = f"{topic} {req.audience} {req.tone} {notes}"
    found = list(tables) if tables is not None else find_tables(passages=passages)
    series = series_in_request(f"{req.topic}\n{notes}")
    if series is not None:
        found.insert(0, series)
    numbers = extract_numbers(asked) | numbers_in(*(p.text for p in passages))
    for t in found:
        numbers |= table_numbers(t)
    agenda = req.slides >= 7
    count = req.slides - 2 - (1 if agenda else 0)
    rules = Rules(lang, limits_for(lang), instruction_text(lang), frozenset(numbers),
                  {p.id: p for p in passages}, grounded=bool(passages), subject=topic)
    brief = Brief(topic, lang, req.audience.strip(), req.tone.strip(), notes)
    job = Job(backend, req, brief, rules, passages, found, emit,
              asyncio.Semaphore(req.parallel), stages, fit)
    emit(OutlineStarted(count, lang.name))
    t0 = time.perf_counter()
    # a report's sections first (its verified sentences), leaving the model one slide
    from_report = await report_slides(job, findings, count - 1) if findings else []
    job.stats.report_slides = len(from_report)
    rest = count - len(from_report)
    room = min(len(found), max(1, rest // 2)) if found else 0
    job.stats.tables_found, job.stats.tables_offered = len(found), room
    data = await data_slides(job, room)
    job.stats.data_slides = len(data)
    kinds = choose_kinds(asked, passages)
    fixed = [*from_report, *data]
    outline = await plan_outline(job, count - len(fixed), kinds, [d.title for d in fixed])
    outline = _merge(outline, fixed, count, len(from_report))
    data = fixed
    job.stats.outline_seconds = time.perf_counter() - t0
    emit(OutlineReady(outline))
    t0 = time.perf_counter()
    content = await write_slides(job, outline, data)
    content = restyle(content, passages=passages, subject=topic, fit=fit,
                      step_word="第 {n} 步" if lang.script == "han" else "Step {n}")
    job.stats.slides_seconds = time.perf_counter() - t0
    deck = assemble(outline, content, lang, agenda)
    job.stats.total_seconds = time.perf_counter() - started
    emit(DeckGenerated(deck, job.stats))


_END = object()


async def generate_deck(backend: Backend, request: DeckRequest,
                        passages: Sequence[Passage] = (), *,
                        tables: Sequence[DataTable] | None = None,
                        findings: Sequence[Finding] = (),
                        stages: Stages | None = None,
                        fit: Fit | None = None) -> AsyncIterator[Progress]:
    """Yield progress while generating; the last event is :class:`DeckGenerated`.

    ``tables``: the sources' tables (:func:`~.tables.find_tables` of the
    documents); None finds them in the passages. ``findings``: a report's sections as
    verified sentences (:func:`~.sources.findings_from_report`), which become the
    deck's first content slides as they are. ``stages``: where finished
    stages are saved and, on a resumed run, loaded from. ``fit``: the
    layout's overflow check for a slide. Raises InputError for a bad request
    and DeckError when not one content slide could be made.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue()
    store = stages if stages is not None else MemoryStages()

    async def work() -> None:
        try:
            await _generate(backend, request, passages, tables, findings, store, fit,
                            queue.put_nowait)
        except Exception as e:  # handed to the consumer, re-raised there
            queue.put_nowait(e)
        finally:
            queue.put_nowait(_END)

    task = asyncio.create_task(work())
    try:
        while (item := await queue.get()) is not _END:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
