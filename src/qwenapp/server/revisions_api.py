"""Revise a finished deck or report job by asking, with versions: ``/api/jobs/{id}/revisions``.

A report job is handed to :mod:`.report_revisions` (the same routes, its own
answers, marked ``kind: "report"``); the rest of this docstring is about decks.

``POST /api/jobs/{id}/revisions {"request": "make slide 3 a chart"}`` reads
the request by rules (:mod:`qwenapp.slides.edits`), rewrites only the
slides it touches (:mod:`qwenapp.slides.revise`) and records the result as
the deck's next version; the job's ``deck.pptx`` and ``deck.json`` become
that version. A request that names a slide the deck does not have, or
that maps to no edit, is answered with ``outcome: "question"`` and one
short question, and changes nothing. A theme change or a removal makes no
model call.

Versions (``GET .../versions``) are rows of migration 0300, keyed by the
job, so they go when the job is deleted; version 1 is the deck as the job
made it, recorded on first use. Any version can be read, downloaded as
.pptx (rendered from its structure, no model call), compared with another
(which slides are the same, changed, added or removed) and restored (a
copy of it becomes the newest version). Another user's job is a 404 on
every route, like every other job route.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path
from pydantic import BaseModel, Field
from starlette.responses import Response

from ..models.base import job_parallel
from ..slides import Deck, DeckError, get_theme, render_pptx
from ..slides.edits import Clarify, describe, needs_model, parse_request, touched
from ..slides.export import export_pdf, export_pngs, find_pdftoppm, find_soffice
from ..slides.layout import overflow
from ..slides.output import write_atomic
from ..slides.pipeline import MAX_SLIDES
from ..slides.revise import compare_decks, revise_deck
from ..store.deck_versions import DeckVersion, DeckVersions
from . import report_revisions as reports
from .auth import Caller, Principal
from .errors import ErrorResponse, HttpError, not_found
from .jobs import JobRow
from .state import ServerState, State

__all__ = ["router"]

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422, 429)}
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_locks: dict[str, asyncio.Lock] = {}  # one revision of a deck at a time


class RevisionIn(BaseModel):
    request: str = Field(min_length=1, max_length=2000,
                         description='What to change, e.g. "make slide 3 a chart".')


class VersionOut(BaseModel):
    version: int
    created_at: str
    request: str
    summary: str
    theme: str
    changed: list[int] = Field(description="Slides new or rewritten in this version.")
    title: str
    slides: int
    pptx_url: str


class VersionDetail(VersionOut):
    deck: dict[str, Any]


class VersionList(BaseModel):
    current: int
    versions: list[VersionOut]


class RevisionOut(BaseModel):
    outcome: Literal["revised", "question"]
    question: str | None = None
    version: VersionOut | None = None
    notes: list[str] = Field(default_factory=list)
    thumbnails: list[str] = Field(default_factory=list,
                                  description="The current version's deck-N.png artifacts.")


class SlideDiffOut(BaseModel):
    slide: int = Field(description="Its number in version b (0 for a removed slide).")
    status: Literal["same", "changed", "added", "removed"]
    title: str
    was: int = Field(description="Its number in version a (0 for an added slide).")


class CompareOut(BaseModel):
    a: int
    b: int
    theme: list[str]
    slides: list[SlideDiffOut]


def _out(job_id: str, v: DeckVersion) -> VersionOut:
    deck = Deck.model_validate_json(v.deck)
    return VersionOut(version=v.version, created_at=v.created_at, request=v.request,
                      summary=v.summary, theme=v.theme, changed=v.changed, title=deck.title,
                      slides=len(deck.slides),
                      pptx_url=f"/api/jobs/{job_id}/versions/{v.version}/deck.pptx")


def _job(state: ServerState, who: Principal, job_id: str) -> JobRow:
    """The caller's finished deck or report job (404 for anything else, or anyone else's)."""
    job = state.jobs.store.get(job_id, who.user.id)
    if job is None or job.kind not in ("deck", "report"):
        raise not_found("job")
    if job.status != "done":
        raise HttpError(409, f"the {job.kind} is not finished", code=f"{job.kind}_not_finished",
                        hint="revise it once its job has ended as done")
    return job


def _versions(state: ServerState, job: JobRow) -> list[DeckVersion]:
    """The job's versions; the first time, version 1 is recorded from the job's deck.json."""
    store = DeckVersions(state.conn)
    found = store.history(job.id, job.user_id)
    if found:
        return found
    path = state.jobs.workdir(job.id) / "deck.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise HttpError(410, "the deck's files are gone", code="gone") from None
    theme = str(job.request.get("theme") or "light").strip().lower()
    store.add(job.id, job.user_id, Deck.model_validate_json(text).model_dump_json(), theme,
              summary="first version")
    return store.history(job.id, job.user_id)


def _version(state: ServerState, job: JobRow, n: int) -> DeckVersion:
    for v in _versions(state, job):
        if v.version == n:
            return v
    raise not_found("version")


async def _make_current(state: ServerState, job: JobRow, deck: Deck, theme: str) -> list[str]:
    """The job's deck.pptx and deck.json become this version (what chat turns and
    downloads see), and its PDF and thumbnails when the job made them; the thumbnails'
    names are returned (a thumbnail past the new last slide is removed)."""
    folder = state.jobs.workdir(job.id)
    pptx = render_pptx(deck, get_theme(theme))
    data = deck.model_dump_json().encode()
    write_atomic(folder / "deck.pptx", pptx)
    write_atomic(folder / "deck.json", data)
    store = state.jobs.store
    store.add_artifact(job.id, "deck.pptx", PPTX, len(pptx))
    store.add_artifact(job.id, "deck.json", "application/json", len(data))
    if store.artifact(job.id, "deck.pdf") is None or find_soffice() is None:
        return []
    pdf = await asyncio.to_thread(export_pdf, folder / "deck.pptx", folder / "deck.pdf")
    store.add_artifact(job.id, "deck.pdf", "application/pdf", pdf.stat().st_size)
    if find_pdftoppm() is None:
        return []
    pngs = await asyncio.to_thread(export_pngs, pdf, folder / "deck")
    for png in pngs:
        store.add_artifact(job.id, png.name, "image/png", png.stat().st_size)
    for n in range(len(pngs) + 1, MAX_SLIDES + 2):
        (folder / f"deck-{n}.png").unlink(missing_ok=True)  # its download answers 410
    return [p.name for p in pngs]


class PreviewOut(BaseModel):
    outcome: Literal["plan", "question"]
    question: str | None = None
    recognized: bool = Field(default=True, description=(
        "The request asks for a change of this deck (false: nothing in it maps to an edit; "
        "the page then sends a chat message to the chat instead)."))
    steps: list[str] = Field(default_factory=list, description="What the revision will do.")
    slides: list[int] = Field(default_factory=list,
                              description="Slides it rewrites, removes or merges.")
    needs_model: bool = False


@router.post("/{job_id}/revisions/preview", response_model=PreviewOut | reports.ReportPreviewOut,
             responses=_ERRORS)
async def preview(state: State, who: Caller, job_id: str, body: Annotated[RevisionIn, Body()]
                  ) -> PreviewOut | reports.ReportPreviewOut:
    """How a request would be read (no model call, nothing changed): the steps and slides
    (or sections), or the question asked instead; the page shows it while the revision runs."""
    job = _job(state, who, job_id)
    if job.kind == "report":
        return reports.preview(state, job, body.request)
    deck = Deck.model_validate_json(_versions(state, job)[-1].deck)
    edits = parse_request(body.request, deck)
    if isinstance(edits, Clarify):
        return PreviewOut(outcome="question", question=edits.question,
                          recognized=edits.recognized)
    return PreviewOut(outcome="plan", steps=[describe(e) for e in edits],
                      slides=touched(edits, deck), needs_model=needs_model(edits))


@router.post("/{job_id}/revisions", response_model=RevisionOut | reports.ReportRevisionOut,
             responses={**_ERRORS, 200: {"content": {"text/event-stream": {"schema": {
                 "type": "string", "description": "a report's revision as it happens, when "
                 "asked for with Accept: text/event-stream: revision_plan, section_started, "
                 "section_written, then revised, question or error"}}}}})
async def revise(state: State, who: Caller, job_id: str, body: Annotated[RevisionIn, Body()],
                 accept: Annotated[str, Header()] = "",
                 ) -> RevisionOut | reports.ReportRevisionOut | Response:
    """Revise a finished deck or report by asking; the result is its next version (or a
    question). A report's revision is answered as Server-Sent Events when the request
    accepts ``text/event-stream``."""
    state.rates.check(who.user.id)
    job = _job(state, who, job_id)
    if job.kind == "report":
        if "text/event-stream" in accept:
            return reports.revise_stream(state, job, body.request)
        return await reports.revise(state, job, body.request)
    async with _locks.setdefault(job.id, asyncio.Lock()):
        current = _versions(state, job)[-1]
        deck = Deck.model_validate_json(current.deck)
        edits = parse_request(body.request, deck)
        if isinstance(edits, Clarify):
            return RevisionOut(outcome="question", question=edits.question)
        backend = state.models.get(job.request.get("model")) if needs_model(edits) else None
        parallel = 1 if backend is None else job_parallel(
            backend, state.settings.job_parallel, state.settings.parallel)
        try:
            result = await revise_deck(
                backend, deck, current.theme, edits, request=body.request,
                fit=lambda t: (lambda s: overflow(s, get_theme(t))), parallel=parallel)
        except DeckError as e:
            raise HttpError(422, e.message, code="revision_failed", hint=e.hint) from None
        if isinstance(result, Clarify):
            return RevisionOut(outcome="question", question=result.question)
        thumbs = await _make_current(state, job, result.deck, result.theme)
        v = DeckVersions(state.conn).add(job.id, job.user_id, result.deck.model_dump_json(),
                                         result.theme, request=body.request,
                                         summary=result.summary, changed=result.changed)
    return RevisionOut(outcome="revised", version=_out(job.id, v), notes=result.notes,
                       thumbnails=thumbs)


@router.get("/{job_id}/versions", response_model=VersionList | reports.ReportVersionList,
            responses=_ERRORS)
async def list_versions(state: State, who: Caller, job_id: str
                        ) -> VersionList | reports.ReportVersionList:
    """Every version of a deck or report, oldest first; the last is current."""
    job = _job(state, who, job_id)
    if job.kind == "report":
        return reports.listing(state, job)
    found = _versions(state, job)
    return VersionList(current=found[-1].version, versions=[_out(job.id, v) for v in found])


@router.get("/{job_id}/versions/{n}", response_model=VersionDetail | reports.ReportVersionDetail,
            responses=_ERRORS)
async def read_version(state: State, who: Caller, job_id: str, n: int
                       ) -> VersionDetail | reports.ReportVersionDetail:
    """One version, with its deck's (or report's) structure."""
    job = _job(state, who, job_id)
    if job.kind == "report":
        return reports.detail(state, job, n)
    v = _version(state, job, n)
    return VersionDetail(**_out(job.id, v).model_dump(),
                         deck=Deck.model_validate_json(v.deck).model_dump(mode="json"))


@router.get("/{job_id}/versions/{n}/deck.pptx", responses={
    **_ERRORS, 200: {"content": {PPTX: {"schema": {"type": "string", "format": "binary"}}}}})
async def download_version(state: State, who: Caller, job_id: str, n: int) -> Response:
    """A version's .pptx, rendered from its structure (no model call)."""
    job = _job(state, who, job_id)
    if job.kind != "deck":
        raise not_found("file")
    v = _version(state, job, n)
    data = await asyncio.to_thread(render_pptx, Deck.model_validate_json(v.deck),
                                   get_theme(v.theme))
    return Response(data, media_type=PPTX, headers={
        "Content-Disposition": f'attachment; filename="deck-v{n}.pptx"',
        "X-Content-Type-Options": "nosniff"})


