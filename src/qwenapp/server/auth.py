"""Who is calling: an API key, a session cookie, or the local user of a loopback server.

Rules, in order:

* ``Authorization: Bearer KEY``: with accounts, the key must be one of the
  user's (stored hashed); without accounts (loopback only) any bearer is the
  local user, so OpenAI clients that insist on a key work.
* a session cookie (set by ``POST /api/auth/login``; HttpOnly, SameSite=Lax,
  Secure over https). Unsafe methods must also send ``X-CSRF-Token`` equal
  to the session's token, and any ``Origin`` must be this server's own.
* no credentials: the local user, when the server is on loopback and has no
  accounts; unsafe methods still need the per-process ``X-CSRF-Token``
  (the page gets it from ``GET /api/me``), so another site open in the
  browser cannot post to the local server.

Anything else is a 401, or a 403 for a failed CSRF check.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends
from starlette.requests import Request

from .errors import HttpError
from .state import ServerState, State
from .users import LOCAL_USER, User

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Caller",
    "Principal",
    "current",
    "is_https",
    "require_admin",
]

SESSION_COOKIE = "qwenapp_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    via: Literal["local", "session", "api_key"]
    csrf_token: str | None = None


def is_https(request: Request, trust_proxy: bool = False) -> bool:
    """Whether the page came over https. ``X-Forwarded-Proto`` is never read here: the
    :class:`~.middleware.ProxyHeaders` middleware has already set the scheme from it, for
    requests from a proxy the operator named, and only for those (``trust_proxy`` is
    kept for callers' signatures)."""
    return request.url.scheme in ("https", "wss")


def _unauthorized(message: str, code: str) -> HttpError:
    return HttpError(401, message, code=code, hint="log in, or send Authorization: Bearer KEY",
                     headers={"WWW-Authenticate": 'Bearer realm="qwenapp"'})


def _check_csrf(request: Request, expected: str, state: ServerState) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{'https' if is_https(request, state.config.trust_proxy) else 'http'}://" \
              f"{request.headers.get('host', '')}"
        if urlsplit(origin)._replace(path="").geturl().lower() != own.lower():
            raise HttpError(403, "cross-site request refused", code="csrf_failed",
                            hint="the request's Origin is not this server")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, expected):
        raise HttpError(403, "missing or wrong CSRF token", code="csrf_failed",
                        hint=f"send the token from GET /api/me in the {CSRF_HEADER} header")


async def current(request: Request, state: State) -> Principal:
    """The caller (a FastAPI dependency); raises 401/403."""
    unsafe = request.method.upper() not in _SAFE
    auth_on = state.auth_required()
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        if not auth_on:
            return Principal(LOCAL_USER, "local")
        user = state.users.key_user(header[7:].strip())
        if user is None:
            raise _unauthorized("invalid API key", "invalid_api_key")
        return Principal(user, "api_key")
    if header:
        raise _unauthorized("unsupported Authorization scheme", "invalid_auth")
    token = request.cookies.get(SESSION_COOKIE)
    if auth_on:
        if not token:
            raise _unauthorized("not logged in", "not_authenticated")
        session = state.users.session(token)
        if session is None:
            raise _unauthorized("the session has expired", "session_expired")
        if unsafe:
            _check_csrf(request, session.csrf_token, state)
        return Principal(session.user, "session", session.csrf_token)
    if unsafe:
        _check_csrf(request, state.local_csrf, state)
    return Principal(LOCAL_USER, "local", state.local_csrf)


async def require_admin(who: Annotated[Principal, Depends(current)]) -> Principal:
    if not who.user.is_admin:
        raise HttpError(403, "this needs an administrator", code="forbidden")
    return who


Caller = Annotated[Principal, Depends(current)]
"""A handler parameter of this type receives the authenticated caller."""
