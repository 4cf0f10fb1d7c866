"""Tools of the web app's chat: ``/api/tools``.

``GET /api/tools`` lists what a turn may use on this server (the config file
decides; see :mod:`.chat_tools`); ``POST /api/tools/approvals/{token}``
answers a ``tool_confirm`` of the caller's own running turn.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from .auth import Caller
from .chat_tools import ApprovalIn, ToolCatalogue
from .errors import ErrorResponse, not_found
from .state import State

__all__ = ["router"]

router = APIRouter(prefix="/api/tools", tags=["tools"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)}


# -- routes -------------------------------------------------------------------------------

@router.get("", response_model=ToolCatalogue, responses=_ERRORS)
async def list_tools(state: State, who: Caller) -> ToolCatalogue:
    """The tools a chat turn may use on this server (the config file decides which)."""
    return await state.tools.catalogue(state)


@router.post("/approvals/{token}", status_code=204, responses=_ERRORS)
async def answer_approval(state: State, who: Caller, token: str, body: ApprovalIn) -> Response:
    """Allow or refuse a tool call your turn is waiting on (its ``tool_confirm`` token)."""
    if len(token) > 100 or not state.approvals.answer(who.user.id, token, body.allow):
        raise not_found("question")
    return Response(status_code=204)
