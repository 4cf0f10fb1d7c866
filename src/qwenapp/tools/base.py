"""What a tool is: a :class:`~qwenapp.models.events.ToolSpec` and an async function.

Why so small: built-in tools, MCP servers' tools and any tool a caller adds
are all the same thing to the loop: a spec the model reads, a function of
the parsed arguments that returns text, a time limit, and whether running it
changes anything outside (then the user is asked first). A tool reports a
problem the model can act on by raising :class:`ToolFailure`; the registry
turns that, and anything else that goes wrong, into an error result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import QwenappError
from ..models.events import ToolSpec

__all__ = ["FunctionTool", "Tool", "ToolFailure", "ToolResult", "check_arguments"]


class ToolFailure(QwenappError):
    """A tool could not do what it was asked; the message goes back to the model."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a call returned (``error``: the model is told the call failed).

    ``content`` is what the model reads; ``data`` is for the user's side only
    (a started job's id and link, which the page turns into a card).
    ``answer`` is the exact value the reply must carry (a calculation's
    result): when the model's answer leaves it out, the loop adds ``content``
    to the answer itself, so a small model cannot drop an exact result.
    """

    content: str
    error: bool = False
    data: Mapping[str, Any] | None = None
    answer: str | None = None


class Tool(Protocol):
    @property
    def spec(self) -> ToolSpec: ...

    @property
    def side_effects(self) -> bool:
        """Running it changes something outside (a file, a job, another service)."""
        ...

    @property
    def timeout(self) -> float: ...

    async def run(self, arguments: Mapping[str, Any]) -> str | ToolResult:
        """The result's text (or a :class:`ToolResult`, to add ``data``)."""
        ...


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A tool made of a spec and an async function of its arguments."""

    spec: ToolSpec
    fn: Callable[[Mapping[str, Any]], Awaitable[str | ToolResult]]
    side_effects: bool = False
    timeout: float = 30.0

    async def run(self, arguments: Mapping[str, Any]) -> str | ToolResult:
        return await self.fn(arguments)


_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,), "null": (type(None),)}


def check_arguments(schema: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
    """What is wrong with ``arguments`` for a tool's top-level ``schema`` (None: nothing).

    Checks what a small model gets wrong: missing required fields, fields the
    tool does not take (when the schema says so), and plain type mismatches.
    Deeper validation is the tool's own business.
    """
    props = schema.get("properties") or {}
    missing = [k for k in schema.get("required") or () if k not in arguments]
    if missing:
        return f"missing required argument(s): {', '.join(missing)}"
    if schema.get("additionalProperties") is False:
        extra = [k for k in arguments if k not in props]
        if extra:
            return f"unknown argument(s): {', '.join(extra)}; it takes: {', '.join(props)}"
    for key, value in arguments.items():
        spec = props.get(key)
        if not isinstance(spec, Mapping) or "type" not in spec:
            continue
        kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        allowed = tuple(t for k in kinds for t in _TYPES.get(str(k), ()))
        if not allowed:
            continue
        bad_bool = isinstance(value, bool) and bool not in allowed
        if bad_bool or not isinstance(value, allowed):
            return f"argument {key!r} must be {' or '.join(map(str, kinds))}, " \
                   f"not {type(value).__name__}"
    return None
