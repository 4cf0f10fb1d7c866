"""Text measurement and the share of a slide its content fills.

Why one module: the layout decides font sizes by measuring wrapped text,
:func:`.layout.overflow` tells the pipeline what does not fit by the same
measurement, and :func:`content_fill` reads a written .pptx back and measures
the same way, so "fits", "overflows" and "fills 40 %" are one notion.
Widths come from :mod:`.fonts` (pinned metrics, the same on every machine).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fonts import Measurer

__all__ = [
    "CELL_INSET_X",
    "CELL_INSET_Y",
    "HEIGHT_SAFETY",
    "INSET_X",
    "INSET_Y",
    "PARA_SPACE",
    "WIDTH_SAFETY",
    "Frame",
    "breaks_words",
    "content_fill",
    "fit",
    "line_widths",
    "text_height",
    "wrap",
]

INSET_X, INSET_Y = 7.2, 3.6  # text box insets (pt), set explicitly by the renderer
CELL_INSET_X, CELL_INSET_Y = 5.0, 3.0
WIDTH_SAFETY = 1.04  # office suites kern and hint a little differently from FreeType
HEIGHT_SAFETY = 1.06
PARA_SPACE = 0.35  # space before each paragraph after the first, in ems
EMU_PER_PT = 12700


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

    @property
    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    def overlaps(self, other: Frame) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)

    def contains(self, other: Frame, tol: float = 0.01) -> bool:
        return (other.x >= self.x - tol and other.y >= self.y - tol
                and other.right <= self.right + tol and other.bottom <= self.bottom + tol)

    def clip(self, other: Frame) -> Frame | None:
        x, y = max(self.x, other.x), max(self.y, other.y)
        r, b = min(self.right, other.right), min(self.bottom, other.bottom)
        return Frame(x, y, r - x, b - y) if r > x and b > y else None


# ---------------------------------------------------------------- wrapping

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_UNIT = re.compile(
    rf"[（《「『【“‘]*[{_CJK}][，。、；：！？）》」』】”’,.;:!?)]*"  # one CJK char, kinsoku-bound
    rf"|[^\s{_CJK}]+\s*"  # a Latin word and its trailing space
    r"|\s+"
)


def wrap(text: str, width: float, size: float, m: Measurer, bold: bool = False) -> list[str]:
    """Greedy line breaking of ``text`` into lines at most ``width`` points wide."""
    return _wrap(text, width, size, m, bold)[0]


def breaks_words(text: str, width: float, size: float, m: Measurer, bold: bool = False) -> bool:
    """Whether wrapping ``text`` at ``size`` has to break a word between its letters."""
    return _wrap(text, width, size, m, bold)[1]


def _wrap(text: str, width: float, size: float, m: Measurer,
          bold: bool) -> tuple[list[str], bool]:
    limit = width / WIDTH_SAFETY

    def fits(s: str) -> bool:
        return m.width(s.rstrip(), size, bold) <= limit

    lines: list[str] = []
    cur = ""
    broke = False
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
        broke = True
        piece = ""
        for ch in cur:
            if piece and not fits(piece + ch):
                lines.append(piece)
                piece = ""
            piece += ch
        cur = piece
    if cur.strip() or not lines:
        lines.append(cur.rstrip())
    return lines, broke


def line_widths(text: str, width: float, size: float, m: Measurer,
                bold: bool = False) -> list[float]:
    """The measured width of each wrapped line of ``text`` (safety margin included)."""
    return [m.width(ln, size, bold) * WIDTH_SAFETY for ln in wrap(text, width, size, m, bold)]


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
    """The largest of ``sizes`` at which the text fits ``frame``, or None.

    A size at which a word would have to break between its letters ("Quantis-e") is passed
    over while a smaller one keeps every word whole; only when none does is it taken."""
    whole: float | None = None
    broken: float | None = None
    for size in sizes:
        indent = round(size * 0.9, 1) if bullets else 0.0
        width = frame.w - 2 * INSET_X - indent
        if width <= 0 or text_height(paragraphs, width, size, m, bold) > frame.h - 2 * INSET_Y:
            continue
        if any(breaks_words(p, width, size, m, bold) for p in paragraphs):
            broken = size if broken is None else broken
            continue
        whole = size
        break
    return whole if whole is not None else broken


# ---------------------------------------------------------------- content fill


def content_fill(pptx_path: Path) -> list[float]:
    """For each slide of a written deck, the share (0-1) of its content area that content fills.

    The content area is the slide inside 5 % side margins, below the title (the title
    placeholder's bottom, else 19 % of the height) and above the footer line (the top of
    the footer and slide-number boxes, else 92.5 % of the height). Text counts by its
    measured extent (wrapped lines at their size and font, not the box it sits in); filled
    shapes, charts, tables and pictures by their area; overlaps count once. A slide-wide
    background shape is decoration, not content.
    """
    from pptx import Presentation

    prs = Presentation(str(pptx_path))
    w, h = int(prs.slide_width or 0) / EMU_PER_PT, int(prs.slide_height or 0) / EMU_PER_PT
    minor = _theme_minor_font(prs)
    out: list[float] = []
    for slide in prs.slides:
        title = _title_shape(slide)
        top = _shape_frame(title).bottom if title is not None else h * 0.19
        frames = [s for s in _walk(slide.shapes) if s is not title]
        footers = [s for s in frames if _is_footer(s)]
        bottom = min((_shape_frame(s).y for s in footers), default=h * 0.925)
        area = Frame(w * 0.05, top, w * 0.9, max(1.0, bottom - top))
        rects: list[Frame] = []
        for shape in frames:
            if shape in footers:
                continue
            f = _shape_frame(shape)
            if f.w >= w * 0.9 and f.h >= h * 0.9:
                continue  # a full-slide background
            for r in _content_rects(shape, f, minor):
                c = area.clip(r)
                if c is not None:
                    rects.append(c)
        out.append(min(1.0, _union_area(rects) / area.area))
    return out


def _walk(shapes: Any) -> list[Any]:
    out = []
    for s in shapes:
        if s.shape_type == 6:  # a group: its members count
            out.extend(_walk(s.shapes))
        else:
            out.append(s)
    return out


def _title_shape(slide: Any) -> Any:
    try:
        return slide.shapes.title
    except (KeyError, AttributeError):
        return None


def _is_footer(shape: Any) -> bool:
    if shape.is_placeholder:
        kind = shape.placeholder_format.type
        if kind is not None and int(kind) in (13, 15, 16):  # slide number, footer, date
            return True
    name = (shape.name or "").split(" ")[0]
    return name in ("Footer", "Number") or 'type="slidenum"' in _xml(shape)


def _xml(shape: Any) -> str:
    from lxml import etree

    return str(etree.tostring(shape._element, encoding="unicode"))


def _shape_frame(shape: Any) -> Frame:
    def pt(v: Any) -> float:
        return float(v or 0) / EMU_PER_PT

    return Frame(pt(shape.left), pt(shape.top), pt(shape.width), pt(shape.height))


def _theme_minor_font(prs: Any) -> str:
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        blob = prs.slide_master.part.part_related_by(RT.THEME).blob.decode("utf-8", "replace")
    except (KeyError, AttributeError):
        return "Arial"
    found = re.search(r'<a:minorFont>\s*<a:latin typeface="([^"]*)"', blob)
    return found.group(1) if found and found.group(1) else "Arial"


def _has_fill(shape: Any) -> bool:
    try:
        return int(shape.fill.type or 0) in (1, 2, 3, 6)  # solid, patterned, gradient, picture
    except (AttributeError, TypeError, NotImplementedError, ValueError):
        return False


def _content_rects(shape: Any, f: Frame, minor: str) -> Iterable[Frame]:
    if getattr(shape, "has_chart", False) or getattr(shape, "has_table", False) \
            or shape.shape_type == 13:  # picture
        yield f
        return
    if _has_fill(shape) or (not getattr(shape, "has_text_frame", False)
                            and shape.shape_type in (1, 9)):  # autoshape, line
        yield f
        return
    if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
        yield _text_extent(shape, f, minor)


_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _text_extent(shape: Any, f: Frame, minor: str) -> Frame:
    """The rectangle the shape's wrapped text really covers."""
    body = shape.text_frame._txBody
    bpr = body.find(f"{_A}bodyPr")

    def inset(key: str, default: float) -> float:
        v = bpr.get(key) if bpr is not None else None
        return int(v) / EMU_PER_PT if v is not None else default

    lx, rx = inset("lIns", INSET_X), inset("rIns", INSET_X)
    ty, by = inset("tIns", INSET_Y), inset("bIns", INSET_Y)
    nowrap = bpr is not None and bpr.get("wrap") == "none"
    anchor = bpr.get("anchor", "t") if bpr is not None else "t"
    widest, height, align = 0.0, 0.0, "l"
    for i, p in enumerate(body.findall(f"{_A}p")):
        text = "".join(t.text or "" for t in p.iter(f"{_A}t"))
        ppr = p.find(f"{_A}pPr")
        rpr = next(iter(p.iter(f"{_A}rPr")), None)
        size = int(rpr.get("sz", "1800")) / 100 if rpr is not None else 18.0
        bold = rpr is not None and rpr.get("b") == "1"
        latin_el = rpr.find(f"{_A}latin") if rpr is not None else None
        ea_el = rpr.find(f"{_A}ea") if rpr is not None else None
        m = Measurer(latin_el.get("typeface") if latin_el is not None else minor,
                     ea_el.get("typeface") if ea_el is not None else "Noto Sans CJK SC")
        mar = int(ppr.get("marL", "0")) / EMU_PER_PT if ppr is not None else 0.0
        if i == 0 and ppr is not None:
            align = ppr.get("algn", "l")
        avail = f.w - lx - rx - mar
        lines = [text] if nowrap else wrap(text, max(avail, 1.0), size, m, bold)
        if i:
            height += PARA_SPACE * size
        height += sum(m.line_height(ln or " ", size, bold) for ln in lines)
        widest = max(widest, mar + max((m.width(ln, size, bold) for ln in lines), default=0.0))
    tw = min(f.w, widest * WIDTH_SAFETY + lx + rx)
    th = min(f.h, height * HEIGHT_SAFETY + ty + by)
    x = f.x if align in ("l", "just") else (f.right - tw if align == "r" else f.x + (f.w - tw) / 2)
    y = f.y if anchor == "t" else (f.bottom - th if anchor == "b" else f.y + (f.h - th) / 2)
    return Frame(x, y, tw, th)


def _union_area(rects: Sequence[Frame]) -> float:
    """Area covered by ``rects`` (overlaps once), by coordinate compression."""
    if not rects:
        return 0.0
    xs = sorted({v for r in rects for v in (r.x, r.right)})
    total = 0.0
    for x0, x1 in itertools.pairwise(xs):
        spans = sorted((r.y, r.bottom) for r in rects if r.x <= x0 and r.right >= x1)
        covered, end = 0.0, -1e18
        for a, b in spans:
            if b <= end:
                continue
            covered += b - max(a, end)
            end = b
        total += covered * (x1 - x0)
    return total
