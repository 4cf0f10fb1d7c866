"""Reports and decks as jobs: the kinds, their requests, and what a running job may use.

Core, not server: a job kind depends only on the pipelines (``reports``,
``slides``), the library and the model layer, and on its collaborators by
protocol (:class:`JobServices`), so the HTTP server's job manager, the CLI and
a separate worker process run the same kinds. Failures are core errors
(:mod:`.errors`); the HTTP API maps them to status codes. Where a job is
queued, stored and followed is the runner's business (today
:class:`qwenapp.server.jobs.JobManager`).
"""

from typing import Any

from .deck import DeckJob, DeckJobRequest
from .errors import Busy, Gone, InvalidJob, JobRefused, NotFound
from .events import JobEvent
from .kinds import (
    ARTIFACT_NAME,
    Clarified,
    DocumentOwners,
    JobConfig,
    JobContext,
    JobKind,
    JobRecords,
    JobRequest,
    JobServices,
    Models,
)
from .report import ReportJob, ReportJobRequest

__all__ = [
    "ARTIFACT_NAME",
    "Busy",
    "Clarified",
    "DeckJob",
    "DeckJobRequest",
    "DocumentOwners",
    "Gone",
    "InvalidJob",
    "JobConfig",
    "JobContext",
    "JobEvent",
    "JobKind",
    "JobRecords",
    "JobRefused",
    "JobRequest",
    "JobServices",
    "Models",
    "NotFound",
    "ReportJob",
    "ReportJobRequest",
    "default_kinds",
]


def default_kinds() -> dict[str, JobKind[Any]]:
    """Every kind this package has, by name."""
    kinds: list[JobKind[Any]] = [ReportJob(), DeckJob()]
    return {k.name: k for k in kinds}
