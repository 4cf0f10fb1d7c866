"""A question in one language over sources in another (.crosslang): the sources are
searched, and facts chosen, with the question and outline put into the sources' language
by one model call; the report keeps the question's language and headings. Replays the
1.5B's French run over the English sabotage manual, where both sections said "the sources
do not cover this" because French words matched no English passage."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fixtures.scripts import extractive_model
from qwenapp.library import Library
from qwenapp.models.events import Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports import Finished, ReportRequest, RunConfig, Warned, run_report
from qwenapp.reports.compose import Point, realise
from qwenapp.reports.gather import SourceTools
from qwenapp.reports.render import to_markdown

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
QUESTION = "Pourquoi les développeurs adoptent-ils les modèles Qwen ?"
FR_PLAN: dict[str, Any] = {
    "title": "Pourquoi les développeurs adoptent Qwen",
    "sections": [
        {"heading": "Licence", "questions": ["Sous quelle licence sont les modèles Qwen ?"]},
        {"heading": "Exécution locale",
         "questions": ["Qwen peut-il tourner sur un processeur avec GGUF ?"]},
    ],
}
ENGLISH = {
    QUESTION: "Why do developers adopt the Qwen models?",
    "Licence": "License",
    "Sous quelle licence sont les modèles Qwen ?": "Which license do Qwen models use?",
    "Exécution locale": "Running locally",
    "Qwen peut-il tourner sur un processeur avec GGUF ?": "Can Qwen run on a CPU with GGUF?",
}


@pytest.fixture
def english_docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    for name in ("qwen_adoption.md", "local_inference.txt", "gardening.txt"):
        shutil.copy(CORPUS / name, d / name)
    return d


def translating(translate: bool = True) -> ScriptedModel:
    """The extractive model, which also translates search queries (line for line)."""

    def first(messages: Sequence[Message]) -> str | None:
        if not messages[0].content.startswith("You translate search queries"):
            return None
        if not translate:
            return "Sorry, I can only answer in French."
        lines = [x.split(". ", 1)[1] for x in messages[-1].content.splitlines()]
        return "\n".join(f"{i}. {ENGLISH[x]}" for i, x in enumerate(lines, 1))

    return extractive_model(FR_PLAN, first=first)


def run(conn: sqlite3.Connection, model: ScriptedModel, docs: Path) -> list[Any]:
    req = ReportRequest(question=QUESTION, docs=[str(docs)], depth="quick")

    async def main() -> list[Any]:
        return [ev async for ev in run_report(conn, model, req,
                                              SourceTools(library=Library(conn)),
                                              config=RunConfig(parallel=1))]
    return asyncio.run(main())


def test_a_french_question_over_english_sources_finds_their_facts(
        conn: sqlite3.Connection, english_docs: Path) -> None:
    model = translating()
    events = run(conn, model, english_docs)
    last = events[-1]
    assert isinstance(last, Finished)
    rep = last.report
    assert rep.language == "fr"
    assert [s.heading for s in rep.sections] == ["Licence", "Exécution locale"]  # hers
    md = to_markdown(rep)
    assert "## Synthèse" in md and "## Références" in md
    assert "Apache 2.0" in rep.sections[0].text  # found by the English search
    assert "GGUF" in rep.sections[1].text
    assert all(s.supported and not s.fallback for s in rep.sections)
    assert "ne traitent pas" not in md  # not "the sources do not cover this"
    notes = [e.message for e in events if isinstance(e, Warned)]
    assert any("the sources are in English" in n and "searched with" in n for n in notes)
    asked = [c for c in model.calls if c.messages[0].content.startswith("You translate")]
    assert len(asked) == 1  # one call for the whole outline


def test_a_translation_that_does_not_come_back_keeps_the_first_search(
        conn: sqlite3.Connection, english_docs: Path) -> None:
    events = run(conn, translating(translate=False), english_docs)
    assert isinstance(events[-1], Finished)  # still a report
    notes = [e.message for e in events if isinstance(e, Warned)]
    assert any("could not be put into that language" in n for n in notes)


def test_sources_in_the_question_language_are_searched_once(
        conn: sqlite3.Connection, english_docs: Path) -> None:
    model = extractive_model()
    req = ReportRequest(question="Why do developers adopt the Qwen models?",
                        docs=[str(english_docs)], depth="quick")

    async def main() -> list[Any]:
        return [ev async for ev in run_report(conn, model, req,
                                              SourceTools(library=Library(conn)))]
    events = asyncio.run(main())
    assert isinstance(events[-1], Finished)
    assert not any(c.messages[0].content.startswith("You translate") for c in model.calls)


def test_a_french_sentence_over_an_english_fact_is_kept() -> None:
    """The 1.5B's French sentences over the manual's English list were all dropped: they
    share the French question's words ("réunions", "conférences") and none of the fact's,
    which the check for question words wedged into a fact took as borrowing."""
    fact = ("When possible, refer all matters to committees, for \"further study and "
            "consideration.\" Attempt to make the committees as large as possible.")
    points = [Point(fact, (3,), (fact,))]
    answer = ("1. Lors des réunions et des conférences, renvoyez toutes les questions à des "
              "comités aussi grands que possible.")
    got = realise(answer, points, lang="fr", asked=QUESTION,
                  question="Que conseille le manuel lors des réunions et des conférences ?")
    assert [s.passage_ids for s in got.sentences] == [[3]] and got.model_sentences == 1
    # a figure or a name the fact does not have still fails, in any language
    wrong = realise("1. Renvoyez tout à des comités de 12 personnes à Berlin.", points,
                    lang="fr", question="Que conseille le manuel ?")
    assert got.model_sentences == 1 and wrong.model_sentences == 0
