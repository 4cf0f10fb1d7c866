"""``qwenapp chat``: one-shot answers for scripts, or an interactive chat.

With a prompt argument or text on stdin it answers once and exits (stdout
holds only the answer; reasoning and notices go to stderr). Otherwise it
opens an interactive chat. Ctrl-C during an answer stops it (the partial
answer is saved, marked interrupted); Ctrl-C or Ctrl-D at the prompt quits.

With ``--attach`` (or ``/attach`` in a chat) or ``--library``, each turn is
answered from numbered excerpts of the documents (:mod:`.attachments`), and
the sources the answer cites as ``[n]`` are listed after it on stderr.

With tools on (``--tools``, ``--tool NAME``, or ``[tools] enabled`` in the
config), the model may call them: each call and its result is shown dimmed
(on stderr when the answer goes to a pipe), and a tool with side effects
asks first (``--yes`` allows them without asking; without a terminal to ask
on, they are refused). ``write_report`` and ``make_deck`` start ``qwenapp
report`` / ``qwenapp slides`` in the background (:class:`~qwenapp.tools.jobs.ProcessLauncher`)
and answer with the job's id and the file it will write.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ..chat import (
    Assistant,
    ChatEvent,
    ChatResult,
    Excerpt,
    Notice,
    Saved,
    Started,
    Trimmed,
    cited_excerpts,
    grounding_prompt,
)
from ..errors import InputError
from ..library import IngestOutcome
from ..models.events import GenerateOptions, ReasoningDelta, TextDelta, ToolCall
from ..tools import DEFAULT_TOOLS, ToolBox, ToolFinished, ToolNotice, ToolStarted
from ..wire import result_json
from .attachments import Attachments
from .progress import PageProgress
from .state import AppState

__all__ = ["chat"]

_HELP = "Commands: /exit (or Ctrl-D) to quit, /new for a new conversation, " \
        "/attach PATH to answer from a file or folder too, /help. " \
        'Start and end a multi-line message with """.'


class _Printer:
    """Renders chat events for a terminal (or a pipe)."""

    def __init__(self, out: Console, err: Console, *, interactive: bool) -> None:
        self.out, self.err, self.interactive = out, err, interactive
        self.thinking = False
        self.mid_line = False  # answer text was written without a newline yet

    def _tool(self, text: str, style: str = "dim") -> None:
        target = self.out if self.interactive else self.err
        if self.mid_line:
            self.out.file.write("\n")
            self.out.file.flush()
            self.mid_line = False
        target.print(text, style=style, markup=False, highlight=False)

    def __call__(self, event: ChatEvent) -> None:
        if isinstance(event, ToolStarted):
            self._tool(f"⚙ {event.call.name}({_args(event.call)})")
        elif isinstance(event, ToolFinished):
            body = " ".join(event.content.split())
            body = body if len(body) <= 300 else body[:297] + "..."
            self._tool(f"  {'✗' if event.error else '→'} {body}",
                       "dim yellow" if event.error else "dim")
        elif isinstance(event, ToolNotice):
            self._tool(f"({event.text})")
        elif isinstance(event, ReasoningDelta):
            target = self.out if self.interactive else self.err
            if not self.thinking:
                target.print("[dim italic]thinking…[/]", markup=True)
                self.thinking = True
            target.print(event.text, style="dim", end="", markup=False, highlight=False)
        elif isinstance(event, TextDelta):
            if self.thinking:
                (self.out if self.interactive else self.err).print("\n", style="dim", end="")
                self.thinking = False
            self.out.file.write(event.text)
            self.out.file.flush()
            self.mid_line = not event.text.endswith("\n")
        elif isinstance(event, Trimmed):
            self.err.print(f"[dim](left out the {event.dropped} oldest messages so the "
                           "conversation fits the model's context window)[/]")
        elif isinstance(event, Notice):
            self.err.print(f"[dim]({event.text})[/]")
        elif isinstance(event, Saved):
            self.out.file.write("\n")
            self.out.file.flush()
            self.mid_line = False


def _args(call: ToolCall) -> str:
    text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in call.arguments.items())
    return text if len(text) <= 200 else text[:197] + "..."


