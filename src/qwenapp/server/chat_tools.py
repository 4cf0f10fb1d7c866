"""Tools in the web app's chat: which are on, one turn's tool box, and asking the user.

Which tools a server offers is its administrator's choice, in the config
file: ``[tools] enabled`` names the built-in ones, ``[mcp.servers.NAME]`` adds
an MCP server's. Those MCP servers are started once, when the server starts,
and shared by every turn; a server that fails to start is left out and named
in ``GET /api/tools``. Each user then picks among the offered tools (the page
keeps the choice; a turn names its tools, or gets them all).

A user may also add MCP servers of their own (:mod:`.user_mcp`: a URL for
anyone, a stdio command for an administrator only). Their tools are that
user's alone: listed in their ``GET /api/tools`` and offered in their turns,
never in another user's. They are connected per turn (and per listing) and
closed with the turn's tool box, not cached per user. Why: a connection held
between turns would keep a socket (or a process) and the user's header
tokens alive for someone who may not come back, would need its own expiry and
invalidation when the user removes the server, and would skip the SSRF check
that each new connection makes on the URL. The cost is one ``initialize`` and
``tools/list`` per server per turn (about 0.3 s against a loopback server built
on the Python SDK, on a busy 2-core machine: see docs/tools.md), bounded by
:data:`~.user_mcp.START_TIMEOUT`; a server that fails is left out of the turn
and named in the user's ``GET /api/tools``.

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
from ..mcp.client import McpTool, add_mcp_tools
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
from .user_mcp import START_TIMEOUT, UserMcpStore
from .users import LOCAL_USER_ID

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
    mcp_names: frozenset[str] = frozenset()  # every configured server, on or off
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
                   allowed_hosts=config.web_allowed_hosts,
                   mcp_names=frozenset(settings.tools.mcp_servers))

    async def start(self) -> None:
        """Start the configured MCP servers (at server start; turns wait for this)."""
        if not self.mcp_servers:
            self._ready.set()
            return
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

    @property
    def policy(self) -> UrlPolicy:
        """Where a URL a user gave may point (fetch_url, a user's MCP server)."""
        return UrlPolicy(allowed_hosts=self.allowed_hosts)

    async def shared(self, name: str) -> tuple[list[McpTool], str] | None:
        """The tools of the server-wide MCP server ``name`` and, when it has none, why
        (None: no such server is configured and on)."""
        if not any(c.name == name for c in self.mcp_servers):
            return None
        await self._mcp_ready()
        tools = [t for t in map(self._mcp.get, self._mcp.names)
                 if isinstance(t, McpTool) and t.connection.name == name]
        why = next((p for p in self.problems if f"{name!r}" in p), "it offers no tools")
        return tools, "" if tools else why

    async def user_tools(self, state: ServerState, user_id: str,
                         only: Sequence[str] | None = None) -> tuple[ToolBox, list[str]]:
        """A box with the tools of ``user_id``'s own MCP servers (``only``: these servers),
        connected now; the caller closes it. Also the problems met."""
        servers = UserMcpStore(state.conn).servers(user_id)
        if only is not None:
            servers = [s for s in servers if s.name in only]
        box, problems, configs = ToolBox(), [], []
        admin = _is_admin(state, user_id)
        for server in servers:
            if server.command and not admin:
                problems.append(f"MCP server {server.name!r} was not started: only an "
                                "administrator's stdio servers run on this server")
            else:
                configs.append(server.config())
        if configs:
            try:
                problems += await add_mcp_tools(box, configs, policy=self.policy,
                                                start_timeout=START_TIMEOUT)
            except BaseException:
                await box.aclose()
                raise
        return box, problems

    async def catalogue(self, state: ServerState, user_id: str) -> ToolCatalogue:
        """What a turn of ``user_id`` may use here, as the page lists it (no tool is run;
        the user's own MCP servers are connected to list theirs, then closed)."""
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
        own, problems = await self.user_tools(state, user_id)
        try:
            taken = {t.name for t in out}
            for name in own.names:
                mcp = own.get(name)
                if isinstance(mcp, McpTool) and name not in taken:
                    out.append(ToolOut(name=name, description=mcp.spec.description,
                                       side_effects=mcp.side_effects,
                                       source=f"mcp:{mcp.connection.name}"))
        finally:
            await own.aclose()
        return ToolCatalogue(tools=out, problems=[*self.problems, *problems],
                             max_rounds=self.max_rounds)

    async def toolbox(self, state: ServerState, user_id: str, conversation_id: str,
                      names: Sequence[str] | None, model: str | None) -> ToolBox | None:
        """The tools of one turn (None: none); ``names`` picks among the offered ones."""
        if names is not None and not names:
            return None
        await self._mcp_ready()
        offered = [*self.builtin, *self._mcp.names]
        wanted = list(dict.fromkeys(names)) if names is not None else None
        own = ToolBox()
        if wanted is None or any(n not in offered for n in wanted):
            own, problems = await self.user_tools(state, user_id)
            for problem in problems:
                log.warning("user %s: %s", user_id, problem)
        try:
            return await self._turn_box(state, user_id, conversation_id, wanted, model,
                                        offered, own)
        except BaseException:
            await own.aclose()
            raise

    async def _turn_box(self, state: ServerState, user_id: str, conversation_id: str,
                        wanted: list[str] | None, model: str | None, offered: list[str],
                        own: ToolBox) -> ToolBox | None:
        mine = [n for n in own.names if n not in offered]  # a clash: the server's wins
        if wanted is None:
            chosen = [*offered, *mine]
        else:
            unknown = [n for n in wanted if n not in offered and n not in mine]
            if unknown:
                raise HttpError(400, f"this server offers no tool called {unknown[0]!r}",
                                code="unknown_tool", param="tools",
                                hint="GET /api/tools lists the tools on offer")
            chosen = wanted
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
            elif (tool := own.get(name)) is not None:
                box.add(tool)
        box.on_close(own.aclose)  # the user's own servers: closed with the turn
        if not box:
            await box.aclose()
            return None
        return box


def _is_admin(state: ServerState, user_id: str) -> bool:
    """Whether ``user_id`` is an administrator now (asked at each connection, so a user
    who is no longer one has no stdio server started)."""
    if user_id == LOCAL_USER_ID:
        return True
    user = state.users.by_id(user_id)
    return user is not None and user.is_admin


class _NoJobs:
    """A launcher for listing specs only."""

    async def start_report(self, question: str, depth: str) -> JobTicket:
        raise ToolFailure("not available here")

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        raise ToolFailure("not available here")
