"""Pieces every layout uses: the title band, the footer, numbered rows, cards.

Why shared: a consistent grid is what makes a deck look designed. Every
content slide has the same title band, the same margins and the same footer
line; lists, agendas and steps use the same numbered marker; cards have the
same padding and accent strip in every layout, styled by the theme.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..boxes import (
    MIN_BODY,
    MIN_TITLE,
    Item,
    Planner,
    Shape,
    ShapeKind,
    SlidePlan,
    TextBox,
)
from ..deck import Slide
from ..measure import INSET_X, Frame

__all__ = ["BAND_INSET", "GAP", "PAD", "card_kind", "content", "footer", "numbered_rows",
           "title_band"]

GAP = 24.0  # gutter between columns and cards
PAD = 14.0  # padding inside a card
BAND_INSET = 14.0  # padding inside a row's panel


def card_kind(p: Planner) -> ShapeKind:
    return "round" if p.theme.card == "round" else "rect"


def title_band(p: Planner, text: str) -> list[Item]:
    g = p.geo
    frame = g.title
    center = p.theme.title_align == "center"
    size = p.fit([text], frame, 34, MIN_TITLE, labels="the title", head=True,
                 bold=p.theme.heading_bold)
    items: list[Item] = [TextBox(frame, (text,), size, "title", bold=p.theme.heading_bold,
                                 align="center" if center else "left", anchor="middle",
                                 placeholder="title")]
    if p.theme.rule == "bar" and frame.x >= 16 and not center:
        items.append(Shape(Frame(frame.x - 14, frame.y + frame.h * 0.18, 6, frame.h * 0.64)))
    elif p.theme.rule != "none":
        gap = g.body.y - frame.bottom
        if gap >= 8:
            w = min(96.0, frame.w / 4)
            x = frame.x + (frame.w - w) / 2 if center else frame.x + INSET_X
            items.append(Shape(Frame(x, frame.bottom + gap / 2 - 2, w, 4)))
    return items


def footer(p: Planner, number: int) -> list[Item]:
    """Deck title left (shrunk to one line, or left out: never cut), slide number right."""
    f = p.geo.footer
    num = Frame(f.right - 64, f.y, 64, f.h)
    left = Frame(f.x, f.y, f.w - 72, f.h)
    out: list[Item] = []
    hi = max(9.0, min(12.0, round(f.h * 0.5)))
    one_line = Frame(left.x, left.y, left.w, p.height(["x"], left.w, hi))
    size = p.fits([p.deck.title], one_line, hi, 8) if p.deck.title else None
    if size is not None:
        out.append(TextBox(left, (p.deck.title,), size, "footer", anchor="middle"))
    out.append(TextBox(num, (str(number),), hi, "number", align="right", anchor="middle",
                       slide_number=True))
    return out


def content(p: Planner, s: Slide, body: list[Item]) -> SlidePlan:
    return SlidePlan(s.kind, "content", tuple(title_band(p, s.title) + body),
                     s.notes_text(p.lang.sources))


def numbered_rows(p: Planner, texts: Sequence[str], frame: Frame, hi: float, *,
                  lo: float = MIN_BODY, labels: Sequence[str], many: str,
                  numbers: Sequence[str] | None = None, strict: bool = False,
                  rules: bool = True, bands: bool = False) -> list[Item] | None:
    """One row per text, each led by a numbered marker, spread over ``frame``'s height.

    The size is the largest at which every row fits with a minimum gap; rows are then
    spaced evenly (up to a comfortable gap) so that few rows still use the height. With
    ``bands`` each row sits on a panel and the panels share the whole height (five
    short points set as plain rows filled 22 % of the content area, 15 % in Chinese).
    With ``strict`` None is returned when the rows do not fit at ``lo`` (the caller
    splits)."""
    n = len(texts)
    numbers = list(numbers) if numbers is not None else [str(i) for i in range(1, n + 1)]
    inset = BAND_INSET if bands else 0.0
    band_gap = 8.0

    def layout(size: float) -> tuple[float, float, list[float]] | None:
        d = round(max(22.0, size * 1.55), 1)
        tw = frame.w - d - 14 - 2 * inset
        hs = [p.height([t], tw, size) for t in texts]
        min_gap = band_gap if bands else size * 0.45
        if sum(hs) + min_gap * (len(texts) - 1) <= frame.h:
            return d, tw, hs
        return None

    chosen = None
    for size in [float(s) for s in range(int(hi), int(lo) - 1, -1)]:
        got = layout(size)
        if got is not None:
            chosen = (size, *got)
            break
    if chosen is None:
        if strict:
            return None
        # too much text: note it, then shrink below the legible minimum rather than cut
        def check(ts: list[str]) -> bool:
            nonlocal texts
            saved, texts = texts, ts
            try:
                return layout(lo) is not None
            finally:
                texts = saved

        p.misfit(labels, texts, check, many)
        for size in [lo - k * 0.5 for k in range(1, 15)]:
            got = layout(size)
            if got is not None:
                chosen = (size, *got)
                break
        if chosen is None:
            got = layout(7.0)
            d0 = 22.0
            chosen = (7.0, *(got or (d0, frame.w - d0 - 14,
                                     [frame.h / n] * n)))
    size, d, tw, hs = chosen
    if bands:
        return _bands(p, texts, numbers, frame, size, d, tw, hs, band_gap)
    free = frame.h - sum(hs)
    gap = min(free / max(1, n - 1), size * 2.4) if n > 1 else 0.0
    items: list[Item] = []
    y = frame.y
    kind: ShapeKind = "ellipse" if p.theme.marker == "circle" else card_kind(p)
    for i, (text, h) in enumerate(zip(texts, hs, strict=True)):
        line = p.height(["x"], tw, size)
        my = y + max(0.0, (line - d) / 2)
        nsize = round(min(size, d * 0.42), 1)
        items.append(TextBox(Frame(frame.x, my, d, d), (numbers[i],), nsize, "label", bold=True,
                             align="center", anchor="middle", colour="on_accent", fill="accent",
                             shape=kind, nowrap=True))
        items.append(TextBox(Frame(frame.x + d + 14, y, tw, h), (text,), size, "body"))
        y += h
        if i < n - 1:
            if rules and gap >= 10:
                items.append(Shape(Frame(frame.x + d + 14 + INSET_X, y + gap / 2 - 0.5,
                                         tw - 2 * INSET_X, 1), "rect", "surface"))
            y += gap
    return items


def _bands(p: Planner, texts: Sequence[str], numbers: Sequence[str], frame: Frame,
           size: float, d: float, tw: float, hs: Sequence[float], gap: float) -> list[Item]:
    """Numbered rows on panels that share ``frame``'s height (each row's text centred on
    its panel; the space left over shared equally)."""
    n = len(texts)
    free = max(0.0, frame.h - sum(hs) - gap * (n - 1))
    # no band taller than a third of the frame (one agenda item on a panel the body's
    # height read as an empty slide); the rows are then centred
    free = min(free, sum(max(0.0, frame.h / 3 - h) for h in hs))
    y = frame.y + (frame.h - sum(hs) - free - gap * (n - 1)) / 2
    kind: ShapeKind = "ellipse" if p.theme.marker == "circle" else card_kind(p)
    items: list[Item] = []
    for i, (text, h) in enumerate(zip(texts, hs, strict=True)):
        band = h + free / n
        items.append(Shape(Frame(frame.x, y, frame.w, band), card_kind(p), "surface",
                           behind=True))
        items.append(Shape(Frame(frame.x, y, 6, band), "rect",
                           "accent" if i % 2 == 0 else "accent2"))
        nsize = round(min(size, d * 0.42), 1)
        items.append(TextBox(Frame(frame.x + BAND_INSET, y + (band - d) / 2, d, d),
                             (numbers[i],), nsize, "label", bold=True, align="center",
                             anchor="middle", colour="on_accent", fill="accent", shape=kind,
                             nowrap=True))
        items.append(TextBox(Frame(frame.x + BAND_INSET + d + 14, y, tw, band), (text,), size,
                             "body", anchor="middle"))
        y += band + gap
    return items
