"""Everything a request handler may use, built once when the server starts.

:class:`ServerState` is assembled in the app's lifespan (on the event loop's
thread: the SQLite connection belongs to it) from the collaborators passed
to :func:`~qwenapp.server.app.create_app`, and reached by handlers through
:func:`get_state`. Nothing here reads the environment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from ..library import Library
from ..settings import Settings
from ..store import ConversationStore
from ..store.connection import Connection
from .chat_tools import Approvals, ServerTools
from .config import ServerConfig
from .jobs import JobManager
from .limits import RateLimiter, StreamLimiter
from .ownership import Ownership
from .registry import ModelRegistry
from .users import UserStore

__all__ = ["ServerState", "State", "get_state"]


@dataclass
class ServerState:
    settings: Settings
    config: ServerConfig
    conn: Connection
    store: ConversationStore
    library: Library
    users: UserStore
    owners: Ownership
    models: ModelRegistry
    streams: StreamLimiter
    rates: RateLimiter
    login_rates: RateLimiter
    jobs: JobManager
    data_dir: Path
    tools: ServerTools  # what a chat turn may call ([tools], [mcp.servers.NAME])
    approvals: Approvals  # tool calls waiting for their user's yes
    local_csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # uploads being read, sent with ?progress=TOKEN: (user id, token) -> (OCR pages done, total)
    reading: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def auth_required(self) -> bool:
        """Accounts are enforced once any exist, and always off loopback."""
        return not self.config.loopback or self.users.count() > 0


async def get_state(request: Request) -> ServerState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in its thread pool, which
    # costs a thread hop per request and queues requests behind its 40 threads.
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(get_state)]
"""A handler parameter of this type receives the server's state."""
