"""Conversations and chat turns: ``/api/conversations``.

A chat turn is ``POST /api/conversations/{id}/messages``; the answer streams
back as SSE (``started``, ``reasoning``, ``text``, ``usage``, ``finish``,
``saved``, then ``done``; ``error`` on failure). The handler is an adapter
over :meth:`qwenapp.chat.Assistant.chat`: it checks ownership, takes a
generation slot, and turns events into SSE. A client that disconnects
cancels the turn; the assistant saves the partial answer as interrupted.

When the server offers tools (:mod:`.chat_tools`), the turn runs the bounded
tool loop: ``tool_call`` / ``tool_result`` events come between the text, a
call with side effects first sends ``tool_confirm`` with a token and waits
for ``POST /api/tools/approvals/{token}``, and the steps are saved with the
answer as they happen (``tool_steps`` of the message), so a reload shows them.

With ``document_ids``, the best passages of those documents are put before
the question as numbered excerpts, and a ``sources`` event lists them so the
page can show what ``[n]`` refers to. Reports and decks finished earlier on
the same branch are context too (:mod:`.job_context`): the user can ask
about them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from ..chat import Assistant, find_excerpts, grounding_prompt
from ..chat.events import Saved, Started
from ..errors import QwenappError
from ..models.events import GenerateOptions
from ..store import Conversation
from ..tools import ToolConfirm
from .auth import Caller, Principal
from .chat_tools import TurnApprovals
from .citations import load_sources, save_sources
from .errors import ErrorResponse, HttpError, from_core, not_found
from .job_context import WorkContext, work_context
from .jobs_api import job_out
from .schemas import (
    ChatTurn,
    ConversationCreate,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ConversationPatch,
    MessageOut,
)
from .sse import EventStream, encode_event
from .state import ServerState, State
from .tool_steps import load_steps, save_steps
from .wire import ToolSteps, chat_event, conversation_json, message_json

__all__ = ["router"]

router = APIRouter(prefix="/api/conversations", tags=["conversations"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)}
_EXCERPTS = 6
_EXCERPT_CHARS = 1200


def _out(c: Conversation, snippet: str | None = None) -> ConversationOut:
    return ConversationOut(**conversation_json(c), snippet=snippet)


def _owned(state: ServerState, who: Principal, cid: str) -> Conversation:
    if not state.owners.owns_conversation(cid, who.user.id):
        raise not_found("conversation")
    return state.store.get(cid)


@router.get("", response_model=ConversationList, responses=_ERRORS)
async def list_conversations(
    state: State, who: Caller,
    q: str | None = Query(default=None, max_length=200, description="Search titles and text."),
    limit: int = Query(default=50, ge=1, le=200), offset: int = Query(default=0, ge=0),
) -> ConversationList:
    """Your conversations, most recent first; with ``q``, those matching it."""
    if not q or not q.strip():
        return ConversationList(conversations=[
            _out(c) for c in state.owners.conversations(who.user.id, limit, offset)])
    hits = state.store.search(q, limit=500)
    owned = state.owners.owned_conversations(who.user.id,
                                             list({h.conversation_id for h in hits}))
    seen: dict[str, str] = {}
    for h in hits:
        if h.conversation_id in owned and h.conversation_id not in seen:
            seen[h.conversation_id] = h.snippet
    ids = list(seen)[offset:offset + limit]
    return ConversationList(conversations=[_out(state.store.get(cid), seen[cid])
                                           for cid in ids])


@router.post("", response_model=ConversationOut, status_code=201, responses=_ERRORS)
async def create_conversation(state: State, who: Caller,
                              body: ConversationCreate) -> ConversationOut:
    """A new conversation. It holds one empty ``system`` message, the root of its tree, so
    the first question can be edited or its answer regenerated as a branch (a turn's
    ``parent_id`` names the message it follows; omitting it means "the latest")."""
    backend = state.models.get(body.model)
    conv = state.store.create(model=backend.name, system_prompt=body.system_prompt,
                              title=body.title)
    state.owners.claim_conversation(conv.id, who.user.id)
    state.store.add_message(conv.id, "system", "")
    return _out(state.store.get(conv.id))


@router.get("/{conversation_id}", response_model=ConversationDetail, responses=_ERRORS)
async def read_conversation(state: State, who: Caller, conversation_id: str) -> ConversationDetail:
    """A conversation with every message (a tree: edits and regenerations are branches)."""
    conv = _owned(state, who, conversation_id)
    rows = state.conn.execute(
        "SELECT id FROM messages WHERE conversation_id = ? ORDER BY seq", (conv.id,)).fetchall()
    messages = [state.store.message(r[0]) for r in rows]
    thread = [m.id for m in state.store.thread(conv.id)] if messages else []
    answers = [m.id for m in messages if m.role == "assistant"]
    sources = load_sources(state.conn, answers)
    steps = load_steps(state.conn, answers)
    jobs = [job_out(state, j) for j in state.jobs.store.for_conversation(conv.id, who.user.id)]
    return ConversationDetail(conversation=_out(conv),
                              messages=[MessageOut(**message_json(m), sources=sources.get(m.id),
                                                   tool_steps=steps.get(m.id))
                                        for m in messages],
                              thread=thread, jobs=jobs)


@router.patch("/{conversation_id}", response_model=ConversationOut, responses=_ERRORS)
async def rename_conversation(state: State, who: Caller, conversation_id: str,
                              body: ConversationPatch) -> ConversationOut:
    """Rename a conversation."""
    conv = _owned(state, who, conversation_id)
    return _out(state.store.rename(conv.id, body.title))


@router.delete("/{conversation_id}", status_code=204, responses=_ERRORS)
async def delete_conversation(state: State, who: Caller, conversation_id: str) -> Response:
    """Delete a conversation and all its messages."""
    conv = _owned(state, who, conversation_id)
    state.store.delete(conv.id)
    return Response(status_code=204)


def _excerpts(state: ServerState, who: Principal, body: ChatTurn
              ) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt text, sources) for the documents attached to a turn."""
    docs = []
    for doc_id in dict.fromkeys(body.document_ids):
        doc = state.owners.document(doc_id, who.user.id)
        if doc is None:
            raise not_found("document")
        docs.append(doc)
    if not docs:
        return "", []
    names = {d.id: d.filename for d in docs}
    found = find_excerpts(state.library, body.content, list(names), names,
                          limit=_EXCERPTS, chars=_EXCERPT_CHARS)
    return grounding_prompt(found), [e.as_json() for e in found]


