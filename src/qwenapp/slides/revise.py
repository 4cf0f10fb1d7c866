"""Revise a saved deck by asking: only the slides a request touches are made again.

The request is read by rules (:mod:`.edits`): which slides, which verb, which
kind, theme or language. The model writes only the text of the slides an
edit touches, through the pipeline's own stage :func:`~.write.write_slides`:
the deck's other content slides go in as finished ("data") slides, which
that stage passes through as they are, so a rewritten slide is validated,
simplified or replaced exactly as in a new deck (language, lengths, layout
fit, repeats of the other slides, figures). Each rewrite is grounded on the
slide's current text, offered as its only source, so figures cannot drift.

By code, with no model call: a theme change, removing slides, the agenda
(the content slides' titles), the closing slide of a translated deck, and
the chart of "make slide 3 a chart" (its data from the slide's table, key
figures or "label: number" points, or from the request), and a bullet slide asked
to become a process, timeline, KPI row or comparison when its own points make one
(:func:`~.variety.convert`: the points as steps, one year on each point, a figure
on each, two named sides), which is what makes "turn slide 5 into a process" take
well under a second instead of 29-49 s of the model writing it again (bench/revise.py,
2026-12-02); only a slide whose points do not make the kind goes to the model. Untouched slides
are the very objects of the old deck, so they serialise byte for byte the same.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from ..models.base import Backend
from ..models.events import Message
from .checks import extract_numbers, truncated, unsupported_numbers
from .content import replace_lines, slide_texts
from .deck import CONTENT_KINDS, Chart, Deck, Slide
from .edits import (
    Add,
    Clarify,
    Edit,
    Merge,
    Remove,
    Restyle,
    Rewrite,
    SetTheme,
    Shorten,
    ToChart,
    Translate,
    parse_request,
)
from .errors import DeckError
from .events import DeckRequest, DeckStats, Emit, Note, Progress, SlideChanged
from .language import LANGUAGES, Language, resolve_language
from .outline import (
    PLANNED_KINDS,
    ContentKind,
    Invalid,
    Outline,
    PlannedSlide,
    Rules,
    check_line,
    limits_for,
    parse_model,
    shorten_schema,
)
from .prompts import Brief, instruction_text, shorten_messages
from .sources import Passage
from .stages import MemoryStages
from .tables import DataTable, chart_or_table, series_in_request
from .variety import convert, step_word_for
from .write import Fit, Job, data_slides, write_slides

__all__ = ["Revision", "revise_deck", "revise_text"]


@dataclass(slots=True)
class Revision:
    """A revised deck: what changed (slide numbers in the new deck), and why in words."""

    deck: Deck
    theme: str
    changed: list[int]
    summary: str
    stats: DeckStats = field(default_factory=DeckStats)
    notes: list[str] = field(default_factory=list)
    current: int = 0  # the deck number of the slide being written


@dataclass(slots=True)
class _Plan:
    """How an item's slide is made again: by the slide writer, or shortened."""

    kind: ContentKind
    heading: str
    note: str
    source: str = ""  # the text the new slide rests on (the old slide's lines)
    shorten: bool = False
    required: bool = True  # False: when it cannot be made, the old slide stays (with a note)
    kind_asked: bool = False  # the user asked for this kind: another kind is no answer


@dataclass(slots=True)
class _Item:
    slide: Slide
    original: Slide | None  # the old deck's slide (None: added)
    plan: _Plan | None = None
    removed: bool = False


class _Lines(BaseModel):
    lines: list[str]


def _text(s: Slide) -> str:
    return "; ".join(x for x in [*slide_texts(s), s.notes] if x.strip())


def _plan_kind(s: Slide) -> ContentKind:
    return s.kind if s.kind in PLANNED_KINDS else "bullets"


