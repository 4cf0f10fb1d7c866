"""MCP tools for ``/v1`` clients, in the shape of OpenAI's remote MCP tools.

A ``tools`` entry of ``/v1/chat/completions`` may be, as in OpenAI's
Responses API, ``{"type": "mcp", "server_label": "NAME", "allowed_tools":
[...], "require_approval": "never" | "always"}``. ``NAME`` is a server the
caller may use: a server-wide one (``[mcp.servers.NAME]``) or one of their
own (``POST /api/tools/mcp``); ``server_url`` is not taken (the server would
connect wherever a request says: save the server first). The tools are run
here, by the bounded loop of :func:`~qwenapp.tools.run_with_tools`, and the
client gets the final answer, whole or streamed, in the usual chunks.

Why the rules below:

* There is nobody to ask in the middle of a request, so a tool with side
  effects (an MCP tool not annotated read-only) runs only when the request
  said ``require_approval: "never"`` for it (as a string, or with its name
  in ``{"never": {"tool_names": [...]}}``). Otherwise the model is told, as
  a tool error, that the tool needs an approval nobody can give; read-only
  tools always run. The default, as OpenAI's, is ``"always"``.
* ``allowed_tools`` names the MCP server's own tool names (``add``, not
  ``demo_add``), as a list or ``{"tool_names": [...]}``; a name the server
  does not have is a 400. The model sees them as ``SERVER_TOOL``.
* A request holds either ``function`` tools or ``mcp`` tools, not both
  (400 ``mixed_tools``): with both, one answer would have to stop for the
  client's calls while the server's had run, and a stateless API cannot
  resume that turn. Send two requests instead.
* A server that cannot be reached is a 424 ``mcp_server_failed`` (the
  status OpenAI uses for it), not an answer without the tools the client
  asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..mcp.client import McpTool
from ..models.events import ToolCall, ToolSpec
from ..tools import ToolBox
from ..tools.base import ToolFailure, ToolResult
from .errors import HttpError
from .user_mcp import UserMcpStore

if TYPE_CHECKING:
    from .state import ServerState

__all__ = ["McpToolIn", "allow_approved", "mcp_toolbox"]


class McpToolFilter(BaseModel):
    model_config = ConfigDict(extra="allow")
    tool_names: list[str] | None = None
    read_only: bool | None = None


class ApprovalFilter(BaseModel):
    model_config = ConfigDict(extra="allow")
    tool_names: list[str] = Field(default_factory=list)


class ApprovalRules(BaseModel):
    always: ApprovalFilter | None = None
    never: ApprovalFilter | None = None


class McpToolIn(BaseModel):
    """OpenAI's remote MCP tool; unknown fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    type: Literal["mcp"]
    server_label: str = Field(min_length=1, max_length=64)
    allowed_tools: list[str] | McpToolFilter | None = None
    require_approval: Literal["always", "never"] | ApprovalRules = "always"
    server_url: str | None = None
    server_description: str | None = None


def _never(entry: McpToolIn, remote: str) -> bool:
    rule = entry.require_approval
    if isinstance(rule, str):
        return rule == "never"
    always = rule.always.tool_names if rule.always else []
    never = rule.never.tool_names if rule.never else []
    return remote in never and remote not in always


def _allowed(entry: McpToolIn, tools: Sequence[McpTool], param: str) -> list[McpTool]:
    spec = entry.allowed_tools
    names = spec if isinstance(spec, list) else spec.tool_names if spec else None
    chosen = list(tools)
    if names is not None:
        have = {t.remote_name for t in tools}
        unknown = [n for n in names if n not in have]
        if unknown:
            raise HttpError(400, f"the MCP server {entry.server_label!r} has no tool called "
                            f"{unknown[0]!r}", code="unknown_tool", param=param,
                            hint=f"its tools: {', '.join(sorted(have)) or '(none)'}")
        chosen = [t for t in tools if t.remote_name in names]
    if isinstance(spec, McpToolFilter) and spec.read_only:
        chosen = [t for t in chosen if not t.side_effects]
    return chosen


@dataclass(frozen=True, slots=True)
class _NeedsApproval:
    """A tool with side effects that this request did not approve: it says so to the model."""

    tool: McpTool
    label: str

    @property
    def spec(self) -> ToolSpec:
        return self.tool.spec

    side_effects = False  # nothing runs
    timeout = 5.0

    async def run(self, arguments: Mapping[str, Any]) -> str | ToolResult:
        raise ToolFailure(
            f"this tool changes something, so it needs an approval that nobody can give "
            f"during this API request (require_approval is not \"never\" for "
            f"{self.tool.remote_name!r} of the MCP server {self.label!r})",
            "answer without it")


async def mcp_toolbox(state: ServerState, user_id: str,
                      entries: Sequence[tuple[int, McpToolIn]]) -> ToolBox:
    """The tools the ``mcp`` entries name (``(index in tools, entry)``), for one request.

    The caller closes the box (it closes the caller's own servers' connections;
    server-wide servers stay up). Raises :class:`HttpError` for an unknown
    label, a server that fails, or an unknown allowed tool.
    """
    seen: set[str] = set()
    for i, entry in entries:
        if entry.server_label in seen:
            raise HttpError(400, f"the MCP server {entry.server_label!r} is named twice",
                            code="invalid", param=f"tools.{i}.server_label")
        seen.add(entry.server_label)
        if entry.server_url:
            raise HttpError(400, "server_url is not taken here: this server connects only to "
                            "MCP servers it knows", code="unsupported_server_url",
                            param=f"tools.{i}.server_url",
                            hint="add it once with POST /api/tools/mcp, then name it by "
                                 "server_label")
    shared: dict[str, list[McpTool]] = {}
    own_labels: list[str] = []
    mine = {s.name for s in UserMcpStore(state.conn).servers(user_id)}
    for i, entry in entries:
        label = entry.server_label
        found = await state.tools.shared(label)
        if found is not None:
            running, why = found
            if not running:
                raise HttpError(424, f"the MCP server {label!r} is not available: {why}",
                                code="mcp_server_failed", param=f"tools.{i}.server_label")
            shared[label] = running
        elif label in mine:
            own_labels.append(label)
        else:
            raise HttpError(400, f"there is no MCP server called {label!r} for you here",
                            code="unknown_mcp_server", param=f"tools.{i}.server_label",
                            hint="GET /api/tools/mcp lists yours and the server's")
    own, problems = (ToolBox(), []) if not own_labels else \
        await state.tools.user_tools(state, user_id, only=own_labels)
    box = ToolBox()
    box.on_close(own.aclose)
    try:
        for i, entry in entries:
            label = entry.server_label
            tools = shared.get(label)
            if tools is None:
                tools = [t for t in map(own.get, own.names)
                         if isinstance(t, McpTool) and t.connection.name == label]
                if not tools:
                    why = next((p for p in problems if f"{label!r}" in p), "it offers no tools")
                    raise HttpError(424, f"the MCP server {label!r} is not available: {why}",
                                    code="mcp_server_failed", param=f"tools.{i}.server_label")
            for tool in _allowed(entry, tools, f"tools.{i}.allowed_tools"):
                needs = tool.side_effects and not _never(entry, tool.remote_name)
                box.add(_NeedsApproval(tool, label) if needs else tool)
    except BaseException:
        await box.aclose()
        raise
    return box


async def allow_approved(call: ToolCall) -> bool:
    """The loop's ``confirm``: every tool with side effects left in the box was approved
    by the request (``require_approval: "never"``); the others were wrapped above."""
    return True
