"""Progress of a report run, as typed values the CLI (or an API) renders."""

from __future__ import annotations

from dataclasses import dataclass

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
    report_id: str
    resumed: bool
    language: str


@dataclass(frozen=True, slots=True)
class StageReused:
    stage: str  # a stage saved by an earlier, interrupted run


@dataclass(frozen=True, slots=True)
class PlanReady:
    plan: Plan
    fallback: bool


@dataclass(frozen=True, slots=True)
class SourceRead:
    locator: str
    title: str
    detail: str  # "12 pages, 30 passages", "unchanged"


@dataclass(frozen=True, slots=True)
class SourceSkipped:
    locator: str
    reason: str


@dataclass(frozen=True, slots=True)
class SearchDone:
    query: str
    results: int


@dataclass(frozen=True, slots=True)
class PassagesReady:
    passages: int
    sources: int


@dataclass(frozen=True, slots=True)
class SectionStarted:
    index: int
    total: int
    heading: str


@dataclass(frozen=True, slots=True)
class SectionWritten:
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
    message: str


@dataclass(frozen=True, slots=True)
class Finished:
    report: Report


ReportEvent = (RunStarted | StageReused | PlanReady | SourceRead | SourceSkipped | SearchDone
               | PassagesReady | SectionStarted | SectionWritten | Warned | Finished)
