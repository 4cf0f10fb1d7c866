"""What a planned slide is made of, and the planner state every layout shares.

Pure geometry in points. A layout (:mod:`.layouts`) turns one :class:`Slide`
into :class:`SlidePlan` objects: text boxes (optionally drawn as a filled
autoshape: a card, a chevron, a circle), plain shapes (accent bars, panels,
lines), native charts and tables. Every text box carries the font size at
which its wrapped text, measured with pinned font metrics, fits its frame.
When a text does not fit at the legible minimum of its role, the planner
records a :class:`Misfit`: :func:`.layout.overflow` turns those into advice
for the model, and the renderer shrinks below the minimum rather than cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .deck import Chart, Deck, SlideKind, Table
from .fonts import Measurer
from .language import LANGUAGES, Language
from .measure import INSET_X, INSET_Y, Frame, fit, text_height, wrap
from .themes import Theme

__all__ = [
    "ChartBox",
    "Colour",
    "Geometry",
    "Item",
    "Misfit",
    "Planner",
    "Shape",
    "ShapeKind",
    "SlidePlan",
    "TableBox",
    "TextBox",
    "default_geometry",
    "sizes",
]

Role = Literal["title", "subtitle", "body", "heading", "footer", "number", "label", "value",
               "quote"]
# colours by role; the renderer maps them to the theme's palette, or to a template's own
# colour scheme (accent1, lt2...), so a template's colours win
Colour = Literal["background", "title", "text", "muted", "accent", "accent2", "surface",
                 "on_accent"]
ShapeKind = Literal["rect", "round", "chevron", "pentagon", "ellipse", "line"]


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
    colour: Colour | None = None  # None: the role's colour
    fill: Colour | None = None  # drawn as a filled autoshape of ``shape``
    shape: ShapeKind = "rect"
    italic: bool = False
    nowrap: bool = False  # a short label (a number in a marker): never wrapped

    @property
    def indent(self) -> float:
        return round(self.size * 0.9, 1) if self.bullets else 0.0


@dataclass(frozen=True, slots=True)
class Shape:
    """A decorative or structural autoshape without text (accent bar, panel, line, dot)."""

    frame: Frame
    kind: ShapeKind = "rect"
    fill: Colour = "accent"
    behind: bool = False  # a panel that text boxes may sit on (drawn first)


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


Item = TextBox | ChartBox | TableBox | Shape


@dataclass(frozen=True, slots=True)
class SlidePlan:
    kind: SlideKind
    layout: Literal["cover", "content", "section"]
    items: tuple[Item, ...]
    notes: str
    background: Colour | None = None  # a full-bleed colour (section dividers)


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
    """Proportional regions for a slide of ``width`` × ``height`` points (a 12-column grid
    inside 5 % margins; the title band is 14 % of the height)."""
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


def sizes(hi: float, lo: float, step: float = 1.0) -> list[float]:
    """Font sizes from ``hi`` down to ``lo``."""
    out, s = [], float(hi)
    while s >= lo - 1e-9:
        out.append(round(s, 1))
        s -= step
    return out


@dataclass(frozen=True, slots=True)
class Misfit:
    """Texts that do not fit their box at the legible minimum of their role, and the
    test the layout used (so advice is checked by the same measurement)."""

    labels: tuple[str, ...]  # one per paragraph: "the title", "bullet 2"...
    paragraphs: tuple[str, ...]
    fits: Callable[[list[str]], bool]
    many: str = ""  # what the paragraphs are, in the plural ("bullets", "steps")
    message: str = ""  # advice already worded (a table with too many rows)


# legible minimum per kind of text (pt): below these a presenter's audience squints
MIN_TITLE, MIN_BODY, MIN_SMALL, MIN_TABLE = 20.0, 14.0, 11.0, 10.0
FLOOR = 7.0  # where shrinking stops even when the text still does not fit


@dataclass
class Planner:
    """What every layout needs: the deck, the theme, the geometry, measurers, misfits."""

    deck: Deck
    theme: Theme
    geo: Geometry
    allow_split: bool = True
    misfits: list[Misfit] = field(default_factory=list)
    sections: int = 0  # section dividers planned so far (their number is shown)

    def __post_init__(self) -> None:
        self.lang: Language = next(
            (lang for lang in LANGUAGES.values()
             if lang.code.split("-")[0] == self.deck.language), LANGUAGES["en"])
        self.head_m = Measurer(self.theme.heading_font, self.theme.heading_ea_font)
        self.body_m = Measurer(self.theme.body_font, self.theme.ea_font)

    def fits(self, paragraphs: Sequence[str], frame: Frame, hi: float, lo: float, *,
             head: bool = False, bold: bool = False, bullets: bool = False) -> float | None:
        """The largest size in ``hi``..``lo`` at which the text fits, or None (nothing noted)."""
        m = self.head_m if head else self.body_m
        return fit(paragraphs, frame, m, sizes(hi, lo), bold=bold, bullets=bullets)

    def fit(self, paragraphs: Sequence[str], frame: Frame, hi: float, lo: float, *,
            labels: Sequence[str] | str, head: bool = False, bold: bool = False,
            bullets: bool = False, many: str = "") -> float:
        """The largest size in ``hi``..``lo`` at which the text fits; when none does, a
        :class:`Misfit` is noted and the size shrinks further (never cut), down to FLOOR."""
        size = self.fits(paragraphs, frame, hi, lo, head=head, bold=bold, bullets=bullets)
        if size is not None:
            return size
        m = self.head_m if head else self.body_m

        def check(texts: list[str]) -> bool:
            return fit(texts, frame, m, [lo], bold=bold, bullets=bullets) is not None

        self.misfit(labels, paragraphs, check, many)
        smaller = fit(paragraphs, frame, m, sizes(lo - 0.5, FLOOR, 0.5), bold=bold,
                      bullets=bullets)
        return smaller or FLOOR

    def misfit(self, labels: Sequence[str] | str, paragraphs: Sequence[str],
               check: Callable[[list[str]], bool], many: str = "") -> None:
        names = (labels,) * len(paragraphs) if isinstance(labels, str) else tuple(labels)
        self.misfits.append(Misfit(names, tuple(paragraphs), check, many))

    def note(self, message: str) -> None:
        """A misfit whose advice is already known."""
        self.misfits.append(Misfit((), (), lambda _: True, message=message))

    def one_line(self, text: str, width: float, hi: float, lo: float, *, head: bool = False,
                 bold: bool = False, label: str = "") -> float:
        """The largest size in ``hi``..``lo`` at which ``text`` stays on one line (a big
        number, a date); when none, a misfit is noted (with ``label``) and ``lo`` returned."""
        m = self.head_m if head else self.body_m
        for size in sizes(hi, lo):
            if len(wrap(text, width - 2 * INSET_X, size, m, bold)) == 1:
                return size
        if label:
            self.misfit(label, [text], lambda ts: len(wrap(ts[0], width - 2 * INSET_X, lo, m,
                                                           bold)) == 1)
        return lo

    def height(self, paragraphs: Sequence[str], width: float, size: float, *,
               head: bool = False, bold: bool = False, bullets: bool = False) -> float:
        """Height of a box holding the text at ``size`` in a box ``width`` wide (insets in)."""
        m = self.head_m if head else self.body_m
        indent = round(size * 0.9, 1) if bullets else 0.0
        return text_height(paragraphs, width - 2 * INSET_X - indent, size, m, bold) \
            + 2 * INSET_Y
