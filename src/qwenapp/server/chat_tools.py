"""Tools in the web app's chat: which are on, one turn's tool box, and asking the user.

Which tools a server offers is its administrator's choice, in the config
file: ``[tools] enabled`` names the built-in ones, ``[mcp.servers.NAME]`` adds
an MCP server's. The MCP servers are started once, when the server starts
(never on behalf of a user), and shared by every turn; a server that fails
to start is left out and named in ``GET /api/tools``. Each user then picks
among the offered tools (the page keeps the choice; a turn names its tools,
or gets them all).

A turn's tools act for the caller only: ``library_search`` searches their
own documents, ``write_report`` and ``make_deck`` create their jobs, linked
to the conversation (the card shows after the answer).

A tool with side effects asks first: the turn's stream sends a
``tool_confirm`` event carrying a ``token``, the turn waits, and the page
answers ``POST /api/tools/approvals/{token}`` with ``{"allow": true}`` or
false. Only the user whose turn it is can answer; no answer within
:data:`APPROVAL_TIMEOUT` seconds, or the page going away, is a no.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from ..errors import UnknownModelError
from ..jobs import JobRefused
from ..mcp.client import McpTool
from ..models.events import ToolCall
from ..settings import McpServerConfig, Settings
from ..tools import ToolBox, builtin_toolbox
from ..tools.base import Tool, ToolFailure
from ..tools.builtin import BUILTIN_TOOLS, check_names
from ..tools.jobs import JobTicket
from ..tools.library_search import library_tool
from ..web.safety import UrlPolicy
from .config import ServerConfig
from .errors import HttpError

if TYPE_CHECKING:
    from .state import ServerState

__all__ = ["APPROVAL_TIMEOUT", "ApprovalIn", "Approvals", "ServerLauncher", "ServerTools",
           "ToolCatalogue", "ToolOut", "TurnApprovals"]

log = logging.getLogger("qwenapp.server")

APPROVAL_TIMEOUT = 300.0  # seconds a call with side effects waits for the user

class ToolOut(BaseModel):
    name: str
    description: str
    side_effects: bool = Field(description="It changes something: the user is asked first.")
    source: str = Field(description="builtin, or mcp:SERVER")


class ToolCatalogue(BaseModel):
    tools: list[ToolOut]
    problems: list[str] = Field(default_factory=list,
                                description="MCP servers that could not be started, and why.")
    max_rounds: int


class ApprovalIn(BaseModel):
    allow: bool


# -- asking the user ---------------------------------------------------------------------

@dataclass
class _Pending:
    user_id: str
    call: ToolCall
    answer: asyncio.Future[bool]


class Approvals:
    """Calls waiting for their user's yes or no, by random token."""

    def __init__(self, timeout: float = APPROVAL_TIMEOUT) -> None:
        self.timeout = timeout
        self._pending: dict[str, _Pending] = {}

    def ask(self, user_id: str, call: ToolCall) -> str:
        token = secrets.token_urlsafe(16)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[token] = _Pending(user_id, call, future)
        return token

    async def wait(self, token: str) -> bool:
        """The user's answer (False when none comes in time)."""
        pending = self._pending.get(token)
        if pending is None:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                return await pending.answer
        except TimeoutError:
            return False
        finally:
            self._pending.pop(token, None)

    def answer(self, user_id: str, token: str, allow: bool) -> bool:
        """Give the answer; False when there is no such question of this user's."""
        pending = self._pending.get(token)
        if pending is None or pending.user_id != user_id or pending.answer.done():
            return False
        pending.answer.set_result(allow)
        return True

    def drop(self, token: str) -> None:
        pending = self._pending.pop(token, None)
        if pending is not None and not pending.answer.done():
            pending.answer.cancel()


class TurnApprovals:
    """One turn's questions: the token sent with each ``tool_confirm``, then the wait."""

    def __init__(self, approvals: Approvals, user_id: str) -> None:
        self.approvals = approvals
        self.user_id = user_id
        self.tokens: dict[str, str] = {}  # call id -> token

    def ask(self, call: ToolCall) -> str:
        token = self.approvals.ask(self.user_id, call)
        self.tokens[call.id] = token
        return token

    async def confirm(self, call: ToolCall) -> bool:
        token = self.tokens.pop(call.id, None)
        return False if token is None else await self.approvals.wait(token)

    def close(self) -> None:
        for token in self.tokens.values():
            self.approvals.drop(token)
        self.tokens.clear()


# -- jobs started from the chat ------------------------------------------------------------

