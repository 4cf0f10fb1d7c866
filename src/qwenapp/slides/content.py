"""One slide's reply → :class:`~qwenapp.slides.deck.Slide`, checked and repaired.

What is invalid, from watching small local models fail: placeholder or
template text, the instructions copied back, the wrong language, a
comparison whose columns are other slides' headings, figures that are in no
source, a "quotation" that is not in the sources, a table of the wrong shape.
What is repaired instead: bullets that restate the heading or each other
are dropped (when enough remain), empty notes are rebuilt from the slide's
words, cited ids that were not offered are dropped. Lines are never cut:
:func:`long_lines` lists those over their length, for the model to shorten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from .checks import (
    clean_line,
    contained,
    echoes,
    near_duplicate,
    opening_repeat,
    placeholder_reason,
    restates_topic,
    thin,
    truncated,
    unsupported_numbers,
)
from .deck import Column, Quote, Slide, SourceRef, Stat, Step, Table
from .headings import sides_of
from .language import in_language
from .outline import Invalid, PlannedSlide, Rules, check_line, parse_model, same_heading
from .sources import Passage

__all__ = ["Parsed", "long_lines", "parse_slide", "quotable", "replace_lines", "verbatim"]


@dataclass(frozen=True, slots=True)
class Parsed:
    slide: Slide
    warnings: tuple[str, ...] = ()


class _Col(BaseModel):
    head: str = ""  # not asked for when the slide's heading names the two sides
    points: list[str]


class _Stat(BaseModel):
    v: str
    l: str  # noqa: E741 - the wire key is short on purpose (fewer tokens)


class _Step(BaseModel):
    l: str  # noqa: E741
    t: str = ""


class _Content(BaseModel):
    src: list[str] = []
    points: list[str] = []
    left: _Col | None = None
    right: _Col | None = None
    cols: list[str] = []
    rows: list[list[str]] = []
    stats: list[_Stat] = []
    q: str = ""
    by: str = ""
    steps: list[_Step] = []
    notes: str = ""


def _sources(ids: Sequence[str], offered: Sequence[Passage]) -> list[SourceRef]:
    """Cited ids that were offered, mapped to refs; the offered passages when none is."""
    by_id = {p.id: p for p in offered}
    cited = [by_id[i].ref() for i in dict.fromkeys(ids) if i in by_id]
    return cited or [p.ref() for p in offered[:3]]


def _figures(line: str, rules: Rules, what: str) -> None:
    bad = unsupported_numbers(line, set(rules.numbers))
    if bad and rules.grounded:
        raise Invalid(f"{what} has the figure {bad[0]}, which is in none of the sources",
                      numbers=True)
    if bad:
        raise Invalid(f"{what} has the figure {bad[0]}, which the request does not give; "
                      "leave out figures", numbers=True)


def _lines(items: Sequence[str], rules: Rules, what: str, lo: int, hi: int,
           heading: str, others: Sequence[str] = (), full: bool = False) -> list[str]:
    """Checked points: echoes of the heading, repeats and unsupported figures dropped; a
    point that only says another slide's heading (``others``) is no point either: the
    1.5B's '开源大模型的隐私保护' slide listed '开源大模型的定义与特点' and '开源大模型的优势',
    two other slides of its deck. ``full`` (a bullets slide, whose points stand alone, not
    under a column's heading): a point that says too little (:func:`~.checks.thin`) goes."""
    out: list[str] = []
    last: Invalid | None = None
    opening = ""  # why a point was dropped for opening as an earlier one does
    short = ""  # a point dropped for saying too little
    for i, item in enumerate(items, 1):
        try:
            line = check_line(item, rules, f"{what} {i}")
            if truncated(item.strip()) or truncated(line):
                raise Invalid(f"{what} {i} is cut off mid-sentence; write whole short points")
            _figures(line, rules, f"{what} {i}")
        except Invalid as e:
            last = e
            continue
        if echoes(line, heading) or any(near_duplicate(line, p, subject=rules.subject)
                                        or contained(line, p) for p in out) or any(
                echoes(line, h) for h in others if h != heading):
            continue  # restates the heading, another point, or another slide's heading
        if full and thin(line):
            short = short or line
            continue
        if restates_topic(line, rules.subject):
            continue  # says the deck's topic again ("They are gaining adoption among developers")
        same = next((x for p in out if (x := opening_repeat(line, p, rules.subject))), None)
        if same is not None:
            # a rewrite, not a cut: taking the phrase off would leave a fragment, so the
            # point goes (when enough remain) or the slide is asked for again, told why
            opening = (f"the {what}s open with the same words ({same!r}); begin each "
                       f"{what} with what it alone says")
            continue
        out.append(line)
    if len(out) < lo:
        if opening:
            raise Invalid(opening)
        if short:
            raise Invalid(f"{what}s such as {short!r} say too little; write each {what} as "
                          "a specific sentence of six to twelve words")
        if last is not None:
            raise last
        raise Invalid(f"{what}s: {len(out)} distinct points that do not restate the heading, "
                      f"at least {lo} needed")
    return out[:hi]


_SENTENCE = re.compile(r"[^.!?。！？]*[.!?。！？]")


def _norm(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").split()).lower()


def verbatim(text: str, passages: Sequence[Passage]) -> Passage | None:
    """The passage that holds ``text`` word for word (quotes and spacing normalised)."""
    t = _norm(text).strip(" \"'")
    if len(t) < 12:
        return None
    return next((p for p in passages if t in _norm(p.text)), None)


_SCAFFOLD = re.compile(r"[|\[\]{}<>]|https?:|www\.|\.(?:pdf|txt|html?)\b|\bfile was produced\b|"
                       r"\bproject gutenberg\b|\billustration\b|\bchapter [ivxlc\d]+\b|©",
                       re.IGNORECASE)


def _clean_sentence(s: str) -> bool:
    """A sentence a presenter could quote: it starts as a sentence does (a capital, a
    quotation mark, a Han character), is not shouted in capitals, and holds no file or
    scan scaffolding. (The Riis PDF offered "net (This file was produced from images
    generously made available by The Internet Archive) HOW THE OTHER HALF LIVES
    [Illustration: GOTHAM COURT.", a line cut from a word in the middle.)"""
    first = s.lstrip("\"'“‘「( ")[:1]
    if not first or not (first.isupper() or first.isdigit() or "\u4e00" <= first <= "\u9fff"):
        return False
    if s[:1] in "(":
        return False
    letters = [c for c in s if c.isalpha() and c.isascii()]
    if letters and sum(c.isupper() for c in letters) > 0.25 * len(letters):
        return False
    return _SCAFFOLD.search(s) is None


def quotable(passages: Sequence[Passage], limit: int = 6, lo: int = 40,
             hi: int = 180) -> list[str]:
    """Sentences of the sources fit to be quoted on a slide: a whole sentence of moderate
    length, with words (not a table row or a list of figures). Quoted speech first."""
    found: list[tuple[int, str]] = []
    for p in passages:
        for m in _SENTENCE.finditer(p.text.replace("\n", " ")):
            s = " ".join(m.group(0).split())
            letters = sum(ch.isalpha() for ch in s)
            if not lo <= len(s) <= hi or letters < 0.6 * len(s) or not _clean_sentence(s):
                continue
            score = (2 if re.search(r"[\"“”「」]", s) else 0) + (1 if "," in s else 0)
            found.append((score, s))
    found.sort(key=lambda x: -x[0])
    out: list[str] = []
    for _, s in found:
        if not any(near_duplicate(s, o) for o in out):
            out.append(s)
        if len(out) >= limit:
            break
    return out


def parse_slide(
    text: str, planned: PlannedSlide, rules: Rules, offered: Sequence[Passage] = (),
    others: Sequence[str] = (),
) -> Parsed:
    """Validate and repair one slide's content (raises Invalid).

    ``others`` are the other slides' headings: a column heading that copies one
    of them is a small model echoing its prompt, not a side of a comparison.
    """
    raw: _Content = parse_model(_Content, text)
    heading = planned.heading
    notes = clean_line(raw.notes)
    if placeholder_reason(notes) or (notes and not in_language(notes, rules.language,
                                                               lenient=True)):
        notes = ""  # notes are optional: rebuilt from the slide below
    sources = _sources(raw.src, offered) if offered else []
    kind = planned.kind
    slide: Slide
    if kind == "compare":
        slide = _compare(raw, heading, rules, others)
    elif kind == "table":
        slide = _table(raw, heading, rules)
    elif kind == "kpi":
        slide = _kpi(raw, heading, rules)
    elif kind == "quote":
        slide = _quote(raw, heading, rules, offered)
        quoted = verbatim(slide.quote.text if slide.quote else "", offered)
        if quoted is not None:
            sources = [quoted.ref()]
    elif kind in ("process", "timeline"):
        slide = _steps(raw, heading, rules, kind, others)
    else:
        slide = Slide(kind="bullets", title=heading,
                      bullets=_lines(raw.points, rules, "point", 2, 5, heading, others,
                                     full=True))
    texts = slide_texts(slide)
    if texts and not in_language(" ".join(texts), rules.language):
        raise Invalid(f"slide {heading!r} is not written in {rules.language.name}")
    if not notes or unsupported_numbers(notes, set(rules.numbers)):
        notes = " ".join(texts)  # the slide's own words: never made-up figures in the notes
    return Parsed(slide.model_copy(update={"notes": notes, "sources": sources}))


def _unlabel(point: str, head: str) -> str:
    """A column's point without its column's name in front: the 1.5B's comparison read
    "Open-Weight Models: No Training Data" under the column "Open-Weight Models"."""
    text, name = point.strip(), head.strip()
    if name and text.lower().startswith(name.lower()):
        rest = text[len(name):]
        if rest[:1] in (":", "：", "-", "–", "—") and rest[1:].strip():
            return rest[1:].strip()
    return point


def _compare(raw: _Content, heading: str, rules: Rules, others: Sequence[str]) -> Slide:
    if raw.left is None or raw.right is None:
        raise Invalid("a comparison needs a left and a right column")
    cols = []
    sides = sides_of(heading)
    for k, (side, col) in enumerate((("left", raw.left), ("right", raw.right))):
        if not col.head.strip() and sides is not None:
            head = sides[k]
        else:
            head = check_line(col.head, rules, f"the {side} column heading")
        points = [_unlabel(x, head) for x in col.points]
        cols.append(Column(heading=head, bullets=_lines(points, rules, f"{side} point", 1,
                                                        4, head)))
    bad = same_heading(cols[0].heading, cols[1].heading) or any(
        same_heading(c.heading, o) for c in cols for o in [*others, heading])
    if bad and sides is not None:
        # the heading names the two sides ("Open-Weight vs. Closed-Weight Models"): they
        # head the columns (the 1.5B wrote one name on both, three times, then bullets)
        cols = [c.model_copy(update={"heading": h}) for c, h in zip(cols, sides, strict=True)]
    elif same_heading(cols[0].heading, cols[1].heading):
        raise Invalid("both columns of the comparison have the same heading")
    elif bad:
        raise Invalid("the column headings copy other slides' headings; name the two "
                      "sides being compared")
    if any(near_duplicate(a, b) for a in cols[0].bullets for b in cols[1].bullets):
        raise Invalid("both columns say the same thing; say how the two sides differ")
    return Slide(kind="compare", title=heading, left=cols[0], right=cols[1])


def _table(raw: _Content, heading: str, rules: Rules) -> Slide:
    cols = [check_line(c, rules, f"column {i}") for i, c in enumerate(raw.cols, 1)][:5]
    if len(cols) < 2 or len({c.lower() for c in cols}) < len(cols):
        raise Invalid("a table needs at least two distinct columns")
    rows: list[list[str]] = []
    for r, row in enumerate(raw.rows, 1):
        cells = [clean_line(c) for c in row][: len(cols)]
        cells += [""] * (len(cols) - len(cells))
        if not any(cells) or cells in rows:
            continue
        for c, cell in enumerate(cells, 1):
            if cell and placeholder_reason(cell) and not re.fullmatch(r"[-–—✓✗x/]+", cell):
                raise Invalid(f"table cell {r},{c} is {placeholder_reason(cell)}")
            _figures(cell, rules, f"table cell {r},{c}")
        rows.append(cells)
    if len(rows) < 2:
        raise Invalid("a table needs at least two distinct rows")
    return Slide(kind="table", title=heading, table=Table(header=cols, rows=rows[:7]))


def _kpi(raw: _Content, heading: str, rules: Rules) -> Slide:
    stats: list[Stat] = []
    for i, s in enumerate(raw.stats, 1):
        value = clean_line(s.v)
        if not re.search(r"\d", value) or len(value) > 16:
            raise Invalid(f"number {i} must be a short figure such as 45% or 1.2 M")
        _figures(value, rules, f"number {i}")
        label = check_line(s.l, rules, f"the label of number {i}")
        if any(st.value == value or near_duplicate(st.label, label) for st in stats):
            continue
        stats.append(Stat(value=value, label=label))
    if len(stats) < 2:
        raise Invalid("a KPI slide needs two to four different figures from the sources",
                      numbers=True)
    return Slide(kind="kpi", title=heading, stats=stats[:4])


def _quote(raw: _Content, heading: str, rules: Rules, offered: Sequence[Passage]) -> Slide:
    text = clean_line(raw.q).strip("\"“”「」")
    source = verbatim(text, offered) if offered else None
    if source is None:
        passages = list(rules.passages.values())
        source = verbatim(text, passages) if passages else None
    if source is None:
        raise Invalid("the quotation is not word for word in the sources", numbers=True)
    by = clean_line(raw.by)
    # The attribution is the model's only if the source names it; else the source itself.
    if not by or placeholder_reason(by) or _norm(by) not in _norm(source.text):
        by = source.title
    return Slide(kind="quote", title=heading, quote=Quote(text=text, attribution=by))


def _copies(text: str, others: Sequence[str], subject: str = "") -> bool:
    """Whether ``text`` is one of the other slides' headings (reworded or whole)."""
    return any(same_heading(text, o, subject) or near_duplicate(text, o, 0.6, subject)
               for o in others)


def _steps(raw: _Content, heading: str, rules: Rules, kind: str,
           others: Sequence[str] = ()) -> Slide:
    """Steps or dated events. A process whose step names are the other slides'
    headings (the 0.5B named its four steps after the deck's other slides, and wrote
    their points as the steps) is the deck's outline again, not a process: a step whose
    text is a heading too is left out, and when names alone copy headings, every step
    is named by its number instead (a copied name beside a numbered one reads as a
    mistake)."""
    steps: list[Step] = []
    copied = 0
    for i, s in enumerate(raw.steps, 1):
        label = check_line(s.l, rules, f"the label of step {i}")
        body = check_line(s.t, rules, f"step {i}") if s.t.strip() else ""
        _figures(f"{label} {body}", rules, f"step {i}")
        if kind == "timeline" and not re.search(r"\d|[年月]", label):
            raise Invalid(f"the label of step {i} must be a date or period from the sources")
        if kind == "process" and _copies(label, others, rules.subject):
            if not body or _copies(body, [*others, heading], rules.subject):
                continue
            copied += 1
        if any(near_duplicate(label, x.label) or (body and near_duplicate(body, x.text))
               for x in steps) or echoes(body or label, heading):
            continue
        steps.append(Step(label=label, text=body))
    if len(steps) < 3:
        if copied or len(raw.steps) >= 3:
            raise Invalid(f"a {kind} needs three to five distinct steps of its own; the "
                          "other slides' headings are not steps")
        raise Invalid(f"a {kind} needs three to five distinct steps")
    if copied:
        word = "第 {n} 步" if rules.language.script == "han" else "Step {n}"
        steps = [Step(label=word.format(n=n), text=st.text or st.label)
                 for n, st in enumerate(steps, 1)]
    return Slide(kind=kind, title=heading, steps=steps[:5])  # type: ignore[arg-type]


def slide_texts(s: Slide) -> list[str]:
    """Every line a slide shows (for language, repetition and length checks)."""
    out = [*s.bullets]
    for col in (s.left, s.right):
        if col is not None:
            out += [col.heading, *col.bullets]
    if s.table is not None:
        out += s.table.header + [c for row in s.table.rows for c in row if c]
    if s.chart is not None:
        out += s.chart.categories
    out += [f"{st.value} {st.label}" for st in s.stats]
    if s.quote is not None:
        out.append(s.quote.text)
    out += [f"{st.label} {st.text}".strip() for st in s.steps]
    if s.takeaway:
        out.append(s.takeaway)
    return out


__all__ += ["slide_texts"]


def long_lines(s: Slide, heading: int, point: int) -> list[str]:
    """The lines of ``s`` over their length (the heading, points, step texts, columns)."""
    out = [s.title] if len(s.title) > heading else []
    lines = [*s.bullets, *(st.text for st in s.steps), s.takeaway]
    for col in (s.left, s.right):
        if col is not None:
            lines += col.bullets
    limit_col = point * 2 // 3
    out += [x for x in lines if len(x) > point]
    for col in (s.left, s.right):
        if col is not None:
            out += [x for x in col.bullets if point >= len(x) > limit_col + 20]
    return list(dict.fromkeys(out))


def replace_lines(s: Slide, new: dict[str, str]) -> Slide:
    """``s`` with each line in ``new`` replaced (shorter versions from the model)."""
    if not new:
        return s

    def r(x: str) -> str:
        return new.get(x, x)

    update: dict[str, object] = {"title": r(s.title), "bullets": [r(b) for b in s.bullets],
                                 "takeaway": r(s.takeaway),
                                 "steps": [st.model_copy(update={"text": r(st.text)})
                                           for st in s.steps]}
    for side in ("left", "right"):
        col = getattr(s, side)
        if col is not None:
            update[side] = col.model_copy(update={"bullets": [r(b) for b in col.bullets]})
    return s.model_copy(update=update)
