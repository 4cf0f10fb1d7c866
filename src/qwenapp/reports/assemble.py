"""Stage 4, assemble: number the references, keep sentence provenance, count the checks.

Pure: no model, no I/O. References are numbered by first citation in the
body (sections, then summary and conclusion); every ``[n]`` in the finished
report is a reference number, and every reference names the passage behind
it. Each sentence keeps its passages and support score as data
(:class:`~.model.ReportSentence`), so the saved report and ``report.json``
say, sentence by sentence, what backs it. The summary and conclusion may
only cite what the sections cite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .cite import check_citations, cited_ids, overlap, renumber, sentences_with_citations
from .compose import cited_text
from .language import NOTE_KEYS, label
from .model import (
    DraftSentence,
    Gathered,
    Passage,
    Plan,
    Reference,
    Report,
    ReportQuality,
    ReportSection,
    ReportSentence,
    SectionDraft,
)
from .sentences import stem_terms
from .verify import support

__all__ = ["SUPPORT_THRESHOLD", "assemble", "citation_support", "draft_warnings",
           "frame_warning", "sentence_supported"]

SUPPORT_THRESHOLD = 0.25  # legacy: share of a sentence's words found in its cited passages


def _weak(text: str, passages: dict[int, Passage]) -> int:
    weak = 0
    for s in sentences_with_citations(text):
        if s.ids:
            joined = " ".join(passages[i].text for i in s.ids if i in passages)
            if overlap(s.text, joined) < SUPPORT_THRESHOLD:
                weak += 1
    return weak


def _unrepeated(drafts: Sequence[SectionDraft], language: str, stated: list[set[str]]
                ) -> list[SectionDraft]:
    """The drafts without sentences an earlier section already states (sections are
    written apart, so two may word the same point; the reader gets it once)."""
    out = []
    for d in drafts:
        kept: list[DraftSentence] = []
        # against earlier sections only: within a section the writer's own checks keep
        # points apart, and code's sentence on a table's change ("Total went from 1617 to
        # 10527") uses the words of the rows beside it (it was dropped as a repeat of them)
        before = list(stated)
        for s in d.sentences:
            terms = stem_terms(s.text.strip("“”"))
            if any(len(terms & t) >= 0.8 * max(1, len(terms)) for t in before):
                continue
            kept.append(s)
            stated.append(terms)
        if kept and len(kept) < len(d.sentences):
            gone = len(d.sentences) - len(kept)
            d = d.model_copy(update={
                "sentences": kept, "text": cited_text(kept, language),
                "dropped": d.dropped + gone,
                "problems": [*d.problems, f"{gone}× repeats an earlier section"]})
        out.append(d)
    return out


def frame_warning(kind: str, problems: Sequence[str] = (), left_out: bool = False) -> str:
    """What the run and the report say when the summary or conclusion falls back to the
    sections' own sentences, or (``left_out``) is left out rather than say them again."""
    why = "; ".join(dict.fromkeys(problems)) or "unsupported, or the sections' own words again"
    if left_out:
        return (f"the {kind} is left out: the model's sentences did not pass the checks "
                f"({why}), and quoting the sections' findings would say them twice")
    return (f"the {kind} quotes the sections' findings: the model's sentences did not pass "
            f"the checks ({why})")


def draft_warnings(d: SectionDraft) -> list[str]:
    """What the checks did to one written section, in words (the run prints these too)."""
    if d.fallback:
        why = "; ".join(dict.fromkeys(d.problems)) or "it failed the checks"
        return [f"section {d.heading!r}: the model's text was not usable ({why}); "
                "the section quotes its sources instead"]
    if d.dropped:
        return [f"section {d.heading!r}: {d.dropped} sentence(s) removed "
                f"({'; '.join(dict.fromkeys(d.problems))})"]
    return []


def sentence_supported(text: str, passage_texts: Sequence[str], language: str,
                       question: str = "") -> bool:
    """The verifier's verdict on one report sentence (a quotation is checked unquoted)."""
    return bool(passage_texts) and support(text.strip("“”\" "), passage_texts, question,
                                           language).ok


def _sentences(drafts: Sequence[DraftSentence], numbers: dict[int, int]) -> list[ReportSentence]:
    return [ReportSentence(text=s.text, refs=[numbers[i] for i in s.passage_ids if i in numbers],
                           passage_ids=[i for i in s.passage_ids if i in numbers],
                           support=s.support, origin=s.origin, fact=s.fact) for s in drafts]


