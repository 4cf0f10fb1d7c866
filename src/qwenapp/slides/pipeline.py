"""Topic (and sources) → validated :class:`~qwenapp.slides.deck.Deck`.

Plain stages with typed inputs and outputs:

1. :func:`plan_outline`: one constrained-JSON call for the deck title and
   one heading and kind per content slide; validated, retried on failure.
2. :func:`write_slides`: one bounded call per slide, run concurrently in up
   to ``parallel`` engine slots; each validated and retried; duplicates
   regenerated, then dropped.
3. :func:`assemble`: title, agenda, content and closing slides (no model).

:func:`generate_deck` runs them and yields typed progress events, ending
with :class:`DeckGenerated`. Nothing here prints, renders or writes files.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from ..models.base import Backend, complete
from ..models.events import GenerateOptions, Message
from .checks import extract_numbers, similar
from .deck import Deck, Slide
from .errors import DeckError
from .language import Language, resolve_language
from .outline import (
    ContentKind,
    Invalid,
    Outline,
    Parsed,
    PlannedSlide,
    Rules,
    limits_for,
    outline_schema,
    parse_outline,
    parse_slide,
    slide_budget,
    slide_schema,
)
from .prompts import Brief, instruction_text, outline_messages, retry_note, slide_messages
from .sources import Passage, digest, numbers_in, select

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
    "SlideRetry",
    "SlideStarted",
    "SlideWritten",
    "assemble",
    "check_request",
    "generate_deck",
    "plan_outline",
    "write_slides",
]

MIN_SLIDES, MAX_SLIDES = 3, 30
MAX_TOPIC = 2000  # characters; a brief, not a document (use --from for documents)
MAX_NOTES = 1500  # characters of notes (answers to clarifying questions)
_HINT = "try again, use a larger --model, or ask for fewer --slides"


@dataclass(frozen=True, slots=True)
class DeckRequest:
    """What the user asked for. ``slides`` counts every slide, title and closing included."""

    topic: str
    slides: int = 8
    audience: str = ""
    tone: str = ""
    notes: str = ""  # the user's answers to clarifying questions, or extra instructions
    language: str | None = None  # None: the language of the topic
    seed: int | None = 0
    parallel: int = 4  # concurrent model calls (engine slots)
    attempts: int = 3  # tries per model call before the deck fails


@dataclass(slots=True)
class DeckStats:
    outline_seconds: float = 0.0
    slides_seconds: float = 0.0
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    outline_tokens: int = 0
    slide_tokens: list[int] = field(default_factory=list)  # per content slide, retries included
    render_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def model_seconds(self) -> float:
        return self.outline_seconds + self.slides_seconds


# ---------------------------------------------------------------- progress events


@dataclass(frozen=True, slots=True)
class OutlineStarted:
    content_slides: int
    language: str


@dataclass(frozen=True, slots=True)
class OutlineRetry:
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class OutlineReady:
    outline: Outline


@dataclass(frozen=True, slots=True)
class SlideStarted:
    index: int  # 1-based among content slides
    total: int
    heading: str
    kind: ContentKind


@dataclass(frozen=True, slots=True)
class SlideRetry:
    index: int
    heading: str
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class SlideWritten:
    index: int
    total: int
    heading: str
    kind: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Note:
    """Something the user may want to know (a chart dropped, a duplicate removed)."""

    text: str


@dataclass(frozen=True, slots=True)
class DeckGenerated:
    deck: Deck
    stats: DeckStats


Progress = (OutlineStarted | OutlineRetry | OutlineReady | SlideStarted | SlideRetry
            | SlideWritten | Note | DeckGenerated)
Emit = Callable[[Progress], None]


# ---------------------------------------------------------------- request


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


@dataclass(slots=True)
class _Job:
    """Everything the stages share for one deck (not a god object: no behaviour but a call)."""

    backend: Backend
    req: DeckRequest
    brief: Brief
    rules: Rules
    passages: Sequence[Passage]
    numbers: list[float]
    emit: Emit
    slots: asyncio.Semaphore
    stats: DeckStats = field(default_factory=DeckStats)

    async def call(self, messages: list[Message], schema: dict[str, Any], max_tokens: int,
                   attempt: int) -> tuple[str, int]:
        seed = None if self.req.seed is None else self.req.seed + 7919 * attempt
        options = GenerateOptions(temperature=0.3 if attempt == 0 else 0.8, top_p=0.9,
                                  max_tokens=max_tokens, seed=seed, json_schema=schema,
                                  think=False)
        async with self.slots:
            done = await complete(self.backend, messages, options)
        tokens = done.usage.completion_tokens if done.usage else max(1, len(done.text) // 4)
        self.stats.calls += 1
        self.stats.completion_tokens += tokens
        self.stats.prompt_tokens += done.usage.prompt_tokens if done.usage else 0
        return done.text, tokens


# ---------------------------------------------------------------- stages


async def plan_outline(job: _Job, count: int, kinds: Sequence[ContentKind]) -> Outline:
    """Stage 1: a validated outline of exactly ``count`` distinct content slides."""
    lim = job.rules.limits
    asked = count + 1  # one spare heading, in case one only repeats the deck title
    messages = outline_messages(job.brief, asked, kinds, digest(job.passages, 2400),
                                job.numbers[:40])
    schema = outline_schema(asked, kinds, lim)
    budget = int((asked * (lim.heading + 24) + 2 * lim.heading + 60) / lim.chars_per_token) + 40
    reason = ""
    for attempt in range(job.req.attempts):
        prompt = retry_note(messages, job.brief.language, reason) if reason else messages
        text, tokens = await job.call(prompt, schema, budget, attempt)
        job.stats.outline_tokens += tokens
        try:
            return parse_outline(text, count, kinds, job.rules)
        except Invalid as e:
            reason = e.reason
            job.stats.retries += 1
            job.emit(OutlineRetry(attempt + 1, reason))
    raise DeckError(f"the model's outline is still invalid after {job.req.attempts} attempts: "
                    f"{reason}", _HINT)


async def _write_one(job: _Job, outline: Outline, i: int, avoid: str = "") -> Parsed:
    planned = outline.slides[i]
    total = len(outline.slides)
    kind = planned.kind
    offered = select(job.passages, f"{planned.heading} {outline.title}", 1500)
    ids = [p.id for p in offered]
    numbers = sorted(numbers_in(job.brief.topic, job.brief.notes,
                                *(p.text for p in offered)))[:40] or job.numbers
    job.emit(SlideStarted(i + 1, total, planned.heading, kind))
    reason = avoid
    for attempt in range(job.req.attempts):
        messages = slide_messages(job.brief, outline, i + 1, planned, offered, numbers, kind)
        if reason:
            messages = retry_note(messages, job.brief.language, reason)
        lim = job.rules.limits
        text, tokens = await job.call(messages, slide_schema(kind, lim, ids),
                                      slide_budget(kind, lim, bool(ids)), attempt)
        job.stats.slide_tokens[i] += tokens
        try:
            others = [o.heading for o in outline.slides if o is not planned]
            parsed = parse_slide(text, PlannedSlide(kind, planned.heading), job.rules, offered,
                                 others)
        except Invalid as e:
            reason = e.reason
            job.stats.retries += 1
            job.emit(SlideRetry(i + 1, planned.heading, attempt + 1, reason))
            if e.numbers:
                kind = "bullets"  # asking again for numbers invites made-up ones
            continue
        for warning in parsed.warnings:
            job.emit(Note(f"slide {i + 1} ({planned.heading}): {warning}; the chart was dropped"))
        job.emit(SlideWritten(i + 1, total, planned.heading, parsed.slide.kind,
                              job.stats.slide_tokens[i]))
        return parsed
    raise DeckError(f"slide {i + 1} ({planned.heading!r}) is still invalid after "
                    f"{job.req.attempts} attempts: {reason}", _HINT)


def _texts(s: Slide) -> list[str]:
    out = list(s.bullets)
    for col in (s.left, s.right):
        if col is not None:
            out += [col.heading, *col.bullets]
    if s.table is not None:
        out += s.table.header + [c for row in s.table.rows for c in row]
    if s.chart is not None:
        out += s.chart.categories
    return out


async def _all_or_none(coros: Sequence[Awaitable[Any]]) -> list[Any]:
    """Run concurrently; on the first failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t