class ServerLauncher:
    """``write_report`` / ``make_deck`` for one user's turn: jobs of theirs, in the queue."""

    def __init__(self, state: ServerState, user_id: str, conversation_id: str,
                 model: str | None) -> None:
        self.state, self.user_id = state, user_id
        self.conversation_id, self.model = conversation_id, model

    def _create(self, kind: str, request: dict[str, Any]) -> JobTicket:
        jobs = self.state.jobs
        try:
            job = jobs.create(self.user_id, jobs.request(kind, {
                **request, "model": self.model, "conversation_id": self.conversation_id}))
        except (JobRefused, UnknownModelError) as e:  # a full queue, a bad request: the
            # model tells the user
            raise ToolFailure(e.message, e.hint) from None
        return JobTicket(job.id, "report" if kind == "report" else "deck", job.title,
                         f"/api/jobs/{job.id}", note="its card shows in this conversation")

    async def start_report(self, question: str, depth: str) -> JobTicket:
        has_docs = bool(self.state.owners.documents(self.user_id))
        web = self.state.config.web
        if not has_docs and not web:
            raise ToolFailure("a report needs sources, and the user has no documents",
                              "upload documents in the Library first")
        return self._create("report", {"question": question, "depth": depth,
                                       "web": web and not has_docs})

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        return self._create("deck", {"topic": topic, "slides": slides})


# -- what the server offers ---------------------------------------------------------------

@dataclass
class ServerTools:
    """The tools this server offers, and the MCP servers behind some of them."""

    builtin: tuple[str, ...]
    mcp_servers: Sequence[McpServerConfig]
    max_rounds: int
    search: str
    search_env: dict[str, str] = field(default_factory=dict)
    allowed_hosts: frozenset[str] = frozenset()  # private hosts fetch_url may still read
    problems: list[str] = field(default_factory=list)
    _mcp: ToolBox = field(default_factory=ToolBox)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def from_settings(cls, settings: Settings, config: ServerConfig) -> ServerTools:
        names = tuple(settings.tools.enabled)
        check_names(names)  # a typo in the config stops the server with a clear message
        return cls(builtin=names,
                   mcp_servers=[s for s in settings.tools.mcp_servers.values() if s.enabled],
                   max_rounds=settings.tools.max_rounds,
                   search=settings.tools.search or config.search,
                   search_env=dict(config.search_env),
                   allowed_hosts=config.web_allowed_hosts)

    async def start(self) -> None:
        """Start the configured MCP servers (at server start; turns wait for this)."""
        if not self.mcp_servers:
            self._ready.set()
            return
        from ..mcp.client import add_mcp_tools

        try:
            self.problems = await add_mcp_tools(self._mcp, list(self.mcp_servers))
        except Exception as e:  # never take the server down for a tool source
            self.problems = [f"MCP servers could not be started: {e}"]
        for problem in self.problems:
            log.warning("%s", problem)
        self._ready.set()

    async def _mcp_ready(self) -> None:
        await self._ready.wait()

    async def aclose(self) -> None:
        await self._mcp.aclose()

    async def catalogue(self, state: ServerState) -> ToolCatalogue:
        """What a turn may use here, as the page lists it (no tool is run or connected)."""
        await self._mcp_ready()
        box = builtin_toolbox([n for n in self.builtin if n != "library_search"],
                              jobs=_NoJobs())
        try:
            out = []
            for name in self.builtin:
                tool = library_tool(state.library) if name == "library_search" \
                    else box.get(name)
                assert tool is not None
                out.append(ToolOut(name=name, description=tool.spec.description,
                                   side_effects=tool.side_effects, source="builtin"))
        finally:
            await box.aclose()
        for name in self._mcp.names:
            mcp = self._mcp.get(name)
            if isinstance(mcp, McpTool):
                out.append(ToolOut(name=name, description=mcp.spec.description,
                                   side_effects=mcp.side_effects,
                                   source=f"mcp:{mcp.connection.name}"))
        return ToolCatalogue(tools=out, problems=self.problems, max_rounds=self.max_rounds)

    @property
    def offered(self) -> bool:
        return bool(self.builtin or self.mcp_servers)

    async def toolbox(self, state: ServerState, user_id: str, conversation_id: str,
                      names: Sequence[str] | None, model: str | None) -> ToolBox | None:
        """The tools of one turn (None: none); ``names`` picks among the offered ones."""
        if not self.offered or (names is not None and not names):
            return None
        await self._mcp_ready()
        offered = [*self.builtin, *self._mcp.names]
        if names is None:
            chosen = offered
        else:
            unknown = [n for n in dict.fromkeys(names) if n not in offered]
            if unknown:
                raise HttpError(400, f"this server offers no tool called {unknown[0]!r}",
                                code="unknown_tool", param="tools",
                                hint="GET /api/tools lists the tools on offer")
            chosen = list(dict.fromkeys(names))
        built = [n for n in chosen if n in BUILTIN_TOOLS]
        docs = [d.id for d in state.owners.documents(user_id)] \
            if "library_search" in built else None
        box = builtin_toolbox(built, library=state.library, document_ids=docs,
                              search=self.search, env=self.search_env,
                              policy=UrlPolicy(allowed_hosts=self.allowed_hosts),
                              jobs=ServerLauncher(state, user_id, conversation_id, model))
        for name in chosen:
            tool: Tool | None = self._mcp.get(name)
            if tool is not None:
                box.add(tool)  # shared: closed with the server, not with the turn
        if not box:
            await box.aclose()
            return None
        return box


class _NoJobs:
    """A launcher for listing specs only."""

    async def start_report(self, question: str, depth: str) -> JobTicket:
        raise ToolFailure("not available here")

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        raise ToolFailure("not available here")