def _figures_of(s: Slide, request: str) -> DataTable | None:
    """The data a chart of ``s`` shows: its table, its key figures, or pairs in its points
    or in the request ("… a chart: 2022 10, 2023 14, 2024 19")."""
    if (asked := series_in_request(request)) is not None:
        return asked
    if s.table is not None and s.table.rows:
        return DataTable(tuple(s.table.header), tuple(tuple(r) for r in s.table.rows), "", "")
    if len(s.stats) >= 2:
        t = series_in_request(", ".join(f"{st.label}: {st.value}" for st in s.stats))
        if t is not None:
            return t
    lines = [*s.bullets, *(f"{st.label}: {st.text}" for st in s.steps)]
    if not lines:
        return None
    if (joined := series_in_request(", ".join(lines))) is not None:
        return joined
    rows = [(m.group(1).strip(), m.group(2).replace(",", ""))
            for m in (_LINE_PAIR.match(x.strip()) for x in lines) if m is not None]
    if len(rows) >= 2 and len({r[0] for r in rows}) == len(rows):
        return DataTable(("", "value"), tuple(rows), "", "")
    return None


# "2023: 340 teams", "Europe — 41 %": a label, then the line's one figure
_LINE_PAIR = re.compile(r"^([^\d:：—–]{1,40}?|\d{4}年?)\s*[:：—–-]\s*[$€£¥]?(-?\d[\d,]*(?:\.\d+)?)"
                        r"(?!.*\d)")


@dataclass(slots=True)
class _Ctx:
    backend: Backend | None
    lang: Language
    tone: str
    numbers: frozenset[float]
    fit: Fit | None
    emit: Emit
    stats: DeckStats
    seed: int | None
    parallel: int
    notes: list[str] = field(default_factory=list)
    current: int = 0  # the deck number of the slide being written

    def emit_note(self, text: str) -> None:
        self.record(Note(text))

    def record(self, ev: Progress) -> None:
        """Pass an event on, keeping what the user should be told (a slide simplified)."""
        if isinstance(ev, SlideChanged):
            what = f"became {ev.kind}" if ev.kind else f"was {ev.action}"
            self.notes.append(f"slide {self.current} {what}: {ev.reason}")
        elif isinstance(ev, Note):
            self.notes.append(ev.text)
        self.emit(ev)

    def job(self, title: str, note: str, passages: Sequence[Passage] = (),
            tables: Sequence[DataTable] = ()) -> Job:
        if self.backend is None:
            raise DeckError("this change needs a model, and none was given")
        lang = self.lang
        rules = Rules(lang, limits_for(lang), instruction_text(lang), self.numbers,
                      {p.id: p for p in passages}, grounded=bool(passages))
        # two tries a slide, not a new deck's three: a revision is waited for in the chat
        req = DeckRequest(topic=title, slides=3, tone=self.tone, notes=note,
                          language=lang.code, seed=self.seed, parallel=self.parallel,
                          attempts=2)
        brief = Brief(title, lang, "", self.tone, note)
        return Job(self.backend, req, brief, rules, passages, tables, self.record,
                   asyncio.Semaphore(self.parallel), MemoryStages(), self.fit, self.stats)


async def _write_one(ctx: _Ctx, title: str, subtitle: str, items: list[_Item],
                     target: _Item) -> Slide | None:
    """``target``'s slide written again by the pipeline's writer, the deck's other content
    slides given as finished slides (passed through as they are, and checked against)."""
    plan = target.plan
    assert plan is not None
    content = [it for it in items if (not it.removed and it.slide.kind in CONTENT_KINDS)
               or it is target]
    data: list[Slide] = []
    planned: list[PlannedSlide] = []
    for it in content:
        if it is target:
            planned.append(PlannedSlide(plan.kind, plan.heading))
        else:
            planned.append(PlannedSlide(_plan_kind(it.slide), it.slide.title, len(data)))
            data.append(it.slide)
    passages = [Passage("slide", "the current slide", "", plan.source)] if plan.source else []
    job = ctx.job(title, plan.note, passages)
    outline = Outline(title, subtitle, tuple(planned))
    try:
        kept = await write_slides(job, outline, data)
    except DeckError:
        return None
    new = [s for s in kept if not any(s is d for d in data)]
    if not new:
        return None
    if new[0].title != plan.heading:  # replaced by a slide on another heading: not asked for
        ctx.notes.append(f"slide {ctx.current}: the rewrite repeated another slide")
        return None
    if plan.kind_asked and new[0].kind != plan.kind:  # simplified: not what was asked
        why = ""
        prefix = f"slide {ctx.current} became "
        for k in range(len(ctx.notes) - 1, -1, -1):  # the writer's note says why
            if ctx.notes[k].startswith(prefix):
                why = ": " + ctx.notes.pop(k).split(": ", 1)[-1]
                break
        ctx.notes.append(f"slide {ctx.current} could not be made a {plan.kind} slide{why}")
        return None
    old = target.original
    return new[0].model_copy(update={"sources": list(old.sources) if old else []})


