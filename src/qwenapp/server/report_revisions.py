"""Revise a finished report job by asking, with versions: the report half of
``/api/jobs/{id}/revisions`` (:mod:`.revisions_api` routes a job here by its kind).

``"expand the section on risks"`` is read by rules and applied by
:func:`qwenapp.reports.revise.revise_report`: only the sections it touches are
written again, under the same verification as a new report, and the revision
is a report of its own, chained as the next version (migration 0301; version 1
is the report the job wrote). The job's files (report.md, .html, .json, and the
.docx or .pdf when the job made them) become that version, rendered from its
structure, its saved ``report_id`` points at it, and its ``result`` event (what
``GET /api/jobs/{id}`` and a replay of its events say it made) describes it, so chat
turns, downloads, followers and "Make slides" see what the user sees. A request that
names a section the report does not have, or maps to no edit, is a question, and
changes nothing.

Any version can be read, downloaded in any format the job offers (rendered
with no model call), compared with another (sections same, changed, added,
removed) and restored (it becomes the newest version again). The report's
sources are shown by their upload names, never a server path, as in the job.
Ownership is the job's: the routes only reach this module with the caller's
own job, and every report id here comes from that job's chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.responses import Response

from ..errors import QwenappError
from ..jobs.events import ReportMade
from ..jobs.report import _public as public_report
from ..output import find_soffice, write_atomic
from ..reports import Report, ReportError, ReportStore, UnknownReportError, load_report
from ..reports.events import SectionStarted, SectionWritten
from ..reports.render import render
from ..reports.revise import (
    Clarify,
    ExpandSection,
    RemoveSection,
    Restate,
    describe,
    read_request,
    revise_report,
)
from ..reports.tools import source_tools
from ..reports.versions import ReportVersion, ReportVersions, compare_reports
from ..wire import event_json
from .errors import HttpError, from_core, not_found
from .jobs import JobRow
from .sse import EventStream, encode_event
from .state import ServerState

__all__ = ["ReportCompareOut", "ReportPreviewOut", "ReportRevisionOut", "ReportVersionDetail",
           "ReportVersionList", "ReportVersionOut", "compare", "detail", "download",
           "listing", "preview", "restore", "revise", "revise_stream"]

FILES = ("report.md", "report.html", "report.docx", "report.pdf", "report.json")
_locks: dict[str, asyncio.Lock] = {}  # one revision of a report at a time


class ReportVersionOut(BaseModel):
    kind: Literal["report"]
    version: int
    created_at: str
    request: str
    summary: str
    changed: list[int] = Field(description="Sections new or rewritten in this version.")
    title: str
    sections: int
    files: dict[str, str] = Field(description="This version in each format the job offers: "
                                              "file name -> download URL.")


class ReportVersionDetail(ReportVersionOut):
    report: dict[str, Any]


class ReportVersionList(BaseModel):
    kind: Literal["report"]
    current: int
    versions: list[ReportVersionOut]


class ReportRevisionOut(BaseModel):
    kind: Literal["report"]
    outcome: Literal["revised", "question"]
    question: str | None = None
    version: ReportVersionOut | None = None
    notes: list[str] = Field(default_factory=list)


class ReportPreviewOut(BaseModel):
    kind: Literal["report"]
    outcome: Literal["plan", "question"]
    question: str | None = None
    recognized: bool = Field(default=True, description=(
        "The request asks for a change of this report (false: nothing in it maps to an edit)."))
    steps: list[str] = Field(default_factory=list, description="What the revision will do.")
    sections: list[int] = Field(default_factory=list,
                                description="Sections it rewrites or removes.")
    needs_model: bool = True


class SectionDiffOut(BaseModel):
    section: int = Field(description="Its number in version b (0 for a removed section).")
    status: Literal["same", "changed", "added", "removed"]
    heading: str
    was: int = Field(description="Its number in version a (0 for an added section).")


class ReportCompareOut(BaseModel):
    kind: Literal["report"]
    a: int
    b: int
    sections: list[SectionDiffOut]


# ---------------------------------------------------------------- the job's chain


def _root(job: JobRow) -> str:
    rid = job.state.get("report_id")
    if not isinstance(rid, str) or not rid:
        raise HttpError(410, "the report is no longer stored", code="gone")
    return rid


def _history(state: ServerState, job: JobRow) -> list[ReportVersion]:
    """The job's versions, oldest first (version 1 alone until the first revision)."""
    try:
        return ReportVersions(state.conn).versions(_root(job))
    except UnknownReportError:
        raise HttpError(410, "the report is no longer stored", code="gone") from None


def _version(state: ServerState, job: JobRow, n: int) -> ReportVersion:
    for v in _history(state, job):
        if v.version == n:
            return v
    raise not_found("version")


