"""The thin runner: plan → gather → write → summarise → assemble, persisted per stage.

It yields :mod:`.events` as it goes and never prints. Each finished stage
is saved before the next starts, so a run that is interrupted (Ctrl-C, a
crash, a closed laptop) resumes with ``report_id`` and repeats only the
unfinished stages. Section writers run concurrently, up to ``parallel``
at a time (the engine's slots); each model call has a token bound and a
timeout sized for CPU inference.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from ..errors import BackendError
from ..models.base import Backend
from ..store.connection import Connection
from .assemble import assemble, draft_warnings, frame_warning
from .cite import cited_ids
from .coverage import cover_sections, specific_terms, subject_words
from .crosslang import SearchTerms, sources_language, translate_terms
from .errors import NoSourcesError
from .events import (
    Finished,
    PassagesReady,
    PlanReady,
    ReportEvent,
    RunStarted,
    SectionStarted,
    SectionWritten,
    StageReused,
    Warned,
)
from .facts import plan_facts
from .gather import SourceTools, gather
from .language import label, language_name, resolve_language
from .model import Gathered, Plan, ReportRequest, SectionDraft, Summary
from .plan import make_plan
from .store import ReportStore
from .write import FACTS, write_frame, write_section

__all__ = ["RunConfig", "run_report"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunConfig:
    parallel: int = 2  # section writers at once
    model_timeout: float = 1800.0  # seconds for one model call (a long prompt on 2 cores)


class _PlanStage(Plan):
    fallback: bool = False


async def _bounded(aw: Awaitable[T], seconds: float, what: str) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await aw
    except TimeoutError:
        raise BackendError(f"the model took longer than {seconds:g} s to write {what}",
                           "try a smaller model, --depth quick, or --length short") from None


async def run_report(conn: Connection, backend: Backend, request: ReportRequest,
                     tools: SourceTools, *, report_id: str | None = None,
                     config: RunConfig | None = None) -> AsyncIterator[ReportEvent]:
    """Run (or resume, with ``report_id``) a report; the last event is :class:`Finished`."""
    config = config or RunConfig()
    store = ReportStore(conn)
    resumed = report_id is not None
    rid = report_id or store.create(request, backend.name)
    lang = resolve_language(request.language, request.question)
    yield RunStarted(rid, resumed, lang)
    store.set_status(rid, "running")
    finished = False
    try:
        async for ev in _stages(store, rid, backend, request, lang, tools, config):
            finished = isinstance(ev, Finished)
            yield ev
    finally:
        if not finished:
            store.set_status(rid, "failed")


async def _stages(store: ReportStore, rid: str, backend: Backend, req: ReportRequest,
                  lang: str, tools: SourceTools, config: RunConfig
                  ) -> AsyncIterator[ReportEvent]:
    warnings: list[str] = []
    t = config.model_timeout

    # 1. plan
    plan_stage = store.load_stage(rid, "plan", _PlanStage)
    if plan_stage is None:
        plan, fallback = await _bounded(make_plan(backend, req, lang), t, "the plan")
        plan_stage = _PlanStage(title=plan.title, sections=plan.sections, fallback=fallback)
        store.save_stage(rid, "plan", plan_stage)
    else:
        yield StageReused("plan")
    plan = Plan(title=plan_stage.title, sections=plan_stage.sections)
    yield PlanReady(plan, plan_stage.fallback)
    if plan_stage.fallback:
        warnings.append("the model's outline could not be used; a generic outline was used")
        yield Warned(warnings[-1])

    # 2. gather
    gathered = store.load_stage(rid, "gather", Gathered)
    if gathered is None:
        async for item in gather(req, plan, tools):
            if isinstance(item, Gathered):
                gathered = item
            else:
                yield item
        assert gathered is not None
        if not gathered.passages and not req.allow_uncited:
            read = sum(1 for s in gathered.sources if s.status in ("read", "unchanged"))
            failed = [s for s in gathered.sources if s.status in ("failed", "skipped")]
            why = f"{read} source(s) read, none matched the question"
            if not read and failed:
                why = f"no source could be read ({failed[0].locator}: {failed[0].reason})"
            elif not read:
                why = "no documents, URLs or web search were given"
            raise NoSourcesError(f"no sources found: {why}",
                                 "add --docs, --url or --web, or pass --allow-uncited for a "
                                 "report without citations")
        other = sources_language(gathered.passages, lang)
        if other is not None:  # search the sources in their own language (.crosslang)
            terms = await _bounded(translate_terms(backend, req.question, plan, other), t,
                                   "the search terms")
            again: Gathered | None = None
            if terms is not None:
                async for item in gather(req.model_copy(update={"question": terms.question}),
                                         Plan(title=plan.title, sections=terms.sections),
                                         tools):
                    if isinstance(item, Gathered):
                        again = item
                store.save_stage(rid, "search", terms)
            if terms is not None and again is not None and again.passages:
                gathered = again
                warnings.append(f"the sources are in {language_name(other)}: they were "
                                "searched with the question and outline in that language")
            else:
                warnings.append(f"the sources are in {language_name(other)}, and the "
                                "question could not be put into that language to search them")
            yield Warned(warnings[-1])
        store.save_stage(rid, "gather", gathered)
    else:
        yield StageReused("gather")
    terms = store.load_stage(rid, "search", SearchTerms)
    n_sources = len({p.source.locator for p in gathered.passages})
    yield PassagesReady(len(gathered.passages), n_sources)
    if not gathered.passages:
        warnings.append(label(lang, "uncited"))
        yield Warned(warnings[-1])

    # 3. write sections, in parallel engine slots
    by_id = {p.id: p for p in gathered.passages}
    total = len(plan.sections)
    drafts: dict[int, SectionDraft] = {}
    todo: list[int] = []
    for i in range(total):
        saved = store.load_stage(rid, f"section:{i}", SectionDraft)
        if saved is not None:
            drafts[i] = saved
            yield StageReused(f"section:{i}")
        else:
            todo.append(i)
    sem = asyncio.Semaphore(max(1, config.parallel))
    # facts are chosen by the words of the sources' language when the question is in
    # another (the search terms of .crosslang); the report keeps its own headings
    asked = terms.sections if terms is not None else plan.sections
    question = terms.question if terms is not None else req.question
    sections_in = [([s.heading, *s.questions],
                    [by_id[j] for j in (gathered.by_section[i] if i < len(gathered.by_section)
                                        else [])])
                   for i, s in enumerate(asked)]
    # every section answers the question it is part of: facts weigh the question's own
    # subject, and a section none of whose facts touches it gets facts that do, from
    # every passage of the report, or is flagged (see .coverage)
    specific = specific_terms(question, gathered.passages)
    planned = plan_facts(sections_in, question, FACTS[req.length], gathered.passages,
                         specific)
    facts, flagged = cover_sections(planned, sections_in, question, FACTS[req.length],
                                    gathered.passages, specific)
    for i in flagged:
        if i in todo and gathered.passages:
            warnings.append(f"section {plan.sections[i].heading!r}: none of its source "
                            "sentences speaks to the question's own subject ("
                            + ", ".join(subject_words(question, specific)) + ")")
            yield Warned(warnings[-1])

    async def one(i: int) -> tuple[int, SectionDraft]:
        async with sem:
            section = plan.sections[i]
            ids = list(gathered.by_section[i] if i < len(gathered.by_section) else [])
            # passages a re-gathered fact comes from join the section's
            ids += [f.passage_id for f in facts[i] if f.passage_id not in ids]
            draft = await _bounded(
                write_section(backend, req, lang, section, [by_id[j] for j in ids],
                              allow_uncited=req.allow_uncited and not gathered.passages,
                              pool=gathered.passages, facts=facts[i]),
                t, f"section {section.heading!r}")
            store.save_stage(rid, f"section:{i}", draft)
            return i, draft

    for i in todo:
        yield SectionStarted(i + 1, total, plan.sections[i].heading)
    tasks = [asyncio.ensure_future(one(i)) for i in todo]
    failure: Exception | None = None
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                i, draft = await next_done
            except Exception as e:  # keep the other sections' work: it is saved as it ends
                failure = failure or e
                continue
            drafts[i] = draft
            yield SectionWritten(i + 1, total, draft.heading, len(cited_ids(draft.text)),
                                 len(draft.removed_citations), fallback=draft.fallback,
                                 dropped=draft.dropped, sentences=len(draft.sentences))
            for message in draft_warnings(draft):
                yield Warned(message)
    finally:
        for task in tasks:
            task.cancel()
    if failure is not None:
        raise failure
    ordered = [drafts[i] for i in range(total)]

    # 4. summary and conclusion
    summary = store.load_stage(rid, "summary", Summary)
    if summary is None:
        summary = await _bounded(write_frame(backend, req, lang, ordered, by_id),
                                 2 * t, "the summary and conclusion")
        store.save_stage(rid, "summary", summary)
        for kind in summary.fallback:
            shown = summary.summary_sentences if kind == "summary" else \
                summary.conclusion_sentences
            yield Warned(frame_warning(kind, summary.problems.get(kind, ()),
                                       left_out=not shown))
    else:
        yield StageReused("summary")

    # 5. assemble (pure) and save
    report = assemble(report_id=rid, question=req.question, language=lang, plan=plan,
                      gathered=gathered, drafts=ordered, summary=summary.summary,
                      conclusion=summary.conclusion, model=backend.name,
                      created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      warnings=warnings, summary_sentences=summary.summary_sentences,
                      conclusion_sentences=summary.conclusion_sentences,
                      frame_fallback=summary.fallback, frame_problems=summary.problems)
    store.finish(report)
    yield Finished(report)


