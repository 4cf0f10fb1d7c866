"""Computed layout: every box placed, every text measured to fit.

Pure geometry in points. Each slide becomes a :class:`SlidePlan`, a list of
boxes that do not overlap and stay inside the slide, each text box with a
font size at which its wrapped text, measured with real font metrics,
fits its height. When nothing fits even at the smallest size, the slide is
split in two ("(cont.)"). The renderer only draws what this module decided.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .deck import Chart, Deck, Slide, SlideKind, Table
from .fonts import Measurer
from .language import LANGUAGES, Language
from .themes import Theme

__all__ = [
    "CELL_INSET_X",
    "CELL_INSET_Y",
    "INSET_X",
    "INSET_Y",
    "ChartBox",
    "Frame",
    "Geometry",
    "Item",
    "Rule",
    "SlidePlan",
    "TableBox",
    "TextBox",
    "default_geometry",
    "plan_deck",
    "wrap",
]

INSET_X, INSET_Y = 7.2, 3.6  # text box insets (pt), set explicitly by the renderer
CELL_INSET_X, CELL_INSET_Y = 5.0, 3.0
WIDTH_SAFETY = 1.04  # office suites kern and hint a little differently from FreeType
HEIGHT_SAFETY = 1.06
PARA_SPACE = 0.35  # space before each paragraph after the first, in ems


@dataclass(frozen=True, slots=True)
class Frame:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Frame) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)


Role = Literal["title", "subtitle", "body", "heading", "footer", "number"]


@dataclass(frozen=True, slots=True)
class TextBox:
    frame: Frame
    paragraphs: tuple[str, ...]
    size: float
    role: Role
    bold: bool = False
    bullets: bool = False
    align: Literal["left", "center", "right"] = "left"
    anchor: Literal["top", "middle", "bottom"] = "top"
    placeholder: Literal["title", "subtitle"] | None = None
    slide_number: bool = False

    @property
    def indent(self) -> float:
        return round(self.size * 0.9, 1) if self.bullets else 0.0


@dataclass(frozen=True, slots=True)
class ChartBox:
    frame: Frame
    chart: Chart
    size: float


@dataclass(frozen=True, slots=True)
class TableBox:
    frame: Frame
    table: Table
    size: float
    col_widths: tuple[float, ...]
    row_heights: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A decorative accent bar; it never overlaps text."""

    frame: Frame


Item = TextBox | ChartBox | TableBox | Rule


@dataclass(frozen=True, slots=True)
class SlidePlan:
    kind: SlideKind
    layout: Literal["cover", "content", "section"]
    items: tuple[Item, ...]
    notes: str


@dataclass(frozen=True, slots=True)
class Geometry:
    width: float
    height: float
    title: Frame  # content slides
    body: Frame
    footer: Frame  # the line under the body: deck title left, slide number right
    cover_title: Frame
    cover_sub: Frame


def default_geometry(width: float, height: float, theme: Theme) -> Geometry:
    """Proportional regions for a slide of ``width`` × ``height`` points."""
    mx = round(width * 0.05)
    top = round(height * 0.05)
    title_h = round(height * 0.14)
    title = Frame(mx, top, width - 2 * mx, title_h)
    footer_h = round(height * 0.05)
    footer = Frame(mx, height - round(height * 0.025) - footer_h, width - 2 * mx, footer_h)
    body_top = title.bottom + round(height * 0.035)
    body = Frame(mx, body_top, width - 2 * mx, footer.y - round(height * 0.02) - body_top)
    cover_title = Frame(mx * 1.5, height * 0.28, width - 3 * mx, height * 0.27)
    cover_sub = Frame(mx * 1.5, cover_title.bottom + height * 0.05, width - 3 * mx, height * 0.16)
    return Geometry(width, height, title, body, footer, cover_title, cover_sub)


# ---------------------------------------------------------------- wrapping

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_UNIT = re.compile(
    rf"[（《「『【“‘]*[{_CJK}][，。、；：！？）》」』】”’,.;:!?)]*"  # one CJK char, kinsoku-bound
    rf"|[^\s{_CJK}]+\s*"  # a Latin word and its trailing space
    r"|\s+"
)