def _report(state: ServerState, job: JobRow, v: ReportVersion) -> Report:
    """Version ``v`` as the user sees it: each source by the name it was uploaded with."""
    try:
        report = load_report(state.conn, v.report_id)
    except (ReportError, UnknownReportError):
        raise HttpError(410, "that version is no longer stored", code="gone") from None
    names = {d.path: d.filename for d in state.owners.documents(job.user_id)}
    for loc in {s.locator for s in report.sources} | {p.source.locator
                                                      for p in report.passages}:
        if loc not in names and not loc.startswith(("http://", "https://")):
            names[loc] = Path(loc).name  # a document deleted since: never its server path
    return public_report(report, names)


def _offered(state: ServerState, job: JobRow) -> list[str]:
    return [a.name for a in state.jobs.store.artifacts(job.id) if a.name in FILES]


def _out(state: ServerState, job: JobRow, v: ReportVersion, report: Report
         ) -> ReportVersionOut:
    base = f"/api/jobs/{job.id}/versions/{v.version}"
    return ReportVersionOut(kind="report", version=v.version, created_at=v.created_at,
                            request=v.request, summary=v.summary, changed=v.changed,
                            title=report.title, sections=len(report.sections),
                            files={n: f"{base}/{n}" for n in _offered(state, job)})


def _set_result(state: ServerState, job: JobRow, made: ReportMade, version: int) -> None:
    """The job's ``result`` event describes ``made`` (version ``version``), in place.

    Decision: rewritten, not appended. A job's stream ends with its ``done`` event and a
    follower stops there, so a second ``result`` after it would never be read, and one
    before it cannot be inserted (ids are sequence numbers a client resumes from). The
    event says what the job made; since a revision is what the job's files now hold, the
    same event, at the same id, says that. The progress events before it are history and
    stay as they were."""
    _, data = event_json(made)
    data["version"] = version
    state.jobs.store.replace_event_data(job.id, "result", data)


async def _make_current(state: ServerState, job: JobRow, report: Report, v: ReportVersion
                        ) -> list[str]:
    """The job's files, saved ``report_id`` and ``result`` become version ``v``; notes on a
    format that could not be made (its old file is removed, so it never shows another
    version)."""
    folder = state.jobs.workdir(job.id)
    store = state.jobs.store
    notes: list[str] = []
    made: list[str] = []
    for art in store.artifacts(job.id):
        if art.name not in FILES:
            continue
        ext = Path(art.name).suffix
        try:
            if ext == ".json":
                data = report.model_dump_json().encode()
            elif ext == ".pdf" and find_soffice() is None:
                raise ReportError("LibreOffice is no longer installed")
            else:
                data = await asyncio.to_thread(render, report, ext)
        except Exception as e:  # one format failing (LibreOffice) must not stop the rest
            (folder / art.name).unlink(missing_ok=True)  # its download answers 410
            notes.append(f"no {ext[1:]} of this version: {e}")
            continue
        write_atomic(folder / art.name, data)
        store.add_artifact(job.id, art.name, art.media_type, len(data))
        made.append(art.name)
    fresh = store.get(job.id, job.user_id)
    store.set_state(job.id, {**(fresh.state if fresh else job.state),
                             "report_id": v.report_id})
    _set_result(state, job, ReportMade(v.report_id, report.title, report.language,
                                       len(report.sections), len(report.references),
                                       tuple(report.warnings), tuple(made)), v.version)
    return notes


# ---------------------------------------------------------------- the routes' work


def _touched(edits: list[Any], count: int) -> list[int]:
    out: set[int] = set()
    for e in edits:
        if isinstance(e, ExpandSection | RemoveSection):
            out.add(e.section)
        elif isinstance(e, Restate):
            out.update(range(1, count + 1))
    return sorted(out)


def preview(state: ServerState, job: JobRow, request: str) -> ReportPreviewOut:
    """How ``request`` reads (no model call, nothing changed)."""
    current = _history(state, job)[-1]
    try:
        edits, plan = read_request(state.conn, current.report_id, request)
    except ReportError as e:
        raise HttpError(410, e.message, code="gone") from None
    if isinstance(edits, Clarify):
        return ReportPreviewOut(kind="report", outcome="question", question=edits.question,
                                recognized=edits.recognized)
    return ReportPreviewOut(kind="report", outcome="plan",
                            steps=[describe(e, plan) for e in edits],
                            sections=_touched(edits, len(plan.sections)))


Progress = Callable[[SectionStarted | SectionWritten], None]


