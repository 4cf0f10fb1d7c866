"""Layouts that show a shape of the content: KPI row, process, timeline, chart, table.

Why drawn, not listed: a number, a sequence or a trend read at a glance only
when the slide shows them as such. Big numbers sit on cards, process steps
on chevrons, timeline events on a line with dots, data in a native chart
beside its takeaway. Everything is a native shape, chart or table, so the
presenter can still edit it in PowerPoint or Impress.
"""

from __future__ import annotations

import math
from typing import Literal

from ..boxes import (
    MIN_BODY,
    MIN_SMALL,
    MIN_TABLE,
    Item,
    Planner,
    Shape,
    ShapeKind,
    SlidePlan,
    TableBox,
    TextBox,
)
from ..deck import Slide, Table
from ..measure import CELL_INSET_X, CELL_INSET_Y, Frame, text_height
from .common import GAP, PAD, card_kind, content

__all__ = ["chart", "kpi", "process", "table", "timeline"]


def _context(p: Planner, s: Slide, frame: Frame, hi: float = 22) -> list[Item]:
    """A slide's optional bullets (or takeaway) in a strip under its main visual."""
    texts = list(s.bullets) or ([s.takeaway] if s.takeaway else [])
    if not texts or frame.h < 30:
        return []
    labels = [f"bullet {i}" for i in range(1, len(texts) + 1)] if s.bullets else ["the takeaway"]
    size = p.fit(texts, frame, hi, MIN_BODY, labels=labels, many="bullets",
                 bullets=bool(s.bullets))
    need = min(frame.h, p.height(texts, frame.w, size, bullets=bool(s.bullets)))
    return [TextBox(Frame(frame.x, frame.y, frame.w, need), tuple(texts), size, "body",
                    bullets=bool(s.bullets))]


def kpi(p: Planner, s: Slide) -> list[SlidePlan]:
    body = p.geo.body
    n = max(1, len(s.stats))
    extra = bool(s.bullets or s.takeaway)
    card_h = body.h * (0.62 if extra else 0.86)
    w = (body.w - GAP * (n - 1)) / n
    inner = w - 2 * PAD
    vsize = min(p.one_line(st.value, inner, {1: 110, 2: 80}.get(n, 60), 24, head=True, bold=True,
                           label=f"the number of stat {i}")
                for i, st in enumerate(s.stats, 1))
    label_h = card_h - (PAD + 6 + card_h * 0.5 + 6) - PAD
    label_f = Frame(0, 0, inner, label_h)
    lsize = min(p.fit([st.label], label_f, 24, MIN_BODY, labels=f"the label of stat {i}")
                for i, st in enumerate(s.stats, 1))
    items: list[Item] = []
    for i, st in enumerate(s.stats):
        x = body.x + i * (w + GAP)
        items.append(Shape(Frame(x, body.y, w, card_h), card_kind(p), "surface", behind=True))
        items.append(Shape(Frame(x, body.y, w, 6), "rect", "accent" if i % 2 == 0 else "accent2"))
        vy = body.y + PAD + 6
        align: Literal["left", "center"] = "center" if n == 1 else "left"
        items.append(TextBox(Frame(x + PAD, vy, inner, card_h * 0.5), (st.value,), vsize,
                             "value", bold=True, colour="accent", anchor="bottom", align=align))
        items.append(TextBox(Frame(x + PAD, vy + card_h * 0.5 + 6, inner, label_h),
                             (st.label,), lsize, "body", align=align))
    top = body.y + card_h + GAP
    items += _context(p, s, Frame(body.x, top, body.w, body.bottom - top))
    return [content(p, s, items)]