def wrap(text: str, width: float, size: float, m: Measurer, bold: bool = False) -> list[str]:
    """Greedy line breaking of ``text`` into lines at most ``width`` points wide."""
    limit = width / WIDTH_SAFETY

    def fits(s: str) -> bool:
        return m.width(s.rstrip(), size, bold) <= limit

    lines: list[str] = []
    cur = ""
    for unit in _UNIT.findall(text):
        if fits(cur + unit):
            cur += unit
            continue
        if cur.strip():
            lines.append(cur.rstrip())
            cur = unit.lstrip()
            if fits(cur):
                continue
        else:
            cur = unit.lstrip()
        # one unit wider than the line: break it between characters
        piece = ""
        for ch in cur:
            if piece and not fits(piece + ch):
                lines.append(piece)
                piece = ""
            piece += ch
        cur = piece
    if cur.strip() or not lines:
        lines.append(cur.rstrip())
    return lines


def text_height(paragraphs: Sequence[str], width: float, size: float, m: Measurer,
                bold: bool = False) -> float:
    """Height of ``paragraphs`` set at ``size`` in a column ``width`` points wide."""
    total = 0.0
    for i, para in enumerate(paragraphs):
        if i:
            total += PARA_SPACE * size
        total += sum(m.line_height(line, size, bold) for line in wrap(para, width, size, m, bold))
    return total * HEIGHT_SAFETY


def fit(paragraphs: Sequence[str], frame: Frame, m: Measurer, sizes: Sequence[float], *,
        bold: bool = False, bullets: bool = False) -> float | None:
    """The largest of ``sizes`` at which the text fits ``frame``, or None."""
    for size in sizes:
        indent = round(size * 0.9, 1) if bullets else 0.0
        width = frame.w - 2 * INSET_X - indent
        if text_height(paragraphs, width, size, m, bold) <= frame.h - 2 * INSET_Y:
            return size
    return None


def _sizes(hi: int, lo: int) -> list[float]:
    return [float(s) for s in range(hi, lo - 1, -1)]


def _one_line(text: str, frame: Frame, size: float, m: Measurer) -> str:
    """``text`` shortened with an ellipsis to one line of ``frame``."""
    width = frame.w - 2 * INSET_X
    if len(wrap(text, width, size, m)) <= 1:
        return text
    while text and len(wrap(text + "…", width, size, m)) > 1:
        text = text[:-1]
    return text.rstrip() + "…"


# ---------------------------------------------------------------- planning


