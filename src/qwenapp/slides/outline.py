"""The model's structured output: JSON schemas, the outline and its validation.

Three kinds of request go to the model: one outline (deck title and one
heading and kind per content slide, plus spare headings), one content
request per slide (parsed in :mod:`.content`), and short repair requests
(a shorter line, a heading for a data slide). Each has a compact JSON
schema (short keys, bounded item counts; together with a bounded
``max_tokens`` a constrained decoder cannot loop).

Text is never cut to fit: a line over its length is sent back to the model
for a shorter version (see :mod:`.write`), so nothing here truncates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from ..jsontext import json_in
from .checks import (
    clean_line,
    contained,
    copied_instruction,
    locator,
    placeholder_reason,
    tokens,
    truncated,
    unsupported_numbers,
    without_subject,
)
from .headings import alike, bare, vague
from .language import Language, in_language
from .sources import Passage

__all__ = [
    "ALL_KINDS",
    "ContentKind",
    "Invalid",
    "Limits",
    "Outline",
    "PlannedSlide",
    "Rules",
    "check_line",
    "data_schema",
    "heads_schema",
    "limits_for",
    "outline_from_json",
    "outline_json",
    "outline_schema",
    "parse_json",
    "parse_model",
    "parse_outline",
    "shorten_schema",
    "slide_budget",
    "slide_schema",
]

ContentKind = Literal["bullets", "compare", "kpi", "quote", "process", "timeline", "table",
                      "chart"]
ALL_KINDS: tuple[ContentKind, ...] = ("bullets", "compare", "kpi", "quote", "process",
                                      "timeline", "table", "chart")
# kinds the outline may choose; chart (and data tables) are planned by code from the sources
PLANNED_KINDS: tuple[ContentKind, ...] = ("bullets", "compare", "kpi", "quote", "process",
                                          "timeline", "table")


class Invalid(Exception):
    """The model's reply cannot be used; ``reason`` is fed back on the retry."""

    def __init__(self, reason: str, *, numbers: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.numbers = numbers  # figures that are in no source: asking again invites more


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
        return Limits(heading=64, point=100, notes=220, cell=28, chars_per_token=3.2)
    return Limits(heading=24, point=44, notes=100, cell=12, chars_per_token=1.1)


@dataclass(frozen=True, slots=True)
class PlannedSlide:
    """One planned content slide; ``data`` indexes the deck's data tables (-1: none)."""

    kind: ContentKind
    heading: str
    data: int = -1


@dataclass(frozen=True, slots=True)
class Outline:
    title: str
    subtitle: str
    slides: tuple[PlannedSlide, ...]
    spares: tuple[str, ...] = ()  # headings kept back, for a slide dropped as a repeat


def outline_json(o: Outline) -> str:
    return json.dumps({"title": o.title, "subtitle": o.subtitle, "spares": list(o.spares),
                       "slides": [[s.kind, s.heading, s.data] for s in o.slides]},
                      ensure_ascii=False)


def outline_from_json(text: str) -> Outline:
    d = json.loads(text)
    return Outline(d["title"], d["subtitle"],
                   tuple(PlannedSlide(k, h, int(x)) for k, h, x in d["slides"]),
                   tuple(d.get("spares", ())))


@dataclass(frozen=True, slots=True)
class Rules:
    """What every generated text is checked against."""

    language: Language
    limits: Limits
    instructions: str  # the fixed prompt text: output copying it is invalid
    numbers: frozenset[float] = frozenset()  # figures the request and the sources hold
    passages: Mapping[str, Passage] = field(default_factory=dict)
    grounded: bool = False  # there are sources: every figure must come from them
    subject: str = ""  # the deck's topic: its words do not make two points alike


# ---------------------------------------------------------------- schemas


def _str() -> dict[str, Any]:
    """A string. Length bounds are checked after decoding, not put in the schema:
    llama.cpp expands ``maxLength: 110`` into 110 nested grammar rules, and sampling
    through them was measured five times slower than the same schema without them."""
    return {"type": "string"}


def _arr(item: dict[str, Any], lo: int, hi: int) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": lo, "maxItems": hi}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


# kinds every outline is offered; with nothing else offered (no figures, quotes or dates
# in the material) the heading alone decides the kind (see :func:`_vary`)
BASE_KINDS: frozenset[str] = frozenset({"bullets", "compare", "process", "table"})


def kinds_by_code(kinds: Sequence[ContentKind]) -> bool:
    """Whether code, not the model, gives the planned slides their kinds: when only the
    base kinds are offered. The 1.5B labelled every slide "bullets" in such decks, and
    the label cost it about nine tokens a slide (a second of decoding on two cores)."""
    return set(kinds) <= BASE_KINDS


def outline_schema(count: int, kinds: Sequence[ContentKind], lim: Limits,
                   title: bool = True) -> dict[str, Any]:
    """Deck title (unless ``title`` is False: the topic is the title), subtitle and exactly
    ``count`` slide headings, with kinds when the material offers more than the base kinds
    (else headings only: :func:`kinds_by_code`)."""
    del lim
    if kinds_by_code(kinds):
        slide: dict[str, Any] = _str()
    else:
        slide = _obj({"head": _str(), "kind": {"type": "string", "enum": list(kinds)}})
    props: dict[str, Any] = {"title": _str()} if title else {}
    return _obj({**props, "sub": _str(), "slides": _arr(slide, count, count)})


def slide_schema(kind: ContentKind, lim: Limits, source_ids: Sequence[str] = (),
                 quotes: Sequence[str] = (), sides: bool = False) -> dict[str, Any]:
    """The content of one slide of ``kind``; ``src`` (cited source ids) when there are sources.

    A quote slide chooses its quotation from ``quotes`` (sentences of the
    sources, an enum), so the words are verbatim by construction.
    """
    del lim
    props: dict[str, Any] = {}
    if source_ids:
        props["src"] = _arr({"type": "string", "enum": list(source_ids)}, 1, 3)
    if kind == "compare":
        # sides: the heading names the two sides, which head the columns by code (the
        # model's own column names copied other slides' headings, a retry each time)
        col = _obj({"points": _arr(_str(), 2, 4)} if sides else
                   {"head": _str(), "points": _arr(_str(), 2, 4)})
        props["left"] = col
        props["right"] = col
    elif kind == "table":
        props["cols"] = _arr(_str(), 2, 4)
        props["rows"] = _arr(_arr(_str(), 2, 4), 2, 4)
    elif kind == "kpi":
        props["stats"] = _arr(_obj({"v": _str(), "l": _str()}), 2, 4)
    elif kind == "quote":
        props["q"] = {"type": "string", "enum": list(quotes)} if quotes else _str()
        props["by"] = _str()
    elif kind in ("process", "timeline"):
        props["steps"] = _arr(_obj({"l": _str(), "t": _str()}), 3, 5)
    else:
        # three or four: what a slide shows as cards; a fifth point was 20 tokens (two
        # seconds of the 1.5B on two cores) and pushed the slide into rows
        props["points"] = _arr(_str(), 3, 4)
    # no "notes": the speaker notes are the slide's own words and its sources, by code
    # (a one-sentence note was a third of a slide's tokens, and the seconds they cost)
    return _obj(props)


def data_schema() -> dict[str, Any]:
    """A data slide (chart or table built by code): its heading and one-sentence takeaway."""
    return _obj({"head": _str(), "take": _str()})


def heads_schema(count: int) -> dict[str, Any]:
    """``count`` new slide headings (alternatives for the outline or for repeats)."""
    return _obj({"heads": _arr(_str(), count, count)})


def shorten_schema(count: int) -> dict[str, Any]:
    return _obj({"lines": _arr(_str(), count, count)})


def slide_budget(kind: ContentKind, lim: Limits, with_sources: bool) -> int:
    """``max_tokens`` for one slide: the schema's longest sensible answer, no more."""
    chars, items = {
        "bullets": (4 * lim.point, 5),
        "compare": (8 * _short(lim) + 2 * lim.heading // 2, 11),
        "table": (20 * lim.cell, 25),
        "kpi": (4 * (lim.cell + lim.point // 2), 10),
        "quote": (3 * lim.point, 4),
        "process": (5 * (lim.cell + lim.point), 12),
        "timeline": (5 * (lim.cell + lim.point), 12),
        "chart": (lim.heading + 2 * lim.point, 4),
    }[kind]
    tokens = chars / lim.chars_per_token + 3 * items + 24
    return int(tokens) + (12 if with_sources else 0)


def _short(lim: Limits) -> int:
    """Points in a comparison column: half the slide wide, so shorter."""
    return lim.point * 2 // 3


# ---------------------------------------------------------------- parsing


class _Plan(BaseModel):
    head: str
    kind: str = "bullets"


class _Outline(BaseModel):
    title: str = ""  # not asked for when the topic is short enough to be the title
    sub: str = ""
    slides: list[_Plan | str]


def parse_json(text: str) -> Any:
    """The JSON value in a reply (:func:`qwenapp.jsontext.json_in`), or Invalid."""
    data = json_in(text)
    if data is None:
        raise Invalid("the reply was not valid JSON (it may have been cut off)")
    return data


def parse_model(cls: type[BaseModel], text: str) -> Any:
    data = parse_json(text)
    if not isinstance(data, dict):
        raise Invalid("the reply was not a JSON object")
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid(f"the JSON does not match the schema at {where}: {first['msg']}") from None


def check_line(text: str, rules: Rules, what: str) -> str:
    """A cleaned, checked single line of slide text (raises Invalid); never shortened."""
    line = clean_line(text).rstrip("…").rstrip()
    if line.endswith("..."):
        line = line[:-3].rstrip()
    reason = placeholder_reason(line)
    if reason:
        raise Invalid(f"{what} is {reason}")
    if copied_instruction(line, rules.instructions):
        raise Invalid(f"{what} copies the instructions instead of saying something")
    letters = sum(1 for c in line if c.isalpha())
    if letters >= 8 and not in_language(line, rules.language, lenient=True):
        raise Invalid(f"{what} is not written in {rules.language.name}")
    return line


def _whole(texts: Sequence[str], rules: Rules, what: str) -> None:
    if not in_language(" ".join(texts), rules.language):
        raise Invalid(f"{what} is not written in {rules.language.name}")


_GENERIC = re.compile(
    r"^(?:introduction|overview|background|summary|conclusions?|key (?:points|takeaways)|"
    r"next steps|q ?& ?a|questions|agenda|thank you|details|more|miscellaneous|"
    r"(?:key |main |the )?(?:advantages|disadvantages|benefits|challenges|limitations|"
    r"drawbacks|risks|opportunities|features|applications|use cases|future(?: outlook)?|"
    r"pros and cons|process|steps|timeline|comparison|references|sources|data|figures)|"
    r"引言|概述|背景|总结|结论|要点|下一步|问答|目录|谢谢|详情|优势|劣势|挑战|局限性?|"
    r"应用|特点|未来|未来展望)\W*$", re.IGNORECASE)


# "Conclusion: Open-Weight Models: The Future of NLP" (the 1.5B): the label goes
_LABEL = re.compile(r"^(?:introduction|intro|conclusions?|summary|overview|background|"
                    r"引言|概述|总结|结论|背景)\s*[:：]\s*(?=\S.{7,})", re.IGNORECASE)
_FRAMING = re.compile(r"\b(?:introduction|intro|overview|summary|conclusions?|background|"
                      r"recap|wrap-up)\b|引言|概述|简介|总结|结论|回顾", re.IGNORECASE)


def _unlabelled(heading: str) -> str:
    return _LABEL.sub("", heading, count=1)


def framing(heading: str, topic: str) -> bool:
    """An introduction, overview or conclusion of the topic ("Introduction: Overview of
    Open-Weight Models"): the deck's own title, agenda and closing slides frame it, and
    such a slide restated the next one (the 1.5B's en-topic deck, 2026-12-03: its second
    slide was replaced twice for repeating the first)."""
    if not _FRAMING.search(heading):
        return False
    rest = _FRAMING.sub(" ", without_subject(heading, topic) if topic else heading)
    return vague(rest) or not tokens(rest)


_CONNECTOR = re.compile(r"^(?:by|for|with|through|via|and|to|in|on|[:\-–—,])\s+", re.IGNORECASE)


def without_shared_opening(headings: Sequence[str], least: int = 3) -> list[str]:
    """``headings`` without an opening of three words or more that at least ``least`` of
    them (and half) repeat: the 0.5B planned a 12-slide deck on street safety as "How to
    make streets safer by improving traffic lights", "… by installing pedestrian
    crossings", "… by reducing traffic congestion" and three more, wrote the same points
    under each, and five of six slides were left out as repeats. What follows the shared
    words is what each slide is about ("Improving traffic lights"). Latin script only: a
    Chinese deck's headings open with its subject (开源大模型的…) on purpose."""
    split = [h.split() for h in headings]
    if len(split) < least or any(re.search(r"[\u4e00-\u9fff]", h) for h in headings):
        return list(headings)
    for k in range(max(len(w) for w in split) - 1, 2, -1):
        openings = [" ".join(w[:k]).lower() for w in split if len(w) > k]
        if not openings:
            continue
        top = max(set(openings), key=openings.count)
        if openings.count(top) >= max(least, (len(headings) + 1) // 2):
            out = []
            for h, w in zip(headings, split, strict=True):
                rest = _CONNECTOR.sub("", " ".join(w[k:])) if len(w) > k else ""
                if " ".join(w[:k]).lower() == top and len(rest.split()) >= 2:
                    out.append(rest[:1].upper() + rest[1:])
                else:
                    out.append(h)
            return out
    return list(headings)


def echo_subtitle(subtitle: str, title: str, topic: str = "") -> bool:
    """Whether a subtitle only says the title (or the topic) again: the 1.5B's topic decks
    were titled "Why open-weight language models are gaining adoption among developers" and
    subtitled "Why Open-Weight Models Are Gaining Adoption Among Developers", and
    "开源大模型为何受到开发者欢迎" twice."""
    return any(t and (same_heading(subtitle, t) or contained(subtitle, t, 0.8))
               for t in (title, topic))


def generic(heading: str) -> bool:
    """A heading that could top a slide of any deck ("Overview", "Conclusion")."""
    return bool(_GENERIC.match(heading.strip()))


def same_heading(a: str, b: str, topic: str = "") -> bool:
    """Two headings that name the same slide: near-identical wording, or one template
    with a one-word slot ("技术层面" / "经济层面"); see :func:`.headings.alike`."""
    return alike(a, b, topic)


__all__ += ["BASE_KINDS", "PLANNED_KINDS", "framing", "generic", "heading_kind", "kinds_by_code",
            "same_heading"]


def parse_outline(text: str, count: int, kinds: Sequence[ContentKind], rules: Rules,
                  taken: Sequence[str] = (), least: int | None = None) -> Outline:
    """Validate and repair the outline: distinct headings, at most ``count``, sane kinds.

    ``taken`` are headings already used (the data slides'); a heading that
    repeats one of them, or the deck title, or another heading, is dropped, and so
    is one that could top any deck (generic words only, none of the topic's);
    headings beyond ``count`` are kept as spares. Fewer than ``least`` usable
    headings (default: half of ``count``) is Invalid; the caller may pass 0 and
    top the outline up with new headings instead of asking for all of it again (a
    reply with no heading but template text is Invalid all the same).
    """
    raw: _Outline = parse_model(_Outline, text)
    title = check_line(raw.title if raw.title.strip() else rules.subject, rules,
                       "the deck title")  # no title asked for: the topic is the title
    try:
        subtitle = check_line(raw.sub, rules, "the subtitle")
    except Invalid:
        subtitle = ""  # optional: dropped rather than retried
    if subtitle and echo_subtitle(subtitle, title, rules.subject):
        subtitle = ""  # a title slide that says its title twice: better none
    slides: list[PlannedSlide] = []
    vaguer: list[str] = []
    for i, item in enumerate(raw.slides, 1):
        plan = _Plan(head=item) if isinstance(item, str) else item
        try:
            head = check_line(plan.head, rules, f"the heading of slide {i}")
            head = _unlabelled(head)
            if generic(head) or vague(head, rules.subject) or framing(head, rules.subject):
                vaguer.append(head)
                continue
            if truncated(plan.head.strip()) or truncated(head):
                continue
            if locator(head):
                continue  # a source's location ("lines 61-120 > INTRODUCTION")
            if unsupported_numbers(head, set(rules.numbers)):
                continue  # a figure of its own: the 1.5B headed three slides "Q1 2023" …
                # "Q3 2023" over a request that names no year
        except Invalid:
            continue  # one bad heading: the spares make up for it
        topic = rules.subject
        if any(same_heading(head, s.heading, topic) for s in slides) or any(
                same_heading(head, t, topic) for t in taken) or same_heading(head, title):
            continue
        kind: ContentKind = plan.kind if plan.kind in kinds else "bullets"  # type: ignore[assignment]
        slides.append(PlannedSlide(kind, head))
    need = min(count, max(1, (count + 1) // 2)) if least is None else least
    if len(slides) < need or (not slides and not vaguer):  # nothing but template text
        why = (f"; headings such as {vaguer[0]!r} could top any deck: say what about the "
               "topic") if vaguer else ""
        raise Invalid(f"only {len(slides)} distinct, usable slide headings, {count} needed{why}")
    heads = without_shared_opening([x.heading for x in slides])
    slides = [PlannedSlide(x.kind, h, x.data) for x, h in zip(slides, heads, strict=True)]
    _whole([title, *(s.heading for s in slides)], rules, "the outline")
    # headings that name only the topic go last, so the spares are those (no call)
    slides = ([x for x in slides if not bare(x.heading, rules.subject)]
              + [x for x in slides if bare(x.heading, rules.subject)])
    spares = tuple(s.heading for s in slides[count:])
    return Outline(title, subtitle, tuple(_balance(_vary(slides[:count], kinds))), spares)


# What a heading's words say its slide is (the cue decides only when the model gave
# every slide as bullets: a small model does, and a deck of bullets is a wall of text).
_CUES: tuple[tuple[ContentKind, re.Pattern[str]], ...] = (
    ("compare", re.compile(r"\bvs\.?\b|\bversus\b|\bcompar|\btrade-?offs?\b|pros and cons|"
                           r"\binstead of\b|\bor\b.*\?|对比|比较|还是|优劣|利弊|异同|相比",
                           re.IGNORECASE)),
    ("timeline", re.compile(r"\bhistory\b|\btimeline\b|\bevolution\b|\bmilestones?\b|"
                            r"\bsince (?:1[5-9]|20)\d{2}\b|历程|发展史|里程碑|时间线",
                            re.IGNORECASE)),
    ("process", re.compile(r"^how\b|\bsteps?\b|\bprocess\b|\bworkflow\b|\bpipeline\b|"
                           r"get(?:ting)? started|\bfirst steps\b|\bchecklist\b|\broad ?map\b|"
                           r"\bdeploy|\bimplement|\bmigrat|"
                           r"\broll(?:ing)? ?out\b|\bset(?:ting)? up\b|如何|怎样|怎么|步骤|流程|"
                           r"路线|部署|落地|实施|迁移|上手", re.IGNORECASE)),
    ("kpi", re.compile(r"\bin numbers\b|\bby the numbers\b|\bkey figures\b|\bstatistics\b|"
                       r"数据一览|关键数字|数字", re.IGNORECASE)),
)


def heading_kind(heading: str, taken: Sequence[str] = ()) -> ContentKind:
    """The kind a heading names ("How to …" a process, "… vs …" a comparison) among those
    a topic deck may have by its heading alone, unless ``taken`` has it; else bullets. A
    slide written to replace a repeat gets it: steps or two sides are other content than
    the bullets the small models kept restating."""
    return next((k for k, cue in _CUES if k in ("compare", "process") and k not in taken
                 and cue.search(heading)), "bullets")


def _vary(slides: list[PlannedSlide], kinds: Sequence[ContentKind]) -> list[PlannedSlide]:
    """An outline of nothing but bullets gets the kinds its headings name ("How … works"
    a process, "… or …?" a comparison), among the kinds offered; at most one of each."""
    if len(slides) < 3 or any(s.kind != "bullets" for s in slides):
        return slides
    out: list[PlannedSlide] = []
    given: set[str] = set()
    for s in slides:
        kind = next((k for k, cue in _CUES if k in kinds and k not in given
                     and cue.search(s.heading)), None)
        if kind is not None:
            given.add(kind)
            out.append(PlannedSlide(kind, s.heading))
        else:
            out.append(s)
    return out


def _balance(slides: list[PlannedSlide]) -> list[PlannedSlide]:
    """No kind but bullets more than once in small decks (a third in large ones);
    comparisons at most half. Variety is the point of the other kinds."""
    n = len(slides)
    cap = max(1, n // 4)
    caps = {k: cap for k in ALL_KINDS}
    caps["compare"] = max(1, n // 3)
    caps["bullets"] = n
    used = dict.fromkeys(caps, 0)
    out: list[PlannedSlide] = []
    for s in slides:
        used[s.kind] += 1
        out.append(s if used[s.kind] <= caps[s.kind] else PlannedSlide("bullets", s.heading))
    return out