def process(p: Planner, s: Slide) -> list[SlidePlan]:
    """Chevrons (the first a pentagon) with each step's name, its sentence below."""
    body = p.geo.body
    n = len(s.steps)
    gap = 6.0
    w = (body.w - gap * (n - 1)) / n
    ch = 74.0
    depth = ch * 0.32  # the chevron's point (its adjustment is set to match)
    label_f = Frame(0, 0, w - 2 * depth - 4, ch)
    lsize = min(p.fit([st.label], label_f, 20, MIN_SMALL, labels=f"the name of step {i}",
                      bold=True) for i, st in enumerate(s.steps, 1))
    texts = [st.text for st in s.steps]
    room = body.h - ch - 18  # below the chevrons
    tf = Frame(0, 0, w - 4, room - PAD)
    tsize = min((p.fit([t], tf, 28, MIN_BODY if n <= 4 else MIN_SMALL,
                       labels=f"the text of step {i}")
                 for i, t in enumerate(texts, 1) if t), default=16.0)
    # panels as tall as the longest text needs (at least 60 % of the room), chevrons and
    # panels centred in the body: body-high panels left the lower half of the 1.5B's
    # three-step slides empty below short sentences
    need = max((p.height([t], w - 4, tsize) for t in texts if t), default=0.0)
    panel_h = min(room, max(room * 0.6, need + PAD * 1.5))
    y0 = body.y + (room - panel_h) / 2
    top = y0 + ch + 18
    items: list[Item] = []
    for i, st in enumerate(s.steps):
        x = body.x + i * (w + gap)
        kind: ShapeKind = "pentagon" if i == 0 else "chevron"
        items.append(TextBox(Frame(x, y0, w, ch), (st.label,), lsize, "label", bold=True,
                             align="center", anchor="middle", colour="on_accent",
                             fill="accent" if i % 2 == 0 else "accent2", shape=kind))
        if st.text:
            items.append(Shape(Frame(x, top, w, panel_h), card_kind(p), "surface", behind=True))
            items.append(TextBox(Frame(x + 2, top + PAD / 2, w - 4, panel_h - PAD),
                                 (st.text,), tsize, "body"))
    return [content(p, s, items)]


def timeline(p: Planner, s: Slide) -> list[SlidePlan]:
    """A line across the slide, a dot per event, its date above and its sentence below."""
    body = p.geo.body
    n = len(s.steps)
    w = body.w / n
    label_h = 56.0
    line_y = body.y + label_h + 18
    lf = Frame(0, 0, w - 8, label_h)
    lsize = min(p.fit([st.label], lf, 24, MIN_SMALL, labels=f"the date of event {i}",
                      head=True, bold=True) for i, st in enumerate(s.steps, 1))
    top = line_y + 26
    tf = Frame(0, 0, w - 12, body.bottom - top - PAD)
    texts = [st.text for st in s.steps]
    tsize = min((p.fit([t], tf, 24, MIN_BODY if n <= 4 else MIN_SMALL,
                       labels=f"the text of event {i}") for i, t in enumerate(texts, 1) if t),
                default=16.0)
    items: list[Item] = [Shape(Frame(body.x, line_y - 2, body.w, 4), "rect", "muted")]
    d = 20.0
    for i, st in enumerate(s.steps):
        cx = body.x + w * i + w / 2
        items.append(Shape(Frame(cx - d / 2, line_y - d / 2, d, d), "ellipse",
                           "accent" if i % 2 == 0 else "accent2"))
        items.append(TextBox(Frame(cx - (w - 8) / 2, body.y, w - 8, label_h), (st.label,), lsize,
                             "heading", bold=True, align="center", anchor="bottom",
                             colour="accent"))
        if st.text:
            ph = body.bottom - top
            items.append(Shape(Frame(cx - (w - 8) / 2, top, w - 8, ph), card_kind(p), "surface",
                               behind=True))
            items.append(TextBox(Frame(cx - (w - 8) / 2 + 2, top + PAD / 2, w - 12, ph - PAD),
                                 (st.text,), tsize, "body", align="center"))
    return [content(p, s, items)]


