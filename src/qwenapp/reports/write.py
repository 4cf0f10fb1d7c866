"""Stage 3, write: one bounded model call per section, then summary and conclusion.

Each writer sees only its own passages, labelled ``[1]..[k]``; its answer
is cleaned (reasoning tags, echoed headings, reference lists, repetition
loops, a sentence cut by the token limit), its citations validated against
exactly those labels, then mapped to the report-wide passage ids.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from ..models.base import Backend, complete
from ..models.events import GenerateOptions
from .cite import attribute_uncited, check_citations, cited_ids, overlap, renumber
from .language import label
from .model import Length, Passage, PlanSection, ReportRequest, SectionDraft, Summary
from .prompts import section_messages, summary_messages

__all__ = ["LENGTHS", "clean_model_text", "write_frame", "write_section", "write_summary"]

COPY_THRESHOLD = 0.85  # a summary sharing this much of its words with one section copied it

# (sentences per section, max_tokens per section)
LENGTHS: dict[Length, tuple[int, int]] = {"short": (4, 240), "medium": (7, 420),
                                          "long": (12, 700)}
SUMMARY_MAX_TOKENS = 260

_CITES = re.compile(r"\[\d+\]")
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
# a sentence ends at . ! ? followed by a space (not "2.5"), at CJK stops, or at a line end
_SENTENCE = re.compile(r".+?(?:[.!?]+(?:\s*\[\d+\])*(?=\s|$)|[。！？]+(?:\[\d+\])*|\n|$)",
                       re.DOTALL)


_SUBJECT_EN = re.compile(r"(^|(?<=[.!?])\s+|\n)((?:\[\d+\]\s*)+)(?=[a-z])")
_SUBJECT_ZH = re.compile(r"(^|(?<=[。！？])|\n)((?:\[\d+\])+)(?=[\u4e00-\u9fff])")


def _subject_citations(text: str, lang: str) -> str:
    """"… market. [1] stated that …" → "… market. Source [1] stated that …".

    A model that uses a citation as a sentence's subject would otherwise have it read as
    the previous sentence's citation, and the sentence would lose its subject.
    """
    if lang.startswith("zh"):
        return _SUBJECT_ZH.sub(lambda m: f"{m.group(1)}来源{m.group(2)}", text)
    return _SUBJECT_EN.sub(lambda m: f"{m.group(1)}Source {m.group(2)}", text)


def _dedupe_sentences(text: str) -> str:
    """Drop repeated sentences: the loop a small model falls into."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for m in _SENTENCE.finditer(text):
        s = m.group(0)
        key = re.sub(r"\W+", "", re.sub(r"\[\d+\]", "", s)).lower()
        if key:
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                continue
        out.append(s)
    return "".join(out)


def clean_model_text(text: str, heading: str = "", *, truncated: bool = False) -> str:
    """Model prose made safe to print: no reasoning, no headings, no loops, no half sentence."""
    text = _THINK.sub("", text).replace("</think>", "")
    lines = text.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")
                     or (heading and lines[0].strip().strip("*:# ").lower()
                         == heading.strip().lower())):
        lines.pop(0)
    kept: list[str] = []
    for line in lines:
        bare = line.strip().strip("*#: ").lower()
        if bare in ("references", "sources", "参考文献", "参考资料", "来源"):
            break  # the model's own reference list: ours is built from data
        if line.lstrip().startswith("#"):
            line = line.lstrip("# ").strip()
        kept.append(line)
    text = "\n".join(kept).strip()
    if heading and text.lower().startswith(heading.strip().lower()):  # "Heading? Body..."
        rest = text[len(heading.strip()):]
        if rest[:1] in ("", " ", ":", "：", "?", "？", ".", "\n"):
            text = rest.lstrip(" :：?？.\n")
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = _dedupe_sentences(text)
    if truncated:  # drop the sentence the token limit cut in half
        ends = list(re.finditer(r"[.!?](?:\s*\[\d+\])*(?=\s|$)|[。！？](?:\[\d+\])*", text))
        if ends and ends[-1].end() > len(text) // 3:
            text = text[: ends[-1].end()]
    return text.strip()


