"""The built-in tools, by name, and the tool box a chat gets from the settings.

Which are on is the user's choice (``[tools] enabled`` in config.toml,
``QWENAPP_TOOLS``, or ``qwenapp chat --tool NAME``). Off by default: each
tool offered costs prompt tokens on every turn (the tool list is part of the
prompt), and the network tools reach outside the machine. ``write_report``
and ``make_deck`` start jobs through a :class:`~.jobs.JobLauncher` the caller
passes (the server's job queue, or background processes in the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import httpx

from ..errors import InputError
from .calculator import calculator_tool, unit_tool
from .clock import clock_tool
from .jobs import JobLauncher, deck_tool, report_tool
from .library_search import library_tool
from .registry import ToolBox
from .web import fetch_tool, search_tool

if TYPE_CHECKING:
    from ..library import Library
    from ..web.safety import UrlPolicy

__all__ = ["BUILTIN_TOOLS", "DEFAULT_TOOLS", "JOB_TOOLS", "builtin_toolbox", "check_names"]

BUILTIN_TOOLS = ("calculator", "convert_units", "current_time", "library_search", "fetch_url",
                 "web_search", "write_report", "make_deck")
JOB_TOOLS = ("write_report", "make_deck")
# what `qwenapp chat --tools` turns on when the config names none: local and read-only
DEFAULT_TOOLS = ("calculator", "convert_units", "current_time", "library_search")


def check_names(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in BUILTIN_TOOLS]
    if unknown:
        raise InputError(f"unknown tool(s): {', '.join(unknown)}",
                         f"the built-in tools are: {', '.join(BUILTIN_TOOLS)}")


def builtin_toolbox(
    names: Sequence[str],
    *,
    library: Library | None = None,
    document_ids: Sequence[str] | None = None,
    search: str = "duckduckgo",
    env: Mapping[str, str] | None = None,
    policy: UrlPolicy | None = None,
    jobs: JobLauncher | None = None,
) -> ToolBox:
    """A :class:`ToolBox` with the named built-in tools (close it with ``aclose``)."""
    check_names(names)
    box = ToolBox()
    for name in names:
        if name == "calculator":
            box.add(calculator_tool())
        elif name == "convert_units":
            box.add(unit_tool())
        elif name == "current_time":
            box.add(clock_tool())
        elif name == "library_search":
            if library is None:
                raise InputError("library_search needs the document library")
            box.add(library_tool(library, document_ids=document_ids))
        elif name == "fetch_url":
            from ..web.fetch import Fetcher

            fetcher = Fetcher(policy)
            box.on_close(fetcher.aclose)
            box.add(fetch_tool(fetcher))
        elif name == "web_search":
            from ..web.search import make_provider

            client = httpx.AsyncClient(timeout=20.0, headers={"User-Agent": "qwenapp"})
            box.on_close(client.aclose)
            box.add(search_tool(make_provider(search, client, env or {})))
        elif name in JOB_TOOLS:
            if jobs is None:
                raise InputError(f"{name} needs somewhere to run jobs")
            box.add(report_tool(jobs) if name == "write_report" else deck_tool(jobs))
    return box
