"""The plan: sections that are parts of the answer, not a paper's parts.

Replayed from the 1.5B's bench report of 2026-12-04 on "How did global CO2 emissions from
fossil fuels change between 1950 and 2024?": its plan was Methodology ("What statistical
methods were used to analyze the data?"), Results and Discussion ("What are the future
projections?"); the answer went into "Methodology", "Results" said the sources do not
cover it and "Discussion" quoted a citation line.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports.model import ReportRequest
from qwenapp.reports.plan import DEPTHS, make_plan, parse_plan, template_heading

CO2 = "How did global CO2 emissions from fossil fuels change between 1950 and 2024?"
PAPER = json.dumps({"title": "Global CO2 Emissions from Fossil Fuels", "sections": [
    {"heading": "Methodology", "questions": ["How did the data collection process take place?"]},
    {"heading": "Results", "questions": ["How did these emissions change over time?"]},
    {"heading": "Discussion", "questions": ["What are the future projections?"]}]})
ANSWER = json.dumps({"title": "Fossil CO2 emissions, 1950-2024", "sections": [
    {"heading": "Growth of total emissions", "questions": ["How much did emissions grow?"]},
    {"heading": "Emissions by fuel", "questions": ["Which fuels grew most?"]},
    {"heading": "Cement and flaring", "questions": ["How did cement emissions change?"]}]})


def test_a_paper_s_parts_are_template_headings() -> None:
    for h in ("Methodology", "Results", "Discussion", "Results and Discussion", "Background",
              "结果分析"):
        assert template_heading(h, CO2), h
    for h in ("Growth of total emissions", "Emissions by fuel", "Data sources",
              "Growth since 1950"):
        assert not template_heading(h, CO2), h
    # asked about a method, a heading that names it is part of the answer
    assert not template_heading("Methodology", "What methodology did the survey use?")


def test_a_plan_of_template_headings_is_asked_again() -> None:
    profile = DEPTHS["quick"]
    assert parse_plan(PAPER, profile, CO2) is None
    assert parse_plan(PAPER, profile) is not None  # without the question: taken as it is
    plan = parse_plan(ANSWER, profile, CO2)
    assert plan is not None and len(plan.sections) == 3


def test_make_plan_asks_again_and_keeps_the_answer_s_parts() -> None:
    answers = iter([PAPER, ANSWER])

    def reply(messages: Sequence[Message], options: GenerateOptions) -> Any:
        return next(answers)

    model = ScriptedModel(responder=reply)
    req = ReportRequest(question=CO2, docs=["x"], depth="quick")
    plan, fell_back = asyncio.run(make_plan(model, req, "en"))
    assert not fell_back
    assert [s.heading for s in plan.sections] == ["Growth of total emissions",
                                                  "Emissions by fuel", "Cement and flaring"]
    assert len(model.calls) == 2
    # the prompt shows what a heading is (an example, not a list of names to avoid, which
    # the 1.5B took as names to use)
    system = model.calls[0].messages[0].content
    assert "Growth until the 2008 peak" in system and "Methodology" not in system


def test_the_summary_s_findings_are_ranked_by_what_is_asked() -> None:
    """Replayed from the 1.5B's sabotage report of 2026-12-04: the summary quoted "Simple
    sabotage does not require specially prepared tools …", which shares only the manual's
    name with the question, over the section's tactics."""
    from qwenapp.reports.model import DraftSentence, Passage, SectionDraft, SourceRef
    from qwenapp.reports.write import _frame_points, asked_terms

    q = ("What does the Simple Sabotage Field Manual advise for disrupting organizations "
         "and conferences?")
    src = SourceRef(title="simple_sabotage_field_manual", locator="/m.txt", location="l. 1")
    passages = {1: Passage(id=1, text="x", source=src)}
    intro = DraftSentence(text="Simple sabotage does not require specially prepared tools or "
                               "equipment.", passage_ids=[1])
    tactic = DraftSentence(text="Insist on doing everything through channels, which disrupts "
                                "the organization's conferences.", passage_ids=[1])
    draft = SectionDraft(heading="Disrupting Organizations", text="", passage_ids=[1],
                         sentences=[intro, tactic])
    terms = asked_terms(q, passages)
    assert "sabotag" not in " ".join(terms) and terms
    assert _frame_points([draft], terms)[0] is tactic
