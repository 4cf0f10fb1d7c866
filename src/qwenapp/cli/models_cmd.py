"""``qwenapp models``: list the catalogue, download, locate and delete model files.

A thin adapter over :mod:`qwenapp.models.catalogue` and
:mod:`qwenapp.models.fetch`: it prints, and nothing else. Progress bars go to
stderr so ``qwenapp models path NAME`` and ``pull`` leave only the path on
stdout, for scripts (``llama-server -m "$(qwenapp models path)"``). Unknown
names and failed downloads are typed errors that the main group prints.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from ..errors import ModelFileError
from ..models.catalogue import CATALOGUE, CatalogueEntry, get_entry
from ..models.fetch import ensure_model, model_path, remove_model
from .progress import ConsoleProgress
from .state import AppState

__all__ = ["models"]


def _state(ctx: click.Context) -> AppState:
    state = ctx.find_object(AppState)
    if state is None:  # only when the group is invoked on its own, without the main cli
        raise click.UsageError("run this as `qwenapp models ...`")
    return state


def _size(n: int) -> str:
    if n <= 0:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _row(entry: CatalogueEntry, state: AppState) -> dict[str, Any]:
    path = model_path(entry, state.settings.models_dir)
    return {
        "name": entry.name, "description": entry.description, "params": entry.params,
        "quant": entry.quant, "size": entry.size or None, "context_length": entry.context_length,
        "thinking": entry.thinking, "default": entry.name == state.settings.model,
        "downloaded": path is not None, "path": str(path) if path else None,
        "hf_repo": entry.hf_repo or None, "pypi_mirror": bool(entry.pypi_parts),
    }


@click.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List, download and remove local models (default: list)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_models)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def list_models(ctx: click.Context, as_json: bool = False) -> None:
    """The models qwenapp can fetch by name, and which are downloaded."""
    state = _state(ctx)
    rows = [_row(e, state) for e in CATALOGUE.values()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("name", "params", "quant", "size", "ctx", "think", "local"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        table.add_row(
            r["name"] + (" *" if r["default"] else ""), r["params"], r["quant"],
            _size(r["size"] or 0), f"{r['context_length'] // 1024}k",
            "yes" if r["thinking"] else "no",
            "[green]yes[/]" if r["downloaded"] else "[dim]no[/]",
        )
    state.console.print(table)
    state.err.print(f"* default; models folder: {state.settings.models_dir}; "
                    "`qwenapp models pull NAME` downloads one", style="dim", markup=False,
                    highlight=False)


@models.command()
@click.argument("name", required=False)
@click.pass_context
def pull(ctx: click.Context, name: str | None) -> None:
    """Download NAME (default: the configured model) and print its path."""
    state = _state(ctx)
    entry = get_entry(name or state.settings.model)
    path = ensure_model(entry, state.settings.models_dir, offline=state.settings.offline,
                        progress=ConsoleProgress(state.err))
    click.echo(str(path))


@models.command()
@click.argument("name")
@click.pass_context
def rm(ctx: click.Context, name: str) -> None:
    """Delete NAME's file and any partial download."""
    state = _state(ctx)
    entry = get_entry(name)
    if remove_model(entry, state.settings.models_dir):
        state.err.print(f"removed {entry.name}", markup=False)
    else:
        state.err.print(f"{entry.name} is not downloaded; nothing to remove", markup=False)


@models.command()
@click.argument("name", required=False)
@click.pass_context
def path(ctx: click.Context, name: str | None) -> None:
    """Print the file of NAME (default: the configured model) if it is downloaded."""
    state = _state(ctx)
    entry = get_entry(name or state.settings.model)
    found = model_path(entry, state.settings.models_dir)
    if found is None:
        raise ModelFileError(f"{entry.name} is not downloaded",
                             f"run `qwenapp models pull {entry.name}`")
    click.echo(str(found))
