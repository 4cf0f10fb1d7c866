"""Computed layout: every slide planned, every text measured to fit; what does not fit.

:func:`plan_deck` turns a :class:`Deck` into :class:`SlidePlan` objects (the
renderer only draws what they say). :func:`overflow` plans one slide the
same way and, instead of shrinking below the legible minimum or splitting
the slide, says which text is too long and by how much, in words a model can
act on ("bullet 2 is too long (140 characters): cut it to about 80").
Nothing is ever cut with an ellipsis: text shrinks within a legible range,
wraps, or the slide splits; past that it shrinks further and overflow()
reports it so the pipeline asks for a shorter text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from .boxes import (
    ChartBox,
    Geometry,
    Item,
    Misfit,
    Planner,
    Shape,
    SlidePlan,
    TableBox,
    TextBox,
    default_geometry,
)
from .deck import Deck, Slide
from .layouts import plan_slide
from .layouts.common import footer
from .measure import (
    CELL_INSET_X,
    CELL_INSET_Y,
    INSET_X,
    INSET_Y,
    PARA_SPACE,
    Frame,
    fit,
    text_height,
    wrap,
)
from .themes import Theme

__all__ = [
    "CELL_INSET_X",
    "CELL_INSET_Y",
    "INSET_X",
    "INSET_Y",
    "PARA_SPACE",
    "ChartBox",
    "Frame",
    "Geometry",
    "Item",
    "Shape",
    "SlidePlan",
    "TableBox",
    "TextBox",
    "default_geometry",
    "fit",
    "overflow",
    "plan_deck",
    "plan_problems",
    "text_height",
    "wrap",
]


def plan_deck(deck: Deck, theme: Theme, geo: Geometry) -> list[SlidePlan]:
    """Every slide of ``deck`` laid out, split where needed, numbered in the footer."""
    planner = Planner(deck, theme, geo)
    plans: list[SlidePlan] = []
    for slide in deck.slides:
        plans.extend(plan_slide(planner, slide))
    out = []
    for number, plan in enumerate(plans, 1):
        if plan.layout == "content":
            plan = replace(plan, items=plan.items + tuple(footer(planner, number)))
        out.append(plan)
    return out


def overflow(slide: Slide, theme: Theme) -> list[str]:
    """What does not fit on ``slide`` at a legible size, as advice for the model.

    Empty when every text fits its box on one slide at or above the legible minimum of its
    role (titles 20 pt, body text 14 pt, small labels 11 pt, table cells 10 pt). Uses the
    layout the renderer uses, on a 16:9 slide, so what passes here renders without
    splitting or shrinking further. Pure and fast (a few milliseconds).
    """
    deck = Deck(title=slide.title or "deck", language=_language(slide), slides=[slide])
    planner = Planner(deck, theme, _geometry(theme.name, theme))
    planner.allow_split = False
    plan_slide(planner, slide)
    out: list[str] = []
    for misfit in planner.misfits:
        for line in _advice(misfit):
            if line not in out:
                out.append(line)
    return out


@lru_cache(maxsize=16)
def _geometry(_name: str, theme: Theme) -> Geometry:
    return default_geometry(960, 540, theme)


def _language(slide: Slide) -> str:
    text = slide.title + "".join(slide.bullets)
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return "zh" if han * 3 > len(text) else "en"


def _longest_prefix(m: Misfit, build: Callable[[int], list[str]], hi: int) -> int:
    """The largest k in 0..hi for which ``build(k)`` fits (binary search)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if m.fits(build(mid)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _about(k: int) -> int:
    return k if k < 20 else k - k % 5


def _advice(m: Misfit) -> list[str]:
    if m.message:
        return [m.message]
    paras = list(m.paragraphs)
    if not paras:
        return []
    if len(paras) == 1:
        text = paras[0]
        k = _longest_prefix(m, lambda k: [text[:k]], len(text))
        what = m.labels[0]
        if k < 3:
            return [f"{what} does not fit: make it a few words"]
        return [f"{what} is too long ({len(text)} characters): cut it to about {_about(k)}"]
    many = m.many or "items"
    longest = max(len(t) for t in paras)
    k = _longest_prefix(m, lambda k: [t[:k] for t in paras], longest)
    if len(paras) > 5 or k < 25:
        # too many items: say how many fit at their length (at most 90 characters each)
        capped = [t[:90] for t in paras]
        keep = max((n for n in range(1, len(paras)) if m.fits(capped[:n])), default=1)
        if keep < len(paras):
            return [f"too many {many} ({len(paras)}): keep at most {keep}"
                    + (", each under about 90 characters" if longest > 90 else "")]
    return [f"{label} is too long ({len(t)} characters): cut it to about {_about(k)}"
            for label, t in zip(m.labels, paras, strict=True) if len(t) > k]


def plan_problems(plan: SlidePlan, width: float, height: float) -> list[str]:
    """Geometry faults of a planned slide: items off the slide; text boxes, charts and
    tables overlapping each other or a shape; a text box half on a panel."""
    out: list[str] = []
    slide = Frame(0, 0, width, height)
    solid = [it for it in plan.items if not isinstance(it, Shape)]
    panels = [it for it in plan.items if isinstance(it, Shape) and it.behind]
    marks = [it for it in plan.items if isinstance(it, Shape) and not it.behind]
    for it in plan.items:
        if not slide.contains(it.frame):
            out.append(f"{_name(it)} leaves the slide")
    for i, a in enumerate(solid):
        for b in solid[i + 1:]:
            if a.frame.overlaps(b.frame):
                out.append(f"{_name(a)} overlaps {_name(b)}")
        for sh in marks:
            if a.frame.overlaps(sh.frame):
                out.append(f"{_name(a)} overlaps an accent shape")
        for pn in panels:
            if a.frame.overlaps(pn.frame) and not pn.frame.contains(a.frame):
                out.append(f"{_name(a)} is partly on a panel")
    return out


def _name(it: Item) -> str:
    if isinstance(it, TextBox):
        return f"{it.role} {it.paragraphs[0][:20]!r}" if it.paragraphs else it.role
    return type(it).__name__