class _Planner:
    def __init__(self, deck: Deck, theme: Theme, geo: Geometry) -> None:
        self.deck = deck
        self.theme = theme
        self.geo = geo
        self.lang: Language = next(
            (lang for lang in LANGUAGES.values() if lang.code.split("-")[0] == deck.language),
            LANGUAGES["en"],
        )
        self.head_m = Measurer(theme.heading_font, theme.ea_font)
        self.body_m = Measurer(theme.body_font, theme.ea_font)

    # -- shared pieces

    def _title(self, text: str) -> list[Item]:
        g = self.geo
        frame = g.title
        size = fit([text], frame, self.head_m, _sizes(34, 18), bold=True) or 14.0
        center = self.theme.title_align == "center"
        items: list[Item] = [TextBox(frame, (text,), size, "title", bold=True,
                                     align="center" if center else "left", anchor="middle",
                                     placeholder="title")]
        if self.theme.rule == "bar" and frame.x >= 16 and not center:
            items.append(Rule(Frame(frame.x - 12, frame.y + frame.h * 0.2, 5, frame.h * 0.6)))
        elif self.theme.rule != "none":
            gap = g.body.y - frame.bottom
            if gap >= 8:
                w = min(96.0, frame.w / 4)
                x = frame.x + (frame.w - w) / 2 if center else frame.x + INSET_X
                items.append(Rule(Frame(x, frame.bottom + gap / 2 - 2, w, 4)))
        return items

    def _footer(self, number: int) -> list[Item]:
        f = self.geo.footer
        size = max(9.0, min(12.0, round(f.h * 0.5)))
        num = Frame(f.right - 64, f.y, 64, f.h)
        left = Frame(f.x, f.y, f.w - 72, f.h)
        title = _one_line(self.deck.title, left, size, self.body_m)
        return [
            TextBox(left, (title,), size, "footer", anchor="middle"),
            TextBox(num, (str(number),), size, "number", align="right", anchor="middle",
                    slide_number=True),
        ]

    # -- slide kinds

    def cover(self, s: Slide, layout: Literal["cover", "section"]) -> list[SlidePlan]:
        g = self.geo
        t = g.cover_title
        size = fit([s.title], t, self.head_m, _sizes(44, 24), bold=True) or 18.0
        center = self.theme.title_align == "center" or layout == "section"
        align: Literal["left", "center"] = "center" if center else "left"
        items: list[Item] = [TextBox(t, (s.title,), size, "title", bold=True, align=align,
                                     anchor="bottom", placeholder="title")]
        if s.subtitle:
            sub = g.cover_sub
            ssize = fit([s.subtitle], sub, self.body_m, _sizes(24, 14)) or 12.0
            items.append(TextBox(sub, (s.subtitle,), ssize, "subtitle", align=align,
                                 placeholder="subtitle"))
        gap = g.cover_sub.y - t.bottom
        if self.theme.rule != "none" and gap >= 8:
            w = min(120.0, t.w / 4)
            x = t.x + (t.w - w) / 2 if center else t.x + INSET_X
            items.append(Rule(Frame(x, t.bottom + gap / 2 - 2, w, 4)))
        return [SlidePlan(s.kind, layout, tuple(items), s.notes_text(self.lang.sources))]

    def bullets(self, s: Slide) -> list[SlidePlan]:
        body = self.geo.body
        size = fit(s.bullets, body, self.body_m, _sizes(28, 14), bullets=True)
        if size is None and len(s.bullets) > 1:
            return self._split(s, "bullets")
        box = TextBox(body, tuple(s.bullets), size or 12.0, "body", bullets=True)
        return [self._content(s, [box])]

    def agenda(self, s: Slide) -> list[SlidePlan]:
        body = self.geo.body
        items = [f"{i}. {b}" for i, b in enumerate(s.bullets, 1)]
        if len(items) <= 6:
            size = fit(items, body, self.body_m, _sizes(26, 14)) or 12.0
            return [self._content(s, [TextBox(body, tuple(items), size, "body")])]
        half = math.ceil(len(items) / 2)
        colw = (body.w - 24) / 2
        frames = [Frame(body.x, body.y, colw, body.h), Frame(body.x + colw + 24, body.y, colw,
                                                             body.h)]
        parts = [items[:half], items[half:]]
        size = min(fit(p, f, self.body_m, _sizes(24, 12)) or 11.0 for p, f in zip(parts, frames,
                                                                                  strict=True))
        boxes: list[Item] = [TextBox(f, tuple(p), size, "body") for p, f in zip(parts, frames,
                                                                               strict=True)]
        return [self._content(s, boxes)]

    def compare(self, s: Slide) -> list[SlidePlan]:
        assert s.left is not None and s.right is not None
        body = self.geo.body
        gap = 28.0
        colw = (body.w - gap) / 2
        xs = (body.x, body.x + colw + gap)
        heads = (s.left.heading, s.right.heading)
        probe = Frame(0, 0, colw, body.h / 3)
        hsize = min(fit([h], probe, self.head_m, _sizes(24, 14), bold=True) or 12.0
                    for h in heads)
        head_h = max(text_height([h], colw - 2 * INSET_X, hsize, self.head_m, True)
                     for h in heads) + 2 * INSET_Y + 2
        items: list[Item] = []
        cols = (s.left.bullets, s.right.bullets)
        top = body.y + head_h + 10
        frames = [Frame(x, top, colw, body.bottom - top) for x in xs]
        sizes = [fit(c, f, self.body_m, _sizes(24, 13), bullets=True) for c, f in zip(cols, frames,
                                                                                     strict=True)]
        if any(sz is None for sz in sizes) and max(len(c) for c in cols) > 1:
            return self._split(s, "compare")
        size = min(sz or 12.0 for sz in sizes)
        for x, head, col, frame in zip(xs, heads, cols, frames, strict=True):
            items.append(TextBox(Frame(x, body.y, colw, head_h), (head,), hsize, "heading",
                                 bold=True, anchor="bottom"))
            items.append(Rule(Frame(x + INSET_X, body.y + head_h + 4, colw - 2 * INSET_X, 2)))
            items.append(TextBox(frame, tuple(col), size, "body", bullets=True))
        return [self._content(s, items)]

    def chart(self, s: Slide) -> list[SlidePlan]:
        assert s.chart is not None
        body = self.geo.body
        items: list[Item] = []
        if s.bullets:
            side = body.w * 0.36
            cw = body.w - side - 24
            frame = Frame(body.x + cw + 24, body.y, side, body.h)
            size = fit(s.bullets, frame, self.body_m, _sizes(22, 12), bullets=True) or 11.0
            items.append(TextBox(frame, tuple(s.bullets), size, "body", bullets=True))
            chart_frame = Frame(body.x, body.y, cw, body.h)
        else:
            chart_frame = body
        csize = 14.0 if len(s.chart.categories) <= 5 else 12.0
        items.insert(0, ChartBox(chart_frame, s.chart, csize))
        return [self._content(s, items)]

    def table(self, s: Slide) -> list[SlidePlan]:
        assert s.table is not None
        box = self._table_box(s.table)
        if box is None:
            if len(s.table.rows) > 1:
                return self._split(s, "table")
            box = self._table_box(s.table, force=True)
        assert box is not None
        return [self._content(s, [box])]

    def _table_box(self, t: Table, force: bool = False) -> TableBox | None:
        body = self.geo.body
        m = self.body_m
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
        for size in _sizes(24, 10) if not force else [9.0]:
            heights = []
            for r, row in enumerate([t.header, *t.rows]):
                bold = r == 0
                tallest = max(text_height([cell or " "], w - 2 * CELL_INSET_X, size, m, bold)
                              for cell, w in zip(row, widths, strict=True))
                heights.append(math.ceil(tallest + 2 * CELL_INSET_Y + 1))
            if sum(heights) <= body.h or force:
                frame = Frame(body.x, body.y, body.w, float(sum(heights)))
                return TableBox(frame, t, size, tuple(widths), tuple(float(h) for h in heights))
        return None

    def _split(self, s: Slide, kind: str) -> list[SlidePlan]:
        """Two slides, each with half the content; the second titled "(cont.)"."""
        def halves(xs: list[str]) -> tuple[list[str], list[str]]:
            k = math.ceil(len(xs) / 2)
            return xs[:k], xs[k:]

        cont = f"{s.title} {self.lang.continued}"
        if kind == "bullets":
            a, b = halves(s.bullets)
            first, second = s.model_copy(update={"bullets": a}), s.model_copy(
                update={"bullets": b, "title": cont})
        elif kind == "compare":
            assert s.left is not None and s.right is not None
            (la, lb), (ra, rb) = halves(s.left.bullets), halves(s.right.bullets)
            first = s.model_copy(update={"left": s.left.model_copy(update={"bullets": la}),
                                         "right": s.right.model_copy(update={"bullets": ra})})
            second = s.model_copy(update={
                "title": cont,
                "left": s.left.model_copy(update={"bullets": lb or la[-1:]}),
                "right": s.right.model_copy(update={"bullets": rb or ra[-1:]}),
            })
        else:
            assert s.table is not None
            k = math.ceil(len(s.table.rows) / 2)
            first = s.model_copy(update={"table": s.table.model_copy(
                update={"rows": s.table.rows[:k]})})
            second = s.model_copy(update={"title": cont, "table": s.table.model_copy(
                update={"rows": s.table.rows[k:]})})
        return self.slide(first) + self.slide(second)

    def _content(self, s: Slide, body_items: list[Item]) -> SlidePlan:
        items = self._title(s.title) + body_items
        return SlidePlan(s.kind, "content", tuple(items), s.notes_text(self.lang.sources))

    def slide(self, s: Slide) -> list[SlidePlan]:
        if s.kind == "title":
            return self.cover(s, "cover")
        if s.kind in ("section", "closing"):
            return self.cover(s, "section")
        if s.kind == "agenda":
            return self.agenda(s)
        if s.kind == "compare":
            return self.compare(s)
        if s.kind == "chart":
            return self.chart(s)
        if s.kind == "table":
            return self.table(s)
        return self.bullets(s)


def plan_deck(deck: Deck, theme: Theme, geo: Geometry) -> list[SlidePlan]:
    """Every slide of ``deck`` laid out, split where needed, numbered in the footer."""
    planner = _Planner(deck, theme, geo)
    plans: list[SlidePlan] = []
    for slide in deck.slides:
        plans.extend(planner.slide(slide))
    out = []
    for number, plan in enumerate(plans, 1):
        if plan.layout == "content":
            plan = replace(plan, items=plan.items + tuple(planner._footer(number)))
        out.append(plan)
    return out
