"""Replaying the real degenerate outputs of issue 16 through the whole pipeline.

A scripted model answers every section, summary and conclusion prompt with one of
the bad outputs in ``fixtures/degenerate/cases.json`` (citation markers and nothing
else, the prompt's scaffold and pasted passages, an invented conclusion, an invented
date and a borrowed story, a phrase loop, JSON, a heading and a restatement, chat
template tokens). None of it may reach the report: no marker run, no scaffold, no
invented name or number, and every sentence that does appear is supported by the
passage it cites.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from qwenapp.library import Library
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports import Finished, Report, ReportRequest, RunConfig, SourceTools, run_report
from qwenapp.reports.degenerate import longest_marker_run, scaffold_leaks
from qwenapp.reports.prompts import FRAME_SYSTEM, SECTION_SYSTEM
from qwenapp.reports.quality import measure
from qwenapp.reports.render import to_markdown
from qwenapp.reports.verify import support

CASES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "degenerate" / "cases.json").read_text("utf-8"))

PLAN = {"title": "Qwen among developers", "sections": [
    {"heading": "Adoption by developers",
     "questions": ["Why have developers embraced Alibaba's Qwen models?"]},
    {"heading": "Risks for Alibaba in the US",
     "questions": ["What risks does Alibaba face in the United States?"]},
    {"heading": "Licence and derivatives",
     "questions": ["Which license do Qwen 2.5 models use, and how many derivatives exist?"]},
]}

# what each bad output says that no source says (or the scaffold it leaks)
FOREIGN = {
    "markers_only": ["[5]"],
    "scaffold_and_paste": ["This section answers", "=== SOURCES", "(column, page 1)"],
    "invented_conclusion": ["healthcare", "privacy", "researchers argue"],
    "invented_date_and_story": ["November 5", "2021", "Wu was involved"],
    "phrase_loop": ["and the models are open"],
    "json_answer": ['"section"', "citations"],
    "heading_and_restatement": ["## Why developers embraced Qwen\n",
                                "This section discusses"],
    "chat_template": ["<|im_start|>", "<|im_end|>", "Sure, here"],
}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in CASES["passages"].items():
        (d / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
    return d


def _replaying(output: str) -> ScriptedModel:
    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        system = messages[0].content
        if system.startswith("You plan research reports"):
            return PLAN
        if system.startswith((SECTION_SYSTEM, FRAME_SYSTEM)):
            return output
        return "Something else."

    return ScriptedModel(responder=respond)


def _report(conn: sqlite3.Connection, model: ScriptedModel, docs: Path) -> Report:
    req = ReportRequest(question=CASES["question"], docs=[str(docs)], depth="quick")

    async def main() -> Report:
        last = None
        async for ev in run_report(conn, model, req, SourceTools(library=Library(conn)),
                                   config=RunConfig(parallel=2)):
            last = ev
        assert isinstance(last, Finished)
        return last.report

    return asyncio.run(main())


def test_every_case_is_covered() -> None:
    assert set(FOREIGN) == set(CASES["outputs"])


@pytest.mark.parametrize("name", sorted(CASES["outputs"]))
def test_degenerate_output_never_reaches_the_report(conn: sqlite3.Connection, docs: Path,
                                                    name: str) -> None:
    model = _replaying(CASES["outputs"][name])
    rep = _report(conn, model, docs)
    assert any(c.messages[0].content.startswith(SECTION_SYSTEM) for c in model.calls)
    md = to_markdown(rep)
    body = md.split("## References")[0]
    assert longest_marker_run(body) <= 1  # code cites one passage per sentence
    assert scaffold_leaks(body) == []
    for phrase in FOREIGN[name]:
        assert phrase not in body, phrase
    assert body.lower().count("open and free to use") <= 1
    # every sentence in the report is backed by the passage it cites
    by_id = {p.id: p for p in rep.passages}
    sentences = [*rep.summary_sentences, *rep.conclusion_sentences,
                 *(x for s in rep.sections for x in s.sentences)]
    assert sentences
    for s in sentences:
        texts = [by_id[i].text for i in s.passage_ids]
        assert texts and support(s.text.strip("“”\" "), texts, rep.question).ok, s
    # and the report as a whole has prose: fallbacks quote their facts
    figures = measure(rep)
    assert figures.supported_share == 1.0 and figures.prose_words >= 40
    assert figures.leaks == [] and figures.longest_marker_run <= 1
    # no section borrows from the FDA story: it answers nothing the question asks
    assert "FDA" not in body and "salmonella" not in body
    assert not re.search(r"\bWu\b", body)
