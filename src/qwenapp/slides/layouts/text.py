"""Layouts for slides made of sentences: bullets, agenda, comparison, quote.

Why several shapes for bullets: two short bullets set as a list fill a
quarter of the slide and look unfinished; as cards they read as a designed
statement. So few short bullets become cards (numbered, accent strip), a
single one a statement panel, and longer lists numbered rows spread over the
body's height. When even the legible minimum does not fit, the slide splits
("(cont.)"), or, where it cannot, the text shrinks and a misfit is noted.
"""

from __future__ import annotations

import math

from ..boxes import MIN_BODY, Colour, Item, Planner, Shape, SlidePlan, TextBox
from ..deck import Slide
from ..measure import Frame
from .common import GAP, PAD, card_kind, content, numbered_rows

__all__ = ["agenda", "bullets", "compare", "quote", "split"]


def bullets(p: Planner, s: Slide) -> list[SlidePlan]:
    body = p.geo.body
    n = len(s.bullets)
    labels = [f"bullet {i}" for i in range(1, n + 1)]
    if n == 1:
        return [content(p, s, _statement(p, s.bullets[0], body))]
    # four cards only for short points: four longer ones in quarter-wide cards wrapped to
    # seven lines at 14 pt (the 1.5B's en-topic deck, 2026-12-03), full-width rows read
    wide = any(len(b) > (26 if _cjk(b) else 60) for b in s.bullets)
    if 2 <= n <= 3 or (n == 4 and not wide):
        cards = _cards(p, s.bullets, body)
        if cards is not None:
            return [content(p, s, cards)]
    rows = numbered_rows(p, s.bullets, body, 28, labels=labels, many="bullets",
                         strict=p.allow_split and n > 1, bands=True)
    if rows is None:
        return split(p, s)
    return [content(p, s, rows)]


def _cjk(text: str) -> bool:
    return sum("\u4e00" <= c <= "\u9fff" for c in text) > len(text) / 3


def _statement(p: Planner, text: str, body: Frame) -> list[Item]:
    """One bullet: a large statement on a panel with an accent bar."""
    inner = Frame(body.x + 28, body.y + PAD, body.w - 28 - PAD * 2, body.h - 2 * PAD)
    size = p.fit([text], inner, 36, MIN_BODY, labels="bullet 1")
    need = p.height([text], inner.w, size)
    h = min(body.h, max(body.h * 0.6, need + 2 * PAD + 24))
    y = body.y + (body.h - h) / 2
    return [Shape(Frame(body.x, y, body.w, h), card_kind(p), "surface", behind=True),
            Shape(Frame(body.x, y, 8, h)),
            TextBox(Frame(inner.x, y + PAD, inner.w, h - 2 * PAD), (text,), size, "body",
                    anchor="middle")]


def _cards(p: Planner, texts: list[str], body: Frame) -> list[Item] | None:
    """2-4 short bullets as numbered cards side by side, or None when they need more room."""
    n = len(texts)
    w = (body.w - GAP * (n - 1)) / n
    num_h = 44.0
    inner_h = body.h - 2 * PAD - num_h - 16  # the text box of a card as tall as the body
    sizes = []
    hi = {2: 40, 3: 36}.get(n, 30)  # short points large: a card is a statement
    for t in texts:
        size = p.fits([t], Frame(0, 0, w - 2 * PAD, inner_h), hi, 20)  # smaller: rows read better
        if size is None:
            return None
        sizes.append(size)
    size = min(sizes)
    # Cards as tall as their longest text needs, at least 60 % of the body, centred in
    # it. Body-high cards left the 1.5B's cards half empty below their text (its Chinese
    # deck, 2026-12-03: four cards of seven short lines, two of three large ones); cards
    # at two thirds, top-aligned, left the lower third of the slide empty (before that).
    need = max(p.height([t], w - 2 * PAD, size) for t in texts)
    h = min(body.h, max(body.h * 0.6, need + num_h + 2 * PAD + 16))
    y = body.y + (body.h - h) / 2
    items: list[Item] = []
    for i, t in enumerate(texts):
        x = body.x + i * (w + GAP)
        items.append(Shape(Frame(x, y, w, h), card_kind(p), "surface", behind=True))
        items.append(Shape(Frame(x, y, w, 6), "rect", "accent" if i % 2 == 0 else "accent2"))
        items.append(TextBox(Frame(x + PAD, y + PAD + 6, w - 2 * PAD, num_h),
                             (f"{i + 1:02d}",), 28, "label", bold=True, colour="accent",
                             anchor="middle"))
        items.append(TextBox(Frame(x + PAD, y + PAD + 6 + num_h + 4, w - 2 * PAD,
                                   h - num_h - 2 * PAD - 16), (t,), size, "body"))
    return items


