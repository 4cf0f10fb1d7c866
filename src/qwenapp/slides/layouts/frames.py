"""Frame slides built by code: the title slide, section dividers and the closing slide.

Why each theme draws its own cover: the first slide sets the deck's look.
``band`` (light) a full-height accent band and a rule, ``orbit`` (dark) two
concentric circles beside the title, ``rules`` (paper) a centred title
between thin accent rules, ``panel`` (qwen) a split cover with a tall accent
panel (no shape in it: an empty disc there looked like a missing picture). A
section divider is a full-bleed accent slide with its number; the closing slide
mirrors the cover.
"""

from __future__ import annotations

from typing import Literal

from ..boxes import MIN_TITLE, Colour, Item, Planner, Shape, SlidePlan, TextBox
from ..deck import Slide
from ..measure import Frame

__all__ = ["closing", "cover", "section"]


def _title_and_sub(p: Planner, s: Slide, t: Frame, sub: Frame, align: Literal["left", "center"],
                   *, colour: Literal["on_accent"] | None = None, hi: float = 48) -> list[Item]:
    size = p.fit([s.title], t, hi, MIN_TITLE + 4, labels="the title", head=True,
                 bold=p.theme.heading_bold)
    items: list[Item] = [TextBox(t, (s.title,), size, "title", bold=p.theme.heading_bold,
                                 align=align, anchor="bottom", placeholder="title",
                                 colour=colour)]
    if s.subtitle:
        ssize = p.fit([s.subtitle], sub, 26, 14, labels="the subtitle")
        items.append(TextBox(sub, (s.subtitle,), ssize, "subtitle", align=align,
                             placeholder="subtitle", colour=colour))
    return items


def cover(p: Planner, s: Slide) -> list[SlidePlan]:
    g = p.geo
    w, h = g.width, g.height
    style = p.theme.cover if not p.theme.is_template else "template"
    items: list[Item] = []
    if style == "template":
        align: Literal["left", "center"] = "center" if p.theme.title_align == "center" else "left"
        items = _title_and_sub(p, s, g.cover_title, g.cover_sub, align)
    elif style == "band":
        items.append(Shape(Frame(0, 0, w * 0.035, h)))
        items.append(Shape(Frame(w * 0.035, 0, w * 0.012, h), fill="accent2"))
        t = Frame(w * 0.1, h * 0.22, w * 0.8, h * 0.36)
        sub = Frame(t.x, t.bottom + 36, t.w, h * 0.2)
        items.append(Shape(Frame(t.x + 7, t.bottom + 16, 120, 5)))
        items += _title_and_sub(p, s, t, sub, "left")
    elif style == "orbit":
        d = h * 0.62
        cx, cy = w * 0.80, h * 0.5
        items.append(Shape(Frame(cx - d / 2, cy - d / 2, d, d), "ellipse", "surface"))
        d2 = d * 0.46
        items.append(Shape(Frame(cx - d2 / 2, cy - d2 / 2, d2, d2), "ellipse", "accent"))
        t = Frame(w * 0.07, h * 0.2, w * 0.54, h * 0.4)
        sub = Frame(t.x, t.bottom + 34, t.w, h * 0.22)
        items.append(Shape(Frame(t.x + 7, t.bottom + 14, 96, 5)))
        items += _title_and_sub(p, s, t, sub, "left")
    elif style == "rules":
        items.append(Shape(Frame(w * 0.2, h * 0.16, w * 0.6, 2)))
        items.append(Shape(Frame(w * 0.2, h * 0.84, w * 0.6, 2)))
        t = Frame(w * 0.1, h * 0.2, w * 0.8, h * 0.38)
        sub = Frame(t.x, t.bottom + 30, t.w, h * 0.2)
        items.append(Shape(Frame(w / 2 - 40, t.bottom + 13, 80, 4), "rect", "accent2"))
        items += _title_and_sub(p, s, t, sub, "center")
    else:  # panel
        pw = w * 0.34
        items.append(Shape(Frame(w - pw, 0, pw, h)))
        items.append(Shape(Frame(w - pw - w * 0.02, h * 0.18, w * 0.02, h * 0.64),
                           fill="accent2"))
        # no circle in the panel: an empty disc there read as a missing picture (the
        # 1.5B's Chinese deck preview, 2026-12-03); the split cover stands on its own
        t = Frame(w * 0.07, h * 0.2, w * 0.53, h * 0.4)
        sub = Frame(t.x, t.bottom + 34, t.w, h * 0.22)
        items.append(Shape(Frame(t.x + 7, t.bottom + 14, 96, 5)))
        items += _title_and_sub(p, s, t, sub, "left")
    return [SlidePlan(s.kind, "cover", tuple(items), s.notes_text(p.lang.sources))]


def section(p: Planner, s: Slide, number: int) -> list[SlidePlan]:
    """A full-bleed accent divider: the section's number large, its title beside it."""
    g = p.geo
    w, h = g.width, g.height
    if p.theme.is_template:
        items = _title_and_sub(p, s, g.cover_title, g.cover_sub, "center")
        return [SlidePlan(s.kind, "section", tuple(items), s.notes_text(p.lang.sources))]
    num_frame = Frame(w * 0.08, h * 0.26, w * 0.22, h * 0.4)
    items = [TextBox(num_frame, (f"{number:02d}",), 120, "value", bold=True,
                     colour="on_accent", anchor="bottom")]
    items.append(Shape(Frame(w * 0.08 + 7, h * 0.68, w * 0.84 - 14, 3), fill="on_accent"))
    t = Frame(w * 0.32, h * 0.26, w * 0.6, h * 0.4 - 22)
    sub = Frame(w * 0.08, h * 0.72, w * 0.84, h * 0.18)
    items += _title_and_sub(p, s, t, sub, "left", colour="on_accent", hi=44)
    return [SlidePlan(s.kind, "section", tuple(items), s.notes_text(p.lang.sources),
                      background="accent")]


def closing(p: Planner, s: Slide) -> list[SlidePlan]:
    g = p.geo
    w, h = g.width, g.height
    if p.theme.is_template:
        plain = _title_and_sub(p, s, g.cover_title, g.cover_sub, "center")
        return [SlidePlan(s.kind, "section", tuple(plain), s.notes_text(p.lang.sources))]
    items: list[Item] = []
    t = Frame(w * 0.1, h * 0.22, w * 0.8, h * 0.3)
    sub = Frame(t.x, t.bottom + 48, t.w, h * 0.18)
    d = 16.0
    fills: tuple[Colour, ...] = ("accent", "accent2", "surface")
    for k, fill in enumerate(fills):
        items.append(Shape(Frame(w / 2 - 1.5 * d - 12 + k * (d + 12), t.bottom + 16, d, d),
                           "ellipse" if p.theme.marker == "circle" else "rect", fill))
    items += _title_and_sub(p, s, t, sub, "center", hi=54)
    if p.theme.cover == "band":
        items.append(Shape(Frame(0, h - h * 0.035, w, h * 0.035)))
    elif p.theme.cover == "panel":
        items.append(Shape(Frame(0, 0, w, h * 0.05)))
    elif p.theme.cover == "rules":
        items.append(Shape(Frame(w * 0.2, h * 0.16, w * 0.6, 2)))
        items.append(Shape(Frame(w * 0.2, h * 0.84, w * 0.6, 2)))
    return [SlidePlan(s.kind, "section", tuple(items), s.notes_text(p.lang.sources))]
