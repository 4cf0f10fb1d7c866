"""Research reports as jobs: :func:`qwenapp.reports.run_report`, persisted and resumable.

The report pipeline saves each finished stage under its report id; this
kind saves that id in the job's state as soon as the run starts, so a job
interrupted by a restart resumes where it stopped. Sources are the caller's
own uploaded documents only (never the whole shared library), plus web pages
and web search when the server was started with ``--web`` (fetched under the
same URL policy as the CLI: no private addresses unless allowed). Server paths
never reach the client or the rendered report: each source is shown by the
name it was uploaded with.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import ClassVar, Literal

from pydantic import Field

from ..output import find_soffice
from ..reports import (
    Finished,
    Report,
    ReportRequest,
    RunStarted,
    SourceRead,
    SourceSkipped,
    Warned,
    run_report,
)
from ..reports.render import render
from ..reports.tools import run_config, source_tools
from .documents import owned_documents
from .errors import InvalidJob
from .events import JobEvent, ReportMade, ReportRendering
from .kinds import JobContext, JobRequest, JobServices

__all__ = ["ReportJob", "ReportJobRequest"]

_FORMATS = {".md": "text/markdown; charset=utf-8", ".html": "text/html; charset=utf-8",
            ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".pdf": "application/pdf"}


class ReportJobRequest(JobRequest):
    kind: Literal["report"] = "report"
    question: str = Field(min_length=1, max_length=2000)
    depth: Literal["quick", "standard", "deep"] = "standard"
    length: Literal["short", "medium", "long"] = "medium"
    language: str = Field(default="auto", max_length=16)
    audience: str = Field(default="", max_length=200)
    document_ids: list[str] | None = Field(
        default=None, description="Your documents to cite; omitted: all of your documents.")
    allow_uncited: bool = Field(
        default=False, description="Write the report even when no source matches.")
    urls: list[str] = Field(default_factory=list, max_length=20,
                            description="Web pages to read (servers started with --web).")
    web: bool = Field(default=False,
                      description="Search the web for sources (servers started with --web).")


def _public(report: Report, names: dict[str, str]) -> Report:
    """The report with every server path replaced by the document's upload name."""
    def name(locator: str) -> str:
        return names.get(locator, locator)

    return report.model_copy(update={
        "references": [r.model_copy(update={"locator": name(r.locator)})
                       for r in report.references],
        "passages": [p.model_copy(update={"source": p.source.model_copy(
            update={"locator": name(p.source.locator)})}) for p in report.passages],
        "sources": [s.model_copy(update={"locator": name(s.locator)}) for s in report.sources],
    })


class ReportJob:
    name: ClassVar[str] = "report"
    resumable: ClassVar[bool] = True
    request_model = ReportJobRequest

    def title(self, request: ReportJobRequest) -> str:
        q = request.question
        return q if len(q) <= 80 else q[:79] + "…"

    def check(self, request: ReportJobRequest, user_id: str, services: JobServices) -> None:
        services.models.get(request.model)
        owned_documents(request.document_ids, user_id, services)
        if (request.urls or request.web) and not services.config.web:
            raise InvalidJob("this server does not read the web",
                             "its administrator can start it with `qwenapp serve --web`",
                             code="web_disabled", param="urls" if request.urls else "web")
        for url in request.urls:
            if not url.startswith(("http://", "https://")) or len(url) > 2000:
                raise InvalidJob(f"not a web address: {url[:80]!r}", code="invalid_url",
                                 param="urls")

    async def run(self, ctx: JobContext, request: ReportJobRequest) -> AsyncIterator[JobEvent]:
        req = request
        services = ctx.services
        backend = services.models.get(req.model)
        docs = owned_documents(req.document_ids, ctx.user_id, services)
        names = {d.path: d.filename for d in docs}
        web = services.config.web and bool(req.urls or req.web)
        core = ReportRequest(question=req.question, depth=req.depth, length=req.length,
                             language=req.language, audience=req.audience, notes=req.notes(),
                             docs=[d.path for d in docs], allow_uncited=req.allow_uncited,
                             urls=req.urls if web else [], web=web and req.web,
                             search=services.config.search,
                             allowed_hosts=sorted(services.config.web_allowed_hosts))
        async with source_tools(services.library, core,
                                search_env=services.config.search_env) as tools:
            async for ev in run_report(services.conn, backend, core, tools,
                                       report_id=ctx.state.get("report_id"),
                                       config=run_config(backend, services.settings)):
                if isinstance(ev, Finished):
                    report = ev.report
                    continue
                if isinstance(ev, RunStarted):
                    ctx.save_state(report_id=ev.report_id)
                elif isinstance(ev, SourceRead | SourceSkipped):  # a server path: its name
                    ev = dataclasses.replace(ev, locator=names.get(ev.locator, ev.locator))
                yield ev
        assert report is not None
        public = _public(report, names)
        yield ReportRendering(tuple(f.lstrip(".") for f in _FORMATS))
        made = []
        for fmt, media in _FORMATS.items():
            if fmt == ".pdf" and not (services.config.report_pdf and find_soffice()):
                continue
            try:
                data = await asyncio.to_thread(render, public, fmt)
            except Exception as e:  # one format failing (LibreOffice) must not lose the rest
                yield Warned(f"no {fmt[1:]} export: {e}")
                continue
            ctx.add_artifact(f"report{fmt}", data, media)
            made.append(f"report{fmt}")
        # The report as data (sections, references, every passage): the page's citation
        # viewer opens the passage behind each [n] from it; API users get it too.
        ctx.add_artifact("report.json", public.model_dump_json().encode(), "application/json")
        made.append("report.json")
        yield ReportMade(report.id, report.title, report.language, len(report.sections),
                         len(report.references), tuple(report.warnings), tuple(made))
