"""Revise a saved report by asking: only the sections a request touches are written again.

"expand the section on risks", "add a section on licensing", "make it shorter", "write it
for a non-technical audience", "translate into Chinese": the request is read by rules
(which section, which verb, which length, audience or language) and the model only
writes, through the pipeline's own :func:`~.write.write_section` and
:func:`~.write.write_frame`, under the same verification as a new report: every
sentence is checked against the passages it cites. A new section gathers new passages
(:func:`~.gather.gather` for that section alone), numbered after the report's own, so the
old sections' citations stay valid. Untouched sections are the saved drafts themselves.

A revision is a new report (its stages saved like any run, so it opens, exports and
makes decks like any other); the summary and conclusion are written again whenever a
section changed. A request that names a section the report does not have, or that maps
to no edit, is a :class:`Clarify` question instead of a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..language import is_cjk_text
from ..models.base import Backend, complete
from ..models.events import GenerateOptions, Message
from ..store.connection import Connection
from .assemble import assemble
from .cite import cited_ids
from .errors import ReportError
from .events import SectionStarted, SectionWritten
from .facts import plan_facts, select_facts
from .gather import SourceTools, gather
from .language import language_name, resolve_language
from .model import (
    Depth,
    Gathered,
    Length,
    Passage,
    Plan,
    PlanSection,
    Report,
    ReportRequest,
    SectionDraft,
    SourceNote,
    Summary,
)
from .store import ReportStore
from .versions import ReportVersions
from .write import FACTS, write_frame, write_section

__all__ = ["AddSection", "Clarify", "ExpandSection", "RemoveSection", "ReportEdit",
           "ReportRevision", "Restate", "describe", "parse_report_request", "read_request",
           "revise_report"]


@dataclass(frozen=True, slots=True)
class ExpandSection:
    section: int  # 1-based
    longer: bool = True  # False: shorter


@dataclass(frozen=True, slots=True)
class AddSection:
    heading: str
    after: int  # 0: first


@dataclass(frozen=True, slots=True)
class RemoveSection:
    section: int


@dataclass(frozen=True, slots=True)
class Restate:
    """The whole report again: a new length, audience or language."""

    length: Length | None = None
    audience: str | None = None
    language: str | None = None


ReportEdit = ExpandSection | AddSection | RemoveSection | Restate


@dataclass(frozen=True, slots=True)
class Clarify:
    """What to ask instead of guessing.

    ``recognized``: the request does ask for a change of this report (false: nothing in
    it maps to an edit, and a chat message saying it goes to the chat instead).
    """

    question: str
    recognized: bool = True


@dataclass(slots=True)
class ReportRevision:
    report: Report
    changed: list[int]  # sections (1-based, in the new report) written again or added
    summary: str
    calls: int = 0
    notes: list[str] = field(default_factory=list)


_ORDER: tuple[Length, ...] = ("short", "medium", "long")
_LANGS = {"english": "en", "chinese": "zh", "中文": "zh", "汉语": "zh", "英文": "en",
          "french": "fr", "german": "de", "spanish": "es", "japanese": "ja"}
_EXAMPLES = ('"expand the section on risks", "add a section on licensing", "make it '
             'shorter", "write it for a non-technical audience" or "translate into Chinese"')


def _sections_named(text: str, plan: Plan) -> list[int]:
    pattern = r"\bsection\s+(\d{1,2})\b|第\s*(\d{1,2})\s*[节部章]"
    out = [int(a or b) for a, b in re.findall(pattern, text, re.IGNORECASE)]
    if out:
        return out
    low = text.lower()
    phrases = [m.group(1) for pat in (r"(?:section|part)\s+(?:on|about|called)\s+(?:the\s+)?"
                                      r"([\w -]+)", r"([\w -]+?)\s+section\b",
                                      r"关于(.+?)的(?:部分|章节|一节)")
               for m in [re.search(pat, low)] if m is not None]
    stop = {"section", "expand", "shorten", "remove", "delete", "rewrite", "more", "detail",
            "make", "the", "this", "that"}
    for phrase in phrases:
        words = set(re.findall(r"\w{4,}", phrase)) - stop
        found = [i for i, s in enumerate(plan.sections, 1)
                 if words and words & set(re.findall(r"\w{4,}", s.heading.lower()))]
        if found:
            return found[:1]
    return []


def parse_report_request(text: str, plan: Plan, length: Length) -> list[ReportEdit] | Clarify:
    """The edit ``text`` asks of a report with ``plan``, or the question to ask instead."""
    low = " ".join(text.lower().split())
    if not low:
        return Clarify(f"What should I change? For example {_EXAMPLES}.", recognized=False)
    count = len(plan.sections)
    refs = _sections_named(text, plan)
    for n in refs:
        if not 1 <= n <= count:
            return Clarify(f"The report has {count} sections, so there is no section {n}. "
                           "Which section do you mean?")
    if re.search(r"\btranslat|\binto\s+(?:english|chinese|french|german|spanish|japanese)\b|"
                 r"翻译|译成", low):
        for word, code in _LANGS.items():
            if word in low:
                return [Restate(language=code)]
        return Clarify("Into which language should I translate the report?")
    if re.search(r"\badd\b|\binsert\b|\bnew section\b|添加|增加", low):
        m = re.search(r"section\s+(?:on|about|covering)\s+(.+?)(?:\s+after\s+section\s+\d+)?$",
                      text, re.IGNORECASE) or re.search(r"关于(.+?)的(?:部分|章节|一节)", text)
        if m is None:
            return Clarify('What should the new section be about? Say e.g. "add a section '
                           'on licensing".')
        heading = m.group(1).strip(" .\"'“”")
        heading = heading[:1].upper() + heading[1:]
        after = re.search(r"after\s+section\s+(\d{1,2})", low)
        at = int(after.group(1)) if after else count
        if not 0 <= at <= count:
            return Clarify(f"The report has {count} sections; after which one should the "
                           "new section go?")
        return [AddSection(heading, at)]
    if re.search(r"\b(?:remove|delete|drop)\b|删除|去掉", low):
        if not refs:
            return Clarify("Which section should I remove? Say its name or number.")
        if count == 1:
            return Clarify("The report has only that section; which part should go instead?")
        return [RemoveSection(refs[0])]
    longer = re.search(r"\b(?:expand|elaborate|longer|more detail(?:ed)?|deeper|flesh out)\b|"
                       r"扩展|展开|详细", low)
    shorter = re.search(r"\b(?:short(?:er|en)|concise|brief(?:er)?|condense|trim)\b|更短|精简|"
                        r"缩短", low)
    if longer or shorter:
        if refs:
            return [ExpandSection(refs[0], longer=bool(longer))]
        if re.search(r"\bsection\b", low):
            return Clarify(f"Which section? The report has: "
                           f"{'; '.join(s.heading for s in plan.sections)}.")
        i = _ORDER.index(length) + (1 if longer else -1)
        if not 0 <= i < len(_ORDER):
            return Clarify(f"The report is already as {'long' if longer else 'short'} as I "
                           "write them; which section should change instead?")
        return [Restate(length=_ORDER[i])]
    m = re.search(r"\bfor\s+(?:a|an)?\s*(.+?)\s*(?:audience|readers?|people)?$", low)
    if re.search(r"non-?technical|\blay\b|beginners|executives|managers|general audience|"
                 r"plain (?:words|language)|通俗|非技术", low):
        audience = m.group(1).strip() if m else "a non-technical audience"
        return [Restate(audience=audience or "a non-technical audience")]
    if m and re.search(r"\bwrite (?:it|this)\b|\baudience\b", low):
        return [Restate(audience=m.group(1).strip())]
    return Clarify(f"I could not tell what to change. Try for example {_EXAMPLES}.",
                   recognized=False)


def describe(edit: ReportEdit, plan: Plan) -> str:
    """What ``edit`` will do, in words (shown while the revision runs)."""
    def name(n: int) -> str:
        return f"section {n} ({plan.sections[n - 1].heading})"

    if isinstance(edit, ExpandSection):
        return f"{'expanding' if edit.longer else 'shortening'} {name(edit.section)}"
    if isinstance(edit, AddSection):
        return f"adding a section on {edit.heading} after section {edit.after}" if edit.after \
            else f"adding a section on {edit.heading} first"
    if isinstance(edit, RemoveSection):
        return f"removing {name(edit.section)}"
    sizes = {"short": "shorter", "medium": "at medium length", "long": "longer"}
    how = [sizes[edit.length] if edit.length else "", f"for {edit.audience}" if edit.audience
           else "", f"in {language_name(edit.language)}" if edit.language else ""]
    return "rewriting every section " + " ".join(x for x in how if x)


def read_request(conn: Connection, report_id: str, text: str
                 ) -> tuple[list[ReportEdit] | Clarify, Plan]:
    """How ``text`` reads against the saved report ``report_id`` (no model call), with
    its plan; ReportError when the report is not finished."""
    store = ReportStore(conn)
    stage = store.load_stage(report_id, "plan", _PlanStage)
    if stage is None:
        raise ReportError(f"report {report_id} is not finished")
    plan = Plan(title=stage.title, sections=stage.sections)
    return parse_report_request(text, plan, store.request(report_id).length), plan


# ---------------------------------------------------------------- applying


class _PlanStage(Plan):  # the runner's plan stage, read and written the same way
    fallback: bool = False


async def _translated(backend: Backend, req: ReportRequest, lang: str,
                      lines: list[str]) -> dict[str, str]:
    """Headings and title in the report's new language (one call; each line checked)."""
    body = "\n".join(f"{i}. {x}" for i, x in enumerate(lines, 1))
    schema = {"type": "object", "properties": {"lines": {
        "type": "array", "items": {"type": "string"}, "minItems": len(lines),
        "maxItems": len(lines)}}, "required": ["lines"], "additionalProperties": False}
    done = await complete(backend, [
        Message("system", "You translate report headings. You answer with one compact JSON "
                "object on a single line, and nothing else."),
        Message("user", f"Translate each line into {language_name(lang)}, short and "
                f"faithful. \"lines\": the translations, in order.\n{body}")],
        GenerateOptions(temperature=0.2, max_tokens=40 * len(lines) + 40, json_schema=schema,
                        think=False, seed=req.seed))
    try:
        got = json.loads(done.text)["lines"]
    except (ValueError, KeyError, TypeError):
        return {}
    out: dict[str, str] = {}
    for old, new in zip(lines, got, strict=False):
        new = " ".join(str(new).split())
        if new and len(new) <= 160 and (is_cjk_text(new) == (lang in ("zh", "ja"))):
            out[old] = new
    return out


