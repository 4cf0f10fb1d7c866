"""Stage 1, plan: a structured outline with questions per section.

The model answers with JSON matching :class:`~.model.Plan`'s schema (the
engine turns the schema into a grammar where it can). The answer is
validated; sections that merely restate the report's frame (introduction,
summary, conclusion, references) are dropped since the pipeline writes
those itself. An answer that cannot be used, twice, gives a generic plan
built from the question, and the run says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..jsontext import json_in
from ..models.base import Backend, complete
from ..models.events import GenerateOptions
from .model import Depth, Plan, PlanSection, ReportRequest
from .prompts import plan_messages

__all__ = ["DEPTHS", "DepthProfile", "fallback_plan", "make_plan",
           "parse_plan"]


@dataclass(frozen=True, slots=True)
class DepthProfile:
    sections: int
    questions: int  # per section
    passages: int  # per section, shown to the writer
    web_queries: int
    web_pages: int


DEPTHS: dict[Depth, DepthProfile] = {
    "quick": DepthProfile(sections=3, questions=2, passages=4, web_queries=2, web_pages=3),
    "standard": DepthProfile(sections=4, questions=2, passages=5, web_queries=4, web_pages=6),
    "deep": DepthProfile(sections=6, questions=3, passages=6, web_queries=8, web_pages=10),
}

PLAN_MAX_TOKENS = 600
_FRAME = re.compile(r"(?i)^\s*(?:\d+[.)]\s*)?(introduction|intro|overview of the report|summary|"
                    r"executive summary|conclusions?|references|bibliography|sources|引言|摘要|"
                    r"总结|结论|参考文献|参考资料)\s*$")

# a paper's parts, not parts of an answer: the 1.5B planned "How did global CO2 emissions
# change between 1950 and 2024?" as Methodology ("What statistical methods were used?"),
# Results and Discussion ("What are the future projections?"); the answer went into
# "Methodology", Results said the sources do not cover it, Discussion quoted a citation line
_TEMPLATE_WORDS = frozenset([
    "methodology", "methodologies", "method", "methods", "results", "result", "discussion",
    "discussions", "analysis", "findings", "finding", "implications", "implication",
    "limitations", "approach", "data", "background", "context", "overview", "literature",
    "review", "future", "work", "outlook", "recommendations", "and", "of", "the", "方法", "方法论",
    "结果", "讨论", "分析", "发现", "背景", "概述", "展望", "数据"])
_HEAD_WORD = re.compile(r"[A-Za-z]+|[\u4e00-\u9fff]{2}")


def template_heading(heading: str, question: str) -> bool:
    """A heading made only of a paper's section names ("Methodology", "Results and
    Discussion", "结果分析") that names nothing of the question."""
    words = [w.lower() for w in _HEAD_WORD.findall(heading)]
    if not words or not all(w in _TEMPLATE_WORDS for w in words):
        return False
    return not (set(words) - {"and", "of", "the"}) & {
        w.lower() for w in _HEAD_WORD.findall(question)}


def _schema(profile: DepthProfile) -> dict[str, Any]:
    schema = Plan.model_json_schema()
    schema["properties"]["sections"]["maxItems"] = profile.sections
    # one section fewer than asked at least: a plan the code pads gets generic sections
    # ("Background", on the whole question) that took the best facts from the model's own
    # sections (the manual's conference tactics went to "Background" and "Disrupting
    # Conferences" said the sources do not cover it)
    schema["properties"]["sections"]["minItems"] = max(1, profile.sections - 1)
    # as many questions as the depth asks for, in the grammar: the 0.5B wrote three a
    # section when asked for two (every token of the plan is decoded on the CPU; the
    # plan was a third of the tokens a report generated)
    schema["$defs"]["PlanSection"]["properties"]["questions"]["maxItems"] = profile.questions
    return schema


def parse_plan(text: str, profile: DepthProfile, question: str = "") -> Plan | None:
    """A usable plan from a model answer, or None. Sections that are a paper's parts
    rather than parts of an answer (:func:`template_heading`) are dropped like the frame's;
    a plan left with fewer than ``sections - 1`` of its own is None (asked again)."""
    data = json_in(text)
    if not isinstance(data, dict):
        return None
    sections = data.get("sections")
    if isinstance(sections, list):  # tolerate bare strings and over-long lists
        fixed = []
        for s in sections:
            if isinstance(s, str):
                s = {"heading": s, "questions": [s]}
            if isinstance(s, dict):
                qs = s.get("questions") or [s.get("heading", "")]
                if isinstance(qs, str):
                    qs = [qs]
                heading = str(s.get("heading", "")).strip()[:120]
                fixed.append({"heading": heading,
                              "questions": [str(q)[:300] for q in qs if str(q).strip()]
                              [: profile.questions] or [heading]})
        data["sections"] = fixed
    if isinstance(data.get("title"), str):
        data["title"] = data["title"].strip()[:160]
    try:
        plan = Plan.model_validate(data)
    except ValidationError:
        return None
    kept, seen = [], set()
    for s in plan.sections:
        key = s.heading.strip().lower()
        if _FRAME.match(s.heading) or key in seen or not key:
            continue
        seen.add(key)
        kept.append(s)
    if question:
        own = [s for s in kept if not template_heading(s.heading, question)]
        if len(own) < max(1, profile.sections - 1):
            return None
        kept = own
    if not kept:
        return None
    return Plan(title=plan.title, sections=kept[: profile.sections])


def fallback_plan(req: ReportRequest, lang: str, profile: DepthProfile) -> Plan:
    q = req.question.strip()
    if lang.startswith("zh"):
        heads = ["背景", "主要因素", "证据与案例", "挑战与局限", "比较", "展望"]
    else:
        heads = ["Background", "Main factors", "Evidence and examples", "Challenges and limits",
                 "Comparisons", "Outlook"]
    sections = [PlanSection(heading=h, questions=[f"{q} ({h})"]) for h in heads]
    return Plan(title=q[:160], sections=sections[: profile.sections])


async def make_plan(backend: Backend, req: ReportRequest, lang: str
                    ) -> tuple[Plan, bool]:
    """The plan, and whether it is the fallback."""
    profile = DEPTHS[req.depth]
    messages = plan_messages(req, lang, profile.sections, profile.questions)
    for attempt in range(2):
        options = GenerateOptions(max_tokens=PLAN_MAX_TOKENS, temperature=0.2 + 0.3 * attempt,
                                  seed=None if req.seed is None else req.seed + attempt,
                                  json_schema=_schema(profile), think=False)
        result = await complete(backend, messages, options)
        # the first answer must be a plan of the answer's parts; a second that is still a
        # paper's outline is taken as it is (better its questions than a generic plan's)
        plan = parse_plan(result.text, profile, req.question if attempt == 0 else "")
        if plan is not None:
            return _padded(plan, req, lang, profile), False
    return fallback_plan(req, lang, profile), True


def _padded(plan: Plan, req: ReportRequest, lang: str, profile: DepthProfile) -> Plan:
    """A plan with at least ``sections - 1`` sections: small models often give one."""
    want = max(1, profile.sections - 1)
    if len(plan.sections) >= want:
        return plan
    have = {s.heading.strip().lower() for s in plan.sections}
    extra = [s for s in fallback_plan(req, lang, DEPTHS["deep"]).sections
             if s.heading.lower() not in have]
    return Plan(title=plan.title, sections=plan.sections + extra[: want - len(plan.sections)])
