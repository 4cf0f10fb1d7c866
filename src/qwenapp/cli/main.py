"""``qwenapp``: the console script.

Each command group lives in its own module (``chat_cmd``, ``history_cmd``,
``models_cmd``, ...) and is registered here. Settings are loaded once, here,
and passed down in :class:`~qwenapp.cli.state.AppState`. A
:class:`~qwenapp.errors.QwenappError` becomes a one-line message and a
non-zero exit: never a traceback for a user's mistake.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from rich.markup import escape

from ..errors import QwenappError
from ..settings import load_settings
from .state import AppState

__all__ = ["cli", "main"]

# module:attribute of each command, in help order.
_COMMANDS = [
    "chat_cmd:chat",
    "history_cmd:history",
    "models_cmd:models",
    "docs_cmd:docs",
    "report_cmd:report",
    "slides_cmd:slides",
    "serve_cmd:serve",
    "worker_cmd:worker",
    "users_cmd:users",
    "db_cmd:db",
    "mcp_cmd:mcp",
]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QwenappError as e:
            console = ctx.obj.err if isinstance(ctx.obj, AppState) else None
            _report(e, console)
            ctx.exit(e.exit_code)


def _report(e: QwenappError, console: Any) -> None:
    msg = f"error: {e.message}"
    hint = f"  {e.hint}" if e.hint else ""
    if console is not None:
        console.print(f"[bold red]error:[/] {escape(e.message)}", highlight=False)
        if e.hint:
            console.print(f"[dim]{escape(e.hint)}[/]")
    else:
        click.echo(msg + ("\n" + hint if hint else ""), err=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qwenapp")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """qwenapp: a private, local AI assistant on the open Qwen models."""
    if ctx.obj is None:
        try:
            ctx.obj = AppState(settings=load_settings())
        except QwenappError as e:
            _report(e, None)
            ctx.exit(e.exit_code)


def _register() -> None:
    for spec in _COMMANDS:
        mod_name, attr = spec.split(":")
        full = f"{__package__}.{mod_name}"
        try:
            module = importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name == full:  # that command is not built yet
                continue
            raise
        cli.add_command(getattr(module, attr))


_register()


def main() -> None:
    """Run the CLI; Ctrl-C anywhere ends with "interrupted" and exit status 130."""
    try:
        code = cli.main(prog_name="qwenapp", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\ninterrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
