"""Facts first: code picks the passage sentences that answer a section's questions.

Small models write badly when they juggle many passages and type citation
markers themselves. So the writer never sees passages: it sees a short
numbered list of *facts*, single sentences taken from the retrieved
passages, each remembered with the passage it came from. Selection is BM25
over sentences (CJK as bigrams, Latin crudely stemmed) against the
section's heading and questions, with the report question at half weight:

* a sentence sharing too few of the query's terms is not a fact, so a
  passage that does not answer the question contributes nothing even when
  it was retrieved (an unrelated story on the same PDF page stays out);
* a fact is one sentence of one passage, so no fact mixes two stories;
* near-duplicates are dropped, at most :data:`PER_PASSAGE` facts come from
  one passage, and lines that read like instructions to a model are never
  facts (sources are data).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from .model import Passage
from .prompts import is_instruction_like
from .sentences import split_sentences, stem_terms, table_facts, words

__all__ = ["PER_PASSAGE", "Fact", "candidate_sentences", "plan_facts", "select_facts"]

PER_PASSAGE = 3
_MIN_SHARE = 0.3  # of the best fact's score
_LOOSE_SHARE = 0.12  # the second pass, for a section the first leaves thin
_MAX_WORDS = 70
_CLOSERS = tuple(".!?。！？;；\"”’」")


@dataclass(frozen=True, slots=True)
class Fact:
    """One sentence of one passage, and how well it answers the query."""

    text: str
    passage_id: int
    score: float
    position: int  # index of the sentence in its passage


def _usable(sentence: str, table_row: bool) -> bool:
    terms = stem_terms(sentence)
    n_words = len(words(sentence))
    if len(terms) < (3 if table_row else 4) or n_words > _MAX_WORDS * (2 if table_row else 1):
        return False
    if is_instruction_like(sentence):
        return False
    letters = sum(1 for c in sentence if c.isalpha())
    if not table_row and letters < 0.55 * len(sentence.replace(" ", "")):
        return False  # rules, table debris, page furniture
    # a fact is a whole sentence: a heading, a caption or a sentence cut by the chunk
    # boundary has no closing stop
    return sentence.rstrip().endswith(_CLOSERS)


def candidate_sentences(passage: Passage) -> list[tuple[int, str]]:
    """(position, sentence) pairs of a passage that could serve as facts."""
    rows = table_facts(passage.text, passage.source.title)
    if rows:
        return [(i, r) for i, r in enumerate(rows) if _usable(r, True)]
    return [(i, s) for i, s in enumerate(split_sentences(passage.text)) if _usable(s, False)]


def _bm25(query: Mapping[str, float], docs: list[set[str]], lengths: list[int],
          stats: list[set[str]] | None = None) -> list[float]:
    """BM25 of each doc; IDF from ``stats`` (all the report's sentences) when given."""
    pool = stats or docs
    n = len(pool)
    avg = sum(lengths) / len(docs) if docs else 1.0
    df: Counter[str] = Counter(t for d in pool for t in d)
    out = []
    for d, length in zip(docs, lengths, strict=True):
        s = 0.0
        for t, w in query.items():
            if t in d:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += w * idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * length / max(avg, 1.0)))
        out.append(s)
    return out


def select_facts(questions: Sequence[str], context: str, passages: Sequence[Passage],
                 limit: int, *, per_passage: int = PER_PASSAGE,
                 pool: Sequence[Passage] = (), exclude: Collection[str] = ()) -> list[Fact]:
    """The ``limit`` best facts for ``questions`` (``context``: the report question).

    ``pool`` (every passage of the report) gives the term statistics, so a word all the
    sources share ("Qwen" in a report about Qwen) weighs little in every section.
    ``exclude``: sentences an earlier section already states.

    Ordered for reading: facts of the best passage first, each passage's facts in
    their original order, so one source's story stays together.
    """
    query: dict[str, float] = {}
    for q in questions:
        for t in stem_terms(q):
            query[t] = 1.0
    for t in stem_terms(context):
        query.setdefault(t, 0.5)
    if not query or not passages:
        return []
    cands: list[tuple[Passage, int, str, set[str]]] = []
    for p in passages:
        for pos, s in candidate_sentences(p):
            cands.append((p, pos, s, stem_terms(s)))
    if not cands:
        return []
    stats = [stem_terms(s) for p in pool for _, s in candidate_sentences(p)] or None
    docs, lengths = [c[3] for c in cands], [len(c[3]) for c in cands]
    scores = _bm25(query, docs, lengths, stats)
    strong = {t for t, w in query.items() if w >= 1.0} or set(query)
    # a sentence must answer the section, not share one word with it ("states" in
    # "What risks does Alibaba face in the United States?" and in an egg recall story):
    # two of the section's terms, or one when its passage as a whole has two or more
    # (a sentence about GGUF in a passage about running models on a CPU)
    vouched = {p.id for p in passages if len(stem_terms(p.text) & strong) >= 2}
    need = 2 if len(strong) >= 3 else 1
    # the section's own words (not the report question's): a fact must hit one of them,
    # or every section would collect the same generic "Qwen is popular" sentences
    own = strong - stem_terms(context)
    own_scores = _bm25(dict.fromkeys(own, 1.0), docs, lengths, stats) \
        if own else scores
    own_best = max(own_scores)
    best = max(scores)
    if best <= 0:
        return []
    ranked = sorted(range(len(cands)), key=lambda i: -scores[i])
    chosen: list[int] = []
    per: Counter[int] = Counter()
    # a second, looser pass when the first finds under three facts: a section whose
    # best sentence matches every query word should still get the next-best points
    for share, own_share in ((_MIN_SHARE, _MIN_SHARE), (_LOOSE_SHARE, 0.0)):
        for i in ranked:
            p, _, s, terms = cands[i]
            if len(chosen) >= limit or scores[i] < share * best:
                break
            if i in chosen or len(terms & strong) < (1 if p.id in vouched else need) \
                    or per[p.id] >= per_passage \
                    or s in exclude:
                continue
            if own_best > 0 and own_scores[i] < own_share * own_best:
                continue
            if any(len(terms & cands[j][3]) >= 0.7 * min(len(terms), len(cands[j][3]))
                   for j in chosen):
                continue  # the same point, said twice
            chosen.append(i)
            per[p.id] += 1
        if len(chosen) >= min(3, limit):
            break
    rank_of: dict[int, int] = {}
    for i in chosen:
        rank_of.setdefault(cands[i][0].id, len(rank_of))
    chosen.sort(key=lambda i: (rank_of[cands[i][0].id], cands[i][1]))
    return [Fact(text=cands[i][2], passage_id=cands[i][0].id, score=round(scores[i], 3),
                 position=cands[i][1]) for i in chosen]


def plan_facts(sections: Sequence[tuple[Sequence[str], Sequence[Passage]]], context: str,
               limit: int, pool: Sequence[Passage]) -> list[list[Fact]]:
    """Facts for every section, in order, so no two sections state the same sentence
    (a later section keeps a repeat only when it would otherwise have fewer than two)."""
    used: set[str] = set()
    out: list[list[Fact]] = []
    for questions, passages in sections:
        facts = select_facts(questions, context, passages, limit, pool=pool, exclude=used)
        if len(facts) < 2:
            facts = select_facts(questions, context, passages, limit, pool=pool)
        used.update(f.text for f in facts)
        out.append(facts)
    return out