def _tool_names(state: AppState, tools: bool | None, names: tuple[str, ...]) -> list[str]:
    """The built-in tools this chat offers: --no-tools, --tool NAME..., --tools, config."""
    if tools is False:
        return []
    if names:
        return list(dict.fromkeys(names))
    configured = list(state.settings.tools.enabled)
    if tools:
        return configured or list(DEFAULT_TOOLS)
    return configured


def _confirmer(console: Console, *, ask: bool, yes: bool) -> Any:
    """Asks before a tool with side effects runs (None: refuse them all)."""
    if yes:
        async def allow(call: ToolCall) -> bool:
            return True
        return allow
    if not ask:
        return None

    async def confirm(call: ToolCall) -> bool:
        prompt = f"[yellow]allow[/] {escape(call.name)}({escape(_args(call))})? [y/N] "
        try:
            answer = await asyncio.to_thread(console.input, prompt)
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")
    return confirm


async def _run_turn(
    assistant: Assistant, prompt: str, kwargs: dict[str, Any], on_event: Callable[[ChatEvent], None]
) -> ChatResult:
    result = ChatResult()
    events: AsyncGenerator[ChatEvent, None] = assistant.chat(prompt, **kwargs)
    try:
        async for event in events:
            result.add(event)
            on_event(event)
    finally:
        await events.aclose()
    return result


def _turn(loop: asyncio.AbstractEventLoop, coro: Any) -> tuple[ChatResult | None, bool]:
    """Run one turn; Ctrl-C cancels just this turn. Returns (result, interrupted)."""
    task = loop.create_task(coro)
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread / not Unix
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        return loop.run_until_complete(task), False
    except asyncio.CancelledError:
        return None, True
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


def _print_attached(err: Console, outcomes: Sequence[IngestOutcome], *, all_: bool) -> None:
    """One dim line per file: every file with ``all_``, else only those read just now."""
    for o in outcomes:
        name = escape(o.path.name)
        if o.status == "failed":
            err.print(f"[yellow]skipped[/] {escape(str(o.path))}: {escape(o.reason)}")
        elif all_ or o.status in ("added", "updated"):
            note = {"added": ", added to the library",
                    "updated": ", changed: read again"}.get(o.status, "")
            err.print(f"[dim]attached {name} ({o.chunks} passages{note})[/]")


def _print_sources(err: Console, cited: Sequence[Excerpt]) -> None:
    for e in cited:
        err.print(f"[{e.n}] {e.filename} — {e.location}", style="dim", markup=False,
                  highlight=False)


def _finish(state: AppState, result: ChatResult, docs: Attachments,
            excerpts: Sequence[Excerpt], as_json: bool) -> None:
    """After an answer: the JSON object, or the sources it cites (on stderr)."""
    cited = cited_excerpts(result.text, excerpts)
    if not as_json:
        _print_sources(state.err, cited)
        return
    data = result_json(result)
    if docs.active:
        data["sources"] = [e.as_json() for e in cited]
    click.echo(json.dumps(data, ensure_ascii=False))


def _read_message(console: Console) -> str | None:
    try:
        line = console.input("[bold cyan]>>> [/]")
    except EOFError:
        return None
    if line.strip() != '"""':
        return line
    lines: list[str] = []
    while True:
        try:
            more = console.input("[dim]... [/]")
        except EOFError:
            break
        if more.strip() == '"""':
            break
        lines.append(more)
    return "\n".join(lines)


@click.command()
@click.argument("prompt", required=False)
@click.option("-m", "--model", help="Catalogue name, path to a .gguf, openai:URL#MODEL, or a "
              "config endpoint name. Default: the configured model.")
@click.option("-s", "--system", help="System prompt.")
@click.option("-c", "--continue", "continue_", is_flag=True,
              help="Continue the most recent conversation.")
@click.option("--conversation", "--cid", "conversation", metavar="ID",
              help="Continue the conversation with this id (or a unique prefix).")
