"""Clarifying questions before a report or a deck: ``POST /api/clarify``.

The web app's Research and Slides modes first ask one round of questions,
as the Qwen app does: the model proposes a few about scope (see
:mod:`qwenapp.clarify`); the page adds audience and length, and sends the
answers with the job as ``clarifications``. The model call takes a
generation slot like a chat turn, and is cancelled if the client leaves.
When the model cannot help, fixed questions come back (``source: default``),
so the round never blocks a job.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from ..clarify import clarifying_questions
from .auth import Caller
from .disconnect import until_disconnect
from .errors import ErrorResponse
from .schemas import ClarifyOut, ClarifyRequest, QuestionOut
from .state import State

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)}


@router.post("/clarify", response_model=ClarifyOut, responses=_ERRORS)
async def clarify(state: State, who: Caller, body: ClarifyRequest,
                  request: Request) -> ClarifyOut:
    """Questions worth asking before writing the report or deck ``text`` asks for."""
    backend = state.models.get(body.model)
    state.rates.check(who.user.id)
    lease = await state.streams.acquire(who.user.id)
    try:
        found = await until_disconnect(request, clarifying_questions(backend, body.kind,
                                                                     body.text))
    finally:
        lease.release()
    return ClarifyOut(questions=[QuestionOut(question=q.text, options=list(q.options))
                                 for q in found.questions],
                      language=found.language, source=found.source)
