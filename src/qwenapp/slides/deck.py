"""The deck as data: what the pipeline produces and the renderer consumes.

A :class:`Deck` is plain, JSON-serialisable structure (pydantic), so the
Python API, the HTTP API and tests can all inspect what a deck holds without
opening the .pptx. Rendering is a pure function of a Deck and a theme.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "CONTENT_KINDS",
    "Chart",
    "ChartType",
    "Column",
    "Deck",
    "Quote",
    "Series",
    "Slide",
    "SlideKind",
    "SourceRef",
    "Stat",
    "Step",
    "Table",
]

SlideKind = Literal["title", "agenda", "section", "bullets", "compare", "kpi", "quote",
                    "process", "timeline", "chart", "table", "closing"]
ChartType = Literal["bar", "line", "pie"]
# kinds that carry the deck's content (speaker notes required); title, agenda, section
# and closing are frame slides built by code
CONTENT_KINDS: tuple[SlideKind, ...] = ("bullets", "compare", "kpi", "quote", "process",
                                        "timeline", "chart", "table")


class SourceRef(BaseModel):
    """Where a slide's facts come from: a file (or report source) and a place in it."""

    id: str
    title: str
    location: str = ""

    def label(self) -> str:
        return f"{self.title}, {self.location}" if self.location else self.title


class Column(BaseModel):
    heading: str
    bullets: list[str] = Field(default_factory=list)


class Series(BaseModel):
    name: str
    values: list[float]


class Chart(BaseModel):
    """A native chart: categories on one axis, one or more series of numbers."""

    type: ChartType
    categories: list[str]
    series: list[Series]


class Table(BaseModel):
    header: list[str]
    rows: list[list[str]]


class Stat(BaseModel):
    """One big number of a KPI slide: ``value`` as shown ("1.2 M", "43 %"), what it counts."""

    value: str
    label: str


class Quote(BaseModel):
    """A quotation slide: the words (from a source, verbatim) and who said or wrote them."""

    text: str
    attribution: str = ""


class Step(BaseModel):
    """One step of a process (``label`` a short name) or one event of a timeline
    (``label`` the date or period), with a sentence that says what happens."""

    label: str
    text: str = ""


class Slide(BaseModel):
    """One slide. Which fields matter depends on ``kind``:

    bullets: ``bullets``; compare: ``left``/``right``; kpi: ``stats`` (2-4), optional
    ``bullets`` as context; quote: ``quote``; process, timeline: ``steps`` (3-6, in
    order); chart: ``chart`` and ``takeaway`` (one sentence: what the data shows), optional
    ``bullets``; table: ``table``, optional ``takeaway``; section: ``title``/``subtitle``.
    """

    kind: SlideKind
    title: str
    subtitle: str = ""
    bullets: list[str] = Field(default_factory=list)
    left: Column | None = None
    right: Column | None = None
    chart: Chart | None = None
    table: Table | None = None
    stats: list[Stat] = Field(default_factory=list)
    quote: Quote | None = None
    steps: list[Step] = Field(default_factory=list)
    takeaway: str = ""
    notes: str = ""
    sources: list[SourceRef] = Field(default_factory=list)

    def notes_text(self, sources_label: str = "Sources") -> str:
        """Speaker notes as rendered: the notes, then the sources they rest on."""
        text = self.notes.strip()
        if self.sources:
            cited = "; ".join(dict.fromkeys(s.label() for s in self.sources))
            text = f"{text}\n\n{sources_label}: {cited}" if text else f"{sources_label}: {cited}"
        return text


class Deck(BaseModel):
    title: str
    subtitle: str = ""
    language: str = "en"
    slides: list[Slide]

    def problems(self) -> list[str]:
        """Structural faults that would make a broken or misleading file (empty = renderable)."""
        out: list[str] = []
        if not self.title.strip():
            out.append("the deck has no title")
        if not self.slides:
            out.append("the deck has no slides")
        for i, s in enumerate(self.slides, 1):
            where = f"slide {i}"
            if not s.title.strip():
                out.append(f"{where} has no title")
            if s.kind in CONTENT_KINDS and not s.notes.strip():
                out.append(f"{where} has no speaker notes")
            if s.kind == "bullets" and not s.bullets:
                out.append(f"{where} has no bullets")
            if s.kind == "compare" and (s.left is None or s.right is None):
                out.append(f"{where} is a comparison without two columns")
            if s.kind == "kpi" and not 1 <= len(s.stats) <= 4:
                out.append(f"{where} is a KPI slide without 1 to 4 numbers")
            if s.kind == "quote" and (s.quote is None or not s.quote.text.strip()):
                out.append(f"{where} is a quote slide without a quotation")
            if s.kind in ("process", "timeline") and not 2 <= len(s.steps) <= 7:
                out.append(f"{where} is a {s.kind} without 2 to 7 steps")
            if s.kind == "chart":
                c = s.chart
                if c is None or not c.series or len(c.categories) < 2:
                    out.append(f"{where} is a chart without data")
                elif any(len(se.values) != len(c.categories) for se in c.series):
                    out.append(f"{where} has a chart whose series and categories differ in length")
            if s.kind == "table":
                t = s.table
                if t is None or not t.header or not t.rows:
                    out.append(f"{where} is a table without rows")
                elif any(len(r) != len(t.header) for r in t.rows):
                    out.append(f"{where} has a table row of the wrong width")
        return out
