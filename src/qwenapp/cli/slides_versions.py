"""``qwenapp slides --revise / --versions / --diff / --restore / --export``: decks by id.

Every deck the CLI makes is recorded as version 1 in the database (its
structure, theme and file); ``--revise ID "make slide 3 a chart"`` applies
a request to the newest version, writes the deck's file again and records
the next version. A request the rules cannot map to an edit, or that names
a slide the deck does not have, prints a short question on stdout and exits
with status 3, changing nothing. The model is loaded only when an edit
needs one: a theme change or a removal is instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path

import click
from rich.markup import escape

from ..errors import InputError
from ..models.base import Backend, job_parallel
from ..slides import Deck, Theme, get_theme, load_template, save_deck
from ..slides.edits import Clarify, Edit, needs_model, parse_request
from ..slides.export import export_pdf, export_pngs, require_tools
from ..slides.layout import overflow
from ..slides.output import check_output
from ..slides.revise import Revision, compare_decks, revise_deck
from ..store import new_id, open_db
from ..store.deck_versions import CLI_OWNER, DeckVersion, DeckVersions
from .state import AppState

__all__ = ["CLARIFY_EXIT", "diff_versions", "export_version", "list_versions", "record_deck",
           "restore_version", "revise", "theme_of"]

CLARIFY_EXIT = 3


def theme_of(name: str) -> Theme:
    """A stored theme name: a built-in theme, or ``template:PATH`` (the user's .pptx)."""
    if name.startswith("template:"):
        return load_template(Path(name[len("template:"):]))
    return get_theme(name)


def _store(state: AppState) -> DeckVersions:
    return DeckVersions(open_db(state.settings.database))


def record_deck(state: AppState, deck: Deck, theme: str, path: Path) -> str:
    """Record a newly made deck as version 1; its id, or "" when it could not be saved."""
    from ..errors import StorageError

    deck_id = new_id()
    try:
        _store(state).add(deck_id, CLI_OWNER, deck.model_dump_json(), theme, path=str(path),
                          summary="first version")
    except StorageError as e:
        state.err.print(f"[yellow]note:[/] the deck was not recorded for revision: "
                        f"{escape(e.message)}")
        return ""
    state.err.print(f"deck id [bold]{deck_id}[/] (revise it: qwenapp slides --revise "
                    f"{deck_id} \"make slide 3 a chart\")")
    return deck_id


def _current(store: DeckVersions, deck_id: str) -> tuple[str, DeckVersion]:
    full = store.resolve(deck_id, CLI_OWNER)
    latest = store.latest(full, CLI_OWNER)
    assert latest is not None
    return full, latest


def _version(store: DeckVersions, deck_id: str, n: int) -> tuple[str, DeckVersion]:
    full = store.resolve(deck_id, CLI_OWNER)
    got = store.get(full, CLI_OWNER, n)
    if got is None:
        count = len(store.history(full, CLI_OWNER))
        raise InputError(f"deck {full} has no version {n}", f"it has versions 1 to {count}")
    return full, got


def _write(state: AppState, deck: Deck, theme: str, out: Path, pdf: bool, png: bool) -> None:
    save_deck(deck, theme_of(theme), out)
    state.err.print(f"[bold green]wrote[/] {escape(str(out))}")
    if pdf or png:
        made = export_pdf(out, out.with_suffix(".pdf"))
        for p in ([made] if pdf else []) + (export_pngs(made, out.with_suffix("")) if png
                                             else []):
            state.err.print(f"[bold green]wrote[/] {escape(str(p))}")


async def _apply(backend: Backend | None, deck: Deck, theme: str, edits: list[Edit],
                 request: str, parallel: int) -> Revision | Clarify:
    try:
        return await revise_deck(backend, deck, theme, edits, request=request,
                                 fit=lambda t: (lambda s: overflow(s, theme_of(t))),
                                 parallel=parallel)
    finally:
        if backend is not None:
            with contextlib.suppress(Exception):
                await backend.aclose()


def revise(state: AppState, deck_id: str, request: str, model: str | None,
           output: Path | None, pdf: bool, png: bool, as_json: bool) -> None:
    store = _store(state)
    full, cur = _current(store, deck_id)
    deck = Deck.model_validate_json(cur.deck)
    out = check_output(output or Path(cur.path or f"deck-{full[:8].lower()}.pptx"))
    require_tools(pdf, png)
    edits = parse_request(request, deck)
    if isinstance(edits, Clarify):
        click.echo(edits.question)
        raise SystemExit(CLARIFY_EXIT)
    backend: Backend | None = None
    parallel = 1
    if needs_model(edits):
        backend = state.backend(model)
        parallel = job_parallel(backend, state.settings.job_parallel, state.settings.parallel)
    result = asyncio.run(_apply(backend, deck, cur.theme, edits, request, parallel))
    if isinstance(result, Clarify):
        click.echo(result.question)
        raise SystemExit(CLARIFY_EXIT)
    _write(state, result.deck, result.theme, out, pdf, png)
    v = store.add(full, CLI_OWNER, result.deck.model_dump_json(), result.theme,
                  request=request, summary=result.summary, changed=result.changed,
                  path=str(out))
    changed = ", ".join(map(str, result.changed)) or "none (no slide rewritten)"
    state.err.print(f"version {v.version}: {escape(result.summary)}; slides changed: {changed} "
                    f"[dim]({result.stats.calls} model call(s), "
                    f"{result.stats.total_seconds:.1f} s)[/]")
    for note in result.notes:
        state.err.print(f"[yellow]note:[/] {escape(note)}")
    click.echo(result.deck.model_dump_json(indent=2) if as_json else str(out))


def list_versions(state: AppState, deck_id: str, as_json: bool) -> None:
    store = _store(state)
    full = store.resolve(deck_id, CLI_OWNER)
    versions = store.history(full, CLI_OWNER)
    if as_json:
        import json

        click.echo(json.dumps([{**dataclasses.asdict(v), "deck": None,
                                "slides": len(Deck.model_validate_json(v.deck).slides)}
                               for v in versions], ensure_ascii=False, indent=2))
        return
    click.echo(f"deck {full}: {len(versions)} version(s), the last is current")
    for v in versions:
        slides = len(Deck.model_validate_json(v.deck).slides)
        asked = f'"{v.request}"' if v.request else v.summary
        changed = f" changed: {', '.join(map(str, v.changed))}" if v.changed else ""
        click.echo(f"v{v.version}  {v.created_at[:19].replace('T', ' ')}  {slides} slides  "
                   f"theme {v.theme}  {asked}{changed}")


def diff_versions(state: AppState, deck_id: str, a: int, b: int, as_json: bool) -> None:
    store = _store(state)
    _, va = _version(store, deck_id, a)
    _, vb = _version(store, deck_id, b)
    diff = compare_decks(Deck.model_validate_json(va.deck), Deck.model_validate_json(vb.deck))
    if as_json:
        import json

        click.echo(json.dumps({"theme": [va.theme, vb.theme],
                               "slides": [dataclasses.asdict(d) for d in diff]},
                              ensure_ascii=False, indent=2))
        return
    if va.theme != vb.theme:
        click.echo(f"theme: {va.theme} -> {vb.theme}")
    for d in diff:
        if d.status == "removed":
            click.echo(f"removed: slide {d.was} of v{a} ({d.title})")
        elif d.status == "same":
            moved = f" (was slide {d.was})" if d.was != d.slide else ""
            click.echo(f"slide {d.slide}: same{moved}  {d.title}")
        else:
            was = f" (slide {d.was} of v{a})" if d.was else ""
            click.echo(f"slide {d.slide}: {d.status}{was}  {d.title}")


def restore_version(state: AppState, deck_id: str, n: int, output: Path | None,
                    as_json: bool) -> None:
    store = _store(state)
    full, old = _version(store, deck_id, n)
    latest = store.latest(full, CLI_OWNER)
    assert latest is not None
    out = check_output(output or Path(latest.path or old.path))
    deck = Deck.model_validate_json(old.deck)
    _write(state, deck, old.theme, out, False, False)
    before = Deck.model_validate_json(latest.deck)
    changed = [d.slide for d in compare_decks(before, deck) if d.status in ("changed", "added")]
    v = store.add(full, CLI_OWNER, old.deck, old.theme, request=f"restore version {n}",
                  summary=f"restored version {n}", changed=changed, path=str(out))
    state.err.print(f"version {v.version}: a copy of version {n}")
    click.echo(deck.model_dump_json(indent=2) if as_json else str(out))


def export_version(state: AppState, deck_id: str, n: int, output: Path | None) -> None:
    store = _store(state)
    full, v = _version(store, deck_id, n)
    base = Path(v.path) if v.path else Path(f"deck-{full[:8].lower()}.pptx")
    out = check_output(output or base.with_name(f"{base.stem}-v{n}.pptx"))
    _write(state, Deck.model_validate_json(v.deck), v.theme, out, False, False)
    click.echo(str(out))

