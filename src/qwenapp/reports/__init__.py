"""Research reports: a question in, a structured report out, every claim cited.

Plain typed stages (:mod:`.plan`, :mod:`.gather`, :mod:`.write`,
:mod:`.assemble`, :mod:`.render`) driven by :func:`run_report`, which
persists each stage so an interrupted run resumes. Citations are data: code
numbers the passages it retrieved; the model cites those numbers; the pure
validator (:mod:`.cite`) removes anything else.
"""

from .assemble import assemble, citation_support
from .cite import check_citations, overlap
from .errors import NoSourcesError, RenderError, ReportError, UnknownReportError
from .events import (
    Finished,
    PassagesReady,
    PlanReady,
    ReportEvent,
    RunStarted,
    SearchDone,
    SectionStarted,
    SectionWritten,
    SourceRead,
    SourceSkipped,
    StageReused,
    Warned,
)
from .gather import SourceTools
from .model import (
    Passage,
    Plan,
    PlanSection,
    Reference,
    Report,
    ReportRequest,
    ReportSection,
    SourceRef,
)
from .render import check_output, render, write_report
from .runner import RunConfig, run_report
from .store import ReportStore, SavedReport, load_report

__all__ = [
    "Finished",
    "NoSourcesError",
    "Passage",
    "PassagesReady",
    "Plan",
    "PlanReady",
    "PlanSection",
    "Reference",
    "RenderError",
    "Report",
    "ReportError",
    "ReportEvent",
    "ReportRequest",
    "ReportSection",
    "ReportStore",
    "RunConfig",
    "RunStarted",
    "SavedReport",
    "SearchDone",
    "SectionStarted",
    "SectionWritten",
    "SourceRead",
    "SourceRef",
    "SourceSkipped",
    "SourceTools",
    "StageReused",
    "UnknownReportError",
    "Warned",
    "assemble",
    "check_citations",
    "check_output",
    "citation_support",
    "load_report",
    "overlap",
    "render",
    "run_report",
    "write_report",
]
