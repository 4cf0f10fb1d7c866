"""Probes for a process manager or a load balancer: ``/healthz`` and ``/readyz``.

* ``/healthz``: the process answers. No database, no auth: a restart is the cure
  for a process that stops answering, not for a database that is down.
* ``/readyz``: this process can serve: it has started, and its database answers
  a trivial query. 200 ``{"status": "ready"}``, else 503 with one line saying why,
  so a load balancer takes the process out of rotation until it is ready again.
  No auth (probes carry no credentials); the reason names no password or path.

The check is bounded (:data:`READY_TIMEOUT`): a probe must not hang on a
database that has gone silent. SQLite is in the process: ``SELECT 1`` on the
server's own connection. PostgreSQL is checked on a connection of its own,
opened in a worker thread with a short ``connect_timeout`` and abandoned when the
deadline passes, so a stuck network never blocks the event loop or the server's
shared connection. The job queue lives in the same database, so a reachable
database is a reachable queue.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..errors import QwenappError
from ..store.connection import is_database_url

__all__ = ["READY_TIMEOUT", "check_database", "router"]

READY_TIMEOUT = 3.0  # seconds a /readyz may take before it answers 503
_CONNECT_TIMEOUT = 2  # psycopg's connect_timeout (whole seconds, at least 2)

router = APIRouter(tags=["meta"])


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
async def readyz(request: Request) -> JSONResponse:
    state: Any = getattr(request.app.state, "server", None)
    if state is None:
        return _not_ready("the server is still starting")
    reason = await check_database(state.settings.database, state.conn)
    if reason:
        return _not_ready(reason)
    return JSONResponse({"status": "ready"})


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "not ready", "reason": reason}, status_code=503,
                        headers={"Cache-Control": "no-store"})


async def check_database(database: object, conn: Any,
                         timeout: float = READY_TIMEOUT) -> str | None:
    """``None`` when the database answers, else the reason in one line."""
    if not is_database_url(database):
        try:
            conn.execute("SELECT 1").fetchone()
        except Exception as e:  # any failure is "not ready"; the reason is the message
            return f"the database does not answer: {_line(e)}"
        return None
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping_pg, str(database)), timeout)
    except TimeoutError:
        return f"the database did not answer within {timeout:g} s"
    except QwenappError as e:
        return _line(e)
    except Exception as e:
        return f"the database does not answer: {_line(e)}"
    return None


def _ping_pg(url: str) -> None:
    from ..store.postgres import connect

    if "connect_timeout=" not in url:
        url += ("&" if "?" in url else "?") + f"connect_timeout={_CONNECT_TIMEOUT}"
    conn = connect(url)
    try:
        conn.execute("SELECT 1").fetchone()
    finally:
        conn.close()


def _line(e: Exception) -> str:
    text = e.message if isinstance(e, QwenappError) else str(e) or type(e).__name__
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__
