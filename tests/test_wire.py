"""The JSON of every core event, pinned: stored job events and SSE keep the shape they had.

A job's events are stored as (name, JSON) rows that users' databases already
hold, and the web page and API clients read the same JSON over SSE; the
strings below are what the hand-written mappers wrote before the wire was
derived in :mod:`qwenapp.wire`, key order included.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest

from qwenapp.chat import ChatResult, Notice, Saved, Started, Trimmed
from qwenapp.jobs.events import (
    DeckMade,
    JobEnded,
    JobQueued,
    JobResuming,
    JobRunning,
    ReportMade,
    ReportRendering,
)
from qwenapp.models.events import (
    Completion,
    Finish,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallError,
    Usage,
)
from qwenapp.reports.events import (
    PassagesReady,
    PlanReady,
    RunStarted,
    SearchDone,
    SectionStarted,
    SectionWritten,
    SourceRead,
    SourceSkipped,
    StageReused,
    Warned,
)
from qwenapp.reports.model import Plan, PlanSection
from qwenapp.slides import Deck, DeckGenerated, DeckStats
from qwenapp.slides.deck import Slide
from qwenapp.slides.events import (
    Exported,
    Note,
    OutlineReady,
    OutlineRetry,
    OutlineStarted,
    Rendered,
    Rendering,
    SlideChanged,
    SlideRetry,
    SlideStarted,
    SlideWritten,
)
from qwenapp.slides.events import StageReused as DeckStageReused
from qwenapp.slides.outline import Outline, PlannedSlide
from qwenapp.tools.events import ToolConfirm, ToolFinished, ToolNotice, ToolStarted
from qwenapp.wire import WireEvent, event_json, result_json


def _row(ev: Any) -> str:
    """An event as the job store writes it: ``name`` and ``json.dumps(data)``."""
    name, data = event_json(ev)
    return f"{name} {json.dumps(data, ensure_ascii=False)}"


CALL = ToolCall("c1", "calculator", {"expression": "2+2"})
_stats = DeckStats(degraded=1, replaced=2, dropped=0, overlapping=1, data_slides=1,
                   report_slides=0)
_deck = Deck(title="T", slides=[Slide(kind="bullets", title="A", bullets=["x"])])

JOB_EVENTS: list[tuple[Any, str]] = [
    (JobQueued("report", "Why Qwen?"), 'queued {"kind": "report", "title": "Why Qwen?"}'),
    (JobRunning(False), 'running {"resumed": false}'),
    (JobResuming("the server restarted; the job continues"),
     'resuming {"reason": "the server restarted; the job continues"}'),
    (JobEnded("done"), 'done {"status": "done", "error": null}'),
    (JobEnded("failed", "boom"), 'failed {"status": "failed", "error": "boom"}'),
    (JobEnded("cancelled"), 'cancelled {"status": "cancelled", "error": null}'),
    # reports
    (RunStarted("r1", False, "en"),
     'started {"report_id": "r1", "resumed": false, "language": "en"}'),
    (StageReused("plan"), 'stage_reused {"stage": "plan"}'),
    (PlanReady(Plan(title="P", sections=[PlanSection(heading="H", questions=["q?"])]), True),
     'plan {"title": "P", "fallback": true, "sections": [{"heading": "H", "questions": '
     '["q?"]}]}'),
    (SourceRead("a.md", "A", "3 passages"),
     'source_read {"source": "a.md", "title": "A", "detail": "3 passages"}'),
    (SourceSkipped("b.pdf", "empty"), 'source_skipped {"source": "b.pdf", "reason": "empty"}'),
    (SearchDone("qwen", 5), 'search {"query": "qwen", "results": 5}'),
    (PassagesReady(12, 3), 'passages {"passages": 12, "sources": 3}'),
    (SectionStarted(1, 3, "H"), 'section_started {"index": 1, "total": 3, "heading": "H"}'),
    (SectionWritten(1, 3, "H", 4, 1, fallback=True, dropped=2, sentences=5),
     'section_written {"index": 1, "total": 3, "heading": "H", "citations": 4, "removed": 1}'),
    (Warned("careful"), 'warning {"message": "careful"}'),
    (ReportRendering(("md", "html", "docx", "pdf")),
     'rendering {"formats": ["md", "html", "docx", "pdf"]}'),
    (ReportMade("r1", "T", "en", 3, 7, ("w",), ("report.md", "report.json")),
     'result {"report_id": "r1", "title": "T", "language": "en", "sections": 3, '
     '"references": 7, "warnings": ["w"], "artifacts": ["report.md", "report.json"]}'),
    # decks
    (OutlineStarted(6, "en"), 'outline_started {"content_slides": 6, "language": "en"}'),
    (OutlineRetry(2, "bad JSON"), 'outline_retry {"attempt": 2, "reason": "bad JSON"}'),
    (OutlineReady(Outline("T", "S", (PlannedSlide("bullets", "H"),))),
     'outline {"title": "T", "subtitle": "S", "slides": [{"heading": "H", "kind": '
     '"bullets"}]}'),
    (SlideStarted(1, 6, "H", "bullets"),
     'slide_started {"index": 1, "total": 6, "heading": "H", "kind": "bullets"}'),
    (SlideRetry(1, "H", 2, "too long"),
     'slide_retry {"index": 1, "heading": "H", "attempt": 2, "reason": "too long"}'),
    (SlideWritten(1, 6, "H", "chart", 321),
     'slide_written {"index": 1, "total": 6, "heading": "H", "kind": "chart"}'),
    (SlideChanged(2, "H", "simplified", "too dense", "bullets"),
     'slide_changed {"index": 2, "heading": "H", "action": "simplified", "kind": "bullets", '
     '"reason": "too dense", "text": "slide 2 (H) was made a bullets slide: too dense"}'),
    (DeckStageReused("outline"), 'stage_reused {"stage": "outline"}'),
    (Note("a line was shortened"), 'note {"text": "a line was shortened"}'),
    (DeckGenerated(_deck, _stats),
     'generated {"slides": 1, "simplified": 1, "replaced": 2, "dropped": 0, '
     '"kept_overlapping": 1, "data_slides": 1, "report_slides": 0}'),
    (Rendering(8), 'rendering {"slides": 8}'),
    (Rendered(Path("/srv/deck.pptx"), 0.12345), 'rendered {"seconds": 0.123}'),
    (Exported((Path("/srv/deck.pdf"), Path("/srv/deck-1.png"))),
     'exported {"files": ["deck.pdf", "deck-1.png"]}'),
    (DeckMade("T", 8, ("deck.pptx",), ("deck-1.png",)),
     'result {"title": "T", "slides": 8, "artifacts": ["deck.pptx"], "thumbnails": '
     '["deck-1.png"]}'),
]

CHAT_EVENTS: list[tuple[Any, str]] = [
    (TextDelta("hi"), 'text {"text": "hi"}'),
    (ReasoningDelta("hm"), 'reasoning {"text": "hm"}'),
    (Started("c", "u", "m", True),
     'started {"conversation_id": "c", "user_message_id": "u", "model": "m"}'),
    (Usage(10, 5, 2), 'usage {"prompt_tokens": 10, "completion_tokens": 5, "cached_tokens": 2}'),
    (Finish("stop"), 'finish {"reason": "stop"}'),
    (Saved("m1", "complete"), 'saved {"message_id": "m1", "status": "complete"}'),
    (Trimmed(2), 'trimmed {"dropped": 2}'),
    (Notice("note"), 'notice {"text": "note"}'),
    (ToolCallDelta(0, "c1", "calculator", '{"ex'),
     'tool_delta {"index": 0, "id": "c1", "name": "calculator", "arguments": "{\\"ex"}'),
    (ToolConfirm(CALL, 1),
     'tool_confirm {"id": "c1", "name": "calculator", "arguments": {"expression": "2+2"}, '
     '"round": 1}'),
    (ToolStarted(CALL, 2),
     'tool_call {"id": "c1", "name": "calculator", "arguments": {"expression": "2+2"}, '
     '"round": 2}'),
    (CALL, 'tool_call {"id": "c1", "name": "calculator", "arguments": {"expression": "2+2"}, '
           '"round": null}'),
    (ToolFinished("c1", "make_deck", "ok", False, 0.5, {"job": {"id": "j"}}),
     'tool_result {"id": "c1", "name": "make_deck", "content": "ok", "error": false, '
     '"seconds": 0.5, "job": {"id": "j"}}'),
    (ToolCallError("c2", "calc", "{", "not JSON"),
     'tool_result {"id": "c2", "name": "calc", "content": "not JSON", "error": true, '
     '"seconds": 0.0}'),
    (ToolNotice("the round limit"), 'tool_notice {"text": "the round limit"}'),
]


@pytest.mark.parametrize(("event", "row"), JOB_EVENTS + CHAT_EVENTS,
                         ids=[type(e).__name__ for e, _ in JOB_EVENTS + CHAT_EVENTS])
def test_an_event_keeps_its_wire_shape(event: Any, row: str) -> None:
    assert _row(event) == row
    data = event_json(event)[1]
    assert json.loads(json.dumps(data)) == data  # plain JSON values: no tuple, no object


def test_every_wire_event_has_a_kind_and_a_shape() -> None:
    pinned = {type(e) for e, _ in JOB_EVENTS + CHAT_EVENTS}
    left = [t for t in typing.get_args(WireEvent) if t not in pinned]
    # the two a pipeline keeps to itself (its runner takes the report or the deck)
    assert sorted(t.__name__ for t in left) == ["DeckBuilt", "Finished"]
    for t in typing.get_args(WireEvent):
        assert isinstance(getattr(t, "event_kind", None), str) or t is JobEnded, t


def test_a_chat_result_is_the_one_reducer_and_keeps_its_json() -> None:
    r = ChatResult()
    for ev in (Started("c", "u", "m", False), TextDelta("4"), ReasoningDelta("2+2"),
               Usage(3, 1), Finish("stop"), ToolStarted(CALL, 1),
               ToolFinished("c1", "calculator", "4", False, 0.1), Notice("n"), Trimmed(1),
               Saved("m1", "complete")):
        r.add(ev)
    assert isinstance(r.answer, Completion) and r.text == "4" and r.finish_reason == "stop"
    assert json.dumps(result_json(r)) == json.dumps({
        "conversation_id": "c", "message_id": "m1", "model": "m", "content": "4",
        "reasoning": "2+2", "usage": {"prompt_tokens": 3, "completion_tokens": 1,
                                      "cached_tokens": 0},
        "finish_reason": "stop", "status": "complete", "dropped_messages": 1, "notices": ["n"],
        "tool_calls": [{"id": "c1", "name": "calculator", "arguments": {"expression": "2+2"},
                        "result": "4", "error": False}]})
    assert "tool_calls" not in result_json(ChatResult())