async def _shortened(ctx: _Ctx, s: Slide, n: int) -> Slide | None:
    """``s`` with shorter lines (one short call; each new line checked and really shorter)."""
    lines = [x for x in [*s.bullets, *(st.text for st in s.steps), s.takeaway,
                         *(b for c in (s.left, s.right) if c for b in c.bullets)] if x.strip()]
    if not lines:
        return None
    limit = max(12 if ctx.lang.script != "latin" else 24,
                int(0.65 * sum(map(len, lines)) / len(lines)))
    job = ctx.job(s.title, "")
    allowed = set(ctx.numbers) | extract_numbers(_text(s))
    lim = job.rules.limits
    budget = int(len(lines) * (limit + 12) / lim.chars_per_token) + 30
    for attempt in range(2):
        text, _ = await job.call(shorten_messages(ctx.lang, lines, limit),
                                 shorten_schema(len(lines)), budget, attempt)
        try:
            got: _Lines = parse_model(_Lines, text)
        except Invalid:
            continue
        new: dict[str, str] = {}
        for old, line in zip(lines, got.lines, strict=False):
            try:
                line = check_line(line, job.rules, "the shorter line")
            except Invalid:
                continue
            if len(line) < len(old) and not truncated(line) and not unsupported_numbers(
                    line, allowed):
                new[old] = line
        if new:
            ctx.stats.shortened += len(new)
            return replace_lines(s, new)
    ctx.emit_note(f"slide {n}: the model gave no shorter lines that keep their meaning")
    return None


async def _translated(ctx: _Ctx, lines: Sequence[str]) -> dict[str, str]:
    """Translations of ``lines`` into the deck's new language (each checked; one call)."""
    todo = [x for x in dict.fromkeys(lines) if x.strip()]
    if not todo:
        return {}
    job = ctx.job(todo[0], "")
    body = "\n".join(f"{i}. {x}" for i, x in enumerate(todo, 1))
    messages = [Message("system", "You translate slide text. You answer with one compact JSON "
                        "object on a single line, and nothing else."),
                Message("user", f"Translate each line below into {ctx.lang.name}, keeping "
                        "names and figures, as short as on a slide. \"lines\": the "
                        f"translations, in the same order.\n{body}")]
    lim = job.rules.limits
    budget = int(sum(len(x) + 16 for x in todo) / min(lim.chars_per_token, 2.0)) + 40
    out: dict[str, str] = {}
    for attempt in range(2):
        text, _ = await job.call(messages, shorten_schema(len(todo)), budget, attempt)
        try:
            got: _Lines = parse_model(_Lines, text)
        except Invalid:
            continue
        for old, new in zip(todo, got.lines, strict=False):
            try:
                line = check_line(new, job.rules, "the translation")
            except Invalid:
                continue
            if line and not truncated(line) and not unsupported_numbers(
                    line, extract_numbers(old) | set(ctx.numbers)):
                out[old] = line
        if len(out) == len(todo):
            break
    return out


def _frames(deck: Deck, items: list[_Item], lang: Language, translated: bool) -> None:
    """The agenda lists the content slides' titles; a translated deck's closing is the
    language's own. Only a frame whose text differs becomes a new slide object."""
    heads = [it.slide.title for it in items if not it.removed and it.slide.kind in CONTENT_KINDS]
    for it in items:
        s = it.slide
        if s.kind == "agenda" and not it.removed:
            title = lang.agenda if translated else s.title
            if s.bullets != heads or s.title != title:
                it.slide = s.model_copy(update={"title": title, "bullets": heads,
                                                "notes": "; ".join(heads)})
        elif s.kind == "closing" and translated and not it.removed:
            it.slide = s.model_copy(update={"title": lang.closing, "subtitle": lang.closing_sub})