async def revise(state: ServerState, job: JobRow, request: str,
                 progress: Progress | None = None) -> ReportRevisionOut:
    """Apply ``request`` to the newest version; the result is the next one (or a question)."""
    async with _locks.setdefault(job.id, asyncio.Lock()):
        current = _history(state, job)[-1]
        try:
            edits, _ = read_request(state.conn, current.report_id, request)
        except ReportError as e:
            raise HttpError(410, e.message, code="gone") from None
        if isinstance(edits, Clarify):  # before any model is started
            return ReportRevisionOut(kind="report", outcome="question", question=edits.question)
        services = state.jobs.services
        backend = state.models.get(job.request.get("model"))
        saved = ReportStore(state.conn).request(current.report_id)
        if not services.config.web:  # what the server allows now, not when the job ran
            saved = saved.model_copy(update={"urls": [], "web": False})
        try:
            async with source_tools(services.library, saved,
                                    search_env=services.config.search_env) as tools:
                result = await revise_report(state.conn, backend, current.report_id, request,
                                             tools, progress=progress)
        except ReportError as e:
            raise HttpError(422, e.message, code="revision_failed", hint=e.hint) from None
        if isinstance(result, Clarify):
            return ReportRevisionOut(kind="report", outcome="question", question=result.question)
        v = _history(state, job)[-1]
        shown = _report(state, job, v)
        notes = [*result.notes, *await _make_current(state, job, shown, v)]
    return ReportRevisionOut(kind="report", outcome="revised", version=_out(state, job, v, shown),
                             notes=notes)


_running: set[asyncio.Task[None]] = set()  # revisions whose client may have gone


def revise_stream(state: ServerState, job: JobRow, request: str) -> EventStream:
    """The same revision answered as Server-Sent Events, for a page that shows it happen.

    ``revision_plan`` (the steps and sections, from the rules alone), then
    ``section_started`` / ``section_written`` as each section is written again (the
    shapes a new report's job stream uses), then ``revised`` or ``question`` (the plain
    answer's JSON) or ``error`` (an error's JSON). A question comes at once, with no model
    started. The revision runs to its end even when the client goes away: what was asked
    for becomes the newest version, as with the plain answer.
    """
    plan = preview(state, job, request)  # a gone report is a plain HTTP error, here
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def work() -> None:
        final = ("error", HttpError(500, "the revision failed", code="error").body())
        try:
            out = await revise(state, job, request, lambda ev: queue.put_nowait(event_json(ev)))
            final = (out.outcome, out.model_dump(mode="json"))
        except HttpError as e:
            final = ("error", e.body())
        except QwenappError as e:
            final = ("error", from_core(e).body())
        finally:
            queue.put_nowait(final)

    async def source() -> AsyncIterator[bytes]:
        if plan.outcome == "question":
            yield encode_event("question", ReportRevisionOut(
                kind="report", outcome="question", question=plan.question).model_dump(mode="json"))
            return
        yield encode_event("revision_plan", plan.model_dump(mode="json"))
        task = asyncio.create_task(work())
        _running.add(task)
        task.add_done_callback(_running.discard)
        while True:
            name, data = await queue.get()
            yield encode_event(name, data)
            if name in ("revised", "question", "error"):
                return

    return EventStream(source())


def listing(state: ServerState, job: JobRow) -> ReportVersionList:
    found = _history(state, job)
    return ReportVersionList(kind="report", current=found[-1].version, versions=[
        _out(state, job, v, _report(state, job, v)) for v in found])


def detail(state: ServerState, job: JobRow, n: int) -> ReportVersionDetail:
    v = _version(state, job, n)
    report = _report(state, job, v)
    return ReportVersionDetail(**_out(state, job, v, report).model_dump(),
                               report=report.model_dump(mode="json"))


async def download(state: ServerState, job: JobRow, n: int, name: str) -> Response:
    """Version ``n`` as ``name`` (a format the job offers), rendered from its structure."""
    media = {a.name: a.media_type for a in state.jobs.store.artifacts(job.id)}
    if name not in FILES or name not in media:
        raise not_found("file")
    report = _report(state, job, _version(state, job, n))
    ext = Path(name).suffix
    data = report.model_dump_json().encode() if ext == ".json" else \
        await asyncio.to_thread(render, report, ext)
    return Response(data, media_type=media[name], headers={
        "Content-Disposition": f'attachment; filename="report-v{n}{ext}"',
        "X-Content-Type-Options": "nosniff"})


def compare(state: ServerState, job: JobRow, a: int, b: int) -> ReportCompareOut:
    """Which sections of version ``b`` are as in ``a``, rewritten, new, or gone."""
    ra = _report(state, job, _version(state, job, a))
    rb = _report(state, job, _version(state, job, b))
    return ReportCompareOut(kind="report", a=a, b=b, sections=[
        SectionDiffOut(section=d.section, status=d.status,  # type: ignore[arg-type]
                       heading=d.heading, was=d.was) for d in compare_reports(ra, rb)])


async def restore(state: ServerState, job: JobRow, n: int) -> ReportRevisionOut:
    """Go back to version ``n``: it becomes the newest version again."""
    async with _locks.setdefault(job.id, asyncio.Lock()):
        old = _version(state, job, n)  # another chain's or a missing version: a 404 here
        shown = _report(state, job, old)
        try:
            v = ReportVersions(state.conn).restore(_root(job), n)
        except (ReportError, UnknownReportError) as e:
            raise HttpError(410, e.message, code="gone") from None
        notes = await _make_current(state, job, shown, v)
    return ReportRevisionOut(kind="report", outcome="revised", version=_out(state, job, v, shown),
                             notes=notes)