def _without_repeats(s: Slide, earlier: Sequence[Slide], minimum: int = 2) -> Slide | None:
    """``s`` minus bullets said on an earlier slide; None when fewer than ``minimum`` remain."""
    if s.kind not in ("bullets", "chart") or not s.bullets:
        return s
    said = [b for e in earlier for b in e.bullets]
    kept = [b for b in s.bullets if not any(similar([b], [x], 0.8) for x in said)]
    if len(kept) == len(s.bullets):
        return s
    if s.kind == "bullets" and len(kept) < minimum:
        return None
    return s.model_copy(update={"bullets": kept})


def _twin(s: Slide, earlier: Sequence[Slide]) -> Slide | None:
    return next((k for k in earlier if similar(_texts(s), _texts(k), 0.6)), None)


async def write_slides(job: _Job, outline: Outline) -> list[Slide]:
    """Stage 2: every content slide, concurrently, validated; repeats rewritten or dropped.

    A slide that repeats an earlier one, or whose points were mostly said
    before, is rewritten once (told what it repeats). If it still repeats a
    whole slide it is dropped; repeated points are removed where enough remain.
    """
    job.stats.slide_tokens = [0] * len(outline.slides)
    parsed = await _all_or_none([_write_one(job, outline, i) for i in range(len(outline.slides))])
    kept: list[Slide] = []
    for i, p in enumerate(parsed):
        s = p.slide
        twin = _twin(s, kept)
        if twin is not None or _without_repeats(s, kept) is None:
            what = repr(twin.title) if twin is not None else "points of earlier slides"
            with contextlib.suppress(DeckError):  # no valid rewrite: keep the first version
                s = (await _write_one(job, outline, i,
                                      f"it repeats {what}; say something new")).slide
            if _twin(s, kept) is not None:
                job.emit(Note(f"slide {i + 1} ({s.title}) repeated an earlier slide and was "
                              "dropped"))
                continue
        kept.append(_without_repeats(s, kept) or _without_repeats(s, kept, 1) or s)
    return kept