@router.post("/{conversation_id}/messages", responses={
    **_ERRORS, 200: {"content": {"text/event-stream": {"schema": {
        "type": "string", "description": "SSE: started, reasoning, text, usage, finish, "
        "saved, done (or error); sources first when documents are attached; with tools, "
        "tool_delta, tool_confirm, tool_call, tool_result and tool_notice between"}}}}})
async def send_message(state: State, who: Caller, conversation_id: str, body: ChatTurn) -> Response:
    """Send a message and stream the answer (Server-Sent Events)."""
    conv = _owned(state, who, conversation_id)
    if not body.content.strip():
        raise HttpError(400, "the message is empty", code="invalid_input", param="content")
    if body.from_root and body.parent_id is not None:
        raise HttpError(400, "from_root and parent_id exclude each other", code="invalid_input",
                        param="from_root")
    if body.parent_id is not None:
        try:
            parent = state.store.message(body.parent_id)
        except QwenappError:
            raise not_found("message") from None
        if parent.conversation_id != conv.id:
            raise not_found("message")
    backend = state.models.get(body.model)
    extra, sources = _excerpts(state, who, body)
    # Reports and decks made in this branch of the conversation: within 40 % of the context
    # (the byte estimate is ~3 bytes a token), less what the attached excerpts already take.
    budget = int(backend.context_length * 3 * 0.4) - len(extra.encode("utf-8"))
    reports = (WorkContext() if body.from_root  # a new first message follows no job
               else work_context(state, who.user.id, conv.id, body.parent_id, budget))
    # Both follow the conversation's system prompt for this turn only (never saved).
    grounding = "\n\n".join(p for p in (extra, reports.prompt) if p)
    if not sources:
        sources = reports.sources
    state.rates.check(who.user.id)
    box = await state.tools.toolbox(state, who.user.id, conv.id, body.tools, body.model)
    try:
        lease = await state.streams.acquire(who.user.id)
    except BaseException:
        if box is not None:
            await box.aclose()
        raise
    options = GenerateOptions(temperature=body.temperature, max_tokens=body.max_tokens,
                              think=body.think)
    approvals = TurnApprovals(state.approvals, who.user.id)
    assistant = Assistant(backend, state.store, tools=box, max_rounds=state.tools.max_rounds,
                          confirm=approvals.confirm)
    source = _turn(state, assistant, body, conv.id, grounding, options, sources, approvals)
    return EventStream(source, on_close=lease.release)


async def _turn(state: ServerState, assistant: Assistant, body: ChatTurn, cid: str,
                grounding: str, options: GenerateOptions, sources: list[dict[str, Any]],
                approvals: TurnApprovals) -> AsyncIterator[bytes]:
    events = assistant.chat(body.content, conversation_id=cid, grounding=grounding,
                            options=options, parent_id=body.parent_id,
                            from_root=body.from_root)
    steps = ToolSteps()
    question = answer = ""
    try:
        if sources:
            yield encode_event("sources", {"sources": sources})
        async for ev in events:
            name, data = chat_event(ev)
            if isinstance(ev, Started):
                question = ev.user_message_id
            elif isinstance(ev, ToolConfirm):
                data["token"] = approvals.ask(ev.call)
            elif isinstance(ev, Saved):
                answer = ev.message_id
                if sources:
                    save_sources(state.conn, ev.message_id, sources)
            if steps.add(ev):
                answer = answer or _answer_of(state, question)
                if answer:  # saved as they happen: a cut-short answer keeps its steps
                    save_steps(state.conn, answer, steps.steps)
            yield encode_event(name, data)
        yield encode_event("done", {})
    except QwenappError as e:
        err = from_core(e)
        yield encode_event("error", {"message": err.message, "code": err.code,
                                     "hint": err.hint})
    finally:
        approvals.close()
        await events.aclose()
        if assistant.tools is not None:
            await assistant.tools.aclose()


def _answer_of(state: ServerState, question_id: str) -> str:
    """The answer being written to ``question_id`` (each turn's question has one)."""
    if not question_id:
        return ""
    kids = [m for m in state.store.children(question_id) if m.role == "assistant"]
    return kids[-1].id if kids else ""



