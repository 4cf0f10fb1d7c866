"""Sources in another language than the question: search and select in theirs.

Retrieval (BM25) and fact selection match words, so a French question over an English
manual found nine stray passages and no fact ("Que conseille le manuel aux citoyens
ordinaires lors des réunions…": both sections said the sources do not cover it), and a
Chinese question over English documents fares no better. When the passages a first
search finds are in another language than the report, the question and the plan's
headings and questions are translated into the sources' language by one short model
call, the sources are searched again with them, and facts are chosen by them; the
report's own headings stay in the question's language, and its sentences are written
in that language from the chosen facts (the verifier accepts a sentence in another
language than its passage on its numbers and names: see :mod:`.verify`).

A translation that does not come back line for line is not used: the first search
stands, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from ..language import detect
from ..models.base import Backend, complete
from ..models.events import GenerateOptions, Message
from .language import language_name
from .model import Passage, Plan, PlanSection

__all__ = ["SearchTerms", "sources_language", "translate_terms"]

_LINE = re.compile(r"^\s*(\d{1,2})[.)]\s*(.+?)\s*$")


class SearchTerms(BaseModel):
    """The question and the plan in the sources' language (a saved stage)."""

    language: str
    question: str
    sections: list[PlanSection]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _base(lang: str) -> str:
    return lang.split("-")[0].lower()


def sources_language(passages: Sequence[Passage], report_lang: str) -> str | None:
    """The language the passages are written in, when it is not the report's (else None)."""
    if not passages:
        return None
    sample = " ".join(p.text for p in passages[:6])[:3000]
    found = detect(sample)
    return None if found == _base(report_lang) else found


async def translate_terms(backend: Backend, question: str, plan: Plan, to_lang: str,
                          ) -> SearchTerms | None:
    """``question`` and ``plan``'s headings and questions in ``to_lang``, or None."""
    lines = [question]
    for s in plan.sections:
        lines += [s.heading, *s.questions]
    numbered = "\n".join(f"{i}. {_one_line(x)}" for i, x in enumerate(lines, 1))
    name = language_name(to_lang)
    messages = [
        Message("system", f"You translate search queries into {name}. Translate each "
                          "numbered line; keep its number; write only the translations, "
                          "one per line, nothing else."),
        Message("user", numbered),
    ]
    budget = 40 + sum(len(x) for x in lines) // 2
    result = await complete(backend, messages, GenerateOptions(
        max_tokens=min(budget, 600), temperature=0.1, think=False))
    got: dict[int, str] = {}
    for raw in result.text.splitlines():
        m = _LINE.match(raw)
        if m and 1 <= int(m[1]) <= len(lines) and m[2].strip():
            got.setdefault(int(m[1]), m[2].strip())
    if len(got) != len(lines) or detect(" ".join(got.values())) != _base(to_lang):
        return None
    out = [got[i] for i in range(1, len(lines) + 1)]
    sections: list[PlanSection] = []
    at = 1
    for s in plan.sections:
        heading, qs = out[at], out[at + 1: at + 1 + len(s.questions)]
        at += 1 + len(s.questions)
        sections.append(PlanSection(heading=heading[:120], questions=[q[:300] for q in qs]))
    return SearchTerms(language=to_lang, question=out[0], sections=sections)
