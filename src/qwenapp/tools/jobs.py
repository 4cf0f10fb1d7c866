"""``write_report`` and ``make_deck``: chat tools that start a report or a deck as a job.

Why a launcher: the tool decides *what* to start, the place it runs in
decides *how*. On the server a :class:`JobLauncher` creates one of the
user's jobs (it shows in the conversation as a card, with its link); in
``qwenapp chat`` :class:`ProcessLauncher` starts ``qwenapp report`` or
``qwenapp slides`` as a background process that writes a file. Either way
the turn is not held for the minutes a report takes: the tool answers at
once with the job's id and where to follow it, and the model says so.

Both tools have side effects (they start work that uses the machine for
minutes), so the user is asked first.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..models.events import ToolSpec
from .base import FunctionTool, ToolFailure, ToolResult

if TYPE_CHECKING:
    from ..library import Library

__all__ = ["DEPTHS", "JobLauncher", "JobTicket", "ProcessLauncher", "deck_tool", "report_tool"]

DEPTHS = ("quick", "standard", "deep")
_SLIDES = (3, 20)


@dataclass(frozen=True, slots=True)
class JobTicket:
    """A job that was started: its id, what it is, and where to follow it."""

    id: str
    kind: Literal["report", "deck"]
    title: str
    link: str  # a URL path on the server, a file in the CLI
    note: str = ""  # how it runs (a process id and log file in the CLI)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title, "link": self.link}


class JobLauncher(Protocol):
    async def start_report(self, question: str, depth: str) -> JobTicket: ...

    async def start_deck(self, topic: str, slides: int) -> JobTicket: ...


def _started(ticket: JobTicket) -> ToolResult:
    what = "research report" if ticket.kind == "report" else "slide deck"
    note = f" ({ticket.note})" if ticket.note else ""
    return ToolResult(
        f"Started the {what} as job {ticket.id}: {ticket.title!r}{note}. It takes a few "
        f"minutes; it will be at {ticket.link}. Tell the user it has started and where to "
        f"find it; do not write the {ticket.kind} yourself.", data={"job": ticket.as_json()})


def report_tool(launcher: JobLauncher) -> FunctionTool:
    async def write_report(args: Mapping[str, Any]) -> ToolResult:
        question = str(args.get("question") or "").strip()
        if not question:
            raise ToolFailure("the question is empty")
        depth = str(args.get("depth") or "quick").strip().lower()
        if depth not in DEPTHS:
            raise ToolFailure(f"depth must be one of {', '.join(DEPTHS)}, not {depth!r}")
        return _started(await launcher.start_report(question[:2000], depth))

    return FunctionTool(ToolSpec(
        "write_report",
        "Start writing a research report with citations from the user's documents (it "
        "takes minutes and runs in the background). Use it only when the user asks for a "
        "report.",
        {"type": "object", "properties": {
            "question": {"type": "string", "description": "what the report should answer"},
            "depth": {"type": "string", "enum": list(DEPTHS),
                      "description": "how thorough; default quick"}},
         "required": ["question"]}), write_report, side_effects=True, timeout=60.0)


def deck_tool(launcher: JobLauncher) -> FunctionTool:
    async def make_deck(args: Mapping[str, Any]) -> ToolResult:
        topic = str(args.get("topic") or "").strip()
        if not topic:
            raise ToolFailure("the topic is empty")
        try:
            slides = int(args.get("slides") or 8)
        except (TypeError, ValueError):
            raise ToolFailure("slides must be a whole number") from None
        slides = min(max(slides, _SLIDES[0]), _SLIDES[1])
        return _started(await launcher.start_deck(topic[:2000], slides))

    return FunctionTool(ToolSpec(
        "make_deck",
        "Start making an editable slide deck (.pptx) on a topic (it takes minutes and runs "
        "in the background). Use it only when the user asks for slides or a presentation.",
        {"type": "object", "properties": {
            "topic": {"type": "string", "description": "what the deck is about"},
            "slides": {"type": "integer", "description": "number of slides, 3-20; default 8"}},
         "required": ["topic"]}), make_deck, side_effects=True, timeout=60.0)


class ProcessLauncher:
    """Jobs of ``qwenapp chat``: ``qwenapp report`` / ``qwenapp slides`` in the background.

    Each job gets a folder under ``folder`` (named by its id) holding the
    output file and ``log.txt``. The process is in its own session, so
    Ctrl-C in the chat does not stop it, and it outlives the chat. A process
    that fails within its first ``grace`` seconds (a bad option, no sources)
    is reported as a tool failure with the last line of its log.
    """

    def __init__(self, folder: Path, *, model: str | None = None,
                 library: Library | None = None, env: Mapping[str, str] | None = None,
                 command: Sequence[str] | None = None, grace: float = 1.5) -> None:
        self.folder = folder
        self.model = model
        self.library = library
        self.env = dict(env) if env is not None else None
        self.command = list(command or (sys.executable, "-m", "qwenapp"))
        self.grace = grace

    async def start_report(self, question: str, depth: str) -> JobTicket:
        if self.library is not None and not self.library.documents():
            raise ToolFailure("a report needs sources and the document library is empty",
                              "add documents first: qwenapp docs add PATH")
        return await self._spawn("report", question, "report.md",
                                 ["report", question, "--depth", depth])

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        return await self._spawn("deck", topic, "deck.pptx",
                                 ["slides", topic, "--slides", str(slides)])

    async def _spawn(self, kind: Literal["report", "deck"], title: str, filename: str,
                     args: list[str]) -> JobTicket:
        from ..store import new_id

        job_id = new_id()
        folder = self.folder / job_id
        folder.mkdir(parents=True, exist_ok=True)
        out, log_path = folder / filename, folder / "log.txt"
        argv = [*self.command, *args, "--output", str(out)]
        if self.model:
            argv += ["--model", self.model]
        env = {**(self.env if self.env is not None else os.environ), "NO_COLOR": "1"}
        with log_path.open("w", encoding="utf-8") as log:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
            except OSError as e:
                raise ToolFailure(f"could not start qwenapp {args[0]}: {e}") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        while proc.poll() is None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if proc.returncode not in (None, 0):
            lines = [ln for ln in log_path.read_text("utf-8", "replace").splitlines()
                     if ln.strip()]
            raise ToolFailure(f"qwenapp {args[0]} stopped at once"
                              f"{': ' + lines[-1].strip()[:300] if lines else ''}")
        return JobTicket(job_id, kind, title[:120], str(out),
                         note=f"process {proc.pid}, log {log_path}")