def agenda(p: Planner, s: Slide) -> list[SlidePlan]:
    body = p.geo.body
    n = len(s.bullets)
    labels = [f"agenda item {i}" for i in range(1, n + 1)]
    if n <= 6:
        rows = numbered_rows(p, s.bullets, body, 26, labels=labels, many="agenda items",
                             numbers=[f"{i:02d}" for i in range(1, n + 1)], bands=True)
        assert rows is not None
        return [content(p, s, rows)]
    half = math.ceil(n / 2)
    colw = (body.w - GAP * 2) / 2
    items: list[Item] = []
    for c, part in enumerate((s.bullets[:half], s.bullets[half:])):
        start = 1 + c * half
        frame = Frame(body.x + c * (colw + GAP * 2), body.y, colw, body.h)
        rows = numbered_rows(p, part, frame, 22, labels=labels[start - 1:start - 1 + len(part)],
                             many="agenda items",
                             numbers=[f"{i:02d}" for i in range(start, start + len(part))],
                             bands=True)
        assert rows is not None
        items += rows
    return [content(p, s, items)]


def compare(p: Planner, s: Slide) -> list[SlidePlan]:
    assert s.left is not None and s.right is not None
    body = p.geo.body
    colw = (body.w - GAP) / 2
    heads = (s.left.heading, s.right.heading)
    probe = Frame(0, 0, colw - 2 * PAD, body.h / 3)
    hsize = min(p.fit([h], probe, 24, 16, labels=f"the {side} heading", head=True, bold=True)
                for h, side in zip(heads, ("left", "right"), strict=True))
    head_h = max(p.height([h], colw - 2 * PAD, hsize, head=True, bold=True) for h in heads) + 16
    cols = (s.left.bullets, s.right.bullets)
    top = body.y + head_h
    inner = Frame(0, 0, colw - 2 * PAD, body.bottom - top - 2 * PAD)
    # few short points large (the 1.5B's two-point columns at 24 pt left half of each
    # column empty), many at the legible size that fits
    hi = 30 if max(len(c) for c in cols) <= 3 else 24
    found = [p.fits(c, inner, hi, MIN_BODY, bullets=True) for c in cols]
    if any(sz is None for sz in found) and p.allow_split and max(len(c) for c in cols) > 1:
        return split(p, s)
    size = min(
        sz if sz is not None else p.fit(c, inner, MIN_BODY, MIN_BODY, bullets=True,
                                        labels=[f"{side} bullet {i}"
                                                for i in range(1, len(c) + 1)],
                                        many=f"{side} bullets")
        for sz, c, side in zip(found, cols, ("left", "right"), strict=True))
    need = max(p.height(c, inner.w + 0, size, bullets=True) for c in cols)
    h = min(body.h, max(body.h * 0.6, head_h + need + 2 * PAD))
    y = body.y + (body.h - h) / 2  # centred, as cards are: no empty band below
    items: list[Item] = []
    for k, (head, col) in enumerate(zip(heads, cols, strict=True)):
        x = body.x + k * (colw + GAP)
        fill: Colour = "accent" if k == 0 else "accent2"
        items.append(Shape(Frame(x, y, colw, h), card_kind(p), "surface", behind=True))
        items.append(TextBox(Frame(x, y, colw, head_h), (head,), hsize, "heading",
                             bold=True, anchor="middle", colour="on_accent", fill=fill,
                             shape="rect"))
        items.append(TextBox(Frame(x + PAD, y + head_h + PAD, colw - 2 * PAD,
                                   h - head_h - 2 * PAD), tuple(col), size, "body",
                             bullets=True))
    return [content(p, s, items)]