async def _apply(ctx: _Ctx, deck: Deck, theme: str, edits: Sequence[Edit],
                 request: str) -> Revision | Clarify:
    items = [_Item(s, s) for s in deck.slides]
    start_theme = theme
    by_number = {i: it for i, it in enumerate(items, 1)}
    title, subtitle = deck.title, deck.subtitle
    said: list[str] = []
    translate: Language | None = None
    chart_jobs: list[tuple[_Item, DataTable]] = []
    for e in edits:
        if isinstance(e, SetTheme):
            theme = e.theme
            said.append(f"theme {e.theme}")
        elif isinstance(e, Remove):
            for n in e.slides:
                by_number[n].removed = True
            said.append("removed slide" + ("s " if len(e.slides) > 1 else " ")
                        + ", ".join(map(str, e.slides)))
        elif isinstance(e, Merge):
            a, b = by_number[e.first], by_number[e.second]
            b.removed = True
            a.plan = _Plan(_plan_kind(a.slide), a.slide.title,
                           "This slide merges two slides: keep the key points of both.",
                           _text(a.slide) + "; " + _text(b.slide))
            a.slide = a.slide.model_copy(update={"sources": [*a.slide.sources,
                                                             *b.slide.sources]})
            a.original = a.slide
            said.append(f"merged slides {e.first} and {e.second}")
        elif isinstance(e, Add):
            new = _Item(Slide(kind="bullets", title=e.topic), None,
                        _Plan(e.kind, e.topic, f"A new slide about {e.topic}."))
            at = items.index(by_number[e.after]) + 1
            while at < len(items) and items[at].original is None:
                at += 1  # several added after one slide keep the order asked
            items.insert(at, new)
            said.append(f"added a slide about {e.topic}")
        elif isinstance(e, Rewrite):
            it = by_number[e.slide]
            quick = None if e.kind is None else convert(
                it.slide, e.kind, subject=deck.title, fit=ctx.fit,
                step_word=step_word_for(resolve_language(deck.language, deck.title).script))
            if quick is not None:  # its own points make the kind: no model call
                it.slide = quick
                it.plan = None
                said.append(f"rewrote slide {e.slide} as {e.kind}")
                continue
            kind = e.kind if e.kind is not None else _plan_kind(it.slide)
            note = (f"Show this slide's content as a {kind} slide." if e.kind else
                    "Write this slide again, better, with the same facts.")
            it.plan = _Plan(kind if kind in PLANNED_KINDS else "bullets", it.slide.title,
                            note, _text(it.slide), required=e.kind is None,
                            kind_asked=e.kind is not None)
            said.append(f"rewrote slide {e.slide}" + (f" as {kind}" if e.kind else ""))
        elif isinstance(e, ToChart):
            it = by_number[e.slide]
            table = _figures_of(it.slide, e.request)
            shown = chart_or_table(table) if table is not None else None
            if it.slide.kind == "chart" and series_in_request(e.request) is None:
                return Clarify(f"Slide {e.slide} is already a chart. Should it show other "
                               f"figures? For example \"make slide {e.slide} a chart: 2022 10, "
                               "2023 14, 2024 19\".")
            if table is None or not isinstance(shown, Chart):
                return Clarify(f"Slide {e.slide} has no series of figures to chart. Which "
                               f"numbers should it show? For example \"make slide {e.slide} "
                               "a chart: 2022 10, 2023 14, 2024 19\".")
            chart_jobs.append((it, table))
            said.append(f"slide {e.slide} as a chart")
        elif isinstance(e, Shorten):
            for n in e.slides:
                it = by_number[n]
                it.plan = _Plan(_plan_kind(it.slide), it.slide.title, "", shorten=True,
                                required=False)
            said.append("shorter lines on slide" + ("s " if len(e.slides) > 1 else " ")
                        + ", ".join(map(str, e.slides)))
        elif isinstance(e, Translate):
            translate = LANGUAGES[e.language]
            said.append(f"translated into {translate.name}")
        elif isinstance(e, Restyle):
            ctx.tone = e.tone
            for it in items:
                if it.slide.kind in CONTENT_KINDS and it.slide.kind not in ("chart", "table") \
                        and it.plan is None and not it.removed:
                    it.plan = _Plan(_plan_kind(it.slide), it.slide.title,
                                    f"Rewrite this slide in a {e.tone} tone, same facts.",
                                    _text(it.slide), required=False)
            said.append(f"tone: {e.tone}")
    live = [it for it in items if not it.removed]
    if not any(it.slide.kind in CONTENT_KINDS or it.plan for it in live):
        return Clarify("That would leave the deck without content slides; which slides "
                       "should stay?")
    language = deck.language
    if translate is not None and translate.code.split("-")[0] != deck.language:
        ctx.lang = translate
        language = translate.code.split("-")[0]
        for it in live:
            s = it.slide
            if s.kind in CONTENT_KINDS and s.kind not in ("chart", "table") and it.plan is None:
                it.plan = _Plan(_plan_kind(s), s.title, f"Translate this slide into "
                                f"{translate.name}, same facts.", _text(s), required=False)
        lines = [title, subtitle, *(it.plan.heading if it.plan else it.slide.title
                                    for it in live if it.slide.kind in CONTENT_KINDS
                                    or it.plan)]
        lines += [it.slide.takeaway for it in live if it.slide.kind in ("chart", "table")]
        done = await _translated(ctx, lines)
        missing = [x for x in lines if x.strip() and x not in done]
        if missing:
            ctx.emit_note(f"{len(missing)} line(s) could not be translated and stay as they "
                          "were")
        title, subtitle = done.get(title, title), done.get(subtitle, subtitle)
        for it in live:
            s = it.slide
            if it.plan is not None:
                it.plan.heading = done.get(it.plan.heading, it.plan.heading)
            elif s.kind in ("chart", "table"):
                it.slide = s.model_copy(update={"title": done.get(s.title, s.title),
                                                "takeaway": done.get(s.takeaway, s.takeaway)})
            elif s.kind == "title":
                it.slide = s.model_copy(update={"title": title, "subtitle": subtitle,
                                                "notes": subtitle})
    elif translate is not None:
        return Clarify(f"The deck is already in {translate.name}; which language do you "
                       "want?")
    else:
        ctx.lang = resolve_language(deck.language, deck.title)
    for it, table in chart_jobs:
        job = ctx.job(title, "", tables=[table])
        made = await data_slides(job, 1)
        if not made:
            return Clarify("Those figures do not make a chart; which numbers should it show?")
        old = it.slide
        it.slide = made[0].model_copy(update={"title": old.title,
                                              "notes": old.notes or made[0].notes,
                                              "sources": list(old.sources)})
    for n, it in enumerate(items, 1):
        if it.plan is None or it.removed:
            continue
        ctx.current = n
        if it.plan.shorten:
            got = await _shortened(ctx, it.slide, n)
        else:
            got = await _write_one(ctx, title, subtitle, items, it)
        if got is None:
            if it.plan.required:
                raise DeckError(f"slide {n} ({it.plan.heading}) could not be written so that "
                                "it passes the checks", "try again, or ask for a simpler change")
            ctx.notes.append(f"slide {n} was kept as it was")
            continue
        it.slide = got
    _frames(deck, items, ctx.lang, translate is not None)
    final = [it for it in items if not it.removed]
    new_deck = Deck(title=title, subtitle=subtitle, language=language,
                    slides=[it.slide for it in final])
    problems = new_deck.problems()
    if problems:
        raise DeckError(f"the revised deck would be broken: {problems[0]}")
    before = {s.model_dump_json() for s in deck.slides}
    changed = [i for i, it in enumerate(final, 1) if it.slide.model_dump_json() not in before]
    if new_deck == deck and theme == start_theme:
        why = "; ".join(ctx.notes) or "the request left every slide as it was"
        return Clarify(f"Nothing changed ({why}). Could you say it another way?")
    return Revision(new_deck, theme, changed, "; ".join(said) or request, ctx.stats,
                    list(ctx.notes))


