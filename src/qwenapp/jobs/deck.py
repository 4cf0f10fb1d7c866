"""Slide decks as jobs: :func:`qwenapp.slides.build_deck`, with PDF and thumbnails.

Resumable: the pipeline saves its stages (data slides, outline, each
slide's draft and final version) in the job's folder as it goes, so a job
interrupted by a restart loads them and makes only what is missing.
Artifacts: ``deck.pptx``, ``deck.json`` (the deck as data), and when
LibreOffice and poppler are installed, ``deck.pdf`` and one ``deck-N.png``
thumbnail per slide.

With ``from_job``, the deck presents a finished report job of the same user:
the passages its report cited become the deck's sources (shown by their
upload names), its sections' verified sentences become the first slides,
and its title is the topic unless one is given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from ..documents import Document, DocumentError
from ..errors import QwenappError
from ..models.base import job_parallel
from ..output import find_soffice
from ..reports import Report, load_report
from ..slides import (
    THEMES,
    DeckBuilt,
    DeckRequest,
    DirStages,
    Finding,
    build_deck,
    find_tables,
    findings_from_report,
    get_theme,
    passages_from_documents,
    passages_from_report,
)
from ..slides.export import find_pdftoppm
from ..slides.tables import cite_tables
from .documents import owned_documents
from .errors import Gone, InvalidJob, NotFound
from .events import DeckMade, JobEvent
from .kinds import JobContext, JobRequest, JobServices

__all__ = ["DeckJob", "DeckJobRequest"]

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


class DeckJobRequest(JobRequest):
    kind: Literal["deck"] = "deck"
    topic: str = Field(default="", max_length=2000)
    slides: int = Field(default=8, ge=3, le=30)
    audience: str = Field(default="", max_length=200)
    tone: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=16)
    theme: str = "light"
    document_ids: list[str] = Field(default_factory=list,
                                    description="Your documents to build the deck from.")
    from_job: str | None = Field(default=None,
                                 description="A finished report job of yours: the deck "
                                             "presents it, citing its sources.")


async def _read(services: JobServices, stored: Path, filename: str) -> Document:
    """A user's document, read in the library's bounded child process (CPU, memory and
    time limits), as uploads are: a hostile file costs that child, never the server.
    The document is named by its upload name, never by the server's file name."""
    library = services.library
    # the limits it was accepted under at upload
    limits = dataclasses.replace(library.limits,
                                 max_file_bytes=services.config.upload_bytes)
    try:
        prepared = await library.worker.aprepare(stored, limits)
    except DocumentError as e:
        raise DocumentError(e.message.replace(stored.name, filename), e.hint) from None
    return dataclasses.replace(prepared.document, path=Path(filename))


def _source_report(job_id: str, user_id: str, services: JobServices) -> Report:
    """The report a finished report job of ``user_id`` wrote (not found for anyone else's)."""
    job = services.jobs.get(job_id, user_id)
    if job is None or job.kind != "report":
        raise NotFound("report job")
    report_id = job.state.get("report_id")
    if job.status != "done" or not report_id:
        raise InvalidJob("that report is not finished", "wait for the report job to end as done",
                         code="report_not_finished", param="from_job")
    try:
        return load_report(services.conn, str(report_id))
    except QwenappError:
        raise Gone("that report is no longer stored", code="gone", param="from_job") from None


class DeckJob:
    name: ClassVar[str] = "deck"
    resumable: ClassVar[bool] = True
    request_model = DeckJobRequest

    def title(self, request: DeckJobRequest) -> str:
        t = " ".join(request.topic.split()) or (
            "Deck from a report" if request.from_job else "Deck from documents")
        return t if len(t) <= 80 else t[:79] + "…"

    def check(self, request: DeckJobRequest, user_id: str, services: JobServices) -> None:
        services.models.get(request.model)
        if request.theme.strip().lower() not in THEMES:
            raise InvalidJob(f"unknown theme {request.theme!r}", "one of: " + ", ".join(THEMES),
                             code="unknown_theme", param="theme")
        docs = owned_documents(request.document_ids, user_id, services)
        if request.from_job is not None:
            _source_report(request.from_job, user_id, services)
        elif not request.topic.strip() and not docs:
            raise InvalidJob("the topic is empty",
                             "say what the deck is about, or attach documents", param="topic")

    async def run(self, ctx: JobContext, request: DeckJobRequest) -> AsyncIterator[JobEvent]:
        req = request
        services = ctx.services
        backend = services.models.get(req.model)
        docs = owned_documents(req.document_ids, ctx.user_id, services)
        extracted = [await _read(services, Path(d.path), d.filename) for d in docs]
        passages = passages_from_documents(extracted)
        tables = cite_tables(find_tables(extracted), passages)
        topic = req.topic
        findings: list[Finding] = []
        if req.from_job is not None:
            report = _source_report(req.from_job, ctx.user_id, services)
            uploads = {d.path: d.filename for d in services.owners.documents(ctx.user_id)}
            from_report = passages_from_report(report, uploads)
            passages = from_report + passages
            findings = findings_from_report(report)  # its verified sentences, as slides
            tables = find_tables(passages=from_report) + tables
            topic = topic.strip() or report.title
        previews = services.config.deck_previews and find_soffice() is not None
        png = previews and find_pdftoppm() is not None
        core = DeckRequest(topic=topic, slides=req.slides, audience=req.audience,
                           tone=req.tone, language=req.language, notes=req.notes(),
                           parallel=job_parallel(backend, services.settings.job_parallel,
                                                   services.settings.parallel))
        out = ctx.workdir / "deck.pptx"
        built: DeckBuilt | None = None
        async for ev in build_deck(backend, core, out, theme=get_theme(req.theme),
                                   passages=passages, tables=tables, findings=findings,
                                   stages=DirStages(ctx.workdir / "stages"),
                                   pdf=previews, png=png):
            if isinstance(ev, DeckBuilt):
                built = ev
                continue
            yield ev
        assert built is not None
        result = built.result
        ctx.add_artifact("deck.pptx", result.path, PPTX)
        names = ["deck.pptx"]
        if result.pdf is not None:
            ctx.add_artifact("deck.pdf", result.pdf, "application/pdf")
            names.append("deck.pdf")
        thumbs = []
        for png_path in result.pngs:
            ctx.add_artifact(png_path.name, png_path, "image/png")
            thumbs.append(png_path.name)
        # The deck as data: later chat turns read it (job_context), API users get it too.
        ctx.add_artifact("deck.json", result.deck.model_dump_json().encode(), "application/json")
        yield DeckMade(result.deck.title, len(result.deck.slides), tuple(names), tuple(thumbs))
