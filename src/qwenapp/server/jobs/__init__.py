"""Reports and decks as persisted background jobs (see :mod:`.manager`)."""

from .deck_job import DeckJob, DeckJobRequest
from .kinds import JobContext, JobEvent, JobKind, JobServices
from .manager import JobManager
from .report_job import ReportJob, ReportJobRequest
from .store import TERMINAL, Artifact, JobEventRow, JobRow, JobStore

__all__ = [
    "TERMINAL",
    "Artifact",
    "DeckJob",
    "DeckJobRequest",
    "JobContext",
    "JobEvent",
    "JobEventRow",
    "JobKind",
    "JobManager",
    "JobRow",
    "JobServices",
    "JobStore",
    "ReportJob",
    "ReportJobRequest",
]