def chart(p: Planner, s: Slide) -> list[SlidePlan]:
    from ..boxes import ChartBox

    assert s.chart is not None
    body = p.geo.body
    csize = 14.0 if len(s.chart.categories) <= 6 else 12.0
    items: list[Item] = []
    if not s.takeaway and not s.bullets:
        return [content(p, s, [ChartBox(body, s.chart, csize)])]
    side = body.w * 0.36
    cw = body.w - side - GAP
    items.append(ChartBox(Frame(body.x, body.y, cw, body.h), s.chart, csize))
    x = body.x + cw + GAP
    items.append(Shape(Frame(x, body.y, side, body.h), card_kind(p), "surface", behind=True))
    y = body.y + PAD
    if s.takeaway:
        tk = s.takeaway
        room = body.h * (0.55 if s.bullets else 1.0) - 2 * PAD
        tf = Frame(x + PAD, y, side - 2 * PAD, room)
        size = p.fit([tk], tf, 28, 16, labels="the takeaway", head=True, bold=True)
        need = min(room, p.height([tk], tf.w, size, head=True, bold=True))
        bar_y = y if s.bullets else y + (room - need) / 2
        items.append(Shape(Frame(x, bar_y, 6, need)))
        items.append(TextBox(Frame(tf.x, y, tf.w, need if s.bullets else room), (tk,), size,
                             "heading", bold=True, colour="title",
                             anchor="top" if s.bullets else "middle"))
        y += need + PAD
    if s.bullets:
        bf = Frame(x + PAD, y, side - 2 * PAD, body.bottom - PAD - y)
        size = p.fit(s.bullets, bf, 20, MIN_SMALL, bullets=True, many="bullets",
                     labels=[f"bullet {i}" for i in range(1, len(s.bullets) + 1)])
        items.append(TextBox(bf, tuple(s.bullets), size, "body", bullets=True))
    return [content(p, s, items)]


def table(p: Planner, s: Slide) -> list[SlidePlan]:
    assert s.table is not None
    from .text import split

    body = p.geo.body
    tk_h = 0.0
    if s.takeaway:
        tk_size = p.fits([s.takeaway], Frame(0, 0, body.w - 30, 80), 22, MIN_BODY) or MIN_BODY
        tk_h = min(body.h * 0.3, p.height([s.takeaway], body.w - 30, tk_size) + 8)
    area = Frame(body.x, body.y, body.w, body.h - (tk_h + 16 if tk_h else 0))
    box = _table_box(p, s.table, area)
    if box is None:
        if len(s.table.rows) > 1 and p.allow_split:
            return split(p, s)
        box = _table_box(p, s.table, area, force=True)
        keep = max((k for k in range(1, len(s.table.rows))
                    if _table_box(p, s.table.model_copy(update={"rows": s.table.rows[:k]}),
                                  area) is not None), default=0)
        p.note(f"the table is too large: keep at most {keep} rows, with shorter cells"
               if keep else "the table's cells are too long: cut each to a few words")
    assert box is not None
    items: list[Item] = [box]
    if s.takeaway:
        y = body.bottom - tk_h
        tf = Frame(body.x + 18, y, body.w - 18, tk_h)
        size = p.fit([s.takeaway], tf, 22, MIN_BODY, labels="the takeaway")
        items.append(Shape(Frame(body.x, y, 6, tk_h)))
        items.append(TextBox(tf, (s.takeaway,), size, "heading", bold=True, colour="title",
                             anchor="middle"))
    return [content(p, s, items)]


def _table_box(p: Planner, t: Table, body: Frame, force: bool = False) -> TableBox | None:
    """Column widths by content, the largest font that fits, rows grown to use the space."""
    m = p.body_m
    ncols = len(t.header)
    natural = [
        max(m.width(cell, 16, r == 0) for r, cell in enumerate([t.header[c],
                                                                  *(row[c] for row in t.rows)]))
        for c in range(ncols)
    ]
    weights = [math.sqrt(max(n, 30.0)) for n in natural]
    floor = body.w * 0.12
    widths = [max(floor, body.w * w / sum(weights)) for w in weights]
    scale = body.w / sum(widths)
    widths = [w * scale for w in widths]
    for size in ([float(s) for s in range(22, int(MIN_TABLE) - 1, -1)] if not force
                 else [8.0]):
        heights = []
        for r, row in enumerate([t.header, *t.rows]):
            tallest = max(text_height([cell or " "], w - 2 * CELL_INSET_X, size, m, r == 0)
                          for cell, w in zip(row, widths, strict=True))
            heights.append(math.ceil(tallest + 2 * CELL_INSET_Y + 1))
        if sum(heights) <= body.h or force:
            # few rows: grow them (up to three times their height; cells are centred)
            # so the table uses the body: at twice, three rows left half of it empty
            target = body.h * 0.92
            if sum(heights) < target and not force:
                k = min(3.0, target / sum(heights))
                heights = [math.floor(h * k) for h in heights]
            frame = Frame(body.x, body.y, body.w, float(sum(heights)))
            return TableBox(frame, t, size, tuple(widths), tuple(float(h) for h in heights))
    return None
