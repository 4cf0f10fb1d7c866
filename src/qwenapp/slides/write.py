"""The model-facing stages of a deck: data slides, outline, slides, repeats.

Every stage degrades instead of failing the deck:

* a data slide (a chart or table built by code from a source table) whose
  heading the model cannot write gets one from the table's own headers;
* a slide still invalid after its retries is rewritten as bullets, and only
  if that fails too is it replaced by a slide on a heading the deck does not
  yet cover;
* a slide that repeats an earlier one is rewritten once, then replaced;
* a line over its length is sent back for a shorter version (one short
  call for the whole slide), never cut.

Each finished stage is saved (:mod:`.stages`), so a resumed run redoes nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ..models.base import Backend, complete
from ..models.events import GenerateOptions, Message
from .checks import (
    echoes,
    locator,
    near_duplicate,
    similar,
    truncated,
    unsupported_numbers,
)
from .content import Parsed, long_lines, parse_slide, quotable, replace_lines, slide_texts
from .deck import Chart, Slide, Table
from .errors import DeckError
from .events import (
    DeckRequest,
    DeckStats,
    Emit,
    Note,
    OutlineRetry,
    SlideChanged,
    SlideRetry,
    SlideStarted,
    SlideWritten,
    StageReused,
)
from .headings import bare, candidates, sides_of, vague
from .outline import (
    ContentKind,
    Invalid,
    Outline,
    PlannedSlide,
    Rules,
    check_line,
    data_schema,
    framing,
    generic,
    heading_kind,
    heads_schema,
    outline_from_json,
    outline_json,
    outline_schema,
    parse_model,
    parse_outline,
    same_heading,
    shorten_schema,
    slide_budget,
    slide_schema,
)
from .prompts import (
    Brief,
    alternatives_messages,
    data_messages,
    outline_messages,
    retry_note,
    shorten_messages,
    slide_messages,
)
from .sources import Finding, Passage, digest, select
from .stages import Stages
from .tables import DataTable, chart_or_table, table_numbers

__all__ = ["Job", "data_slides", "plan_outline", "report_slides", "write_slides"]

_HINT = "try again, use a larger --model, or ask for fewer --slides"
Fit = Callable[[Slide], list[str]]


@dataclass(slots=True)
class Job:
    """Everything the stages share for one deck (no behaviour but calls and saving)."""

    backend: Backend
    req: DeckRequest
    brief: Brief
    rules: Rules
    passages: Sequence[Passage]
    tables: Sequence[DataTable]
    emit: Emit
    slots: asyncio.Semaphore
    stages: Stages
    fit: Fit | None = None  # the layout's overflow check: problems, or [] when it fits
    stats: DeckStats = field(default_factory=DeckStats)
    asked_heads: int = 0  # calls made for alternative headings (bounded per deck)
    heads_limit: int = 3  # the bound; one more when slides left out are made up for
    proposed: list[str] | None = None  # headings code proposed, not yet used
    # slides written again for a draft that repeated an earlier one, or to make up for one
    # left out (set by write_slides: :func:`repair_budget`)
    repairs_left: int = 0

    async def call(self, messages: list[Message], schema: dict[str, Any], max_tokens: int,
                   attempt: int) -> tuple[str, int]:
        seed = None if self.req.seed is None else self.req.seed + 7919 * attempt
        # DRY (llama.cpp's "don't repeat yourself" sampler) keeps a small model from
        # repeating its own phrases across bullets; JSON quotes and colons are its
        # sequence breakers, so the JSON syntax itself is not penalised.
        options = GenerateOptions(temperature=0.3 if attempt == 0 else 0.8, top_p=0.9,
                                  max_tokens=max_tokens, seed=seed, json_schema=schema,
                                  think=False, dry_multiplier=0.5)
        async with self.slots:
            t0 = time.perf_counter()
            done = await complete(self.backend, messages, options)
            self.stats.model_call_seconds += time.perf_counter() - t0
        tokens = done.usage.completion_tokens if done.usage else max(1, len(done.text) // 4)
        self.stats.calls += 1
        self.stats.completion_tokens += tokens
        self.stats.prompt_tokens += done.usage.prompt_tokens if done.usage else 0
        return done.text, tokens

    def saved(self, key: str) -> Any:
        text = self.stages.load(key)
        if text is None:
            return None
        self.emit(StageReused(key))
        return json.loads(text)

    def save(self, key: str, value: Any) -> None:
        self.stages.save(key, json.dumps(value, ensure_ascii=False))


class _Head(BaseModel):
    head: str
    take: str = ""


class _Lines(BaseModel):
    lines: list[str]


class _Heads(BaseModel):
    heads: list[str]


# ---------------------------------------------------------------- data slides


def _fallback_heading(t: DataTable, zh: bool) -> str:
    label = t.header[0].strip()
    value = next((h.strip() for h in t.header[1:] if h.strip()), "")
    if value and label:
        return f"{value}（按{label}）" if zh else f"{value} by {label.lower()}"
    return value or label or t.title


def _check_take(text: str, allowed: set[float], rules: Rules) -> str:
    take = check_line(text, rules, "the takeaway")
    if truncated(take):
        raise Invalid("the takeaway is not a complete sentence")
    bad = unsupported_numbers(take, allowed)
    if bad:
        raise Invalid(f"the takeaway has the figure {bad[0]}, which is not in the data",
                      numbers=True)
    return take


async def _data_slide(job: Job, t: DataTable, shown: Chart | Table, taken: list[str]) -> Slide:
    chart = isinstance(shown, Chart)
    messages = data_messages(job.brief, t.as_text(), chart, taken)
    allowed = table_numbers(t) | set(job.rules.numbers)
    head = take = ""
    reason = ""
    for attempt in range(2):
        prompt = retry_note(messages, job.brief.language, reason) if reason else messages
        text, _ = await job.call(prompt, data_schema(), int(160 / job.rules.limits
                                                             .chars_per_token) + 60, attempt)
        try:
            raw: _Head = parse_model(_Head, text)
            head = check_line(raw.head, job.rules, "the heading")
            if any(same_heading(head, x) for x in taken) or truncated(head):
                raise Invalid("the heading repeats another slide or is cut off")
            take = _check_take(raw.take, allowed, job.rules) if raw.take.strip() else ""
            break
        except Invalid as e:
            head, take, reason = "", "", e.reason
            job.stats.retries += 1
    if not head:
        head = _fallback_heading(t, job.brief.language.script == "han")
        job.emit(Note(f"the data slide from {t.title or 'the request'} got its heading from "
                      f"the table ({reason})"))
    ref = job.rules.passages.get(t.source_id)
    where = f"{t.title}, {t.location}" if t.title else (t.location or "")
    notes = " ".join(x for x in (take, where) if x) or head
    slide = Slide(kind="chart" if chart else "table", title=head, takeaway=take, notes=notes,
                  sources=[ref.ref()] if ref is not None else [])
    if isinstance(shown, Chart):
        return slide.model_copy(update={"chart": shown})
    return slide.model_copy(update={"table": shown})


async def data_slides(job: Job, most: int) -> list[Slide]:
    """Stage: a chart or table slide for each of the first ``most`` source tables."""
    saved = job.saved("data")
    if saved is not None:
        return [Slide.model_validate(s) for s in saved]
    out: list[Slide] = []
    for t in job.tables:
        if len(out) >= most:
            break
        shown = chart_or_table(t)
        if shown is None:
            continue
        out.append(await _data_slide(job, t, shown, [s.title for s in out]))
    job.save("data", [s.model_dump(mode="json") for s in out])
    return out


# ---------------------------------------------------------------- report slides


async def report_slides(job: Job, findings: Sequence[Finding], most: int) -> list[Slide]:
    """Stage: a bullet slide for each of the first ``most`` report sections, made of the
    report's own verified sentences (shorter versions where one does not fit; a line
    that cannot be made to fit is left out), citing the passages they rest on."""
    saved = job.saved("report")
    if saved is not None:
        return [Slide.model_validate(s) for s in saved]
    out: list[Slide] = []
    for f in findings:
        if len(out) >= most:
            break
        if any(same_heading(f.heading, s.title) for s in out) or not f.heading:
            continue
        refs = [job.rules.passages[i].ref() for i in f.source_ids if i in job.rules.passages]
        slide = Slide(kind="bullets", title=f.heading, bullets=list(f.sentences[:5]),
                      notes=" ".join(f.sentences), sources=refs)
        slide = await _fitted(job, slide)
        if len(slide.bullets) >= 2:
            out.append(slide)
    job.save("report", [s.model_dump(mode="json") for s in out])
    return out


# ---------------------------------------------------------------- outline


async def _shorter(job: Job, lines: Sequence[str], limit: int) -> dict[str, str]:
    """One short call: shorter versions of ``lines`` (only those that are shorter and whole)."""
    if not lines:
        return {}
    lim = job.rules.limits
    messages = shorten_messages(job.brief.language, lines, limit)
    budget = int(len(lines) * (limit + 12) / lim.chars_per_token) + 30
    text, _ = await job.call(messages, shorten_schema(len(lines)), budget, 0)
    try:
        got: _Lines = parse_model(_Lines, text)
    except Invalid:
        return {}
    out: dict[str, str] = {}
    for old, new in zip(lines, got.lines, strict=False):
        try:
            line = check_line(new, job.rules, "the shorter line")
        except Invalid:
            continue
        if len(line) < len(old) and not truncated(line) and not unsupported_numbers(
                line, set(job.rules.numbers)):
            out[old] = line
    job.stats.shortened += len(out)
    return out


async def plan_outline(job: Job, count: int, kinds: Sequence[ContentKind],
                       taken: Sequence[str]) -> Outline:
    """Stage: the deck title and ``count`` distinct headings (plus spares), in order."""
    saved = job.saved("outline")
    if saved is not None:
        return outline_from_json(json.dumps(saved))
    lim = job.rules.limits
    # spares: for a heading that repeats the title or frames the deck, or a slide dropped
    # (a heading is about 12 tokens; asking for more later is a call of its own)
    asked = count + (2 if count >= 5 else 1)
    # a topic short enough is the deck's title as the user wrote it: the 1.5B's title was
    # the topic in title case, about 20 tokens (two seconds on two cores) to say it again
    topic = " ".join(job.req.topic.split())  # not the sources' titles, when none is given
    title = not topic or len(topic) > lim.heading + 16
    messages = outline_messages(job.brief, asked, kinds, digest(job.passages, 1800), taken,
                                title)
    schema = outline_schema(asked, kinds, lim, title)
    budget = int((asked * (lim.heading + 24) + 2 * lim.heading + 60) / lim.chars_per_token) + 40
    reason = ""
    for attempt in range(job.req.attempts):
        prompt = retry_note(messages, job.brief.language, reason) if reason else messages
        text, tokens = await job.call(prompt, schema, budget, attempt)
        job.stats.outline_tokens += tokens
        try:
            # too few usable headings is no reason to ask for the whole outline again
            # (the 1.5B's retry cost 45 s): the missing ones are asked for in one call
            outline = parse_outline(text, count, kinds, job.rules, taken, least=0)
            break
        except Invalid as e:
            reason = e.reason
            job.stats.retries += 1
            job.emit(OutlineRetry(attempt + 1, reason))
    else:
        raise DeckError(f"the model's outline is still invalid after {job.req.attempts} "
                        f"attempts: {reason}", _HINT)
    covered = [*taken, *(s.heading for s in outline.slides)]
    spares = list(outline.spares)
    extra: list[PlannedSlide] = []
    while len(outline.slides) + len(extra) < count:  # too few distinct headings: top up
        head = await _new_heading(job, outline.title, covered, spares,
                                  count - len(outline.slides) - len(extra), ask=not extra)
        if head is None:
            break
        covered.append(head)
        extra.append(PlannedSlide("bullets", head))
    if extra:
        outline = Outline(outline.title, outline.subtitle, outline.slides + tuple(extra),
                          tuple(spares))
    long = [s.heading for s in outline.slides if len(s.heading) > lim.heading]
    if len(outline.title) > lim.heading + 16:
        long.append(outline.title)
    new = await _shorter(job, long, lim.heading)
    outline = Outline(new.get(outline.title, outline.title), outline.subtitle,
                      tuple(PlannedSlide(s.kind, new.get(s.heading, s.heading))
                            for s in outline.slides), outline.spares)
    job.save("outline", json.loads(outline_json(outline)))
    return outline


# ---------------------------------------------------------------- slides


@dataclass(slots=True)
class _Try:
    slide: Slide | None
    reason: str = ""


async def _attempts(job: Job, outline: Outline, i: int, heading: str, kind: ContentKind,
                    said: Sequence[str], tries: int, avoid: str = "", fit: bool = True
                    ) -> _Try:
    """Up to ``tries`` calls for one slide of ``kind``; the slide, or the last reason."""
    planned = PlannedSlide(kind, heading)
    offered = select(job.passages, f"{heading} {outline.title}", 1200) if job.passages else []
    ids = [p.id for p in offered]
    quotes = quotable(offered) if kind == "quote" else []
    if kind == "quote" and not quotes:
        return _Try(None, "the sources offer no sentence to quote")
    others = [s.heading for s in outline.slides if s.heading != heading]
    lim = job.rules.limits
    reason = avoid
    seen: set[str] = set()
    for attempt in range(tries):
        messages = slide_messages(job.brief, outline, i + 1, heading, kind, offered, said)
        if reason:
            messages = retry_note(messages, job.brief.language, reason)
        sides = kind == "compare" and sides_of(heading) is not None
        text, tokens = await job.call(messages, slide_schema(kind, lim, ids, quotes, sides),
                                      slide_budget(kind, lim, bool(ids)), attempt)
        job.stats.slide_tokens[i] += tokens
        try:
            parsed: Parsed = parse_slide(text, planned, job.rules, offered, others)
        except Invalid as e:
            reason = e.reason
            job.stats.retries += 1
            job.emit(SlideRetry(i + 1, heading, attempt + 1, reason))
            if e.numbers:
                break  # asking again for figures invites made-up ones: simplify instead
            if reason in seen:
                break  # the same failure twice: a third try would not pay (simplify)
            seen.add(reason)
            continue
        return _Try(await _fitted(job, parsed.slide) if fit else parsed.slide)
    return _Try(None, reason)


_TOO_LONG = re.compile(r"\((\d+) characters\): cut it to about (\d+)")
_TOO_MANY = re.compile(r"keep at most (\d+)")


def _advice(s: Slide, problems: Sequence[str]) -> tuple[dict[str, int], int | None]:
    """The layout's advice as {line: characters it should have} and a bullet cap."""
    lines = [s.title, *s.bullets, s.takeaway, *(st.text for st in s.steps)]
    for col in (s.left, s.right):
        if col is not None:
            lines += col.bullets
    want: dict[str, int] = {}
    cap: int | None = None
    for p in problems:
        if (m := _TOO_LONG.search(p)) is not None:
            n, k = int(m.group(1)), int(m.group(2))
            for x in lines:
                if len(x) == n:
                    want[x] = min(k, want.get(x, k))
        elif (m := _TOO_MANY.search(p)) is not None:
            cap = int(m.group(1))
    return want, cap


