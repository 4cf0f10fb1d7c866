"""``qwenapp history``: find, read, export, rename and delete saved conversations.

A thin adapter over :class:`~qwenapp.store.ConversationStore`: it opens the
database at ``Settings.db_path``, calls the store, and prints. Ids may be
shortened to a unique prefix of four or more characters, as with git. Every
listing has ``--json`` for scripts; everything a user typed is printed as
plain text (never as Rich markup). Bad ids and a busy database come back
from the store as typed errors that the main group prints on one line.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from ..output import write_atomic
from ..store import (
    Conversation,
    ConversationStore,
    StoredMessage,
    open_db,
    search_terms,
    to_json,
    to_markdown,
)
from .state import AppState

__all__ = ["history"]

_ROLE_STYLES = {"user": ("you", "bold cyan"), "assistant": ("assistant", "bold green"),
                "system": ("system", "bold magenta")}
_STATUS_NOTES = {"interrupted": "[interrupted]", "error": "[failed]",
                 "streaming": "[incomplete: still being written]"}


def _state(ctx: click.Context) -> AppState:
    state = ctx.find_object(AppState)
    if state is None:  # only when the group is invoked on its own, without the main cli
        raise click.UsageError("run this as `qwenapp history ...`")
    return state


def _store(ctx: click.Context) -> ConversationStore:
    conn = open_db(_state(ctx).settings.database)
    ctx.call_on_close(conn.close)
    return ConversationStore(conn)


def _when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _conversation_json(conv: Conversation) -> dict[str, Any]:
    return {"id": conv.id, "title": conv.title, "model": conv.model,
            "messages": conv.message_count, "created_at": conv.created_at.isoformat(),
            "updated_at": conv.updated_at.isoformat()}


@click.group()
def history() -> None:
    """Saved conversations: list, search, show, export, rename, delete."""


@history.command("list")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many conversations to show, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_cmd(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List conversations, most recently active first."""
    store = _store(ctx)
    convs = store.recent(limit=limit)
    if as_json:
        _echo_json([_conversation_json(c) for c in convs])
        return
    console = _state(ctx).console
    if not convs:
        console.print(Text("No saved conversations yet.", style="dim"))
        return
    # Plain aligned lines, the title last: it is what gets cut on a narrow terminal.
    short = store.short_ids(c.id for c in convs)
    id_width = max(len(v) for v in short.values())
    model_width = min(20, max(len(c.model) for c in convs))
    header = f"{'id':<{id_width}}  {'updated':<16}  {'msgs':>4}  {'model':<{model_width}}  title"
    console.print(Text(header, style="bold"), no_wrap=True, overflow="ellipsis")
    for c in convs:
        model = c.model if len(c.model) <= model_width else c.model[: model_width - 1] + "…"
        line = Text.assemble(
            (f"{short[c.id]:<{id_width}}", "cyan"), "  ", _when(c.updated_at), "  ",
            f"{c.message_count:>4}", "  ", (f"{model:<{model_width}}", "dim"), "  ",
            c.display_title,
        )
        console.print(line, no_wrap=True, overflow="ellipsis")


@history.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def search_cmd(ctx: click.Context, query: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find conversations by words in their messages or title (any language)."""
    text = " ".join(query)
    store = _store(ctx)
    hits = store.search(text, limit=limit)
    if as_json:
        _echo_json([{"conversation_id": h.conversation_id, "title": h.conversation_title,
                     "message_id": h.message_id, "role": h.role, "snippet": h.snippet,
                     "created_at": h.created_at.isoformat()} for h in hits])
        return
    console = _state(ctx).console
    if not hits:
        console.print(Text(f"Nothing matches {text!r}.", style="dim"))
        return
    terms = search_terms(text)
    short = store.short_ids({h.conversation_id for h in hits})
    for h in hits:
        where = f"{h.role}, {_when(h.created_at)}" if h.role else "title"
        head = Text.assemble((short[h.conversation_id], "cyan"), "  ", (where, "dim"), "  ",
                             (h.conversation_title or "(untitled)", "bold"))
        snippet = Text("  " + h.snippet)
        snippet.highlight_words(terms, style="bold yellow", case_sensitive=False)
        console.print(head, no_wrap=True, overflow="ellipsis")
        console.print(snippet)


def _show_message(console: Any, store: ConversationStore, msg: StoredMessage) -> None:
    label, style = _ROLE_STYLES[msg.role]
    head = Text(label, style=style)
    versions = store.siblings(msg)
    if len(versions) > 1:
        index = [v.id for v in versions].index(msg.id) + 1
        head.append(f"  (version {index} of {len(versions)})", style="dim")
    console.print(head)
    if msg.reasoning.strip():
        console.print(Text(msg.reasoning.strip(), style="dim italic"))
        console.print()
    if msg.content:
        console.print(Text(msg.content))
    if msg.status in _STATUS_NOTES:
        console.print(Text(_STATUS_NOTES[msg.status], style="yellow"))
    console.print()


@history.command("show")
@click.argument("conversation_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the export format).")
@click.pass_context
def show_cmd(ctx: click.Context, conversation_id: str, as_json: bool) -> None:
    """Print a conversation: its current thread, thinking dimmed."""
    store = _store(ctx)
    conv = store.get(conversation_id)
    thread = store.thread(conv.id)
    if as_json:
        _echo_json(to_json(conv, thread))
        return
    console = _state(ctx).console
    console.print(Text(conv.display_title, style="bold"))
    console.print(Text(f"{conv.id} · {conv.model} · {_when(conv.created_at)}", style="dim"))
    if conv.system_prompt:
        console.print(Text(f"system prompt: {conv.system_prompt}", style="dim"))
    console.print()
    if not thread:
        console.print(Text("(no messages yet)", style="dim"))
    for msg in thread:
        _show_message(console, store, msg)


@history.command("export")
@click.argument("conversation_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md",
              show_default=True, help="Markdown to read, JSON for tools.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.pass_context
def export_cmd(ctx: click.Context, conversation_id: str, fmt: str, output: Path | None) -> None:
    """Export a conversation's current thread as Markdown or JSON."""
    store = _store(ctx)
    conv = store.get(conversation_id)
    thread = store.thread(conv.id)
    if fmt == "json":
        text = json.dumps(to_json(conv, thread), ensure_ascii=False, indent=2) + "\n"
    else:
        text = to_markdown(conv, thread)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    _state(ctx).err.print(Text(f"wrote {output}", style="dim"))


@history.command("rm")
@click.argument("conversation_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def rm_cmd(ctx: click.Context, conversation_id: str, yes: bool) -> None:
    """Delete a conversation and all its messages."""
    store = _store(ctx)
    conv = store.get(conversation_id)
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete {conv.display_title!r} ({conv.message_count} messages)?",
                      abort=True)
    store.delete(conv.id)
    _state(ctx).console.print(Text(f"deleted {conv.id}  {conv.display_title}"))


@history.command("rename")
@click.argument("conversation_id")
@click.argument("title", nargs=-1, required=True)
@click.pass_context
def rename_cmd(ctx: click.Context, conversation_id: str, title: tuple[str, ...]) -> None:
    """Give a conversation a new title."""
    conv = _store(ctx).rename(conversation_id, " ".join(title))
    _state(ctx).console.print(Text(f"renamed {conv.id}  {conv.display_title}"))
