"""Detectors for model output that must never reach a report.

Each is a pure function over text, tested on real bad outputs of the
catalogue models (``tests/fixtures/degenerate/``): runs of citation markers
with no words (``[1] [2] [3] [4] [5] [1] …``), loops of one phrase, the
prompt's own scaffolding echoed back ("=== SOURCES", "This section
answers:"), JSON, passages pasted whole under their labels, headings, and
filler that only restates the question. :func:`output_problems` judges a
whole answer (reject it, or fall back to extracts); :func:`sentence_problem`
judges one sentence of an answer that passed (drop it).
"""

from __future__ import annotations

import re
from collections import Counter

from .sentences import stem_terms, words

__all__ = [
    "MAX_MARKER_RUN",
    "MAX_REPEAT_SHARE",
    "longest_marker_run",
    "output_problems",
    "repeated_ngram_share",
    "restates_question",
    "scaffold_leaks",
    "sentence_problem",
]

MAX_MARKER_RUN = 3  # more citation markers in a row than this is a marker run
MAX_REPEAT_SHARE = 0.3  # an answer whose 4-grams repeat this much is a loop

_MARKER = (r"(?:\[\s*(?:\^|#|source\s*|ref\s*)?\d+(?:\s*[,，、;\-–]\s*\d+)*\s*\]"
           r"|【\s*\d+\s*】|［\d+］)")
_MARKER_RUN = re.compile(rf"{_MARKER}(?:[\s,，、;.。]*{_MARKER})*", re.IGNORECASE)
_ONE_MARKER = re.compile(_MARKER, re.IGNORECASE)

# what our prompts say, and what chat templates and report writers add
_LEAKS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.IGNORECASE | re.MULTILINE)) for name, rx in (
        ("sources fence", r"={2,}\s*(?:end of )?sources|quoted material|not instructions"),
        ("prompt scaffold", r"this section answers\s*:|report question\s*:|research question\s*:|"
                            r"^\s*section\s*:|^\s*facts?\s*(?:\(|:)|^\s*(?:points?|findings?)\s*:|"
                            r"rewrite (?:each|the) (?:fact|point)|numbered the same way|"
                            r"instruction-like text omitted|本节回答|报告问题[:：]"),
        ("passage label", r"^\s*\[\d+\]\s*\([^)]{2,}\)\s*$"),
        ("chat template", r"<\|im_(?:start|end)\|>|<\|endoftext\|>|</?think>|^\s*(?:system|"
                          r"assistant|user)\s*:"),
        ("code fence", r"```"),
        ("json", r"^\s*[\[{]\s*\"|\"\s*:\s*[\[{\"]"),
        ("assistant talk", r"\bas an ai\b|\bhere (?:is|are) the (?:rewritten|section|"
                           r"sentences?|summary|conclusion)\b|\bi hope this helps\b|"
                           r"\bsure[,!] here\b|以下是"),
    ))


def longest_marker_run(text: str) -> int:
    """The most citation markers in a row, with nothing but spaces or commas between them."""
    best = 0
    for m in _MARKER_RUN.finditer(text):
        best = max(best, len(_ONE_MARKER.findall(m.group(0))))
    return best


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """Share of the word ``n``-grams that repeat an earlier one (0 for a clean text)."""
    toks = [w for w in words(_ONE_MARKER.sub(" ", text))]
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    if not grams:
        return 0.0
    counts = Counter(grams)
    return sum(c - 1 for c in counts.values()) / len(grams)


def scaffold_leaks(text: str) -> list[str]:
    """Names of the prompt-scaffold and template patterns found in ``text``."""
    return [name for name, rx in _LEAKS if rx.search(text)]


def _letters(text: str) -> int:
    return sum(1 for c in _ONE_MARKER.sub("", text) if c.isalpha())


def output_problems(text: str) -> list[str]:
    """Why a whole model answer is unusable (empty list: it may be used sentence by sentence)."""
    problems = []
    if _letters(text) < 12:
        problems.append("no prose")
    run = longest_marker_run(text)
    if run > MAX_MARKER_RUN:
        problems.append(f"a run of {run} citation markers")
    share = repeated_ngram_share(text)
    if share > MAX_REPEAT_SHARE:
        problems.append(f"repetition ({share:.0%} of 4-grams repeat)")
    problems.extend(f"leak: {leak}" for leak in scaffold_leaks(text))
    return problems


def restates_question(sentence: str, question: str) -> bool:
    """True for filler: a sentence that adds (almost) no word to the question's."""
    s, q = stem_terms(sentence), stem_terms(question)
    if not s:
        return True
    new = s - q
    return len(new) <= max(1, len(s) // 5)


_HEADING = re.compile(r"^\s*(?:#{1,6}\s|\*\*[^*]+\*\*\s*:?\s*$|[A-Z][^.!?。！？]{0,60}:\s*$)")
_FILLER = re.compile(r"(?i)^\s*(?:this section|in this section|the following|below,? |"
                     r"the (?:sources?|passages?|facts?|documents?) (?:do not|don't|provided)|"
                     r"本节|以下)")


def sentence_problem(sentence: str, question: str = "") -> str | None:
    """Why one sentence must not appear (None: it may, if the verifier agrees)."""
    if scaffold_leaks(sentence):
        return "leak: " + scaffold_leaks(sentence)[0]
    if _HEADING.match(sentence):
        return "heading"
    if _letters(sentence) < 8:
        return "no words"
    if longest_marker_run(sentence) > MAX_MARKER_RUN:
        return "marker run"
    if _FILLER.match(sentence):
        return "filler"
    if question and restates_question(sentence, question):
        return "restates the question"
    if repeated_ngram_share(sentence) > MAX_REPEAT_SHARE:
        return "repetition"
    return None
