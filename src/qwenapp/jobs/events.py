"""What a job says besides its pipeline's own events: its life, and what it made.

A job's stream is the runner's events (:class:`JobQueued`, :class:`JobRunning`,
:class:`JobResuming`, :class:`JobEnded`), the pipeline's typed events as the
pipeline yields them (:mod:`qwenapp.reports.events`, :mod:`qwenapp.slides.events`),
and the kind's own (rendering a report's formats, the result). Each has an
``event_kind``; its JSON form is derived in :mod:`qwenapp.wire`, and that is
what a job's stored events hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from ..reports.events import ReportEvent
from ..slides.events import Exported, Progress, Rendered, Rendering

__all__ = ["DeckMade", "JobEnded", "JobEvent", "JobQueued", "JobResuming", "JobRunning",
           "ReportMade", "ReportRendering", "RunnerEvent"]


@dataclass(frozen=True, slots=True)
class JobQueued:
    event_kind: ClassVar[str] = "queued"
    kind: str  # the job's kind: "report", "deck"
    title: str


@dataclass(frozen=True, slots=True)
class JobRunning:
    event_kind: ClassVar[str] = "running"
    resumed: bool


@dataclass(frozen=True, slots=True)
class JobResuming:
    """A job left running by a stopped server is queued again."""

    event_kind: ClassVar[str] = "resuming"
    reason: str


@dataclass(frozen=True, slots=True)
class JobEnded:
    """The last event of every job: it is named by its status."""

    status: Literal["done", "failed", "cancelled"]
    error: str | None = None

    @property
    def event_kind(self) -> str:
        return self.status


@dataclass(frozen=True, slots=True)
class ReportRendering:
    event_kind: ClassVar[str] = "rendering"
    formats: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportMade:
    event_kind: ClassVar[str] = "result"
    report_id: str
    title: str
    language: str
    sections: int
    references: int
    warnings: tuple[str, ...]
    artifacts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeckMade:
    event_kind: ClassVar[str] = "result"
    title: str
    slides: int
    artifacts: tuple[str, ...]
    thumbnails: tuple[str, ...]


# what a kind's run yields: its pipeline's events and its own
JobEvent = (ReportEvent | Progress | Rendering | Rendered | Exported | ReportRendering
            | ReportMade | DeckMade)
# what the runner adds around them
RunnerEvent = JobQueued | JobRunning | JobResuming | JobEnded
