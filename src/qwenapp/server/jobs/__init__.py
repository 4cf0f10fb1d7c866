"""Reports and decks as persisted background jobs of the server (see :mod:`.manager`).

The kinds themselves are core (:mod:`qwenapp.jobs`); this package stores jobs
and their events (:mod:`.store`) and runs them in the server process.
"""

from ...jobs import (
    DeckJob,
    DeckJobRequest,
    JobContext,
    JobEvent,
    JobKind,
    JobServices,
    ReportJob,
    ReportJobRequest,
)
from .manager import JobManager
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