def assemble(outline: Outline, content: Sequence[Slide], lang: Language, agenda: bool) -> Deck:
    """Stage 3: the whole deck around the content slides (no model call)."""
    slides = [Slide(kind="title", title=outline.title, subtitle=outline.subtitle,
                    notes=outline.subtitle)]
    if agenda:
        heads = [s.title for s in content]
        slides.append(Slide(kind="agenda", title=lang.agenda, bullets=heads,
                            notes="; ".join(heads)))
    slides += content
    slides.append(Slide(kind="closing", title=lang.closing, subtitle=lang.closing_sub))
    return Deck(title=outline.title, subtitle=outline.subtitle, language=lang.code.split("-")[0],
                slides=slides)


# ---------------------------------------------------------------- runner


def _topic_from(passages: Sequence[Passage]) -> str:
    titles = list(dict.fromkeys(p.title for p in passages))
    return ", ".join(titles[:5])


async def _generate(backend: Backend, req: DeckRequest, passages: Sequence[Passage],
                    emit: Emit) -> None:
    check_request(req, bool(passages))
    started = time.perf_counter()
    topic = " ".join(req.topic.split()) or _topic_from(passages)
    sample = req.topic if req.topic.strip() else " ".join(p.text for p in passages[:8])[:3000]
    lang = resolve_language(req.language, sample)
    notes = req.notes.strip()
    numbers = sorted(extract_numbers(f"{topic} {req.audience} {req.tone} {notes}")) + sorted(
        numbers_in(*(p.text for p in passages)))
    kinds: list[ContentKind] = ["bullets", "compare", "table"]
    if len(set(numbers)) >= 2:
        kinds.append("chart")
    agenda = req.slides >= 7
    count = req.slides - 2 - (1 if agenda else 0)
    rules = Rules(lang, limits_for(lang), instruction_text(lang), frozenset(numbers),
                  {p.id: p for p in passages})
    brief = Brief(topic, lang, req.audience.strip(), req.tone.strip(), notes)
    job = _Job(backend, req, brief, rules,
               passages, list(dict.fromkeys(numbers)), emit, asyncio.Semaphore(req.parallel))
    emit(OutlineStarted(count, lang.name))
    t0 = time.perf_counter()
    outline = await plan_outline(job, count, kinds)
    job.stats.outline_seconds = time.perf_counter() - t0
    emit(OutlineReady(outline))
    t0 = time.perf_counter()
    content = await write_slides(job, outline)
    job.stats.slides_seconds = time.perf_counter() - t0
    deck = assemble(outline, content, lang, agenda)
    job.stats.total_seconds = time.perf_counter() - started
    emit(DeckGenerated(deck, job.stats))


_END = object()


async def generate_deck(backend: Backend, request: DeckRequest,
                        passages: Sequence[Passage] = ()) -> AsyncIterator[Progress]:
    """Yield progress while generating; the last event is :class:`DeckGenerated`.

    Raises InputError for a bad request and DeckError when the model's output
    is still invalid after the allowed retries.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def work() -> None:
        try:
            await _generate(backend, request, passages, queue.put_nowait)
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
