"""Reports and decks as persisted background jobs of the server (see :mod:`.manager`).

The kinds themselves are core (:mod:`qwenapp.jobs`, imported from there, not
from here); this package stores jobs and their events (:mod:`.store`) and runs
them in the server process or a worker (:mod:`.runner`).
"""

from .manager import JobManager
from .store import TERMINAL, Artifact, JobEventRow, JobRow, JobStore

__all__ = [
    "TERMINAL",
    "Artifact",
    "JobEventRow",
    "JobManager",
    "JobRow",
    "JobStore",
]
