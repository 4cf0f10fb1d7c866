"""Progress of a report run, as typed values the CLI (or an API) renders.

Each event's ``event_kind`` is its name on the wire; its JSON form is derived in
:mod:`qwenapp.wire`, never next to the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .model import Plan, Report

__all__ = [
    "Finished",
    "PassagesReady",
    "PlanReady",
    "ReportEvent",
    "RunStarted",
    "SearchDone",
    "SectionStarted",
    "SectionWritten",
    "SourceRead",
    "SourceSkipped",
    "StageReused",
    "Warned",
]


@dataclass(frozen=True, slots=True)
class RunStarted:
    event_kind: ClassVar[str] = "started"
    report_id: str
    resumed: bool
    language: str


@dataclass(frozen=True, slots=True)
class StageReused:
    event_kind: ClassVar[str] = "stage_reused"
    stage: str  # a stage saved by an earlier, interrupted run


@dataclass(frozen=True, slots=True)
class PlanReady:
    event_kind: ClassVar[str] = "plan"
    plan: Plan
    fallback: bool


@dataclass(frozen=True, slots=True)
class SourceRead:
    event_kind: ClassVar[str] = "source_read"
    locator: str
    title: str
    detail: str  # "12 pages, 30 passages", "unchanged"


@dataclass(frozen=True, slots=True)
class SourceSkipped:
    event_kind: ClassVar[str] = "source_skipped"
    locator: str
    reason: str


@dataclass(frozen=True, slots=True)
class SearchDone:
    event_kind: ClassVar[str] = "search"
    query: str
    results: int


@dataclass(frozen=True, slots=True)
class PassagesReady:
    event_kind: ClassVar[str] = "passages"
    passages: int
    sources: int


@dataclass(frozen=True, slots=True)
class SectionStarted:
    event_kind: ClassVar[str] = "section_started"
    index: int
    total: int
    heading: str


@dataclass(frozen=True, slots=True)
class SectionWritten:
    event_kind: ClassVar[str] = "section_written"
    index: int
    total: int
    heading: str
    citations: int
    removed: int  # citations to passages the writer was not shown
    fallback: bool = False  # the model's text failed the checks: quoted extracts instead
    dropped: int = 0  # model sentences removed by the checks
    sentences: int = 0


@dataclass(frozen=True, slots=True)
class Warned:
    event_kind: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True, slots=True)
class Finished:
    event_kind: ClassVar[str] = "finished"
    report: Report


ReportEvent = (RunStarted | StageReused | PlanReady | SourceRead | SourceSkipped | SearchDone
               | PassagesReady | SectionStarted | SectionWritten | Warned | Finished)
