"""A section whose generation the token limit cuts: the half sentence never reaches the report.

The scripted model streams one character per token, so ``max_tokens`` cuts its answer
exactly where a real engine's would; the documents' sentences are longer than a section's
token budget, so the cut falls inside the first numbered line (the case the old rule, "cut
at the last stop if it lies past a third of the answer", let through whole: there was no
stop to cut at, and a prefix of a fact passes the support check word for word).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fixtures.scripts import numbered, restate
from qwenapp.library import Library
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports import Finished, Report, ReportRequest, RunConfig, SourceTools, run_report
from qwenapp.reports.prompts import FRAME_SYSTEM, SECTION_SYSTEM
from qwenapp.reports.render import to_markdown
from qwenapp.reports.write import drop_cut_sentence

PLAN: dict[str, Any] = {"title": "Qwen licensing",
                        "sections": [{"heading": "Licensing",
                                      "questions": ["Which license do Qwen models use?"]}]}

# sentences of 230+ characters: longer than a short section's 200-token budget at one
# character a token
DOC = (
    "# Qwen licensing\n\n"
    "Most Qwen models are released under the Apache 2.0 license, which lets companies use, "
    "modify and redistribute the weights in commercial products without paying Alibaba any "
    "fee, provided that they keep the license notice and state the changes they made.\n\n"
    "The largest Qwen models were for a time released under a separate Qwen license that "
    "required companies with more than one hundred million monthly active users to ask "
    "Alibaba for a commercial license before they could deploy those models in products.\n\n"
    "Developers who compared licenses said that the permissive Apache 2.0 license of the "
    "Qwen models was a main reason to choose them over open-weight models whose licenses "
    "restrict commercial use, fine-tuning or the use of model outputs to train other models.\n"
)


def _model(cuts: list[str]) -> ScriptedModel:
    """Rewrites every fact (or restates every finding) in full; the engine's limit cuts it.
    ``cuts`` gets the half line each cut answer ends with."""

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        system, user = messages[0].content, messages[-1].content
        if system.startswith("You plan research reports"):
            return PLAN
        if system.startswith((SECTION_SYSTEM, FRAME_SYSTEM)):
            say = restate if system.startswith(FRAME_SYSTEM) else str
            text = "\n".join(f"{n}. {say(t)}" for n, t in numbered(user))
            limit = options.max_tokens or len(text)
            if limit < len(text):
                cut = text[:limit].rpartition("\n")[2]
                cuts.append(re.sub(r"^\d+\.\s*", "", cut))
            return text
        return "Something else."

    return ScriptedModel(responder=respond, chunk_size=1)


def _run(conn: sqlite3.Connection, model: ScriptedModel, docs: Path) -> Report:
    req = ReportRequest(question="Which license do Qwen models use?", docs=[str(docs)],
                        depth="quick", length="short")

    async def main() -> Report:
        async for ev in run_report(conn, model, req, SourceTools(library=Library(conn)),
                                   config=RunConfig(parallel=1)):
            if isinstance(ev, Finished):
                return ev.report
        raise AssertionError("no report")

    return asyncio.run(main())


def test_half_sentence_cut_by_the_token_limit_never_reaches_the_report(
        conn: sqlite3.Connection, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "licensing.md").write_text(DOC, encoding="utf-8")
    cuts: list[str] = []
    model = _model(cuts)
    rep = _run(conn, model, docs)
    writers = [c for c in model.calls if c.messages[0].content.startswith(SECTION_SYSTEM)]
    assert writers and cuts, "the limit must cut a section's answer"
    md = to_markdown(rep)
    for half in cuts:
        assert len(half) > 40 and not half.rstrip().endswith((".", "。"))
        # the half may begin a whole quotation; it must never end a sentence
        assert not re.search(re.escape(half.rstrip()) + r"[”\"]?\s*(?:\[\d+\]|[.。]|$)",
                             md, re.MULTILINE), half
    # what the section says instead is whole: each sentence is a fact, quoted and cited
    sec = rep.sections[0]
    assert sec.sentences and not sec.thin
    facts = [re.sub(r"\s+", " ", p) for p in DOC.split("\n\n")[1:]]
    for s in sec.sentences:
        body = s.text.strip("“”").rstrip(".")
        assert any(body in f and len(body) > 0.9 * len(f.rstrip(".\n")) for f in facts), s.text


def test_drop_cut_sentence() -> None:
    # the last line up to its last stop; a list number is not a stop; a broken character goes
    assert drop_cut_sentence("1. Qwen uses the Apache 2.0 license and can be") == ""
    assert drop_cut_sentence("1. A is b.\n2. Workers slow down\n3. Managers hold the") == \
        "1. A is b.\n2. Workers slow down"
    assert drop_cut_sentence("1. A is b.\n2. Workers slow. Then the") == \
        "1. A is b.\n2. Workers slow."
    assert drop_cut_sentence("He said “stop.” Then he") == "He said “stop.”"
    assert drop_cut_sentence("第一条。最后，国家\ufffd") == "第一条。"
