"""Figures a reader can check: how trustworthy is this finished report?

Pure, over a saved :class:`~.model.Report` (and its Markdown), recomputed
from the text and the passages rather than read from what the writer
claimed, so the benchmark and the smoke test judge the output, not the
pipeline's own bookkeeping:

* prose words, sections that fell back to quotations or are thin;
* the share of repeated word 4-grams (see :func:`repetition`), the longest run
  of citation markers and prompt-scaffold leaks over the whole report body;
* the share of cited sentences the verifier accepts against the passages
  they cite, and the share of their numbers and names found there;
* coverage: of the passages most relevant to each part of the question (over the
  whole corpus when the caller gives it, see :func:`~.coverage.coverage`), how many
  a sentence of the report reflects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .coverage import coverage
from .degenerate import longest_marker_run, scaffold_leaks
from .model import Report, ReportSentence
from .render.markdown import to_markdown
from .sentences import names_in, numbers_in, words
from .verify import support

__all__ = ["QualityFigures", "measure", "repetition"]

_MARKERS = re.compile(r"\[\d+\]")


@dataclass
class QualityFigures:
    prose_words: int = 0
    sections: int = 0
    fallback_sections: int = 0
    thin_sections: int = 0
    repeated_4gram_share: float = 0.0
    frame_copies: int = 0  # summary/conclusion sentences that copy a body sentence
    longest_marker_run: int = 0
    leaks: list[str] = field(default_factory=list)
    cited_sentences: int = 0
    supported_sentences: int = 0
    numbers_names: int = 0
    numbers_names_found: int = 0
    extract_sentences: int = 0
    covered: int = 0
    coverage_targets: int = 0
    uncovered: list[str] = field(default_factory=list)  # first words of each missed passage

    @property
    def supported_share(self) -> float:
        return self.supported_sentences / self.cited_sentences if self.cited_sentences else 0.0

    @property
    def numbers_names_share(self) -> float:
        return self.numbers_names_found / self.numbers_names if self.numbers_names else 1.0

    @property
    def coverage(self) -> float:
        return self.covered / self.coverage_targets if self.coverage_targets else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(supported_share=round(self.supported_share, 3),
                   numbers_names_share=round(self.numbers_names_share, 3),
                   coverage=round(self.coverage, 3))
        return out


def _body(report: Report) -> str:
    """The report's prose as Markdown, without its reference list."""
    md = to_markdown(report)
    for marker in ("\n## References", "\n## 参考文献"):
        md = md.split(marker)[0]
    return md


def _grams(text: str, n: int = 4) -> list[tuple[str, ...]]:
    toks = words(_MARKERS.sub(" ", text))
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def _n(language: str) -> int:
    """The n-gram that stands for four words: a CJK word is about two characters (and a
    text about 个人信息 says its four characters in every sentence), so eight there."""
    return 8 if language.startswith(("zh", "ja")) else 4


def repetition(report: Report, copy_share: float = 0.8) -> tuple[float, int]:
    """(share of repeated word 4-grams, frame sentences that copy) of a report.

    What it measures, on purpose: what a reader reads twice. The report's prose in
    reading order (summary, sections, conclusion; citation markers left out), and every
    4-gram that already occurred earlier in it counts, wherever it is: a sentence said in
    two sections, a summary sentence that copies a section's sentence (or the section
    sentence that then says it again), a phrase a model loops on. No threshold decides
    what counts as a copy, so a summary that repeats a section's sentence word for word,
    quoted or not, counts in full, and one that restates it in its own words counts only
    the 4-grams it shares ("the Simple Sabotage Field Manual"). Chinese and Japanese count
    characters (no word segmenter), in runs of eight: about four words.

    The second figure is diagnostic: summary and conclusion sentences at least
    ``copy_share`` of whose 4-grams are in the sections or in an earlier frame sentence.
    """
    n = _n(report.language)
    seen: set[tuple[str, ...]] = set()
    total = repeated = 0
    texts = [*(s.text for s in report.summary_sentences), *(sec.text for sec in report.sections),
             *(s.text for s in report.conclusion_sentences)]
    for text in texts:
        for g in _grams(text, n):
            total += 1
            repeated += g in seen
            seen.add(g)
    said = {g for sec in report.sections for g in _grams(sec.text, n)}
    copied = 0
    for s in [*report.summary_sentences, *report.conclusion_sentences]:
        grams = _grams(s.text, n)
        copied += bool(grams) and sum(g in said for g in grams) >= copy_share * len(grams)
        said.update(grams)
    return (repeated / total if total else 0.0), copied


def measure(report: Report, *, corpus: Sequence[tuple[str, str]] | None = None,
            coverage_top: int = 3) -> QualityFigures:
    """The figures of ``report``; ``corpus``: (location, text) of every passage of its documents
    (the coverage targets are ranked over it; over the report's own passages without)."""
    f = QualityFigures()
    body = _body(report)
    prose = "\n".join([report.summary, report.conclusion, *(s.text for s in report.sections)])
    f.prose_words = len(words(_MARKERS.sub(" ", prose)))
    f.sections = len(report.sections)
    f.fallback_sections = sum(s.fallback for s in report.sections)
    f.thin_sections = sum(s.thin for s in report.sections)
    share, f.frame_copies = repetition(report)
    f.repeated_4gram_share = round(share, 3)
    f.longest_marker_run = longest_marker_run(body)
    f.leaks = scaffold_leaks(prose)
    by_id = {p.id: p for p in report.passages}
    sentences: list[ReportSentence] = [*report.summary_sentences, *report.conclusion_sentences,
                                       *(x for s in report.sections for x in s.sentences)]
    for s in sentences:
        texts = [by_id[i].text for i in s.passage_ids if i in by_id]
        if not texts:
            continue
        f.cited_sentences += 1
        f.extract_sentences += s.origin == "extract"
        check = support(s.text.strip("“”\" "), texts, report.question, report.language)
        f.supported_sentences += check.ok
        items = numbers_in(s.text) | names_in(s.text, report.language)
        f.numbers_names += len(items)
        f.numbers_names_found += len(items) - len(check.missing_numbers) - \
            len(check.missing_names)
    cover = coverage(report, corpus, top=coverage_top)
    f.coverage_targets, f.covered, f.uncovered = cover.targets, cover.covered, list(cover.missed)
    return f