async def revise_deck(backend: Backend | None, deck: Deck, theme: str, edits: Sequence[Edit], *,
                      request: str = "", fit: Callable[[str], Fit | None] | None = None,
                      seed: int | None = 0, parallel: int = 2,
                      emit: Emit | None = None) -> Revision | Clarify:
    """``deck`` with ``edits`` applied (see :func:`~.edits.parse_request`).

    ``backend`` may be None when no edit needs the model (:func:`~.edits.needs_model`).
    ``theme`` is the deck's theme name (a :class:`SetTheme` edit changes it);
    ``fit(theme)`` gives the layout's overflow check for a theme. Returns a
    :class:`Clarify` when an edit turns out impossible (no figures to chart);
    raises DeckError when a touched slide cannot be written validly, so no
    version is ever made with a bad slide.
    """
    started = time.perf_counter()
    events: list[Progress] = []
    final_theme = next((e.theme for e in reversed(edits) if isinstance(e, SetTheme)), theme)
    ctx = _Ctx(backend, resolve_language(deck.language, deck.title), "",
               frozenset(extract_numbers(" ".join(_text(s) for s in deck.slides) + " " +
                                         request)),
               fit(final_theme) if fit is not None else None,
               emit or events.append, DeckStats(), seed, parallel)
    result = await _apply(ctx, deck, theme, edits, request)
    if isinstance(result, Revision):
        result.stats.total_seconds = time.perf_counter() - started
    return result


