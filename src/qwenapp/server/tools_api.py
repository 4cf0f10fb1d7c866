"""Tools of the web app's chat: ``/api/tools``.

``GET /api/tools`` lists what a turn of the caller's may use on this server
(the config file decides, plus the caller's own MCP servers; see
:mod:`.chat_tools`); ``POST /api/tools/approvals/{token}`` answers a
``tool_confirm`` of the caller's own running turn. ``/api/tools/mcp`` lists,
adds and removes the caller's own MCP servers (rules in :mod:`.user_mcp`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from .auth import Caller
from .chat_tools import ApprovalIn, ToolCatalogue
from .errors import ErrorResponse, not_found
from .state import State
from .user_mcp import UserMcpIn, UserMcpList, UserMcpOut, UserMcpStore, check_new, shown

__all__ = ["router"]

router = APIRouter(prefix="/api/tools", tags=["tools"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 429)}


# -- routes -------------------------------------------------------------------------------

@router.get("", response_model=ToolCatalogue, responses=_ERRORS)
async def list_tools(state: State, who: Caller) -> ToolCatalogue:
    """The tools a chat turn of yours may use: the server's (its config file decides which)
    and your own MCP servers' (connected to list them: a server that fails is named in
    ``problems``)."""
    return await state.tools.catalogue(state, who.user.id)


@router.post("/approvals/{token}", status_code=204, responses=_ERRORS)
async def answer_approval(state: State, who: Caller, token: str, body: ApprovalIn) -> Response:
    """Allow or refuse a tool call your turn is waiting on (its ``tool_confirm`` token)."""
    if len(token) > 100 or not state.approvals.answer(who.user.id, token, body.allow):
        raise not_found("question")
    return Response(status_code=204)


@router.get("/mcp", response_model=UserMcpList, responses=_ERRORS)
async def list_my_mcp_servers(state: State, who: Caller) -> UserMcpList:
    """Your own MCP servers (header values are not shown), and the server-wide ones' names."""
    mine = UserMcpStore(state.conn).servers(who.user.id)
    return UserMcpList(servers=[shown(s) for s in mine], shared=sorted(state.tools.mcp_names),
                       may_add_commands=who.user.is_admin)


@router.post("/mcp", status_code=201, response_model=UserMcpOut, responses=_ERRORS)
async def add_my_mcp_server(state: State, who: Caller, body: UserMcpIn) -> UserMcpOut:
    """Add an MCP server for your chat turns and ``/v1`` requests: a streamable-HTTP ``url``
    (not a private or loopback host, unless the server allows it), or, for an administrator,
    a stdio ``command``."""
    store = UserMcpStore(state.conn)
    mine = store.servers(who.user.id)
    server = await check_new(body, is_admin=who.user.is_admin,
                             taken={*state.tools.mcp_names, *(s.name for s in mine)},
                             count=len(mine), policy=state.tools.policy)
    return shown(store.add(who.user.id, server))


@router.delete("/mcp/{name}", status_code=204, responses=_ERRORS)
async def remove_my_mcp_server(state: State, who: Caller, name: str) -> Response:
    """Remove one of your MCP servers."""
    if len(name) > 100 or not UserMcpStore(state.conn).remove(who.user.id, name):
        raise not_found("MCP server")
    return Response(status_code=204)
