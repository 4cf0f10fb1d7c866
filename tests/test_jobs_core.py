"""The job kinds run outside the server: collaborators by protocol, core errors, typed events.

What a worker process (or the CLI) would do with a job: build ``JobServices``
from plain objects, check the request, run the kind and store each event's
wire form. No server module is used here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qwenapp.errors import UnknownModelError
from qwenapp.jobs import (
    DeckJob,
    DeckJobRequest,
    InvalidJob,
    JobConfig,
    JobContext,
    JobServices,
    NotFound,
    ReportJob,
    ReportJobRequest,
)
from qwenapp.jobs.kinds import OwnedFile
from qwenapp.library import Library
from qwenapp.models.base import Backend
from qwenapp.models.scripted import load_script
from qwenapp.settings import load_settings
from qwenapp.slides.scripted import cli_script
from qwenapp.store import open_db
from qwenapp.wire import event_json

TOPIC = "Open models at work"


class _Models:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def get(self, name: str | None) -> Backend:
        if name and name != self.backend.name:
            raise UnknownModelError(f"no model {name!r}")
        return self.backend


class _NoDocuments:
    def documents(self, user_id: str) -> Sequence[OwnedFile]:
        return []

    def document(self, document_id: str, user_id: str) -> OwnedFile | None:
        return None


@dataclass
class _Row:
    kind: str
    status: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Records:
    """Jobs kept in memory, as a worker's test double of the job store."""

    rows: dict[str, _Row] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)

    def get(self, job_id: str, user_id: str) -> _Row | None:
        return self.rows.get(job_id)

    def set_state(self, job_id: str, state: dict[str, Any]) -> None:
        self.rows[job_id].state = dict(state)

    def add_artifact(self, job_id: str, name: str, media_type: str, size: int) -> None:
        self.artifacts.append(name)


@pytest.fixture
def services(tmp_path: Path) -> JobServices:
    script = cli_script(tmp_path / "script.json", TOPIC, 5)
    conn = open_db(tmp_path / "db.sqlite")
    return JobServices(conn, Library(conn), _NoDocuments(), _Models(load_script(str(script))),
                       load_settings({"QWENAPP_HOME": str(tmp_path)}),
                       JobConfig(deck_previews=False, report_pdf=False), _Records())


def test_requests_are_refused_with_core_errors(services: JobServices) -> None:
    deck, report = DeckJob(), ReportJob()
    with pytest.raises(InvalidJob) as bad:
        deck.check(DeckJobRequest(topic="x", theme="neon"), "u", services)
    assert (bad.value.code, bad.value.param) == ("unknown_theme", "theme")
    with pytest.raises(InvalidJob) as empty:
        deck.check(DeckJobRequest(), "u", services)
    assert empty.value.param == "topic" and empty.value.hint
    with pytest.raises(NotFound, match="no such document"):
        deck.check(DeckJobRequest(topic="x", document_ids=["nope"]), "u", services)
    with pytest.raises(NotFound, match="no such report job"):
        deck.check(DeckJobRequest(from_job="nope"), "u", services)
    with pytest.raises(UnknownModelError):
        report.check(ReportJobRequest(question="q", model="other"), "u", services)
    with pytest.raises(InvalidJob) as web:
        report.check(ReportJobRequest(question="q", web=True), "u", services)
    assert (web.value.code, web.value.param) == ("web_disabled", "web")


def test_a_deck_job_runs_and_its_events_have_their_wire_form(
        services: JobServices, tmp_path: Path) -> None:
    records = services.jobs
    assert isinstance(records, _Records)
    records.rows["j1"] = _Row("deck", "running")
    ctx = JobContext("j1", "u", tmp_path / "j1", {}, services)
    ctx.workdir.mkdir()
    kind = DeckJob()
    request = kind.request_model.model_validate(
        json.loads(DeckJobRequest(topic=TOPIC, slides=5).model_dump_json()))  # as read back

    async def run() -> list[tuple[str, dict[str, Any]]]:
        return [event_json(ev) async for ev in kind.run(ctx, request)]

    rows = asyncio.run(run())
    names = [n for n, _ in rows]
    assert names[0] == "outline_started" and "outline" in names and "generated" in names
    assert names.count("slide_written") == 3 and names[-1] == "result"
    json.dumps(rows)  # every event is JSON as it comes
    result = rows[-1][1]
    assert result["slides"] == 5 and result["artifacts"] == ["deck.pptx"]
    assert records.artifacts == ["deck.pptx", "deck.json"]
    assert (ctx.workdir / "deck.pptx").stat().st_size > 0