@router.get("/{job_id}/versions/{n}/{name}", responses={
    **_ERRORS, 200: {"content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}})
async def download_report_version(
        state: State, who: Caller, job_id: str, n: int,
        name: Annotated[str, Path(description="report.md, .html, .json, .docx or .pdf: a "
                                              "format the job offers")]) -> Response:
    """A report version in one of the job's formats, rendered from its structure."""
    job = _job(state, who, job_id)
    if job.kind != "report":
        raise not_found("file")
    return await reports.download(state, job, n, name)


@router.get("/{job_id}/versions/{a}/compare/{b}",
            response_model=CompareOut | reports.ReportCompareOut, responses=_ERRORS)
async def compare_versions(state: State, who: Caller, job_id: str, a: int, b: int
                           ) -> CompareOut | reports.ReportCompareOut:
    """Which slides (or sections) of version ``b`` are as in ``a``, changed, added or
    removed."""
    job = _job(state, who, job_id)
    if job.kind == "report":
        return reports.compare(state, job, a, b)
    va, vb = _version(state, job, a), _version(state, job, b)
    diff = compare_decks(Deck.model_validate_json(va.deck), Deck.model_validate_json(vb.deck))
    return CompareOut(a=a, b=b, theme=[va.theme, vb.theme],
                      slides=[SlideDiffOut(slide=d.slide, status=d.status,  # type: ignore[arg-type]
                                           title=d.title, was=d.was) for d in diff])


@router.post("/{job_id}/versions/{n}/restore",
             response_model=RevisionOut | reports.ReportRevisionOut, responses=_ERRORS)
async def restore_version(state: State, who: Caller, job_id: str, n: int
                          ) -> RevisionOut | reports.ReportRevisionOut:
    """Go back to version ``n``: a copy of it becomes the newest version."""
    job = _job(state, who, job_id)
    if job.kind == "report":
        return await reports.restore(state, job, n)
    async with _locks.setdefault(job.id, asyncio.Lock()):
        old = _version(state, job, n)
        latest = _versions(state, job)[-1]
        deck = Deck.model_validate_json(old.deck)
        changed = [d.slide for d in compare_decks(Deck.model_validate_json(latest.deck), deck)
                   if d.status in ("changed", "added")]
        thumbs = await _make_current(state, job, deck, old.theme)
        v = DeckVersions(state.conn).add(job.id, job.user_id, old.deck, old.theme,
                                         request=f"restore version {n}",
                                         summary=f"restored version {n}", changed=changed)
    return RevisionOut(outcome="revised", version=_out(job.id, v), thumbnails=thumbs)