_DEEPER: dict[Depth, Depth] = {"quick": "standard", "standard": "deep", "deep": "deep"}


async def _gather_for(req: ReportRequest, title: str, section: PlanSection, tools: SourceTools,
                      passages: list[Passage], sources: list[SourceNote],
                      queries: list[str]) -> list[int]:
    """Passages for one section, gathered afresh; new ones join ``passages`` numbered after
    the report's own (so existing citations keep their numbers). Their ids, in rank order."""
    found: Gathered | None = None
    async for item in gather(req, Plan(title=title, sections=[section]), tools):
        if isinstance(item, Gathered):
            found = item
    assert found is not None
    known = {(p.source.locator, p.text): p.id for p in passages}
    mine: list[int] = []
    for p in found.passages:
        pid = known.get((p.source.locator, p.text))
        if pid is None:
            pid = max((q.id for q in passages), default=0) + 1
            passages.append(p.model_copy(update={"id": pid}))
            known[(p.source.locator, p.text)] = pid
        mine.append(pid)
    sources += [s for s in found.sources if s not in sources]
    queries += found.queries
    return mine


async def revise_report(conn: Connection, backend: Backend, report_id: str,
                        request: str, tools: SourceTools, *,
                        progress: Callable[[SectionStarted | SectionWritten], None] | None = None
                        ) -> ReportRevision | Clarify:
    """Apply ``request`` to the saved report ``report_id``; the revision is a new report.

    ``progress`` hears each section being written again, as a new report's run says it."""
    store = ReportStore(conn)
    rid = store.find(report_id).id
    old_req = store.request(rid)
    stage = store.load_stage(rid, "plan", _PlanStage)
    gathered = store.load_stage(rid, "gather", Gathered)
    old_summary = store.load_stage(rid, "summary", Summary)
    if stage is None or gathered is None or old_summary is None:
        raise ReportError(f"report {rid} is not finished", "resume it first: qwenapp report "
                          f"--resume {rid}")
    plan = Plan(title=stage.title, sections=stage.sections)
    drafts: list[SectionDraft | None] = [store.load_stage(rid, f"section:{i}", SectionDraft)
                                         for i in range(len(plan.sections))]
    old_drafts = {d.heading: d for d in drafts if d is not None}
    notes: list[str] = []
    edits = parse_report_request(request, plan, old_req.length)
    if isinstance(edits, Clarify):
        return edits
    req = old_req
    sections = list(plan.sections)
    ids = [list(gathered.by_section[i]) if i < len(gathered.by_section) else []
           for i in range(len(sections))]
    passages = list(gathered.passages)
    sources, queries = list(gathered.sources), list(gathered.queries)
    limits: list[int | None] = [None] * len(sections)
    title = plan.title
    said: list[str] = []
    calls = 0
    for e in edits:
        if isinstance(e, Restate):
            update = {k: v for k, v in (("length", e.length), ("audience", e.audience),
                                        ("language", e.language)) if v is not None}
            req = req.model_copy(update=update)
            drafts = [None] * len(drafts)
            said.append(", ".join(f"{k} {v}" for k, v in update.items()))
        elif isinstance(e, ExpandSection):
            i = e.section - 1
            if e.longer:  # more to say: the section's passages at the next depth, too
                deeper = req.model_copy(update={"depth": _DEEPER[req.depth]})
                more = await _gather_for(deeper, title, sections[i], tools, passages, sources,
                                         queries)
                ids[i] += [j for j in more if j not in ids[i]]
            k = _ORDER.index(req.length) + (1 if e.longer else -1)
            limits[i] = FACTS[_ORDER[max(0, min(k, 2))]] + (2 if e.longer and k > 2 else 0)
            drafts[i] = None
            said.append(f"{'expanded' if e.longer else 'shortened'} section {e.section}")
        elif isinstance(e, RemoveSection):
            i = e.section - 1
            del sections[i], drafts[i], ids[i], limits[i]
            said.append(f"removed section {e.section}")
        elif isinstance(e, AddSection):
            new = PlanSection(heading=e.heading[:120], questions=[
                f"What does the evidence say about {e.heading.lower()}?"])
            mine = await _gather_for(req, title, new, tools, passages, sources, queries)
            sections.insert(e.after, new)
            drafts.insert(e.after, None)
            ids.insert(e.after, mine)
            limits.insert(e.after, None)
            said.append(f"added a section on {e.heading}" + ("" if mine else
                                                              " (no passage covers it)"))
    lang = resolve_language(req.language, req.question)
    if req.language != old_req.language:
        lines = [title, *(s.heading for s in sections)]
        done = await _translated(backend, req, lang, lines)
        calls += 1
        title = done.get(title, title)
        sections = [s.model_copy(update={"heading": done.get(s.heading, s.heading)})
                    for s in sections]
    by_id = {p.id: p for p in passages}
    inputs = [([s.heading, *s.questions], [by_id[j] for j in ids[i] if j in by_id])
              for i, s in enumerate(sections)]
    facts = plan_facts(inputs, req.question, FACTS[req.length], passages)
    changed: list[int] = []
    for i, s in enumerate(sections):
        if drafts[i] is not None:
            continue
        chosen = facts[i]
        if limits[i] is not None:  # this section alone, more or fewer of its facts, none
            stated = {x.fact or x.text for d in drafts if d is not None for x in d.sentences}
            chosen = select_facts([s.heading, *s.questions], req.question, inputs[i][1],
                                  limits[i] or 1, pool=passages, exclude=stated)
        if progress is not None:
            progress(SectionStarted(i + 1, len(sections), s.heading))
        draft = await write_section(backend, req, lang, s, inputs[i][1],
                                    allow_uncited=req.allow_uncited and not passages,
                                    pool=passages, facts=chosen)
        calls += 1
        if progress is not None:
            progress(SectionWritten(i + 1, len(sections), draft.heading,
                                    len(cited_ids(draft.text)), len(draft.removed_citations),
                                    fallback=draft.fallback, dropped=draft.dropped,
                                    sentences=len(draft.sentences)))
        before = old_drafts.get(s.heading)
        if before is not None and limits[i] is not None and before.text == draft.text:
            notes.append(f"section {i + 1} ({s.heading}): the sources hold nothing more to "
                         "say on it" if (limits[i] or 0) > FACTS[req.length] else
                         f"section {i + 1} ({s.heading}) is as short as its facts allow")
            drafts[i] = before
            continue
        drafts[i] = draft
        changed.append(i + 1)
    final = [d for d in drafts if d is not None]
    if not changed and len(final) == len(plan.sections) and title == plan.title:
        why = "; ".join(notes) or "the request left every section as it was"
        return Clarify(f"Nothing changed ({why}). Could you say it another way?")
    summary = old_summary
    if changed or len(final) != len(plan.sections):
        summary = await write_frame(backend, req, lang, final, by_id)
        calls += 2
    new_plan = Plan(title=title, sections=sections)
    new_gathered = Gathered(passages=passages, by_section=ids, sources=sources,
                            queries=queries)
    new_id = store.create(req, backend.name)
    store.save_stage(new_id, "plan", _PlanStage(title=title, sections=sections))
    store.save_stage(new_id, "gather", new_gathered)
    for i, d in enumerate(final):
        store.save_stage(new_id, f"section:{i}", d)
    store.save_stage(new_id, "summary", summary)
    report = assemble(report_id=new_id, question=req.question, language=lang, plan=new_plan,
                      gathered=new_gathered, drafts=final, summary=summary.summary,
                      conclusion=summary.conclusion, model=backend.name,
                      created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      warnings=[], summary_sentences=summary.summary_sentences,
                      conclusion_sentences=summary.conclusion_sentences,
                      frame_fallback=summary.fallback)
    store.finish(report)
    ReportVersions(conn).add(rid, new_id, request=request, summary="; ".join(said),
                             changed=changed)
    return ReportRevision(report, changed, "; ".join(said), calls, notes)


