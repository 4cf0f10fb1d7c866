"""``qwenapp users``: accounts for the server (an admin creates them).

Passwords are read from a hidden prompt (twice), or from stdin with
``--password-stdin`` for scripts; they are stored as argon2id hashes. An API
key is printed once and stored only as a hash.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING

import click

from ..errors import InputError
from .state import AppState

if TYPE_CHECKING:
    from ..server.users import UserStore

__all__ = ["users"]


def _store(state: AppState) -> UserStore:
    from ..server.users import UserStore
    from ..store import open_db

    return UserStore(open_db(state.settings.database))


def _password(stdin: bool) -> str:
    if stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError("no password on stdin")
        return line
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def users() -> None:
    """Manage the server's accounts and API keys."""


@users.command("add")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def add(state: AppState, username: str, admin: bool, password_stdin: bool) -> None:
    """Create an account (after this, the server asks everyone to log in)."""
    store = _store(state)
    first = store.count() == 0
    user = store.add(username, _password(password_stdin), admin=admin)
    click.echo(f"added {user.username}{' (admin)' if admin else ''}")
    if first:
        state.err.print("[dim]this server now has accounts: everyone must log in[/]")


@users.command("list")
@click.pass_obj
def list_users(state: AppState) -> None:
    """List the accounts."""
    for u in _store(state).all():
        click.echo(f"{u.username}\t{'admin' if u.is_admin else 'user'}\t{u.created_at}")


@users.command("rm")
@click.argument("username")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def rm(state: AppState, username: str, yes: bool) -> None:
    """Delete an account and everything it owns (conversations, documents, jobs)."""
    from ..server.ownership import Ownership
    from ..server.user_mcp import UserMcpStore

    store = _store(state)
    user = store.get(username)
    if not yes:
        click.confirm(f"delete {user.username} and all their conversations, documents and "
                      "jobs?", abort=True)
    purged = Ownership(store.conn).purge(user.id, account=True)  # one transaction
    UserMcpStore(store.conn).purge(user.id)  # their MCP servers (header tokens) go too
    data = state.settings.home / "server"
    for name in purged.uploads:
        (data / "uploads" / name).unlink(missing_ok=True)
    for job_id in purged.jobs:
        shutil.rmtree(state.settings.jobs_dir() / job_id, ignore_errors=True)
    click.echo(f"removed {user.username} ({purged.conversations} conversation(s), "
               f"{len(purged.uploads)} document(s), {len(purged.jobs)} job(s))")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.pass_obj
def set_password(state: AppState, username: str, password_stdin: bool) -> None:
    """Change a password (the user's sessions end)."""
    store = _store(state)
    store.get(username)
    user = store.set_password(username, _password(password_stdin))
    click.echo(f"password changed for {user.username}")


@users.command("add-key")
@click.argument("username")
@click.option("--name", default="key", show_default=True, help="A label for the key.")
@click.pass_obj
def add_key(state: AppState, username: str, name: str) -> None:
    """Create an API key for USERNAME and print it (once)."""
    store = _store(state)
    new = store.add_key(store.get(username), name)
    click.echo(new.secret)
    state.err.print(f"[dim]key {new.key.id} ({new.key.name}): keep it safe, it is not shown "
                    "again[/]")


@users.command("keys")
@click.argument("username")
@click.pass_obj
def keys(state: AppState, username: str) -> None:
    """List USERNAME's API keys (ids and prefixes only)."""
    store = _store(state)
    for k in store.keys(store.get(username)):
        click.echo(f"{k.id}\t{k.prefix}…\t{k.name}\t{k.last_used_at or 'never used'}")


@users.command("rm-key")
@click.argument("username")
@click.argument("key_id")
@click.pass_obj
def rm_key(state: AppState, username: str, key_id: str) -> None:
    """Revoke one of USERNAME's API keys."""
    store = _store(state)
    if not store.revoke_key(store.get(username), key_id):
        raise InputError(f"{username} has no key {key_id!r}", "see `qwenapp users keys NAME`")
    click.echo(f"revoked {key_id}")
