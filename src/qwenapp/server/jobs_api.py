"""Reports and decks as jobs: ``/api/jobs``.

Create returns at once with the job's id (202); progress is an SSE stream
(``GET /api/jobs/{id}/events``) whose event ids are sequence numbers, so a
client that reconnects with ``Last-Event-ID`` (or ``?after=``) misses
nothing and sees nothing twice. Artifacts download by name; HTML and images
can be shown inline (``?inline=1``) under a sandboxing CSP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from pydantic import Field
from starlette.responses import FileResponse, Response

from ..jobs import ARTIFACT_NAME, DeckJobRequest, ReportJobRequest
from .auth import Caller, Principal
from .errors import ErrorResponse, HttpError, not_found
from .jobs import JobRow
from .schemas import ArtifactOut, JobList, JobOut
from .sse import EventStream, encode_event
from .state import ServerState, State

__all__ = ["job_out", "router"]

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)}

JobCreate = Annotated[ReportJobRequest | DeckJobRequest, Field(discriminator="kind")]
_INLINE = {"text/html", "image/png", "application/pdf", "text/markdown"}


def job_out(state: ServerState, job: JobRow) -> JobOut:
    """The API form of a job: its result (when done) and artifact links."""
    result = None
    if job.status == "done":
        for ev in reversed(state.jobs.store.events(job.id)):
            if ev.type == "result":
                result = ev.data
                break
    arts = [ArtifactOut(name=a.name, media_type=a.media_type, size=a.size,
                        url=f"/api/jobs/{job.id}/artifacts/{a.name}")
            for a in state.jobs.store.artifacts(job.id)]
    return JobOut(id=job.id, kind=job.kind, status=job.status, title=job.title,
                  error=job.error, request=job.request, result=result, artifacts=arts,
                  created_at=job.created_at, updated_at=job.updated_at,
                  conversation_id=job.conversation_id, after_message_id=job.after_message_id)


def _owned(state: ServerState, who: Principal, job_id: str) -> JobRow:
    job = state.jobs.store.get(job_id, who.user.id)
    if job is None:
        raise not_found("job")
    return job


@router.post("", response_model=JobOut, status_code=202, responses=_ERRORS)
async def create_job(state: State, who: Caller, body: Annotated[JobCreate, Body()]) -> JobOut:
    """Start a report or a deck; follow it with ``GET /api/jobs/{id}/events``."""
    state.rates.check(who.user.id)
    job = state.jobs.create(who.user.id, body)  # validated here, once (and when read back)
    return job_out(state, job)


@router.get("", response_model=JobList, responses=_ERRORS)
async def list_jobs(state: State, who: Caller,
                    kind: str | None = Query(default=None, max_length=20),
                    limit: int = Query(default=50, ge=1, le=200)) -> JobList:
    """Your jobs, newest first."""
    return JobList(jobs=[job_out(state, j) for j in state.jobs.store.for_user(who.user.id, limit,
                                                                        kind)])


@router.get("/{job_id}", response_model=JobOut, responses=_ERRORS)
async def read_job(state: State, who: Caller, job_id: str) -> JobOut:
    return job_out(state, _owned(state, who, job_id))


@router.get("/{job_id}/events", responses={
    **_ERRORS, 200: {"content": {"text/event-stream": {"schema": {
        "type": "string", "description": "progress events (id: sequence number); the last "
        "is done, failed or cancelled"}}}}})
async def job_events(state: State, who: Caller, job_id: str,
                     after: int = Query(default=0, ge=0, description="Resume after this id."),
                     last_event_id: str | None = Header(default=None)) -> Response:
    """Progress as Server-Sent Events, replayed from the start or after ``Last-Event-ID``."""
    job = _owned(state, who, job_id)
    start = after
    if last_event_id and last_event_id.strip().isdigit():
        start = max(start, int(last_event_id.strip()))

    async def source() -> AsyncIterator[bytes]:
        async for ev in state.jobs.follow(job.id, start):
            yield encode_event(ev.type, ev.data, id=ev.seq)

    return EventStream(source())


@router.post("/{job_id}/cancel", response_model=JobOut, responses=_ERRORS)
async def cancel_job(state: State, who: Caller, job_id: str) -> JobOut:
    """Stop a queued or running job (a finished one is left as it is)."""
    return job_out(state, state.jobs.cancel(_owned(state, who, job_id)))


@router.delete("/{job_id}", status_code=204, responses=_ERRORS)
async def delete_job(state: State, who: Caller, job_id: str) -> Response:
    """Delete a job and its files (a running job is stopped first)."""
    await state.jobs.delete(_owned(state, who, job_id))
    return Response(status_code=204)


@router.get("/{job_id}/artifacts/{name}", responses={
    **_ERRORS, 200: {"content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary"}}}}})
async def download_artifact(state: State, who: Caller, job_id: str, name: str,
                            inline: bool = Query(default=False,
                                                 description="Show instead of download.")
                            ) -> Response:
    """Download a file the job made (report.md, deck.pptx, deck-1.png...)."""
    job = _owned(state, who, job_id)
    art = state.jobs.store.artifact(job.id, name) if ARTIFACT_NAME.match(name) else None
    if art is None:
        raise not_found("artifact")
    path = state.jobs.workdir(job.id) / art.name
    if not path.is_file():
        raise HttpError(410, "the artifact's file is gone", code="gone")
    base = art.media_type.split(";")[0].strip()
    show = inline and base in _INLINE
    headers = {"X-Content-Type-Options": "nosniff",
               # A sandbox without scripts: model-written HTML shown inline cannot run code.
               "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; "
                                          "style-src 'unsafe-inline'; frame-ancestors 'self'"}
    return FileResponse(path, media_type=art.media_type, headers=headers,
                        filename=art.name, content_disposition_type="inline" if show
                        else "attachment")
