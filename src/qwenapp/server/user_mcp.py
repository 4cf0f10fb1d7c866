"""MCP servers a user adds for themselves, kept on the server (migration 0302).

Why these rules:

* A streamable-HTTP ``url`` is for anyone, but it is a URL the server will
  connect to, so it gets the same SSRF policy as ``fetch_url``: private,
  loopback and link-local hosts are refused unless ``qwenapp serve
  --allow-host`` names them. It is checked when added and again on every
  connection (:class:`~qwenapp.mcp.client.GuardedTransport`), since a DNS
  name can point elsewhere later.
* A stdio ``command`` runs a program on the server: only an administrator
  may add one, and it is started only while its owner is still one.
* Header values (tokens) are stored but never sent back: the page sees the
  header names only. The URL's query is shown as ``?…`` for the same reason.
* A name is the prefix of the server's tools (``NAME_tool``), so it must not
  be one of the server-wide servers' names, nor another of the user's own.

Why connected per turn rather than cached: see :mod:`.chat_tools`.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field

from ..settings import McpServerConfig
from ..store import transaction
from ..store.db import db_path_of, storage_errors
from ..web.safety import UrlPolicy, WebError, check_url
from .errors import HttpError

if TYPE_CHECKING:
    from ..store.connection import Connection

__all__ = ["CALL_TIMEOUT", "MAX_SERVERS", "START_TIMEOUT", "UserMcpIn", "UserMcpList",
           "UserMcpOut", "UserMcpServer", "UserMcpStore", "check_new", "shown"]

MAX_SERVERS = 20  # per user
START_TIMEOUT = 10.0  # seconds to connect and list tools (a turn or GET /api/tools waits)
CALL_TIMEOUT = 30.0  # seconds one tool call may take

_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_REFUSED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True, slots=True)
class UserMcpServer:
    name: str
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    command: str | None = None
    args: tuple[str, ...] = ()
    created_at: str = ""

    def config(self) -> McpServerConfig:
        return McpServerConfig(self.name, command=self.command, args=self.args, url=self.url,
                               headers=dict(self.headers), timeout=CALL_TIMEOUT)


class UserMcpIn(BaseModel):
    """A server to add: ``url`` (streamable HTTP) or, for an administrator, ``command``."""

    name: str = Field(pattern=_NAME, description="Lower-case letters, digits, _ and -; "
                      "the prefix of its tools' names.")
    url: str | None = Field(default=None, max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict, max_length=20,
                                    description="Sent with every request (an API token).")
    command: str | None = Field(default=None, min_length=1, max_length=1000,
                                description="A stdio server: administrators only.")
    args: list[str] = Field(default_factory=list, max_length=50)


class UserMcpOut(BaseModel):
    name: str
    kind: Literal["http", "stdio"]
    url: str | None = Field(default=None, description="Its query, if any, shown as ?…")
    header_names: list[str] = Field(default_factory=list, description="Values are not shown.")
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    created_at: str


class UserMcpList(BaseModel):
    servers: list[UserMcpOut]
    shared: list[str] = Field(description="The server-wide MCP servers (names taken).")
    may_add_commands: bool = Field(description="Whether the caller may add a stdio server.")


def shown(server: UserMcpServer) -> UserMcpOut:
    url = None
    if server.url:
        p = urlsplit(server.url)
        url = urlunsplit((p.scheme, p.netloc, p.path, "…" if p.query else "", ""))
    return UserMcpOut(name=server.name, kind="http" if server.url else "stdio", url=url,
                      header_names=list(server.headers), command=server.command,
                      args=list(server.args), created_at=server.created_at)


def _bad(message: str, param: str, code: str = "invalid_input", hint: str = "") -> HttpError:
    return HttpError(400, message, code=code, param=param, hint=hint)


async def check_new(body: UserMcpIn, *, is_admin: bool, taken: set[str], count: int,
                    policy: UrlPolicy) -> UserMcpServer:
    """The server to store for ``body``, or the :class:`HttpError` that says why not.

    ``taken``: names already used (server-wide and the user's own); ``count``:
    how many the user has.
    """
    if bool(body.url) == bool(body.command):
        raise _bad("give either url (a streamable-HTTP MCP server) or command (stdio)", "url")
    if body.command and not is_admin:
        raise HttpError(403, "only an administrator can add a stdio MCP server: it would run "
                        "a program on this server", code="admin_only", param="command",
                        hint="add the server's streamable-HTTP URL instead")
    if body.name in taken:
        raise HttpError(409, f"there is already an MCP server called {body.name!r}",
                        code="name_taken", param="name", hint="choose another name")
    if count >= MAX_SERVERS:
        raise _bad(f"you have {count} MCP servers, the most one user may add", "name",
                   code="too_many", hint="remove one first")
    for key, value in body.headers.items():
        if not _HEADER_NAME.match(key) or key.lower() in _REFUSED_HEADERS:
            raise _bad(f"{key!r} cannot be sent as a header", "headers")
        if len(value) > 4000 or any(c in value for c in "\r\n\0"):
            raise _bad(f"the value of header {key!r} is too long or holds a line break",
                       "headers")
    if body.command and shutil.which(body.command) is None:
        raise _bad(f"there is no program {body.command!r} on this server", "command",
                   hint="give the full path of an installed MCP server program")
    if body.url:
        try:
            await check_url(body.url, policy)
        except WebError as e:
            raise _bad(e.message, "url", code="blocked_url",
                       hint="a private or loopback host needs qwenapp serve --allow-host HOST"
                       if "refusing" in e.message else e.hint) from None
        except (ValueError, UnicodeError):  # a host name that cannot even be looked up
            raise _bad(f"not a valid URL: {body.url[:200]}", "url", code="blocked_url"
                       ) from None
    return UserMcpServer(body.name, url=body.url, headers=dict(body.headers),
                         command=body.command, args=tuple(body.args) if body.command else ())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class UserMcpStore:
    """Each user's MCP servers; every query is scoped to one user id."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._path = db_path_of(conn)

    def servers(self, user_id: str) -> list[UserMcpServer]:
        with storage_errors(self._path):
            rows = self.conn.execute(
                "SELECT name, url, headers, command, args, created_at "
                "FROM server_user_mcp_servers WHERE user_id = ? ORDER BY name",
                (user_id,)).fetchall()
        return [UserMcpServer(r[0], r[1], json.loads(r[2]), r[3], tuple(json.loads(r[4])), r[5])
                for r in rows]

    def add(self, user_id: str, server: UserMcpServer) -> UserMcpServer:
        now = _now()
        with transaction(self.conn) as c:
            c.execute("INSERT INTO server_user_mcp_servers (user_id, name, url, headers, "
                      "command, args, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (user_id, server.name, server.url, json.dumps(server.headers),
                       server.command, json.dumps(list(server.args)), now))
        return UserMcpServer(server.name, server.url, server.headers, server.command,
                             server.args, now)

    def remove(self, user_id: str, name: str) -> bool:
        with transaction(self.conn) as c:
            gone = c.execute("DELETE FROM server_user_mcp_servers WHERE user_id = ? AND "
                             "name = ?", (user_id, name)).rowcount
        return bool(gone)

    def purge(self, user_id: str) -> None:
        """Forget all of a user's servers (their account is being deleted)."""
        with transaction(self.conn) as c:
            c.execute("DELETE FROM server_user_mcp_servers WHERE user_id = ?", (user_id,))
