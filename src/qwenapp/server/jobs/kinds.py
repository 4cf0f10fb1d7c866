"""What a kind of job is (report, deck...), and what a running job may use.

A :class:`JobKind` validates its request when the job is created (so a bad
request is a 400 at once, not a failed job later), names it, and runs it as
an async iterator of :class:`JobEvent`. It gets a :class:`JobContext`: the
job's folder, its saved state (for resuming), and the collaborators in
:class:`JobServices`. It never sees HTTP.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, Field

from ...clarify import notes_from_answers
from ...library import Library
from ...output import write_atomic
from ...settings import Settings
from ..config import ServerConfig
from ..ownership import Ownership
from ..registry import ModelRegistry
from .store import JobStore

__all__ = ["ARTIFACT_NAME", "Clarified", "JobContext", "JobEvent", "JobKind", "JobRequestBase",
           "JobServices"]

ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class Clarified(BaseModel):
    """One clarifying question (from ``POST /api/clarify``) and the user's answer."""

    question: str = Field(max_length=300)
    answer: str = Field(default="", max_length=1000)


class JobRequestBase(BaseModel):
    """What every kind of job accepts besides its own fields."""

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


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One progress event: ``type`` is the SSE event name, ``data`` its JSON."""

    type: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobServices:
    conn: sqlite3.Connection
    library: Library
    owners: Ownership
    models: ModelRegistry
    settings: Settings
    config: ServerConfig


@dataclass
class JobContext:
    job_id: str
    user_id: str
    workdir: Path
    state: dict[str, Any]  # saved by an earlier run of this job; {} on the first
    services: JobServices
    store: JobStore
    resumed: bool = False

    def save_state(self, **values: Any) -> None:
        """Persist what a resumed run needs (e.g. the report id)."""
        self.state.update(values)
        self.store.set_state(self.job_id, self.state)

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
        self.store.add_artifact(self.job_id, name, media_type, target.stat().st_size)


class JobKind(Protocol):
    name: ClassVar[str]
    resumable: ClassVar[bool]  # False: a restart mid-run ends the job as failed
    request_model: ClassVar[type[BaseModel]]

    def title(self, request: Any) -> str:
        """A short name for lists."""
        ...

    def check(self, request: Any, user_id: str, services: JobServices) -> None:
        """Raise an HttpError or InputError when the request cannot run (at creation)."""
        ...

    def run(self, ctx: JobContext, request: Any) -> AsyncIterator[JobEvent]:
        """Do the work, yielding progress; artifacts through ``ctx.add_artifact``."""
        ...