async def _fitted(job: Job, s: Slide) -> Slide:
    """``s`` with its over-long lines rewritten shorter (our length limits, then the
    layout's advice); a bullet slide with more points than fit keeps the first ones.
    Text is never cut: a line that stays too long is dropped where enough remain."""
    lim = job.rules.limits
    want = {x: lim.point * 3 // 4 for x in long_lines(s, lim.heading, lim.point)}
    if s.title in want:
        want[s.title] = lim.heading
    cap: int | None = None
    if job.fit is not None:
        advice, cap = _advice(s, job.fit(s))
        for x, k in advice.items():
            want[x] = min(k, want.get(x, k))
    if cap is not None and s.kind == "bullets" and cap >= 2 and len(s.bullets) > cap:
        s = s.model_copy(update={"bullets": s.bullets[:cap]})
        shown = {s.title, *slide_texts(s)}
        want = {x: k for x, k in want.items() if x in shown}
    if not want:
        return s
    new: dict[str, str] = {}
    for limit in sorted(set(want.values())):
        group = [x for x, k in want.items() if k == limit]
        new.update(await _shorter(job, group, limit))
    s = replace_lines(s, new)
    still = set(long_lines(s, lim.heading, lim.point))
    if still and s.kind == "bullets":
        kept = [b for b in s.bullets if b not in still]
        if len(kept) >= 2:
            s = s.model_copy(update={"bullets": kept})
    return s


async def _write(job: Job, outline: Outline, i: int, heading: str, kind: ContentKind,
                 said: Sequence[str], avoid: str = "", fit: bool = True) -> Slide | None:
    """One slide of ``kind``, or as bullets when it will not validate; None if neither.
    ``fit``: over-long lines rewritten shorter now (:func:`_fitted`); a replacement is
    fitted only once it is known to be kept (the 1.5B's en-topic deck of 2026-12-04 spent
    52 s of its 184 s shortening lines of slides then left out as repeats)."""
    job.emit(SlideStarted(i + 1, len(outline.slides), heading, kind))
    got = await _attempts(job, outline, i, heading, kind, said, job.req.attempts, avoid, fit)
    if got.slide is None and kind != "bullets":
        got2 = await _attempts(job, outline, i, heading, "bullets", said, 2, avoid, fit)
        if got2.slide is not None:
            job.stats.degraded += 1
            job.emit(SlideChanged(i + 1, heading, "simplified", got.reason, "bullets"))
        got = got2 if got2.slide is not None else got
    if got.slide is not None:
        job.emit(SlideWritten(i + 1, len(outline.slides), heading, got.slide.kind,
                              job.stats.slide_tokens[i]))
    return got.slide


def _bullets_of(slides: Sequence[Slide]) -> list[str]:
    out: list[str] = []
    for s in slides:
        out += s.bullets + [b for c in (s.left, s.right) if c for b in c.bullets]
        out += [st.text for st in s.steps if st.text]
    return out


def _twin(s: Slide, earlier: Sequence[Slide], subject: str) -> Slide | None:
    return next((k for k in earlier if similar(slide_texts(s), slide_texts(k), 0.6, subject)
                 or same_heading(s.title, k.title, subject)), None)


def _without_repeats(s: Slide, earlier: Sequence[Slide], subject: str) -> Slide | None:
    """``s`` minus points said earlier in the deck; None when too few remain."""
    said = _bullets_of(earlier)
    if s.bullets:
        kept = [b for b in s.bullets if not any(near_duplicate(b, x, subject=subject)
                                                for x in said)
                and not echoes(b, s.title)]
        if len(kept) < (2 if s.kind == "bullets" else 0):
            return None
        s = s.model_copy(update={"bullets": kept})
    if s.steps and s.kind == "process":
        # a step that says an earlier slide's point (the 1.5B's "Open-Weight models are
        # more robust…" step after the same bullet) goes when three steps remain
        steps = [st for st in s.steps if not st.text or not any(
            near_duplicate(st.text, x, subject=subject) for x in said)]
        if len(steps) < 3:
            return None
        s = s.model_copy(update={"steps": steps})
    for side in ("left", "right"):
        col = getattr(s, side)
        if col is not None:
            kept = [b for b in col.bullets
                    if not any(near_duplicate(b, x, subject=subject) for x in said)]
            if not kept:
                return None
            s = s.model_copy(update={side: col.model_copy(update={"bullets": kept})})
    return s


def _said(slides: Sequence[Slide], most: int = 4) -> list[str]:
    # whole points: the 0.5B copies this list into its answer, and a point cut at 60
    # characters came back as a bullet ending "…improving communication, enha"
    return _bullets_of(slides)[-most:]


def _usable(job: Job, head: str, covered: Sequence[str], title: str) -> str | None:
    """``head`` checked as a new slide heading: a whole line in the deck's language, about
    the topic (not generic), and naming no slide the deck already has; else None."""
    try:
        line = check_line(head, job.rules, "the heading")
    except Invalid:
        return None
    topic = job.brief.topic
    if truncated(line) or generic(line) or vague(line, topic) or framing(line, topic) or \
            bare(line, topic) or unsupported_numbers(line, set(job.rules.numbers)) or \
            locator(line) or \
            len(line) > \
            job.rules.limits.heading * 1.5:
        return None
    if any(same_heading(line, c, topic) for c in (*covered, title, topic)):
        return None
    return line


async def _alternatives(job: Job, title: str, covered: Sequence[str], n: int) -> list[str]:
    """One call for ``n`` new headings (at most ``job.heads_limit`` such calls a deck);
    the usable ones."""
    if job.asked_heads >= job.heads_limit:
        return []
    job.asked_heads += 1
    lim = job.rules.limits
    messages = alternatives_messages(job.brief, title, covered, n)
    budget = int(n * (lim.heading * 0.8 + 8) / lim.chars_per_token) + 24
    text, _ = await job.call(messages, heads_schema(n), budget, job.asked_heads - 1)
    try:
        got: _Heads = parse_model(_Heads, text)
    except Invalid:
        return []
    out: list[str] = []
    for h in got.heads:
        line = _usable(job, h, [*covered, *out], title)
        if line is not None:
            out.append(line)
    return out


async def _new_heading(job: Job, title: str, covered: list[str], spares: list[str],
                       want: int = 1, ask: bool = True) -> str | None:
    """A heading the deck does not cover yet: a spare from the outline, else one of
    ``want`` + 2 asked for in one call (``ask``; the rest kept as spares), else one
    proposed by code from the sources' section titles and the topic's subject; None
    if none is left."""
    while True:
        while spares:
            line = _usable(job, spares.pop(0), covered, title)
            if line is not None:
                return line
        if not ask:
            break
        ask = False
        spares += await _alternatives(job, title, covered, want + 2)
    if job.proposed is None:
        zh = job.brief.language.script == "han"
        sections = list(dict.fromkeys(p.location for p in job.passages if p.location))
        job.proposed = candidates(job.brief.topic, zh, sections)
    while job.proposed:
        line = _usable(job, job.proposed.pop(0), covered, title)
        if line is not None:
            return line
    return None


async def _final(job: Job, outline: Outline, i: int, draft: Slide | None, why: str,
                 kept: list[Slide], spares: list[str]) -> Slide | None:
    """The slide kept at position ``i``: the draft, its new points, or a replacement.

    A draft that resembles an earlier slide keeps its points not said before when two
    or more remain (no call); else the slide is written again on a heading the deck
    does not cover yet (spares, then alternatives asked for once, then headings code
    proposes), so the deck keeps the number of slides asked for. Rewriting the same
    heading was tried until 2026-12-02: the small models wrote the same points again."""
    planned = outline.slides[i]
    s = draft
    subject = job.brief.topic
    if s is not None and (twin := _twin(s, kept, subject)) is not None:
        why = f"it repeated the slide {twin.title!r}"
        best = _least_repeated([s], kept, subject)
        if best is not None:
            job.stats.overlapping += 1
            job.emit(SlideChanged(i + 1, planned.heading, "kept", why, best.kind))
            return best
        s = None
    if s is not None:
        s2 = _without_repeats(s, kept, subject)
        if s2 is None:
            why = "its points were said on earlier slides"
        s = s2
    if s is not None:
        return s
    covered = [k.title for k in kept] + [p.heading for p in outline.slides[i:]]
    tried = [draft] if draft is not None else []
    # a replacement may repeat too: then another heading, up to three, as long as the
    # deck's budget leaves one try for every slide still to come
    tries = min(3, max(1, job.repairs_left // max(1, len(outline.slides) - i)))
    for k in range(tries):
        if job.repairs_left <= 0:
            break
        head = await _new_heading(job, outline.title, covered, spares, ask=k == 0)
        if head is None:
            break
        covered.append(head)
        kind = heading_kind(head, [x.kind for x in kept])
        job.repairs_left -= 1
        new = await _write(job, outline, i, head, kind, _said(kept), fit=False)
        if new is None:
            continue
        tried.append(new)
        fresh = (_without_repeats(new, kept, subject) if _twin(new, kept, subject) is None
                 else _least_repeated([new], kept, subject))
        if fresh is not None:
            job.stats.replaced += 1
            job.emit(SlideChanged(i + 1, planned.heading, "replaced", why))
            return await _fitted(job, fresh)
    # the last resort before a gap: the version with the most points said nowhere else,
    # even one (a single point is drawn as a statement). The 1.5B's en-topic deck
    # (2026-12-02) lost four of five slides here at a bar of two: its short points
    # ("Open-Weight models are more accurate") made every later slide resemble the first.
    best = _least_repeated(tried, kept, subject, least=1)
    if best is not None:
        job.stats.overlapping += 1
        job.emit(SlideChanged(i + 1, planned.heading, "kept", why, best.kind))
        return await _fitted(job, best)  # a fitted draft's subset fits: no call
    job.stats.dropped += 1
    job.emit(SlideChanged(i + 1, planned.heading, "dropped", why))
    return None


async def _top_up(job: Job, outline: Outline, kept: list[Slide], spares: list[str],
                  missing: int) -> list[Slide]:
    """Slides for the ``missing`` ones left out, at the end of the content, on headings
    the deck does not cover yet, so the deck has the slides asked for (the issue's
    demand: the bench's 12-slide request gave 6, an 8-slide one 6). Bounded: two
    tries a missing slide and one more call for headings; when the deck stays short, a
    :class:`Note` says how many are missing and why. Saved as one stage."""
    if (saved := job.saved("extra")) is not None:
        return [Slide.model_validate(x) for x in saved]
    subject = job.brief.topic
    covered = [k.title for k in kept] + [p.heading for p in outline.slides]
    job.heads_limit += 1
    out: list[Slide] = []
    why = ""
    for _ in range(2 * missing):
        if len(out) >= missing or job.repairs_left <= 0:
            break
        head = await _new_heading(job, outline.title, covered, spares, want=missing - len(out))
        if head is None:
            why = "no heading the deck does not cover yet could be found"
            break
        covered.append(head)
        job.stats.slide_tokens.append(0)
        kind = heading_kind(head, [x.kind for x in [*kept, *out]])
        job.repairs_left -= 1
        new = await _write(job, outline, len(job.stats.slide_tokens) - 1, head, kind,
                           _said([*kept, *out]), fit=False)
        if new is None:
            why = f"the slide on {head!r} stayed invalid"
            continue
        earlier = [*kept, *out]
        fresh = (_without_repeats(new, earlier, subject) if _twin(new, earlier, subject) is None
                 else _least_repeated([new], earlier, subject, least=1))
        if fresh is None:
            why = f"the slide on {head!r} only repeated earlier points"
            continue
        out.append(await _fitted(job, fresh))
        job.stats.added += 1
        job.emit(Note(f"slide {len(kept) + len(out)} ({fresh.title}) was added on a heading "
                      "the deck did not cover, for a slide left out"))
    if len(out) < missing:
        why = why if job.repairs_left > 0 else (
            f"{why}; the deck's tries for slides written again ran out" if why
            else "the deck's tries for slides written again ran out")
        job.emit(Note(f"the deck has {len(kept) + len(out)} of the {len(outline.slides)} "
                      f"content slides asked for: {why}"))
    job.save("extra", [s.model_dump(mode="json") for s in out])
    return out


def _least_repeated(tried: Sequence[Slide], kept: Sequence[Slide], subject: str,
                    least: int = 2) -> Slide | None:
    """Of the versions tried for a slide (each refused as a whole for resembling an
    earlier slide), the one with the most points not said before, as bullets, those
    points only; None when none has ``least`` under a heading of its own. (Reworded
    repeats are near-duplicates, never own points: they stay out at any bar.)"""
    said = _bullets_of(kept)
    best: Slide | None = None
    for s in tried:
        if s.kind != "bullets" or any(same_heading(s.title, k.title) for k in kept):
            continue
        own = [b for b in s.bullets if not echoes(b, s.title)
               and not any(near_duplicate(b, x, subject=subject) for x in said)]
        if len(own) >= least and (best is None or len(own) > len(best.bullets)):
            best = s.model_copy(update={"bullets": own})
    return best


def repair_budget(content_slides: int) -> int:
    """Slides a deck may write again, in all, beyond its first drafts: for a draft that
    repeated an earlier slide (each up to three headings) and for slides left out. Without
    a bound the 1.5B's 8-slide topic deck of 2026-12-04 wrote 18 slides for 5 (184 s, and
    still 2 left out): its topic-only points all resemble each other. As many as the deck
    has content slides: a deck costs at most about twice its first pass, and one of every
    slide's replacements is tried."""
    return content_slides


async def write_slides(job: Job, outline: Outline, data: Sequence[Slide]) -> list[Slide]:
    """Stage: every content slide, validated, simplified or replaced; in outline order.

    Drafts are written concurrently (within the engine's slots), each told the
    points already made; then, in order, a draft that repeats an earlier slide
    is rewritten or replaced. Each draft and each final slide is saved.
    """
    n = len(outline.slides)
    job.stats.slide_tokens = [0] * n
    job.repairs_left = repair_budget(n)
    finished: list[Slide] = []  # drafts as they finish, for "already said"
    reasons: dict[int, str] = {}

    async def draft(i: int) -> Slide | None:
        p = outline.slides[i]
        if p.data >= 0:
            return data[p.data]
        if (saved := job.saved(f"draft:{i}")) is not None:
            return Slide.model_validate(saved["slide"]) if saved["slide"] else None
        s = await _write(job, outline, i, p.heading, p.kind, _said(finished))
        if s is None:
            reasons[i] = "it was still invalid after its retries, as bullets too"
        else:
            finished.append(s)
        job.save(f"draft:{i}", {"slide": s.model_dump(mode="json") if s else None})
        return s

    if job.req.parallel == 1:  # one at a time: each slide is told what the others said
        drafts = [await draft(i) for i in range(n)]
    else:
        drafts = list(await asyncio.gather(*(draft(i) for i in range(n))))
    kept: list[Slide] = []
    spares = list(outline.spares)
    for i in range(n):
        if (saved := job.saved(f"slide:{i}")) is not None:
            if saved["slide"]:
                kept.append(Slide.model_validate(saved["slide"]))
            continue
        s = drafts[i]
        if outline.slides[i].data < 0:
            s = await _final(job, outline, i, s, reasons.get(i, ""), kept, spares)
        if s is not None:
            kept.append(s)
        job.save(f"slide:{i}", {"slide": s.model_dump(mode="json") if s else None})
    if kept and len(kept) < n:
        kept += await _top_up(job, outline, kept, spares, n - len(kept))
    # Degrade, don't die: a deck with the slides that could be made (each one left out is
    # said, with why, by its SlideChanged event) is worth more to the person who asked than
    # no deck after minutes of work; only a deck with no content slide at all is useless.
    # (Until 2026-12-02 fewer than half was an error: the default model's Chinese decks,
    # whose generic slides repeat each other, then gave nothing at all.)
    if not kept:
        raise DeckError(f"none of the {n} content slides could be made", _HINT)
    return kept