def quote(p: Planner, s: Slide) -> list[SlidePlan]:
    """The quotation large on a panel, a big quotation mark, the attribution under it."""
    assert s.quote is not None
    body = p.geo.body
    q = s.quote.text.strip()
    who = "\u2014 " + s.quote.attribution.strip() if s.quote.attribution.strip() else ""
    mark_w = 92.0
    x = body.x + 24 + mark_w
    tw = body.w - (x - body.x) - 32
    extra_h = 0.0
    if s.bullets:
        extra_h = min(body.h * 0.3, p.height(s.bullets, body.w, 20, bullets=True))
    panel_h = body.h - (extra_h + GAP if extra_h else 0)
    room = panel_h - 2 * PAD - 20
    who_size = 20.0
    who_h = p.height([who], tw, who_size) if who else 0.0
    tf = Frame(x, 0, tw, room - who_h - 12)
    size = p.fit([q], tf, 40, 18, labels="the quotation", head=True)
    need = p.height([q], tw, size, head=True)
    if who:
        who_size = p.fit([who], Frame(0, 0, tw, max(who_h, room - need - 12)), 22, 14,
                         labels="the attribution")
        who_h = p.height([who], tw, who_size)
    block = need + (12 + who_h if who else 0)
    y = body.y + max(PAD, (panel_h - block) / 2)
    items: list[Item] = [
        Shape(Frame(body.x, body.y, body.w, panel_h), card_kind(p), "surface", behind=True),
        Shape(Frame(body.x, body.y, 8, panel_h)),
        TextBox(Frame(body.x + 24, body.y + PAD, mark_w - 8, 150), ("\u201c",), 120, "value",
                bold=True, colour="accent", nowrap=True),
        TextBox(Frame(x, y, tw, need), (q,), size, "quote",
                italic=p.theme.heading_font != p.theme.body_font and p.lang.script == "latin"),
    ]
    if who:
        items.append(TextBox(Frame(x, y + need + 12, tw, who_h), (who,), who_size, "subtitle"))
    if s.bullets:
        bf = Frame(body.x, body.bottom - extra_h, body.w, extra_h)
        bsize = p.fit(s.bullets, bf, 20, MIN_BODY, bullets=True, many="bullets",
                      labels=[f"bullet {i}" for i in range(1, len(s.bullets) + 1)])
        items.append(TextBox(bf, tuple(s.bullets), bsize, "body", bullets=True))
    return [content(p, s, items)]


def split(p: Planner, s: Slide) -> list[SlidePlan]:
    """Two slides, each with half the content; the second titled "(cont.)"."""
    from . import plan_slide

    def halves(xs: list[str]) -> tuple[list[str], list[str]]:
        k = math.ceil(len(xs) / 2)
        return xs[:k], xs[k:]

    cont = f"{s.title} {p.lang.continued}"
    if s.kind == "compare":
        assert s.left is not None and s.right is not None
        (la, lb), (ra, rb) = halves(s.left.bullets), halves(s.right.bullets)
        first = s.model_copy(update={"left": s.left.model_copy(update={"bullets": la}),
                                     "right": s.right.model_copy(update={"bullets": ra})})
        second = s.model_copy(update={
            "title": cont,
            "left": s.left.model_copy(update={"bullets": lb or la[-1:]}),
            "right": s.right.model_copy(update={"bullets": rb or ra[-1:]}),
        })
    elif s.kind == "table":
        assert s.table is not None
        k = math.ceil(len(s.table.rows) / 2)
        first = s.model_copy(update={"table": s.table.model_copy(
            update={"rows": s.table.rows[:k]})})
        second = s.model_copy(update={"title": cont, "table": s.table.model_copy(
            update={"rows": s.table.rows[k:]})})
    else:
        a, b = halves(s.bullets)
        first = s.model_copy(update={"bullets": a})
        second = s.model_copy(update={"bullets": b, "title": cont})
    return plan_slide(p, first) + plan_slide(p, second)
