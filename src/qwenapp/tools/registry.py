"""The tools one turn may use, and running a call with limits.

Why the limits live here: whatever the tool (built in, from an MCP server,
added by a caller), a call must never take the turn down. :meth:`ToolBox.execute`
always returns a :class:`~.base.ToolResult`: an unknown tool, arguments that
do not fit the schema, a tool that raises or hangs past its time limit, each
becomes an error result the model reads and can recover from; a result
larger than ``max_chars`` is cut, saying so, so 10 MB of output cannot flood
the context window.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..errors import QwenappError
from ..models.events import ToolCall, ToolSpec
from .base import Tool, ToolResult, check_arguments

__all__ = ["DEFAULT_MAX_CHARS", "ToolBox"]

DEFAULT_MAX_CHARS = 8000  # about 2,500 tokens: room for several results in an 8k context


class ToolBox:
    """Tools by name, run under per-tool time limits and one result-size limit."""

    def __init__(self, tools: Iterable[Tool] = (), *, max_chars: int = DEFAULT_MAX_CHARS
                 ) -> None:
        self._tools: dict[str, Tool] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.max_chars = max_chars
        for t in tools:
            self.add(t)

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` in :meth:`aclose` (a pooled HTTP client, an MCP session)."""
        self._closers.append(closer)

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            with contextlib.suppress(Exception):  # closing must not hide the turn's outcome
                await closer()

    def add(self, tool: Tool) -> None:
        name = tool.spec.name
        if name in self._tools:
            raise QwenappError(f"two tools are both called {name!r}",
                               "rename one (MCP tools are prefixed with their server's name)")
        self._tools[name] = tool

    def __bool__(self) -> bool:
        return bool(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(t.spec for t in self._tools.values())

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    async def execute(self, call: ToolCall) -> ToolResult:
        """Run ``call``; every failure is an error result, never an exception
        (cancellation still propagates: the user stopped the turn)."""
        tool = self._tools.get(call.name)
        if tool is None:
            return ToolResult(f"there is no tool called {call.name!r}; the tools are: "
                              f"{', '.join(self._tools) or '(none)'}", error=True)
        problem = check_arguments(tool.spec.parameters, call.arguments)
        if problem is not None:
            return ToolResult(f"{call.name}: {problem}", error=True)
        try:
            async with asyncio.timeout(tool.timeout):
                content = await tool.run(dict(call.arguments))
        except TimeoutError:
            return ToolResult(f"{call.name} did not finish within {tool.timeout:g} s",
                              error=True)
        except QwenappError as e:
            hint = f" ({e.hint})" if e.hint else ""
            return ToolResult(f"{call.name} failed: {e.message}{hint}", error=True)
        except Exception as e:  # a tool's bug must not end the user's turn
            return ToolResult(f"{call.name} failed: {type(e).__name__}: {e}", error=True)
        if isinstance(content, ToolResult):
            return ToolResult(self._cap(content.content), content.error, content.data,
                              content.answer)
        return ToolResult(self._cap(content if isinstance(content, str) else _text(content)))

    def _cap(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return (text[: self.max_chars] + f"\n[cut: the result had {len(text):,} characters; "
                f"only the first {self.max_chars:,} are shown]")


def _text(value: Any) -> str:
    return str(value)
