"""What a deck request is, what a run measures, and the progress events it yields.

Kept apart from the stages so the CLI, the server job and the stages
themselves share one vocabulary without importing each other. The build's own
events (rendering, rendered, exported, built) are here too, so every event of a
deck run is in one module. Each event's ``event_kind`` is its name on the wire;
its JSON form is derived in :mod:`qwenapp.wire`, never next to the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .deck import Deck
from .outline import ContentKind, Outline

__all__ = [
    "DeckBuilt",
    "DeckGenerated",
    "DeckRequest",
    "DeckResult",
    "DeckStats",
    "Emit",
    "Exported",
    "Note",
    "OutlineReady",
    "OutlineRetry",
    "OutlineStarted",
    "Progress",
    "Rendered",
    "Rendering",
    "SlideChanged",
    "SlideRetry",
    "SlideStarted",
    "SlideWritten",
    "StageReused",
]


@dataclass(frozen=True, slots=True)
class DeckRequest:
    """What the user asked for. ``slides`` counts every slide, title and closing included."""

    topic: str
    slides: int = 8
    audience: str = ""
    tone: str = ""
    notes: str = ""  # the user's answers to clarifying questions, or extra instructions
    language: str | None = None  # None: the language of the topic
    seed: int | None = 0
    parallel: int = 4  # concurrent model calls (engine slots)
    attempts: int = 3  # tries per model call before a slide is simplified


@dataclass(slots=True)
class DeckStats:
    outline_seconds: float = 0.0
    slides_seconds: float = 0.0
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    outline_tokens: int = 0
    slide_tokens: list[int] = field(default_factory=list)  # per content slide, retries included
    model_call_seconds: float = 0.0  # time inside model calls (the rest is code)
    degraded: int = 0  # slides rewritten as a simpler kind
    dropped: int = 0  # slides left out (after every other remedy)
    replaced: int = 0  # slides dropped as repeats and replaced by a new heading
    added: int = 0  # slides written at the end, on new headings, for ones left out
    overlapping: int = 0  # slides kept, as a last resort, with points close to others'
    shortened: int = 0  # lines the model rewrote shorter
    data_slides: int = 0  # charts and tables built by code from the sources
    report_slides: int = 0  # slides made of a report's verified sentences
    tables_found: int = 0  # usable tables found in the sources and the request
    tables_offered: int = 0  # of those, the ones the deck has room for (half its slides)
    render_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def model_seconds(self) -> float:
        return self.outline_seconds + self.slides_seconds


@dataclass(frozen=True, slots=True)
class OutlineStarted:
    event_kind: ClassVar[str] = "outline_started"
    content_slides: int
    language: str


@dataclass(frozen=True, slots=True)
class OutlineRetry:
    event_kind: ClassVar[str] = "outline_retry"
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class OutlineReady:
    event_kind: ClassVar[str] = "outline"
    outline: Outline


@dataclass(frozen=True, slots=True)
class SlideStarted:
    event_kind: ClassVar[str] = "slide_started"
    index: int  # 1-based among content slides
    total: int
    heading: str
    kind: ContentKind


@dataclass(frozen=True, slots=True)
class SlideRetry:
    event_kind: ClassVar[str] = "slide_retry"
    index: int
    heading: str
    attempt: int
    reason: str


@dataclass(frozen=True, slots=True)
class SlideWritten:
    event_kind: ClassVar[str] = "slide_written"
    index: int
    total: int
    heading: str
    kind: str
    tokens: int


@dataclass(frozen=True, slots=True)
class SlideChanged:
    """A slide made differently from the plan: ``action`` is "simplified" (rewritten as a
    simpler kind), "replaced" (a repeat, replaced by a slide on a new heading), "kept"
    (no version free of repeats could be written: the one with fewest close repeats,
    those removed) or "dropped" (left out, the last resort); ``reason`` says why."""

    event_kind: ClassVar[str] = "slide_changed"
    index: int
    heading: str
    action: str
    reason: str
    kind: str = ""  # the kind it became

    def text(self) -> str:
        what = {"simplified": f"was made a {self.kind} slide",
                "replaced": "was replaced by a slide on a new heading",
                "kept": "was kept with its points closest to new, as no new one could "
                        "be written",
                "dropped": "was left out"}.get(self.action, self.action)
        return f"slide {self.index} ({self.heading}) {what}: {self.reason}"


@dataclass(frozen=True, slots=True)
class StageReused:
    """A stage saved by an earlier, interrupted run was loaded instead of redone."""

    event_kind: ClassVar[str] = "stage_reused"
    stage: str


@dataclass(frozen=True, slots=True)
class Note:
    """Something the user may want to know (a duplicate removed, a line shortened)."""

    event_kind: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True, slots=True)
class DeckGenerated:
    event_kind: ClassVar[str] = "generated"
    deck: Deck
    stats: DeckStats


@dataclass(frozen=True, slots=True)
class Rendering:
    event_kind: ClassVar[str] = "rendering"
    slides: int


@dataclass(frozen=True, slots=True)
class Rendered:
    event_kind: ClassVar[str] = "rendered"
    path: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class Exported:
    event_kind: ClassVar[str] = "exported"
    paths: tuple[Path, ...]


@dataclass(slots=True)
class DeckResult:
    """What a build returns: the deck's structure as data, and the files written."""

    deck: Deck
    path: Path
    stats: DeckStats
    pdf: Path | None = None
    pngs: list[Path] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DeckBuilt:
    event_kind: ClassVar[str] = "built"
    result: DeckResult


Progress = (OutlineStarted | OutlineRetry | OutlineReady | SlideStarted | SlideRetry
            | SlideWritten | SlideChanged | StageReused | Note | DeckGenerated)
Emit = Callable[[Progress], None]
