"""MCP servers as tool sources, on the official ``mcp`` SDK.

Why one host task per server: the SDK's transports and sessions are anyio
context managers whose cancel scopes belong to the task that entered them,
while tool calls come from whichever task runs the chat turn (the CLI starts
a task per turn). So :class:`McpConnection` enters the transport and the
session in a task of its own, keeps it alive until :meth:`~McpConnection.aclose`,
and calls go through the session from any task on the same event loop.

A server that is not installed, exits at start, hangs, or crashes later is
never fatal: starting it yields a one-line problem for the user, and a call
to a dead or silent server becomes an error result for the model.

Why a URL policy: a URL a *user* gave (per-user servers of ``qwenapp serve``)
must not make the server talk to its own network. With ``policy`` set, the
URL is checked before the connection starts, and every HTTP request then goes
through :class:`GuardedTransport`, which checks its URL again and sends it to
the address that passed the check (host name kept in ``Host`` and TLS SNI),
so a DNS answer that changes after the check cannot reach a private address.
The config file's servers are the administrator's and need no policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import httpx2

from ..errors import QwenappError
from ..models.events import ToolSpec
from ..settings import McpServerConfig
from ..tools.base import ToolFailure
from ..tools.registry import ToolBox
from ..web.safety import Resolver, UrlPolicy, WebError, check_url, system_resolver

__all__ = ["GuardedTransport", "McpConnection", "McpTool", "add_mcp_tools"]

_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class GuardedTransport(httpx2.AsyncBaseTransport):
    """HTTP requests to addresses that pass ``policy``, each one checked and pinned."""

    def __init__(self, policy: UrlPolicy, resolver: Resolver = system_resolver) -> None:
        self.policy = policy
        self._resolver = resolver
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        try:
            host, _, addresses = await check_url(str(url), self.policy, self._resolver)
        except WebError as e:
            raise httpx2.ConnectError(e.message, request=request) from None
        except (ValueError, UnicodeError):
            raise httpx2.ConnectError(f"not a valid URL: {url}", request=request) from None
        # a copy goes out: the client keeps the named URL (a redirect is judged from it)
        ext = {**request.extensions, **({"sni_hostname": host} if url.scheme == "https"
                                        else {})}
        pinned = httpx2.Request(request.method, url.copy_with(host=addresses[0]),
                                headers=request.headers, stream=request.stream,
                                extensions=ext)  # Host header: still the name
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


class McpConnection:
    """One running MCP server (stdio subprocess or streamable-HTTP endpoint) and its session.

    ``policy``: check the URL (at start and on every request) against it;
    ``start_timeout``: seconds to start and list tools (default: the config's timeout).
    """

    def __init__(self, config: McpServerConfig, *, policy: UrlPolicy | None = None,
                 start_timeout: float | None = None) -> None:
        self.config = config
        self.policy = policy
        self.start_timeout = start_timeout or config.timeout
        self.session: Any = None
        self.tools: list[Any] = []
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._log: IO[str] | None = None
        self.dead: str | None = None  # why the connection ended, once it has

    @property
    def name(self) -> str:
        return self.config.name

    def _transport(self) -> Any:
        cfg = self.config
        if cfg.url:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            if self.policy is None:
                client = create_mcp_http_client(headers=dict(cfg.headers) or None)
            else:
                client = httpx2.AsyncClient(
                    headers=dict(cfg.headers) or None, trust_env=False,
                    transport=GuardedTransport(self.policy),
                    timeout=httpx2.Timeout(cfg.timeout, read=300.0))
            return streamable_http_client(cfg.url, http_client=client)
        from mcp import StdioServerParameters, stdio_client

        # the server's own log goes to a file, not over the user's terminal; its tail
        # explains a server that dies at start
        self._log = tempfile.TemporaryFile(  # noqa: SIM115 - closed in aclose
            "w+", encoding="utf-8", errors="replace")
        params = StdioServerParameters(command=str(cfg.command), args=list(cfg.args),
                                       env=dict(cfg.env) or None)
        return stdio_client(params, errlog=self._log)

    async def _host(self) -> None:
        from mcp import ClientSession

        try:
            async with self._transport() as streams, \
                    ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                listed = await session.list_tools()
                self.session, self.tools = session, list(listed.tools)
                self._ready.set()
                await self._closing.wait()
        finally:
            self.session = None
            if self.dead is None:
                self.dead = "it was closed"

    async def start(self) -> None:
        """Start the server and list its tools; :class:`QwenappError` if it cannot be used."""
        if self.policy is not None and self.config.url:
            try:
                async with asyncio.timeout(self.start_timeout):
                    await check_url(self.config.url, self.policy)
            except WebError as e:
                raise QwenappError(f"MCP server {self.name!r} could not be started: "
                                   f"{e.message}", e.hint) from None
            except (ValueError, UnicodeError):
                raise QwenappError(f"MCP server {self.name!r} could not be started: "
                                   "its URL is not valid") from None
            except TimeoutError:
                raise QwenappError(f"MCP server {self.name!r} could not be started: its host "
                                   f"did not resolve within {self.start_timeout:g} s") from None
        self._task = asyncio.get_running_loop().create_task(self._host())
        ready = asyncio.ensure_future(self._ready.wait())
        try:
            done, _ = await asyncio.wait({ready, self._task}, timeout=self.start_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if self._ready.is_set():
            self._task.add_done_callback(self._ended)
            return
        if self._task in done:
            why = _reason(self._task.exception())
        else:
            why = f"no answer within {self.start_timeout:g} s"
            await self.aclose()
        raise QwenappError(f"MCP server {self.name!r} could not be started: {why}"
                           f"{self._log_tail()}", self._hint())

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.dead = _reason(task.exception())

    def _hint(self) -> str:
        if self.config.url:
            return f"check that it is running and serves MCP at {self.config.url}"
        return (f"check that {self.config.command!r} is installed and starts an MCP server "
                "on stdio (try running the command yourself)")

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        try:
            self._log.seek(0)
            lines = [ln.strip() for ln in self._log.read().splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return f" (it said: {lines[-1][:200]})" if lines else ""

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> str:
        if self.session is None:
            raise ToolFailure(f"the MCP server {self.name!r} is not running ({self.dead})",
                              "answer without this tool")
        try:
            result = await self.session.call_tool(tool, dict(arguments))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the server crashed or broke the protocol
            raise ToolFailure(f"the MCP server {self.name!r} failed: {_reason(e)}") from None
        text = _result_text(result)
        if getattr(result, "is_error", False):
            raise ToolFailure(text or f"{tool} reported an error")
        return text

    async def aclose(self) -> None:
        self._closing.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 5.0)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self._log is not None:
            self._log.close()
            self._log = None


def _reason(exc: BaseException | None) -> str:
    if exc is None:
        return "it stopped"
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_reason(e) for e in exc.exceptions[:3])
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(block.text))
        elif kind == "resource" and getattr(block.resource, "text", None):
            parts.append(str(block.resource.text))
        else:
            parts.append(f"[{kind or 'content'} omitted]")
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class McpTool:
    """One tool of an MCP server, as a qwenapp tool (named ``server_tool``)."""

    spec: ToolSpec
    connection: McpConnection
    remote_name: str
    side_effects: bool
    timeout: float

    async def run(self, arguments: Mapping[str, Any]) -> str:
        return await self.connection.call(self.remote_name, arguments)


def _tool(conn: McpConnection, t: Any) -> McpTool:
    name = _NAME_CHARS.sub("_", f"{conn.name}_{t.name}")[:64]
    schema = dict(getattr(t, "input_schema", None) or {"type": "object", "properties": {}})
    schema.pop("title", None)
    notes = getattr(t, "annotations", None)
    read_only = bool(notes is not None and getattr(notes, "read_only_hint", False))
    desc = (getattr(t, "description", None) or getattr(t, "title", None) or t.name).strip()
    return McpTool(ToolSpec(name, f"{desc} (from the MCP server {conn.name})", schema), conn,
                   t.name, side_effects=not read_only, timeout=conn.config.timeout)


async def add_mcp_tools(box: ToolBox, servers: Sequence[McpServerConfig], *,
                        policy: UrlPolicy | None = None, start_timeout: float | None = None
                        ) -> list[str]:
    """Start ``servers`` and add their tools to ``box`` (closed with it); the problems found.

    Servers start concurrently; one that fails is left out and described in
    the returned list, the others are used. ``policy`` and ``start_timeout``:
    see :class:`McpConnection`.
    """
    conns = [McpConnection(cfg, policy=policy, start_timeout=start_timeout) for cfg in servers]
    outcomes = await asyncio.gather(*(c.start() for c in conns), return_exceptions=True)
    problems: list[str] = []
    for conn, outcome in zip(conns, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, QwenappError):
                await conn.aclose()
                problems.append(f"MCP server {conn.name!r} failed: {_reason(outcome)}")
                continue
            problems.append(outcome.message)
            continue
        box.on_close(conn.aclose)
        for t in conn.tools:
            try:
                box.add(_tool(conn, t))
            except QwenappError as e:
                problems.append(e.message)
    return problems
