"""The summary and the conclusion are always there, and only say what the sections say.

The 0.5B's usual frame answer copies the findings it was shown, word for word, one per
line (or adds words of its own): every sentence fails the checks. The part then falls
back to the sections' own best sentences, with their citations, and the run says why;
before, both parts were left out of most of its reports.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fixtures.scripts import extractive_model, numbered, reword
from qwenapp.library import Library
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports import (
    Finished,
    Report,
    ReportEvent,
    ReportRequest,
    RunConfig,
    SourceTools,
    Warned,
    run_report,
)
from qwenapp.reports.prompts import FRAME_SYSTEM
from qwenapp.reports.quality import repetition
from qwenapp.reports.render import to_markdown

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
# what a small model adds when it "summarises": words no finding has
INVENTED = "Overall, Qwen is widely used in healthcare, finance and entertainment."


def _run(conn: sqlite3.Connection, model: ScriptedModel, docs: Path) -> list[ReportEvent]:
    req = ReportRequest(question="What drove Qwen's adoption among developers?",
                        docs=[str(docs)], depth="quick")

    async def main() -> list[ReportEvent]:
        return [ev async for ev in run_report(conn, model, req,
                                              SourceTools(library=Library(conn)),
                                              config=RunConfig(parallel=1))]

    return asyncio.run(main())


def test_frame_of_copies_falls_back_to_the_sections_findings(conn: sqlite3.Connection,
                                                              tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    inner = extractive_model(bogus_citation=False)

    def copying(messages: Sequence[Message], options: GenerateOptions) -> Any:
        if messages[0].content.startswith(FRAME_SYSTEM):
            findings = [reword(t) for _, t in numbered(messages[-1].content)]
            return "\n".join([*findings, INVENTED])
        return inner._reply(messages, options)

    events = _run(conn, ScriptedModel(responder=copying), docs)
    last = events[-1]
    assert isinstance(last, Finished)
    rep: Report = last.report
    md = to_markdown(rep)
    # a summary or conclusion that could only quote findings is left out (the reader would
    # read them twice: issue 16, no summary "made of repeated sentences"), and both the
    # run and the saved report say why
    assert "## Executive summary" not in md and "## Conclusion" not in md
    assert "healthcare" not in md
    assert not rep.summary_sentences and not rep.conclusion_sentences
    assert not rep.summary and not rep.conclusion
    _, copied = repetition(rep)
    assert copied == 0
    warned = [e.message for e in events if isinstance(e, Warned)]
    for part in ("summary", "conclusion"):
        for said in (warned, rep.warnings):  # the run and the saved report say why
            [w] = [m for m in said if m.startswith(f"the {part} is left out")]
            assert "copies a finding word for word" in w, w