async def revise_text(backend: Backend | None, deck: Deck, theme: str, request: str, *,
                      fit: Callable[[str], Fit | None] | None = None, seed: int | None = 0,
                      parallel: int = 2, emit: Emit | None = None) -> Revision | Clarify:
    """Parse ``request`` and apply it: the one call the CLI and the API make."""
    edits = parse_request(request, deck)
    if isinstance(edits, Clarify):
        return edits
    return await revise_deck(backend, deck, theme, edits, request=request, fit=fit, seed=seed,
                             parallel=parallel, emit=emit)


@dataclass(frozen=True, slots=True)
class SlideDiff:
    """One slide of version ``b`` against version ``a``: ``same`` (identical, perhaps
    moved: ``was`` its number in ``a``), ``changed`` (same place or title, other content),
    ``added``; or a slide of ``a`` that is gone (``removed``, ``slide`` 0)."""

    slide: int
    status: str
    title: str
    was: int = 0


def compare_decks(a: Deck, b: Deck) -> list[SlideDiff]:
    """Which slides of ``b`` are as in ``a``, rewritten, new, or gone."""
    left = [s.model_dump_json() for s in a.slides]
    used: set[int] = set()
    out: list[SlideDiff] = []
    pending: list[tuple[int, Slide]] = []
    for j, s in enumerate(b.slides, 1):
        key = s.model_dump_json()
        match = next((i for i, x in enumerate(left) if x == key and i not in used), None)
        if match is not None:
            used.add(match)
            out.append(SlideDiff(j, "same", s.title, match + 1))
        else:
            pending.append((j, s))
    for j, s in pending:
        match = next((i for i, x in enumerate(a.slides) if i not in used and
                      (x.title == s.title or (x.kind == s.kind and x.kind not in CONTENT_KINDS))),
                     None)
        if match is None and j - 1 < len(a.slides) and j - 1 not in used and \
                len(a.slides) == len(b.slides):
            match = j - 1
        if match is not None:
            used.add(match)
            out.append(SlideDiff(j, "changed", s.title, match + 1))
        else:
            out.append(SlideDiff(j, "added", s.title))
    out.sort(key=lambda d: d.slide)
    out += [SlideDiff(0, "removed", a.slides[i].title, i + 1)
            for i in range(len(a.slides)) if i not in used]
    return out


__all__ += ["SlideDiff", "compare_decks"]
