"""Who am I, logging in and out, API keys, and the models on offer: ``/api``.

Login sets the session cookie: HttpOnly (scripts cannot read it),
SameSite=Lax (other sites' forms and fetches do not carry it), Secure when
the page came over https. The response, like ``GET /api/me``, carries the
CSRF token the page must send back on every write.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..slides import THEMES
from .auth import SESSION_COOKIE, Caller, is_https
from .errors import ErrorResponse, HttpError, not_found
from .schemas import (
    ApiKeyOut,
    KeyCreate,
    LoginRequest,
    MeOut,
    ModelInfo,
    NewKeyOut,
    PasswordChange,
    UserOut,
)
from .state import ServerState, State
from .users import User

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["account"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 429)}


def _models(state: ServerState) -> list[ModelInfo]:
    return [ModelInfo(name=b.name, default=i == 0, thinking=b.supports_thinking,
                      context_length=b.context_length)
            for i, b in enumerate(state.models.backends)]


def _me(state: ServerState, user: User, auth: str, csrf: str | None) -> MeOut:
    return MeOut(user=UserOut(id=user.id, username=user.username, is_admin=user.is_admin),
                 auth=auth, csrf_token=csrf, accounts=state.auth_required(),  # type: ignore[arg-type]
                 models=_models(state), deck_themes=list(THEMES), web=state.config.web,
                 upload_limit=state.config.limits.upload_bytes)


@router.get("/health", tags=["meta"])
async def health() -> dict[str, str]:
    """Liveness (no login needed)."""
    return {"status": "ok"}


@router.get("/me", response_model=MeOut, responses=_ERRORS)
async def me(state: State, who: Caller) -> MeOut:
    """The caller, the CSRF token for writes, and the models on offer."""
    auth = "none" if who.via == "local" else who.via
    return _me(state, who.user, auth, who.csrf_token)


@router.get("/models", response_model=list[ModelInfo], responses=_ERRORS)
async def models(state: State, who: Caller) -> list[ModelInfo]:
    """The models this server offers; the first is the default."""
    return _models(state)


@router.post("/auth/login", response_model=MeOut, responses=_ERRORS)
async def login(state: State, body: LoginRequest, request: Request) -> Response:
    """Log in with a user name and password; sets the session cookie."""
    if not state.auth_required():
        raise HttpError(400, "this server has no accounts: no login is needed",
                        code="no_accounts")
    origin = request.headers.get("origin")
    scheme = "https" if is_https(request, state.config.trust_proxy) else "http"
    if origin and origin != "null" and origin.lower() != \
            f"{scheme}://{request.headers.get('host', '')}".lower():
        raise HttpError(403, "cross-site login refused", code="csrf_failed")
    client = request.client.host if request.client else "?"
    state.login_rates.check(f"login:{client}", "login attempts")
    user = await _verify(state, body.username, body.password)
    if user is None:
        raise HttpError(401, "wrong user name or password", code="invalid_credentials")
    token, session = state.users.create_session(user, state.config.limits.session_days)
    out = _me(state, user, "session", session.csrf_token)
    response = JSONResponse(out.model_dump())
    secure = state.config.secure_cookies
    if secure is None:
        secure = scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=state.config.limits.session_days * 86400,
                        httponly=True, samesite="lax", secure=secure, path="/")
    return response


async def _verify(state: ServerState, username: str, password: str) -> User | None:
    # argon2 takes tens of milliseconds of CPU: read the row here, hash off the loop.
    found = state.users.credentials(username)
    ok = await asyncio.to_thread(state.users.check, found[1] if found else None, password)
    return found[0] if ok and found is not None else None


@router.post("/auth/logout", status_code=204, responses=_ERRORS)
async def logout(state: State, who: Caller, request: Request) -> Response:
    """End this session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        state.users.end_session(token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.post("/me/password", status_code=204, responses=_ERRORS)
async def change_password(state: State, who: Caller, body: PasswordChange) -> Response:
    """Change your password (ends your other sessions; log in again)."""
    if who.user.is_local:
        raise HttpError(400, "this server has no accounts", code="no_accounts")
    if await _verify(state, who.user.username, body.current_password) is None:
        raise HttpError(403, "the current password is wrong", code="invalid_credentials")
    state.users.set_password(who.user.username, body.new_password)
    return Response(status_code=204)


@router.get("/keys", response_model=list[ApiKeyOut], responses=_ERRORS)
async def list_keys(state: State, who: Caller) -> list[ApiKeyOut]:
    """Your API keys (never the keys themselves)."""
    return [ApiKeyOut(id=k.id, name=k.name, prefix=k.prefix, created_at=k.created_at,
                      last_used_at=k.last_used_at) for k in state.users.keys(who.user)]


@router.post("/keys", response_model=NewKeyOut, status_code=201, responses=_ERRORS)
async def create_key(state: State, who: Caller, body: KeyCreate) -> NewKeyOut:
    """A new API key for programs (``Authorization: Bearer KEY``); shown once."""
    if who.user.is_local:
        raise HttpError(400, "this server has no accounts, so it needs no API keys",
                        code="no_accounts")
    new = state.users.add_key(who.user, body.name)
    k = new.key
    return NewKeyOut(id=k.id, name=k.name, prefix=k.prefix, created_at=k.created_at,
                     last_used_at=k.last_used_at, secret=new.secret)


@router.delete("/keys/{key_id}", status_code=204, responses=_ERRORS)
async def revoke_key(state: State, who: Caller, key_id: str) -> Response:
    if not state.users.revoke_key(who.user, key_id):
        raise not_found("API key")
    return Response(status_code=204)