async def write_section(backend: Backend, req: ReportRequest, lang: str, section: PlanSection,
                        passages: Sequence[Passage], *, allow_uncited: bool = False
                        ) -> SectionDraft:
    """One section from its passages. With none: a fixed "not covered" sentence, or, when
    the user asked for an uncited report, the model's own words (marked unsupported)."""
    if not passages and not allow_uncited:
        return SectionDraft(heading=section.heading, text=label(lang, "no_coverage"),
                            passage_ids=[])
    sentences, max_tokens = LENGTHS[req.length]
    local = list(enumerate(passages, start=1))
    messages = section_messages(req, lang, section, local, sentences)
    text, finish = "", None
    for attempt in range(2):  # a small model sometimes answers with a heading and stops
        options = GenerateOptions(
            max_tokens=max_tokens, temperature=0.3 + 0.3 * attempt, think=False,
            seed=None if req.seed is None else req.seed + attempt,
            stop=("\n## ", "\nReferences:", "\n参考文献") if attempt == 0 else ())
        result = await complete(backend, messages, options)
        finish = result.finish_reason
        text = clean_model_text(result.text, section.heading, truncated=finish == "length")
        if text:
            break
    if not text:
        return SectionDraft(heading=section.heading, text=label(lang, "empty"),
                            passage_ids=[p.id for p in passages], finish_reason=finish)
    check = check_citations(_subject_citations(text, lang), range(1, len(passages) + 1))
    cited, attributed = attribute_uncited(check.text, {n: p.text for n, p in local})
    mapping = {n: p.id for n, p in local}
    return SectionDraft(
        heading=section.heading, text=renumber(cited, mapping),
        passage_ids=[p.id for p in passages],
        removed_citations=check.removed, repaired_citations=check.repaired,
        attributed_citations=attributed, model_citations=len(_CITES.findall(check.text)),
        finish_reason=finish,
    )


async def write_summary(backend: Backend, req: ReportRequest, lang: str, body: str,
                        kind: str) -> str:
    """An executive summary or conclusion over the written sections (``kind``)."""
    options = GenerateOptions(max_tokens=SUMMARY_MAX_TOKENS, temperature=0.3, seed=req.seed,
                              think=False)
    result = await complete(backend, summary_messages(req, lang, body, kind), options)
    return clean_model_text(result.text, truncated=result.finish_reason == "length")


def _sentences(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _digest(drafts: Sequence[SectionDraft], per_section: int = 3) -> str:
    """The sections, shortened: less to copy, and a shorter prompt on a slow CPU."""
    return "\n\n".join(f"## {d.heading}\n" + " ".join(_sentences(d.text)[:per_section])
                        for d in drafts)


def _extractive(drafts: Sequence[SectionDraft], pick: int) -> str:
    """One cited sentence per section (first or last): a fallback that cannot invent."""
    out = []
    for d in drafts:
        cited = [x for x in _sentences(d.text) if cited_ids(x)]
        if cited:
            out.append(cited[pick])
    return " ".join(out[:4])


def _copied(text: str, others: Sequence[str]) -> bool:
    return any(o and overlap(text, o) >= COPY_THRESHOLD for o in others)


async def write_frame(backend: Backend, req: ReportRequest, lang: str,
                      drafts: Sequence[SectionDraft], passages: dict[int, Passage]) -> Summary:
    """The executive summary and the conclusion, checked.

    Citations may only be ones the sections make; uncited sentences that restate a cited
    passage are attributed. A small model often copies a section as its "summary": a copy
    (or an empty answer) is replaced by cited sentences taken from the sections.
    """
    body = _digest(drafts)
    summary, conclusion = await asyncio.gather(
        write_summary(backend, req, lang, body, "summary"),
        write_summary(backend, req, lang, body, "conclusion"))
    cited = {i for d in drafts for i in cited_ids(d.text)}
    texts = {i: passages[i].text for i in cited if i in passages}
    sections = [d.text for d in drafts]
    summary = attribute_uncited(check_citations(summary, cited).text, texts)[0]
    conclusion = attribute_uncited(check_citations(conclusion, cited).text, texts)[0]
    if not summary or _copied(summary, sections):
        summary = _extractive(drafts, 0)
    if not conclusion or _copied(conclusion, [*sections, summary]):
        conclusion = _extractive(drafts, -1)
        if _copied(conclusion, [summary]):
            conclusion = ""
    return Summary(summary=summary, conclusion=conclusion)