def assemble(*, report_id: str, question: str, language: str, plan: Plan, gathered: Gathered,
             drafts: Sequence[SectionDraft], summary: str, conclusion: str, model: str = "",
             created_at: str = "", warnings: Sequence[str] = (),
             summary_sentences: Sequence[DraftSentence] = (),
             conclusion_sentences: Sequence[DraftSentence] = (),
             frame_fallback: Sequence[str] = (),
             frame_problems: Mapping[str, Sequence[str]] | None = None) -> Report:
    passages = {p.id: p for p in gathered.passages}
    warn = list(warnings)
    order: list[int] = []
    checked: list[tuple[SectionDraft, str]] = []
    stated: list[set[str]] = []
    for d in _unrepeated(drafts, language, stated):
        # Defence in depth: the writer stage already cites only what it was given.
        c = check_citations(d.text, d.passage_ids)
        if c.removed or d.removed_citations:
            n = len(c.removed) + len(d.removed_citations)
            warn.append(f"section {d.heading!r}: removed {n} citation(s) to passages it was "
                        "not given")
        checked.append((d, c.text))
        order.extend(i for i in c.cited if i not in order)
    body_ids = set(order)
    extra: list[str] = []
    for part in (summary, conclusion):
        c = check_citations(part, body_ids)
        extra.append(c.text)
    summary, conclusion = extra
    numbers = {pid: n for n, pid in enumerate(order, start=1)}

    quality = ReportQuality()
    sections = []
    for d, text in checked:
        note = text in {label(language, k) for k in NOTE_KEYS}  # no claims, nothing to back
        supported = bool(cited_ids(text)) or note
        if not supported and d.passage_ids:
            warn.append(f"section {d.heading!r} cites no source")
        if text == label(language, "empty"):
            warn.append(f"section {d.heading!r}: the model wrote nothing")
        sents = _sentences(d.sentences, numbers)
        thin = len(sents) < 2 and bool(d.passage_ids or note)
        warn.extend(draft_warnings(d))
        if d.fallback:
            quality.fallback_sections.append(d.heading)
        if thin:
            quality.thin_sections.append(d.heading)
            if text == label(language, "no_coverage") and d.passage_ids:
                warn.append(f"section {d.heading!r}: no retrieved passage answers it")
        quality.dropped += d.dropped
        sections.append(ReportSection(heading=d.heading, text=renumber(text, numbers),
                                      supported=supported,
                                      weak_sentences=_weak(text, passages),
                                      attributed_citations=d.attributed_citations,
                                      sentences=sents, fallback=d.fallback, thin=thin,
                                      dropped=d.dropped))
    shown = {"summary": bool(summary_sentences), "conclusion": bool(conclusion_sentences)}
    warn.extend(frame_warning(kind, (frame_problems or {}).get(kind, ()),
                              left_out=not shown.get(kind, True))
                for kind in frame_fallback)
    summary_s = _sentences(summary_sentences, numbers)
    conclusion_s = _sentences(conclusion_sentences, numbers)
    for s in [*(x for sec in sections for x in sec.sentences), *summary_s, *conclusion_s]:
        quality.sentences += 1
        quality.extracts += s.origin == "extract"
        texts = [passages[i].text for i in s.passage_ids if i in passages]
        quality.supported += sentence_supported(s.text, texts, language, question)
    refs = [Reference(number=n, passage_id=pid, title=passages[pid].source.title,
                      locator=passages[pid].source.locator, location=passages[pid].source.location)
            for pid, n in numbers.items()]
    return Report(
        id=report_id, question=question, title=plan.title, language=language,
        summary=renumber(summary, numbers), sections=sections,
        conclusion=renumber(conclusion, numbers), references=refs,
        passages=gathered.passages, plan=plan, sources=gathered.sources, warnings=warn,
        model=model, created_at=created_at, summary_sentences=summary_s,
        conclusion_sentences=conclusion_s, quality=quality,
    )


def citation_support(report: Report, threshold: float = SUPPORT_THRESHOLD) -> tuple[int, int]:
    """``(supported, total)`` over every ``[n]`` in the report: a citation is supported when
    its sentence shares at least ``threshold`` of its words with the cited passage."""
    supported = total = 0
    parts = [report.summary, report.conclusion, *(s.text for s in report.sections)]
    for part in parts:
        for s in sentences_with_citations(part):
            for n in s.ids:
                p = report.passage(n)
                total += 1
                if p is not None and overlap(s.text, p.text) >= threshold:
                    supported += 1
    return supported, total
