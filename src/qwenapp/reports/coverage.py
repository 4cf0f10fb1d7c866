"""Does the report answer the question? The question's own terms, checked in code.

A report can be true sentence by sentence and still miss the point. Read in
a real report: asked what the Simple Sabotage manual advises for disrupting
organizations and conferences, the default model planned a "Background"
section that came out empty and two sections of general sabotage advice,
while the manual's list under "(a) Organizations and Conferences" (insist
on channels, make speeches, refer matters to committees...) went unused.

* :func:`specific_terms`: the question's subject terms, the ones that tell it
  apart within its sources ("organizations", "conferences"), not the words
  every passage or a source's title shares ("sabotage", "manual").
* :func:`cover_sections`: after the facts are planned, a section none of whose
  facts (with the titles they are under) has one of those terms is given
  facts again, from every passage of the report, with the question's subject
  weighed in; a section that still has none is flagged, and the run says so.
* :func:`question_parts` and :func:`coverage`: the figure the benchmark
  prints. For each part of the question, the passages of the whole corpus
  that answer it best (BM25 over their terms, independent of the report's own
  retrieval and outline), and how many of them a sentence of the report
  reflects (cites it, or is supported by it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .facts import ASKING, Fact, bm25, same_point, select_facts
from .model import Passage, Report
from .sentences import numbers_in, stem_terms, words
from .verify import support

__all__ = ["Coverage", "cover_sections", "coverage", "fact_terms", "question_parts",
           "specific_terms", "subject_words"]

_GENERIC_SHARE = 0.5  # a term in more than this share of the passages is not the subject


def _title_terms(title: str) -> set[str]:
    return stem_terms(re.sub(r"[_\-.]+", " ", title))


def specific_terms(question: str, pool: Sequence[Passage]) -> set[str]:
    """The question's terms that occur in the passages, in at most half of them, and not
    in a source's title: what the question is about, within these sources."""
    asked = stem_terms(question) - ASKING
    if not pool:
        return asked
    titles = set().union(*(_title_terms(p.source.title) for p in pool))
    df: Counter[str] = Counter(t for p in pool for t in stem_terms(
        f"{p.source.location}\n{p.text}") & asked)
    limit = max(1.0, _GENERIC_SHARE * len(pool))
    return {t for t in asked if 0 < df[t] <= limit and t not in titles}


def subject_words(question: str, specific: Collection[str], most: int = 6) -> list[str]:
    """The question's own words for ``specific`` terms ("conferences", not "confer"), for
    a message; CJK terms (bigrams) as they are."""
    out = [w for w in dict.fromkeys(words(question)) if stem_terms(w) & set(specific)]
    return (out or sorted(specific))[:most]


def fact_terms(fact: Fact) -> set[str]:
    return stem_terms(fact.text) | stem_terms(fact.heading)


def cover_sections(planned: Sequence[Sequence[Fact]],
                   sections: Sequence[tuple[Sequence[str], Sequence[Passage]]],
                   question: str, limit: int, pool: Sequence[Passage],
                   specific: Collection[str]) -> tuple[list[list[Fact]], list[int]]:
    """(facts per section, indexes of the sections flagged as not answering the question).

    A section whose facts share none of ``specific`` is given facts that do, chosen
    from every passage of the report (the question's subject and the section's heading
    as the query), none a point another section states already; they
    come first, then the section's own facts, up to ``limit``. When there are none, the
    section keeps what it had and is flagged.
    """
    out = [list(f) for f in planned]
    flagged: list[int] = []
    if not specific:
        return out, flagged
    stated = [(stem_terms(f.text), numbers_in(f.text)) for fs in out for f in fs]
    for i, (questions, _) in enumerate(sections):
        if any(fact_terms(f) & set(specific) for f in out[i]):
            continue
        # the question's subject as the section's own words: what it must speak to
        again = select_facts([" ".join(sorted(specific)), *questions[:1]], question, pool,
                             3 * limit, pool=pool, specific=specific)
        fresh: list[Fact] = []
        for f in again:
            point = (stem_terms(f.text), numbers_in(f.text))
            if not fact_terms(f) & set(specific) or any(same_point(point, t) for t in stated):
                continue
            fresh.append(f)
            stated.append(point)
            if len(fresh) >= limit:
                break
        if fresh:
            out[i] = (fresh + out[i])[:limit]
        else:
            flagged.append(i)
    return out, flagged


