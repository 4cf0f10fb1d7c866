"""Core events as JSON: the one place that decides what any event looks like on the wire.

Every core event (a model delta, a chat turn's own events, a tool call, a
report's or a deck's progress, a job's life) is a frozen dataclass with an
``event_kind``: the name it has on the wire (the SSE ``event:`` field, the
``type`` of a stored job event). :func:`event_json` derives its JSON: the
dataclass's fields, unless the event is registered below with a shape of its
own (a nested value summarised, a field kept off the wire, a long result cut).
Two events may share a name where the wire shows them alike (a call that
could not be read is a failed ``tool_result``); a chat stream and a job
stream are separate vocabularies, so both may say ``started``.

Core, not server: the chat API, a job's stored events (written by whichever
process runs the job), and ``qwenapp chat --json`` all take their JSON from
here. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import fields
from functools import singledispatch
from typing import TYPE_CHECKING, Any

from .chat.events import ChatEvent, Started
from .jobs.events import JobEvent, RunnerEvent
from .models.events import ToolCall, ToolCallError, Usage
from .reports.events import (
    Finished,
    PlanReady,
    SectionWritten,
    SourceRead,
    SourceSkipped,
)
from .slides.events import (
    DeckBuilt,
    DeckGenerated,
    Exported,
    OutlineReady,
    Rendered,
    SlideChanged,
    SlideWritten,
)
from .tools.events import ToolConfirm, ToolFinished, ToolStarted

if TYPE_CHECKING:
    from .chat.assistant import ChatResult

__all__ = ["RESULT_CHARS", "WireEvent", "event_json", "result_json"]

RESULT_CHARS = 4000  # of a tool's result, on the wire and saved (the model saw up to 8,000)

# a chat turn's (the model's and the tool loop's included), a job's (its pipeline's, its
# own, its runner's), and the deck build's last, which its runner keeps
WireEvent = ChatEvent | JobEvent | RunnerEvent | DeckBuilt


def event_json(ev: WireEvent) -> tuple[str, dict[str, Any]]:
    """(wire name, JSON object) for one core event."""
    return ev.event_kind, _shape(ev)


@singledispatch
def _shape(ev: Any) -> dict[str, Any]:
    """By default an event is its fields (a tuple, as frozen events hold lists, a list)."""
    return {f.name: _plain(getattr(ev, f.name)) for f in fields(ev)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": dict(call.arguments)}


# -- chat and tools -------------------------------------------------------------------------

@_shape.register
def _started(ev: Started) -> dict[str, Any]:
    return {"conversation_id": ev.conversation_id, "user_message_id": ev.user_message_id,
            "model": ev.model}


@_shape.register
def _tool_call(ev: ToolCall) -> dict[str, Any]:
    return {**_call(ev), "round": None}


@_shape.register
def _tool_asked(ev: ToolConfirm) -> dict[str, Any]:
    return {**_call(ev.call), "round": ev.round}


@_shape.register
def _tool_started(ev: ToolStarted) -> dict[str, Any]:
    return {**_call(ev.call), "round": ev.round}


@_shape.register
def _tool_finished(ev: ToolFinished) -> dict[str, Any]:
    content = ev.content
    if len(content) > RESULT_CHARS:
        content = content[:RESULT_CHARS] + f"\n[… {len(ev.content) - RESULT_CHARS:,} more " \
                                           "characters]"
    data: dict[str, Any] = {"id": ev.call_id, "name": ev.name, "content": content,
                            "error": ev.error, "seconds": round(ev.seconds, 3)}
    job = (ev.data or {}).get("job")
    if isinstance(job, dict):
        data["job"] = job
    return data


@_shape.register
def _tool_unreadable(ev: ToolCallError) -> dict[str, Any]:
    return {"id": ev.id, "name": ev.name, "content": ev.message, "error": True, "seconds": 0.0}


# -- reports ---------------------------------------------------------------------------------

@_shape.register
def _plan(ev: PlanReady) -> dict[str, Any]:
    return {"title": ev.plan.title, "fallback": ev.fallback,
            "sections": [{"heading": s.heading, "questions": s.questions}
                         for s in ev.plan.sections]}


@_shape.register
def _source_read(ev: SourceRead) -> dict[str, Any]:
    return {"source": ev.locator, "title": ev.title, "detail": ev.detail}


@_shape.register
def _source_skipped(ev: SourceSkipped) -> dict[str, Any]:
    return {"source": ev.locator, "reason": ev.reason}


@_shape.register
def _section_written(ev: SectionWritten) -> dict[str, Any]:
    return {"index": ev.index, "total": ev.total, "heading": ev.heading,
            "citations": ev.citations, "removed": ev.removed}


@_shape.register
def _report_finished(ev: Finished) -> dict[str, Any]:
    return {"report_id": ev.report.id, "title": ev.report.title}


# -- decks -----------------------------------------------------------------------------------

@_shape.register
def _outline(ev: OutlineReady) -> dict[str, Any]:
    o = ev.outline
    return {"title": o.title, "subtitle": o.subtitle,
            "slides": [{"heading": s.heading, "kind": s.kind} for s in o.slides]}


@_shape.register
def _slide_written(ev: SlideWritten) -> dict[str, Any]:
    return {"index": ev.index, "total": ev.total, "heading": ev.heading, "kind": ev.kind}


@_shape.register
def _slide_changed(ev: SlideChanged) -> dict[str, Any]:
    return {"index": ev.index, "heading": ev.heading, "action": ev.action, "kind": ev.kind,
            "reason": ev.reason, "text": ev.text()}


@_shape.register
def _generated(ev: DeckGenerated) -> dict[str, Any]:
    st = ev.stats
    return {"slides": len(ev.deck.slides), "simplified": st.degraded, "replaced": st.replaced,
            "dropped": st.dropped, "kept_overlapping": st.overlapping,
            "data_slides": st.data_slides, "report_slides": st.report_slides}


@_shape.register
def _rendered(ev: Rendered) -> dict[str, Any]:
    return {"seconds": round(ev.seconds, 3)}


@_shape.register
def _exported(ev: Exported) -> dict[str, Any]:
    return {"files": [p.name for p in ev.paths]}


@_shape.register
def _built(ev: DeckBuilt) -> dict[str, Any]:
    return {"title": ev.result.deck.title, "slides": len(ev.result.deck.slides)}


# -- a collected turn ------------------------------------------------------------------------

def _usage(usage: Usage | None) -> dict[str, Any] | None:
    return None if usage is None else _shape(usage)


def result_json(r: ChatResult) -> dict[str, Any]:
    """A whole turn, collected (what ``qwenapp chat --json`` prints)."""
    return {
        "conversation_id": r.conversation_id, "message_id": r.message_id, "model": r.model,
        "content": r.text, "reasoning": r.reasoning, "usage": _usage(r.usage),
        "finish_reason": r.finish_reason, "status": r.status, "dropped_messages": r.dropped,
        "notices": r.notices, **({"tool_calls": r.tool_calls} if r.tool_calls else {}),
    }
