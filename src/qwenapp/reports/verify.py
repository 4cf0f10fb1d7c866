"""The support verifier: is this sentence backed by the passage it cites?

Pure and explainable. A sentence is *supported* when

* enough of its content words (CJK: character bigrams; Latin: crude stems)
  occur in the cited passage(s): :data:`SUPPORT_THRESHOLD` (a word of the
  question counts half: a sentence may frame a fact in the question's terms), and
* every number, date, amount and proper name in it occurs in a cited
  passage or in the question (a model inventing "November 5, 2021" or a
  person from the next story fails here even when its words overlap).

A sentence written in another language than its passage (a French report
over English sources) cannot share words with it; there only the numbers
and names are checked, and the score is the share of those found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..language import detect, is_cjk_text
from .sentences import names_in, numbers_in, stem_terms

__all__ = ["SUPPORT_THRESHOLD", "Support", "script_of", "support"]

SUPPORT_THRESHOLD = 0.5  # share of a sentence's content terms found in its cited passages


@dataclass(frozen=True, slots=True)
class Support:
    score: float  # share of the sentence's content terms found in the passages
    missing_numbers: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    cross_language: bool = False

    @property
    def ok(self) -> bool:
        if self.missing_numbers or self.missing_names:
            return False
        return self.cross_language or self.score >= SUPPORT_THRESHOLD

    @property
    def facts_ok(self) -> bool:
        """Numbers and names all found (the stricter half of the check)."""
        return not (self.missing_numbers or self.missing_names)


def script_of(text: str) -> str:
    return "cjk" if is_cjk_text(text) else "latin"


def support(sentence: str, passages: Sequence[str], question: str = "",
            lang: str = "en") -> Support:
    """How well ``passages`` (the cited ones) back ``sentence``."""
    joined = "\n".join(passages)
    terms = stem_terms(sentence)
    found = stem_terms(joined)
    # the question's words count half: "In 2024, global CO2 emissions were 10527" restates
    # a table row ("Year 2024, Total 10527") in the question's terms; a sentence still
    # needs most of its words from the passage, and every number and name checked below
    framed = (terms - found) & stem_terms(question)
    score = (len(terms & found) + 0.5 * len(framed)) / len(terms) if terms else 0.0
    allowed_numbers = numbers_in(joined) | numbers_in(question)
    missing_numbers = sorted(n for n in numbers_in(sentence) if n not in allowed_numbers)
    low = (joined + "\n" + question).lower()
    missing_names = sorted(n for n in names_in(sentence, lang) if n not in low
                           and n.replace("-", " ") not in low)
    # another language than the passage's: by script, or a Latin-script report over
    # sources in another Latin-script language (a French report over an English manual;
    # a French report over French sources is held to the word overlap like any other)
    cross = script_of(sentence) != script_of(joined) or (
        score < SUPPORT_THRESHOLD and lang.split("-")[0] != detect(joined))
    return Support(score=round(score, 3), missing_numbers=missing_numbers,
                   missing_names=missing_names, cross_language=cross)