_PART_SPLIT = re.compile(r"[?？;；]|,?\s+and\s+(?=(?:what|how|which|why|who|when|where|whether)\b)"
                         r"|[，,]\s*(?=(?:what|how|which|why|who|when|where|whether)\b)|以及|并且",
                         re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The parts of a question that each ask for something ("How should the saboteur be
    motivated" and "what risks should he avoid"); a part with fewer than two content
    terms ("according to the manual") joins the one before it."""
    parts: list[str] = []
    for piece in _PART_SPLIT.split(question):
        piece = piece.strip(" ,，。")
        if not piece:
            continue
        if parts and len(stem_terms(piece)) < 2:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts or [question]


_REFLECTED = 0.75  # stricter than citing: a sentence that says this passage's point


def _reflects(sentence: str, passage: str, report: Report) -> bool:
    check = support(sentence.strip("“”\" "), [passage], report.question, report.language)
    return check.facts_ok and not check.cross_language and check.score >= _REFLECTED


@dataclass(frozen=True, slots=True)
class Coverage:
    targets: int  # passages most relevant to a part of the question (counted per part)
    covered: int  # of those, reflected in a sentence of the report
    missed: tuple[str, ...] = ()  # the first words of each target not reflected


def coverage(report: Report, corpus: Sequence[tuple[str, str]] | None = None, top: int = 3,
             min_words: int = 20) -> Coverage:
    """Of the ``top`` passages of ``corpus`` ((location, text) of every chunk of the
    report's documents; the report's own passages when not given) most relevant to each
    part of the question, how many a report sentence reflects: it cites that passage, or
    the verifier accepts it against that passage. A passage is ranked by its text and its
    location (the list it continues is named there); a year or amount the question asks
    about belongs to each of its parts ("in 2024" and "how much came from cement")."""
    pairs = corpus if corpus is not None else [(p.source.location, p.text)
                                               for p in report.passages]
    kept = [(loc, t) for loc, t in pairs if len(words(t)) >= min_words]
    if not kept:
        return Coverage(0, 0)
    texts = [t for _, t in kept]
    docs = [stem_terms(f"{loc}\n{t}") for loc, t in kept]
    lengths = [len(d) for d in docs]
    sentences = [*report.summary_sentences, *report.conclusion_sentences,
                 *(x for s in report.sections for x in s.sentences)]
    by_id = {p.id: p.text for p in report.passages}
    cited = {by_id[i].strip() for s in sentences for i in s.passage_ids if i in by_id}
    targets = covered = 0
    missed: list[str] = []
    seen: set[int] = set()
    n = len(texts)
    titles = set().union(*(_title_terms(p.source.title) for p in report.passages))
    figures = {t for t in stem_terms(report.question) if t[:1].isdigit()}
    for part in question_parts(report.question):
        terms = (stem_terms(part) | figures) - titles - ASKING
        df = Counter(t for d in docs for t in d & terms)
        subject = {t for t in terms if 0 < df[t] <= max(1.0, _GENERIC_SHARE * n)} or terms
        scores = bm25(dict.fromkeys(subject, 1.0), docs, lengths)
        best = [j for j in sorted(range(n), key=lambda j: -scores[j]) if scores[j] > 0][:top]
        for j in best:
            if j in seen:
                continue  # a passage that answers two parts counts once
            seen.add(j)
            targets += 1
            text = texts[j].strip()
            if text in cited or any(_reflects(s.text, text, report) for s in sentences):
                covered += 1
            else:
                missed.append(" ".join(text.split()[:8]))
    return Coverage(targets, covered, tuple(missed))
