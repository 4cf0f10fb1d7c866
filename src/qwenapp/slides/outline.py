"""The model's structured output: JSON schemas, then validation and repair.

Two kinds of request go to the model: one outline (deck title and one
heading and kind per content slide), then one content request per slide.
Each has a compact JSON schema (short keys, bounded item counts; together
with a bounded ``max_tokens`` a constrained decoder cannot loop) and a parser
that turns the reply into deck data, repairing what it can (over-long lines
are cut at a clause boundary), or raises :class:`Invalid` with a reason the
pipeline can retry on.

What is invalid, from watching small local models fail: placeholder or
template text, the instructions copied back, a slide in the wrong language,
duplicate slides, too few slides, chart numbers that are not in the request
or the sources (the chart is dropped), a table of the wrong shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .checks import (
    clean_line,
    contained,
    copied_instruction,
    number_in,
    placeholder_reason,
    similar,
)
from .deck import Chart, Column, Series, Slide, SourceRef, Table
from .language import Language, in_language
from .sources import Passage

__all__ = [
    "ContentKind",
    "Invalid",
    "Limits",
    "Outline",
    "Parsed",
    "PlannedSlide",
    "Rules",
    "limits_for",
    "outline_schema",
    "parse_json",
    "parse_outline",
    "parse_slide",
    "slide_budget",
    "slide_schema",
]

ContentKind = Literal["bullets", "compare", "table", "chart"]
ALL_KINDS: tuple[ContentKind, ...] = ("bullets", "compare", "table", "chart")


class Invalid(Exception):
    """The model's reply cannot be used; ``reason`` is fed back on the retry."""

    def __init__(self, reason: str, *, numbers: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.numbers = numbers  # a chart used numbers that are in no source


@dataclass(frozen=True, slots=True)
class Limits:
    """Length bounds, in characters, for one language (Chinese packs more per character)."""

    heading: int
    point: int
    notes: int
    cell: int
    chars_per_token: float


def limits_for(lang: Language) -> Limits:
    if lang.script == "latin":
        return Limits(heading=70, point=110, notes=300, cell=28, chars_per_token=3.2)
    return Limits(heading=28, point=48, notes=140, cell=12, chars_per_token=1.1)


@dataclass(frozen=True, slots=True)
class PlannedSlide:
    kind: ContentKind
    heading: str


@dataclass(frozen=True, slots=True)
class Outline:
    title: str
    subtitle: str
    slides: tuple[PlannedSlide, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    """What every generated text is checked against."""

    language: Language
    limits: Limits
    instructions: str  # the fixed prompt text: output copying it is invalid
    numbers: frozenset[float] = frozenset()  # numbers a chart may use
    passages: Mapping[str, Passage] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parsed:
    slide: Slide
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------- schemas


def _str(lo: int, hi: int) -> dict[str, Any]:
    """A string. Its length bounds are checked after decoding, not put in the schema:
    llama.cpp expands ``maxLength: 110`` into 110 nested grammar rules, and sampling
    through them was measured five times slower than the same schema without them."""
    del lo, hi
    return {"type": "string"}


def _arr(item: dict[str, Any], lo: int, hi: int) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": lo, "maxItems": hi}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def outline_schema(count: int, kinds: Sequence[ContentKind], lim: Limits) -> dict[str, Any]:
    """Deck title, subtitle and exactly ``count`` slide headings with kinds.

    Callers ask for one heading more than they need (see :func:`parse_outline`).
    """
    slide = _obj({"head": _str(2, lim.heading), "kind": {"type": "string", "enum": list(kinds)}})
    return _obj({
        "title": _str(2, lim.heading),
        "sub": _str(0, lim.heading + 30),
        "slides": _arr(slide, count, count),
    })


def slide_schema(kind: ContentKind, lim: Limits, source_ids: Sequence[str] = ()) -> dict[str, Any]:
    """The content of one slide of ``kind``; ``src`` (cited source ids) when there are sources."""
    point = _str(4, lim.point)
    props: dict[str, Any] = {}
    if source_ids:
        props["src"] = _arr({"type": "string", "enum": list(source_ids)}, 1, 3)
    if kind == "bullets":
        props["points"] = _arr(point, 3, 5)
    elif kind == "compare":
        col = _obj({"head": _str(2, lim.heading // 2 + 6),
                    "points": _arr(_str(4, _short(lim)), 2, 4)})
        props["left"] = col
        props["right"] = col
    elif kind == "table":
        cell = _str(1, lim.cell)
        props["cols"] = _arr(cell, 2, 4)
        props["rows"] = _arr(_arr(cell, 2, 4), 2, 4)
    else:
        props["chart"] = _obj({
            "type": {"type": "string", "enum": ["bar", "line", "pie"]},
            "labels": _arr(_str(1, lim.cell), 2, 6),
            "values": _arr({"type": "number"}, 2, 6),
        })
        props["points"] = _arr(point, 1, 3)
    props["notes"] = _str(10, lim.notes)
    return _obj(props)


def slide_budget(kind: ContentKind, lim: Limits, with_sources: bool) -> int:
    """``max_tokens`` for one slide: the schema's longest answer (text and JSON), no more."""
    chars, items = {
        "bullets": (5 * lim.point, 6),
        "compare": (8 * _short(lim) + 2 * (lim.heading // 2 + 6), 11),
        "table": (20 * lim.cell, 25),
        "chart": (6 * lim.cell + 6 * 8 + 3 * lim.point, 16),
    }[kind]
    tokens = (chars + lim.notes) / lim.chars_per_token + 3 * items + 30
    return int(tokens) + (12 if with_sources else 0)


def _short(lim: Limits) -> int:
    """Points in a comparison column: half the slide wide, so shorter."""
    return lim.point * 2 // 3


# ---------------------------------------------------------------- wire models


class _Plan(BaseModel):
    head: str
    kind: str = "bullets"


class _Outline(BaseModel):
    title: str
    sub: str = ""
    slides: list[_Plan]


class _Col(BaseModel):
    head: str
    points: list[str]


class _ChartData(BaseModel):
    type: str = "bar"
    labels: list[str]
    values: list[float]


class _Content(BaseModel):
    src: list[str] = []
    points: list[str] = []
    left: _Col | None = None
    right: _Col | None = None
    cols: list[str] = []
    rows: list[list[str]] = []
    chart: _ChartData | None = None
    notes: str = ""


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_json(text: str) -> Any:
    """The JSON value in a reply (tolerating a code fence or prose around one object)."""
    body = _FENCE.sub("", text.strip())
    try:
        return json.loads(body)
    except ValueError:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(body[start : end + 1])
            except ValueError:
                pass
    raise Invalid("the reply was not valid JSON (it may have been cut off)")


def _model(cls: type[BaseModel], text: str) -> Any:
    data = parse_json(text)
    if not isinstance(data, dict):
        raise Invalid("the reply was not a JSON object")
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(f"the JSON does not match the schema at {where}: {first['msg']}") from None


# ---------------------------------------------------------------- checks


def _line(text: str, rules: Rules, what: str, limit: int, *, heading: bool = False) -> str:
    """A cleaned, checked single line of slide text (raises Invalid)."""
    line = clean_line(text)
    reason = placeholder_reason(line)
    if reason:
        raise Invalid(f"{what} is {reason}")
    if copied_instruction(line, rules.instructions):
        raise Invalid(f"{what} copies the instructions instead of saying something")
    letters = sum(1 for c in line if c.isalpha())
    if letters >= 8 and not in_language(line, rules.language, lenient=True):
        raise Invalid(f"{what} is not written in {rules.language.name}")
    return clip_heading(line, limit) if heading else clip(line, limit)


_CLAUSE = re.compile(r"[.;:!?。；：！？]\s|[,，、]\s?")


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, at a clause end when there is one."""
    if len(text) <= limit:
        return text
    ends = [m.start() + 1 for m in _CLAUSE.finditer(text, 0, limit + 1) if m.start() >= limit // 2]
    if ends:
        return text[: ends[-1]].rstrip(" ,;:，、；：")
    cut = text[:limit]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:，、；：") + "…"


_TRAILING = re.compile(r"(?:[\s,;:–—-]+(?:the|a|an|of|in|on|for|to|and|or|with|by|at|its|their|"
                       r"de|la|le|des|der|die|das|und|el|los|y))+$|[\s,;:的和与及]+$",
                       re.IGNORECASE)


def clip_heading(text: str, limit: int) -> str:
    """A heading cut to ``limit`` at a word, without an ellipsis or a dangling "of the"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    prev = None
    while prev != cut:
        prev, cut = cut, _TRAILING.sub("", cut)
    return cut.rstrip(" ,;:")


def _lines(items: Sequence[str], rules: Rules, what: str, lo: int, hi: int) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(items, 1):
        line = _line(item, rules, f"{what} {i}", rules.limits.point)
        if any(similar([line], [prev], 0.85) or contained(line, prev) for prev in out):
            continue  # a repeated point, or one restating another
        out.append(line)
    if len(out) < lo:
        raise Invalid(f"{what}: {len(out)} distinct points, at least {lo} needed")
    return out[:hi]


def _whole(texts: Sequence[str], rules: Rules, what: str) -> None:
    if not in_language(" ".join(texts), rules.language):
        raise Invalid(f"{what} is not written in {rules.language.name}")


def parse_outline(text: str, count: int, kinds: Sequence[ContentKind], rules: Rules) -> Outline:
    """Validate and repair the outline: distinct headings, exactly ``count``, sane kinds."""
    raw: _Outline = _model(_Outline, text)
    title = _line(raw.title, rules, "the deck title", rules.limits.heading, heading=True)
    try:
        subtitle = _line(raw.sub, rules, "the subtitle", rules.limits.heading + 30)
    except Invalid:
        subtitle = ""  # optional: dropped rather than retried
    slides: list[PlannedSlide] = []
    for i, plan in enumerate(raw.slides, 1):
        head = _line(plan.head, rules, f"the heading of slide {i}", rules.limits.heading,
                     heading=True)
        if any(similar([head], [s.heading], 0.8) for s in slides):
            continue  # a duplicate slide: dropped
        kind: ContentKind = plan.kind if plan.kind in kinds else "bullets"  # type: ignore[assignment]
        slides.append(PlannedSlide(kind, head))
    # The schema asks for one spare heading: a heading that only repeats the deck
    # title (small models open with one) gives way to it.
    if len(slides) > count:
        echo = next((s for s in slides if similar([s.heading], [title], 0.8)), None)
        if echo is not None:
            slides.remove(echo)
    slides = slides[:count]
    if len(slides) < count:
        raise Invalid(f"only {len(slides)} distinct slide headings, {count} needed")
    _whole([title, *(s.heading for s in slides)], rules, "the outline")
    return Outline(title, subtitle, tuple(_balance(slides)))


def _balance(slides: list[PlannedSlide]) -> list[PlannedSlide]:
    """At most a third of the slides are tables, a third charts, a half comparisons."""
    caps = {"table": max(1, len(slides) // 3), "chart": max(1, len(slides) // 3),
            "compare": max(1, len(slides) // 2), "bullets": len(slides)}
    used = dict.fromkeys(caps, 0)
    out: list[PlannedSlide] = []
    for s in slides:
        used[s.kind] += 1
        out.append(s if used[s.kind] <= caps[s.kind] else PlannedSlide("bullets", s.heading))
    return out


def _sources(ids: Sequence[str], offered: Sequence[Passage]) -> list[SourceRef]:
    """Cited ids that were offered, mapped to refs; the offered passages when none is."""
    by_id = {p.id: p for p in offered}
    cited = [by_id[i].ref() for i in dict.fromkeys(ids) if i in by_id]
    return cited or [p.ref() for p in offered[:3]]


def parse_slide(
    text: str, planned: PlannedSlide, rules: Rules, offered: Sequence[Passage] = (),
    others: Sequence[str] = (),
) -> Parsed:
    """Validate and repair one slide's content (raises Invalid).

    ``others`` are the other slides' headings: a column heading that copies one
    of them is a small model echoing its prompt, not a side of a comparison.
    """
    raw: _Content = _model(_Content, text)
    lim = rules.limits
    heading = planned.heading
    notes_raw = clean_line(raw.notes)
    notes = "" if placeholder_reason(notes_raw) else notes_raw
    if notes and not in_language(notes, rules.language, lenient=True):
        raise Invalid(f"the speaker notes are not written in {rules.language.name}")
    notes = clip(notes, lim.notes * 2)
    sources = _sources(raw.src, offered) if offered else []
    warnings: list[str] = []
    slide: Slide
    if planned.kind == "bullets":
        points = _lines(raw.points, rules, "point", 2, 6)
        slide = Slide(kind="bullets", title=heading, bullets=points)
        texts = points
    elif planned.kind == "compare":
        if raw.left is None or raw.right is None:
            raise Invalid("a comparison needs a left and a right column")
        cols = []
        for side, col in (("left", raw.left), ("right", raw.right)):
            head = _line(col.head, rules, f"the {side} column heading", lim.heading)
            cols.append(Column(heading=head, bullets=_lines(col.points, rules, f"{side} point",
                                                            1, 4)))
        if similar([cols[0].heading], [cols[1].heading], 0.9):
            raise Invalid("both columns of the comparison have the same heading")
        if any(similar([c.heading], [o], 0.9) for c in cols for o in others):
            raise Invalid("the column headings copy other slides' headings; name the two "
                          "sides being compared")
        slide = Slide(kind="compare", title=heading, left=cols[0], right=cols[1])
        texts = [c.heading for c in cols] + cols[0].bullets + cols[1].bullets
    elif planned.kind == "table":
        slide, texts = _table(raw, heading, rules)
    else:
        slide, texts, warnings = _chart(raw, heading, rules)
    _whole([*texts, notes], rules, f"slide {heading!r}")
    if not notes:
        notes = " ".join(texts)  # notes on every content slide: the slide's own words
    return Parsed(slide.model_copy(update={"notes": notes, "sources": sources}), tuple(warnings))


def _table(raw: _Content, heading: str, rules: Rules) -> tuple[Slide, list[str]]:
    lim = rules.limits.cell
    cols = [_line(c, rules, f"column {i}", lim) for i, c in enumerate(raw.cols, 1)][:5]
    if len(cols) < 2:
        raise Invalid("a table needs at least two columns")
    rows: list[list[str]] = []
    for r, row in enumerate(raw.rows, 1):
        cells = [clean_line(c) for c in row][: len(cols)]
        cells += [""] * (len(cols) - len(cells))
        if not any(cells) or cells in rows:
            continue
        for c, cell in enumerate(cells, 1):
            if cell and placeholder_reason(cell) and not re.fullmatch(r"[-–—✓✗x/]+", cell):
                raise Invalid(f"table cell {r},{c} is {placeholder_reason(cell)}")
        rows.append([_cut(c, lim) for c in cells])
    if len(rows) < 2:
        raise Invalid("a table needs at least two distinct rows")
    texts = cols + [c for row in rows for c in row if c]
    return Slide(kind="table", title=heading, table=Table(header=cols, rows=rows[:7])), texts


def _cut(text: str, limit: int) -> str:
    return clip(text, limit * 2)


def _chart(raw: _Content, heading: str, rules: Rules) -> tuple[Slide, list[str], list[str]]:
    points = [_line(p, rules, f"point {i}", rules.limits.point)
              for i, p in enumerate(raw.points, 1)]
    c = raw.chart
    problem = ""
    if c is None:
        problem = "the chart slide has no chart"
    else:
        n = min(len(c.labels), len(c.values))
        labels = [clean_line(x) for x in c.labels[:n]]
        values = c.values[:n]
        bad = [v for v in values if not number_in(v, set(rules.numbers))]
        if n < 2:
            problem = "a chart needs at least two values"
        elif bad:
            problem = (f"chart value {_fmt(bad[0])} is not a number from the request or the "
                       "sources")
        elif len(set(labels)) < n or any(placeholder_reason(x) for x in labels):
            problem = "the chart labels are missing, repeated or placeholders"
        elif c.type == "pie" and any(v <= 0 for v in values):
            problem = "a pie chart needs positive values"
    if problem:
        if len(points) >= 2:  # drop the chart, keep the slide as bullets
            return Slide(kind="bullets", title=heading, bullets=points), points, [problem]
        raise Invalid(problem, numbers=True)
    assert c is not None
    kind = c.type if c.type in ("bar", "line", "pie") else "bar"
    chart = Chart(type=kind, categories=labels,  # type: ignore[arg-type]
                  series=[Series(name=heading, values=values)])
    return Slide(kind="chart", title=heading, chart=chart, bullets=points), [*points, *labels], []


def _fmt(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)