@click.option("-t", "--temperature", type=click.FloatRange(0, 2), help="Sampling temperature.")
@click.option("--top-p", type=click.FloatRange(0, 1), help="Nucleus sampling.")
@click.option("-n", "--max-tokens", type=click.IntRange(1), help="Most tokens in the answer.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 2), help="Seed for reproducible sampling.")
@click.option("--stop", multiple=True, help="Stop when this text is generated (repeatable).")
@click.option("--think/--no-think", default=None,
              help="Qwen3 thinking mode (shown dimmed, never saved in the answer).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@click.option("-a", "--attach", multiple=True, metavar="PATH", type=click.Path(path_type=Path),
              help="Answer from this file or folder, citing it (repeatable). It is added to "
              "the document library; an unchanged file is not read again.")
@click.option("--library", "whole_library", is_flag=True,
              help="Answer from the whole document library (see `qwenapp docs`).")
@click.option("--tools/--no-tools", "tools", default=None,
              help="Let the model call tools: those in [tools] enabled of the config, or "
              f"else {', '.join(DEFAULT_TOOLS)}. Default: the config's.")
@click.option("--tool", "tool_names", multiple=True, metavar="NAME",
              help="Offer this built-in tool (repeatable): calculator, convert_units, "
              "current_time, library_search, fetch_url, web_search, write_report, make_deck.")
@click.option("--yes", "yes", is_flag=True,
              help="Run tools with side effects without asking.")
@click.pass_obj
def chat(
    state: AppState, prompt: str | None, model: str | None, system: str | None, continue_: bool,
    conversation: str | None, temperature: float | None, top_p: float | None,
    max_tokens: int | None, seed: int | None, stop: tuple[str, ...], think: bool | None,
    as_json: bool, attach: tuple[Path, ...], whole_library: bool, tools: bool | None,
    tool_names: tuple[str, ...], yes: bool,
) -> None:
    """Chat with a local Qwen model: answer PROMPT once, or open an interactive chat."""
    piped = not sys.stdin.isatty()
    if piped:
        stdin_text = sys.stdin.read()
        prompt = f"{stdin_text.rstrip()}\n\n{prompt}" if prompt and stdin_text.strip() \
            else (prompt or stdin_text)
        if not prompt.strip():
            raise InputError("the message is empty", "pass a question, or pipe text on stdin")
    options = GenerateOptions(temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                              seed=seed, stop=stop, think=think)
    from ..library import Library
    from ..store import ConversationStore, open_db

    conn = open_db(state.settings.database)
    store = ConversationStore(conn)
    docs = Attachments(Library(conn, limits=state.settings.documents.limits()),
                       whole_library=whole_library, pages=PageProgress(state.err))
    if attach:
        _print_attached(state.err, docs.add(attach), all_=prompt is None)
    docs.check()
    names = _tool_names(state, tools, tool_names)
    backend = state.backend(model)
    kwargs: dict[str, Any] = {"conversation_id": conversation, "continue_latest": continue_,
                              "system": system, "options": options}
    loop = asyncio.new_event_loop()
    box: ToolBox | None = None
    try:
        box = loop.run_until_complete(_toolbox(state, names, Library(conn), tools, model))
        interactive = prompt is None and sys.stdin.isatty()
        assistant = Assistant(backend, store, tools=box,
                              max_rounds=state.settings.tools.max_rounds,
                              confirm=_confirmer(state.console, ask=interactive, yes=yes))
        if prompt is not None:
            _one_shot(loop, assistant, prompt, kwargs, state, as_json, docs)
        else:
            _interactive(loop, assistant, kwargs, state, as_json, docs)
    finally:
        if box is not None:
            loop.run_until_complete(box.aclose())
        loop.run_until_complete(backend.aclose())
        loop.close()


async def _toolbox(state: AppState, names: list[str], library: Any, tools: bool | None,
                   model: str | None = None) -> ToolBox | None:
    """The tools of this chat: the built-in ones named, plus the configured MCP servers'
    whenever tools are on (a server that fails to start is a warning, not fatal). Jobs
    (write_report, make_deck) run in the background with the chat's model, their files
    under ``$QWENAPP_HOME/jobs/ID/``."""
    from ..tools import builtin_toolbox
    from ..tools.jobs import ProcessLauncher

    jobs = ProcessLauncher(state.settings.home / "jobs", model=model, library=library)
    box = builtin_toolbox(names, library=library, search=state.settings.tools.search,
                          env=dict(os.environ), jobs=jobs)
    servers = [s for s in state.settings.tools.mcp_servers.values() if s.enabled]
    if servers and tools is not False and (names or tools):
        from ..mcp.client import add_mcp_tools

        for problem in await add_mcp_tools(box, servers):
            state.err.print(f"[yellow]warning:[/] {escape(problem)}")
    if not box:
        await box.aclose()
        return None
    return box


def _one_shot(loop: asyncio.AbstractEventLoop, assistant: Assistant, prompt: str,
              kwargs: dict[str, Any], state: AppState, as_json: bool,
              docs: Attachments) -> None:
    printer = _Printer(state.console, state.err, interactive=False)
    started: list[Started] = []

    def on_event(event: ChatEvent) -> None:
        if isinstance(event, Started):
            started.append(event)
        if not as_json or isinstance(event, Notice | Trimmed):
            printer(event)

    excerpts = docs.excerpts(prompt)
    kwargs = dict(kwargs, grounding=grounding_prompt(excerpts))
    result, interrupted = _turn(loop, _run_turn(assistant, prompt, kwargs, on_event))
    if interrupted:
        where = f" in conversation {started[0].conversation_id}" if started else ""
        state.err.print(f"\n[yellow]interrupted[/]: the partial answer is saved{where}")
        sys.exit(130)
    if result is not None:
        _finish(state, result, docs, excerpts, as_json)


def _attach_command(message: str, docs: Attachments, state: AppState) -> bool:
    """Handle ``/attach PATH``; False when ``message`` is not that command."""
    command, _, arg = message.strip().partition(" ")
    if command != "/attach":
        return False
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "'\"":
        arg = arg[1:-1]
    if not arg:
        state.err.print("[bold red]error:[/] /attach needs a file or folder, like "
                        "/attach notes.md")
        return True
    try:
        outcomes = docs.add([Path(arg)])
    except InputError as e:
        state.err.print(f"[bold red]error:[/] {escape(e.message)}")
        return True
    _print_attached(state.err, outcomes, all_=True)
    return True


def _interactive(loop: asyncio.AbstractEventLoop, assistant: Assistant, kwargs: dict[str, Any],
                 state: AppState, as_json: bool, docs: Attachments) -> None:
    console = state.console
    console.print(f"[bold]qwenapp[/] chat with [cyan]{assistant.backend.name}[/]. {_HELP}")
    if docs.whole_library:
        console.print("[dim](answering from the document library)[/]")
    printer = _Printer(console, state.err, interactive=True)
    conv_id: str | None = kwargs.get("conversation_id")
    continue_latest = bool(kwargs.get("continue_latest"))
    while True:
        try:
            message = _read_message(console)
        except KeyboardInterrupt:
            console.print()
            return
        if message is None or message.strip() in {"/exit", "/quit"}:
            return
        if message.strip() == "/help":
            console.print(_HELP)
            continue
        if message.strip() == "/new":
            conv_id, continue_latest = None, False
            console.print("[dim](new conversation)[/]")
            continue
        if _attach_command(message, docs, state):
            continue
        if not message.strip():
            continue
        excerpts = docs.excerpts(message)
        turn_kwargs = dict(kwargs, conversation_id=conv_id, continue_latest=continue_latest,
                           grounding=grounding_prompt(excerpts))
        ids: list[str] = []

        def on_event(event: ChatEvent, ids: list[str] = ids) -> None:
            if isinstance(event, Started):
                ids.append(event.conversation_id)
            if as_json and isinstance(event, TextDelta | ReasoningDelta | Saved):
                return
            printer(event)

        try:
            result, interrupted = _turn(loop, _run_turn(assistant, message, turn_kwargs,
                                                        on_event))
        except InputError as e:
            state.err.print(f"[bold red]error:[/] {e.message}")
            continue
        if ids:
            conv_id, continue_latest = ids[0], False
        if interrupted or result is None:
            console.print("\n[yellow](stopped; the partial answer is saved)[/]")
            continue
        _finish(state, result, docs, excerpts, as_json)
