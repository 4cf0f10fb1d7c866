"""What a kind of job is (report, deck...), and what a running job may use.

A :class:`JobKind` is generic over its request type: the request is
validated once where it enters (the API's body, a tool call's arguments),
checked by :meth:`JobKind.check` when the job is created (so a bad request
is refused at once, not failed later), and validated again only when it is
read back from storage. The kind runs it as an async iterator of typed
events (:data:`.events.JobEvent`: its pipeline's, and its own), with a
:class:`JobContext`: the job's folder, its saved state (for resuming), and
the collaborators in :class:`JobServices`.

It never sees HTTP. Its collaborators are typed by what a job needs of
them (protocols below), not by the server classes that provide them today,
so the CLI or a separate worker process can run the same kinds; failures
are core errors (:mod:`.errors`).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, Field

from ..clarify import notes_from_answers
from ..library import Library
from ..models.base import Backend
from ..output import write_atomic
from ..settings import Settings
from ..store.connection import Connection
from .events import JobEvent

__all__ = ["ARTIFACT_NAME", "Clarified", "DocumentOwners", "JobConfig", "JobContext",
           "JobEvent", "JobKind", "JobRecord", "JobRecords", "JobRequest", "JobServices",
           "Models", "OwnedFile", "R"]

ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Clarified(BaseModel):
    """One clarifying question (from ``POST /api/clarify``) and the user's answer."""

    question: str = Field(max_length=300)
    answer: str = Field(default="", max_length=1000)


class JobRequest(BaseModel):
    """What every kind of job accepts besides its own fields; ``kind`` names the kind."""

    kind: str
    model: str | None = None
    conversation_id: str | None = Field(
        default=None, description="One of your conversations: the job shows in it.")
    after_message_id: str | None = Field(
        default=None, description="The message of that conversation the job follows; "
                                  "omitted: its latest message.")
    clarifications: list[Clarified] = Field(
        default_factory=list, max_length=8,
        description="Answers to clarifying questions (POST /api/clarify); they guide the "
                    "writing.")

    def notes(self) -> str:
        """The clarifications as guidance for the model's prompts."""
        return notes_from_answers((c.question, c.answer) for c in self.clarifications)


R = TypeVar("R", bound=JobRequest)


# -- what a job needs of its collaborators --------------------------------------------------

class Models(Protocol):
    def get(self, name: str | None) -> Backend:
        """The backend called ``name`` (``None``: the default); UnknownModelError if none."""
        ...


class OwnedFile(Protocol):
    """A user's document: the library's key (``path``) and the name it was uploaded as."""

    @property
    def id(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def filename(self) -> str: ...


class DocumentOwners(Protocol):
    def documents(self, user_id: str) -> Sequence[OwnedFile]: ...

    def document(self, document_id: str, user_id: str) -> OwnedFile | None: ...


class JobRecord(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def state(self) -> dict[str, Any]: ...


class JobRecords(Protocol):
    """Where jobs are kept: a job reads another of its user's (a deck from a report) and
    records its own state and files."""

    def get(self, job_id: str, user_id: str) -> JobRecord | None: ...

    def set_state(self, job_id: str, state: dict[str, Any]) -> None: ...

    def add_artifact(self, job_id: str, name: str, media_type: str, size: int) -> None: ...


@dataclass(frozen=True, slots=True)
class JobConfig:
    """What the place a job runs in allows it (the server's options, or the CLI's)."""

    web: bool = False  # report jobs may read URLs and search the web
    search: str = "duckduckgo"
    search_env: Mapping[str, str] = field(default_factory=dict)
    web_allowed_hosts: frozenset[str] = frozenset()
    report_pdf: bool = True
    deck_previews: bool = True
    upload_bytes: int = 50 * 1024 * 1024  # the limit a user's documents were accepted under


@dataclass(frozen=True, slots=True)
class JobServices:
    conn: Connection
    library: Library
    owners: DocumentOwners
    models: Models
    settings: Settings
    config: JobConfig
    jobs: JobRecords


@dataclass
class JobContext:
    job_id: str
    user_id: str
    workdir: Path
    state: dict[str, Any]  # saved by an earlier run of this job; {} on the first
    services: JobServices
    resumed: bool = False

    def save_state(self, **values: Any) -> None:
        """Persist what a resumed run needs (e.g. the report id)."""
        self.state.update(values)
        self.services.jobs.set_state(self.job_id, self.state)

    def add_artifact(self, name: str, data: bytes | Path, media_type: str) -> None:
        """Keep a file for download. ``data`` is bytes or a file already in ``workdir``."""
        if not ARTIFACT_NAME.match(name):
            raise ValueError(f"bad artifact name {name!r}")
        target = self.workdir / name
        if isinstance(data, Path):
            if data.resolve() != target.resolve():
                os.replace(data, target)
        else:
            write_atomic(target, data)
        self.services.jobs.add_artifact(self.job_id, name, media_type, target.stat().st_size)


class JobKind(Protocol[R]):
    name: ClassVar[str]
    resumable: ClassVar[bool]  # False: a restart mid-run ends the job as failed

    @property
    def request_model(self) -> type[R]:
        """The request's pydantic model (validates it when read back from storage)."""
        ...

    def title(self, request: R) -> str:
        """A short name for lists."""
        ...

    def check(self, request: R, user_id: str, services: JobServices) -> None:
        """Raise a core error (:mod:`.errors`) when the request cannot run (at creation)."""
        ...

    def run(self, ctx: JobContext, request: R) -> AsyncIterator[JobEvent]:
        """Do the work, yielding progress; artifacts through ``ctx.add_artifact``."""
        ...
