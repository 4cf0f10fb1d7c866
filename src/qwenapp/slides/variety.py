"""Layouts chosen by code from what a written slide holds.

Why: the small models plan nearly every slide as bullets (the 1.5B's 8-slide deck
had one or two layout kinds), and asking them for a KPI row or a timeline invites
made-up figures and dates. But their bullets often *are* something else: points
that lead with a figure are a row of big numbers, points dated by year are a
timeline, points that begin "First… Then… Finally" are a process, points that
fall on the two sides a heading names ("Open models vs closed APIs") are a
comparison, and a sourced slide has a sentence worth quoting. :func:`restyle`
turns such bullet slides into those kinds, with the model's words unchanged
(never cut: a label is a whole bullet, or the part of it after its figure or its
"Name:" lead), at most one slide of each kind per four content slides, and only
where the layout says the result fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .checks import near_duplicate, tokens
from .content import quotable
from .deck import Column, Quote, Slide, Stat, Step
from .headings import sides_of
from .sources import Passage

__all__ = ["convert", "restyle", "step_word_for"]

Fit = Callable[[Slide], list[str]]

_FIGURE = re.compile(
    r"(?<![\w.])(?:[$€£¥]\s?)?\d[\d,.]*\s?(?:%|％|percent\b|per cent\b|million\b|billion\b|"
    r"thousand\b|[kKMB]\b|x\b|×|倍|万|亿|美元|元|人)"
    r"|(?<![\w.])[$€£¥]\s?\d[\d,.]*")
_YEAR = re.compile(r"(?<![\d.])(?:1[5-9]|20)\d{2}(?:s|年代|年)?(?![\d.%])")
_ORDINAL = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|after that|afterwards|finally|"
    r"lastly|last|step \d+|\d+[.)]|首先|其次|然后|接着|再次|最后|"
    r"第[一二三四五六七八九十\d]+(?:步|阶段)?)[,，:：、\s]", re.IGNORECASE)
_LEAD = re.compile(r"^([^:：,，。.!?]{2,28})[:：]\s*(\S.*)$")
_PROCESS_HEAD = re.compile(
    r"^how\b|\bsteps?\b|\bprocess\b|\bworkflow\b|\bpipeline\b|getting started|\broad ?map\b|"
    r"\bpath\b|\bstages?\b|\bphases?\b|如何|怎样|怎么|步骤|流程|路线|路径|入门|阶段|落地",
    re.IGNORECASE)


def _figure_lead(b: str) -> tuple[str, str] | None:
    """(the figure, its label) for a point that states a salient figure."""
    m = _FIGURE.search(b)
    if m is None:
        return None
    value = m.group(0).strip()
    if len(value) > 14:
        return None
    rest = b[m.end():].strip(" ,，:：-–—")
    if m.start() == 0 and len(rest) >= 6:
        return value, rest  # "40% of teams run them locally": the figure, then what it counts
    return value, b


def _as_kpi(s: Slide) -> Slide | None:
    found = [(b, _figure_lead(b)) for b in s.bullets]
    stats = [Stat(value=v, label=lab) for _, got in found if got for v, lab in [got]]
    if len(stats) < 2 or len({st.value for st in stats}) < len(stats):
        return None
    rest = [b for b, got in found if got is None]
    return s.model_copy(update={"kind": "kpi", "stats": stats[:4], "bullets": rest[:2]}) \
        if len(stats) <= 4 and len(rest) <= 2 else None


def _as_timeline(s: Slide) -> Slide | None:
    dated: list[tuple[int, str, str]] = []
    for b in s.bullets:
        years = _YEAR.findall(b)
        if len(years) != 1:
            return None
        m = _YEAR.search(b)
        assert m is not None
        text = b
        lead = re.match(rf"^(?:in|by|since|from|until|at the end of)?\s*{re.escape(years[0])}"
                        r"\s*[,，:：]?\s*(\S.*)$", b, re.IGNORECASE)
        if lead is not None and len(lead.group(1)) >= 8:
            text = lead.group(1)
            text = text[0].upper() + text[1:]
        dated.append((int(years[0][:4]), years[0], text))
    if not 3 <= len(dated) <= 5 or len({d[0] for d in dated}) < len(dated):
        return None
    dated.sort()
    return s.model_copy(update={"kind": "timeline", "bullets": [],
                                "steps": [Step(label=y, text=t) for _, y, t in dated]})


def _as_process(s: Slide, step_word: str, asked: bool = False) -> Slide | None:
    n = len(s.bullets)
    if not (2 if asked else 3) <= n <= 5:
        return None
    ordered = sum(1 for b in s.bullets if _ORDINAL.match(b))
    if not asked and ordered < n - 1 and not _PROCESS_HEAD.search(s.title):
        return None
    leads = [_LEAD.match(b) for b in s.bullets]
    if all(m is not None and len(m.group(1).split()) <= 3 for m in leads):
        steps = [Step(label=m.group(1).strip(), text=m.group(2).strip()) for m in leads if m]
    else:  # every step named alike: "Step 1" beside "Quantise" reads as a mistake
        steps = [Step(label=step_word.format(n=i), text=b) for i, b in enumerate(s.bullets, 1)]
    return s.model_copy(update={"kind": "process", "bullets": [], "steps": steps})


_STOP = {"the", "a", "an", "of", "and", "for", "to"}


def _side_words(side: str, other: str, subject: str) -> set[str]:
    """The words that tell ``side`` from ``other`` (the subject's too, if nothing else):
    "Open-Weight" against "Closed-Weight Models" is told by "open"."""
    words = {w for w in tokens(side) - tokens(other) - _STOP
             if len(w) > 2 or "\u4e00" <= w[0] <= "\u9fff"}
    return words - tokens(subject) or words


def _as_compare(s: Slide, subject: str) -> Slide | None:
    """Points that fall on the two sides the heading names, or that lead with one of two
    names ("Open models: …", "Hosted APIs: …")."""
    if len(s.bullets) < 3:
        return None
    leads = [_LEAD.match(b) for b in s.bullets]
    if all(leads):
        names = list(dict.fromkeys(m.group(1).strip() for m in leads if m))
        if len(names) == 2:
            cols = [Column(heading=n, bullets=[m.group(2).strip() for m in leads
                                               if m and m.group(1).strip() == n])
                    for n in names]
            if all(len(c.bullets) >= 1 for c in cols):
                return s.model_copy(update={"kind": "compare", "bullets": [],
                                            "left": cols[0], "right": cols[1]})
    sides = sides_of(s.title)
    if sides is None:
        return None
    a, b = sides
    wa, wb = _side_words(a, b, subject), _side_words(b, a, subject)
    if not wa or not wb or wa & wb:
        return None
    left: list[str] = []
    right: list[str] = []
    for x in s.bullets:
        tx = tokens(x)
        on_a, on_b = bool(tx & wa), bool(tx & wb)
        if on_a == on_b:
            return None
        (left if on_a else right).append(x)
    if not left or not right:
        return None
    return s.model_copy(update={"kind": "compare", "bullets": [],
                                "left": Column(heading=a, bullets=left),
                                "right": Column(heading=b, bullets=right)})


def _as_quote(s: Slide, passages: Sequence[Passage]) -> Slide | None:
    """A sourced slide led by a sentence of its own sources worth quoting (verbatim)."""
    if not s.sources or len(s.bullets) < 2:
        return None
    cited = {r.id for r in s.sources}
    mine = [p for p in passages if p.id in cited]
    topic = tokens(" ".join([s.title, *s.bullets]))
    best: tuple[int, str, Passage] | None = None
    for p in mine:
        for q in quotable([p], limit=4, lo=50, hi=160):
            shared = len(tokens(q) & topic)
            if any(near_duplicate(q, b) for b in s.bullets):
                continue
            if shared >= 2 and (best is None or shared > best[0]):
                best = (shared, q, p)
    if best is None:
        return None
    _, q, p = best
    return s.model_copy(update={"kind": "quote", "quote": Quote(text=q, attribution=p.title),
                                "bullets": s.bullets[:2], "sources": [p.ref(), *s.sources]})


def restyle(slides: Sequence[Slide], *, passages: Sequence[Passage] = (), subject: str = "",
            step_word: str = "Step {n}", fit: Fit | None = None) -> list[Slide]:
    """The content slides, bullet slides whose points are figures, dates, ordered steps,
    two sides or a quotable source shown as a KPI row, timeline, process, comparison
    or quote; each kind at most once per four content slides (bullets stay the rule,
    variety the point), and only where ``fit`` (the layout's check) finds it fits."""
    out = list(slides)
    cap = max(1, len(out) // 4)
    used = {k: sum(1 for s in out if s.kind == k) for k in
            ("kpi", "timeline", "process", "compare", "quote")}
    for i, s in enumerate(out):
        if s.kind != "bullets" or len(s.bullets) < 2:
            continue
        for kind in ("timeline", "kpi", "process", "compare", "quote"):
            if used[kind] >= cap:
                continue
            new = (_as_timeline(s) if kind == "timeline" else _as_kpi(s) if kind == "kpi"
                   else _as_process(s, step_word) if kind == "process"
                   else _as_compare(s, subject) if kind == "compare"
                   else _as_quote(s, passages))
            if new is None or (fit is not None and fit(new)):
                continue
            out[i] = new
            used[kind] += 1
            break
    return out


def step_word_for(script: str) -> str:
    """How a step is named when its points have no names of their own."""
    return "第 {n} 步" if script == "han" else "Step {n}"


def convert(s: Slide, kind: str, *, subject: str = "", step_word: str = "Step {n}",
            fit: Fit | None = None) -> Slide | None:
    """``s`` (a bullet slide) as ``kind`` by code alone, when a user asked for that kind
    ("turn slide 5 into a process"), or None when its points do not make one (no year on
    each point for a timeline, no figure for a KPI row, no two sides for a comparison)
    or it would not fit: then the model writes it. The points asked to be steps are
    steps in their order; the other kinds are held to :func:`restyle`'s tests."""
    if s.kind != "bullets" or len(s.bullets) < 2:
        return None
    new = (_as_process(s, step_word, asked=True) if kind == "process"
           else _as_timeline(s) if kind == "timeline" else _as_kpi(s) if kind == "kpi"
           else _as_compare(s, subject) if kind == "compare" else None)
    if new is None or (fit is not None and fit(new)):
        return None
    return new
