"""Tools the model can call: built-in ones, MCP servers' tools, and the loop that runs them.

A tool is a spec and an async function (:mod:`.base`); a :class:`ToolBox`
runs calls under limits (:mod:`.registry`); :func:`run_with_tools` is the
bounded loop between the model and the box (:mod:`.loop`). The built-in
tools each live in their own module; :mod:`qwenapp.mcp` adds MCP servers'.
"""

from .base import FunctionTool, Tool, ToolFailure, ToolResult, check_arguments
from .builtin import BUILTIN_TOOLS, DEFAULT_TOOLS, builtin_toolbox
from .events import ToolConfirm, ToolEvent, ToolFinished, ToolNotice, ToolStarted
from .loop import DEFAULT_MAX_ROUNDS, Confirm, run_with_tools
from .registry import ToolBox

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_MAX_ROUNDS",
    "DEFAULT_TOOLS",
    "Confirm",
    "FunctionTool",
    "Tool",
    "ToolBox",
    "ToolConfirm",
    "ToolEvent",
    "ToolFailure",
    "ToolFinished",
    "ToolNotice",
    "ToolResult",
    "ToolStarted",
    "builtin_toolbox",
    "check_arguments",
    "run_with_tools",
]
