"""ASGI middleware: security headers, a Host check on loopback, an upload size cap, and
forwarded headers from a named proxy only.

Plain ASGI (not Starlette's BaseHTTPMiddleware), so streaming responses pass
through untouched and a client's disconnect still reaches the handler.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

__all__ = ["BodyLimit", "HostCheck", "ProxyHeaders", "RequestSanity", "SecurityHeaders",
           "parse_proxies"]

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


async def _send_error(send: Send, status: int, message: str, code: str) -> None:
    body = json.dumps(error_body(status, message, code=code)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds nosniff, no-referrer and a strict CSP to responses that set none."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"content-security-policy", PAGE_CSP.encode()),
                         (b"x-frame-options", b"DENY")]
                for k, v in extra:
                    if k == b"x-frame-options" and b"content-security-policy" in names:
                        continue  # the response set its own framing rules
                    if k not in names:
                        headers.append((k, v))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


class HostCheck:
    """On a loopback server, refuse requests whose Host is not a loopback name.

    A page on another site can point its own domain at 127.0.0.1 (DNS
    rebinding) and then talk to the local server as same-origin; checking
    the Host header closes that door.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {h.lower() for h in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for k, v in scope.get("headers", []):
                if k == b"host":
                    host = v.decode("latin-1").lower()
                    break
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed:
                await _send_error(send, 421, f"this server answers to localhost only, not "
                                  f"{host!r}", "bad_host")
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over their path's limit (413).

    The declared Content-Length is checked first; a body sent without one is
    counted as it arrives, so a chunked upload cannot fill the disk either.
    ``limits`` maps path prefixes to byte limits; the first match applies.
    """

    def __init__(self, app: ASGIApp, limits: list[tuple[str, int]]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = next((n for p, n in self.limits if scope.get("path", "").startswith(p)), None) \
            if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        message = f"the request body is too large (limit {limit // (1024 * 1024)} MB)"
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                await _send_error(send, 413, message, "too_large")
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    # FastAPI re-raises an HTTPException met while reading the body.
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, counted, send)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(spec: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/24``, ``::1``); ValueError if bad."""
    out: list[Network] = []
    for item in spec:
        for part in item.split(","):
            part = part.strip().strip("[]")
            if part:
                out.append(ipaddress.ip_network(part, strict=False))
    return tuple(out)


def _in(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return any(addr in n for n in networks)


class ProxyHeaders:
    """Believe ``X-Forwarded-For`` / ``-Proto`` only from the proxies the operator named.

    Without this, the server's notion of the client (the login rate limit's
    key) and of https (the cookie's Secure flag) would be whatever a caller
    wrote in a header. From a named proxy, the client is the rightmost
    forwarded address that is not itself a named proxy (what the proxy saw),
    and the scheme is the proxy's ``X-Forwarded-Proto``. From anyone else both
    headers are ignored. (uvicorn's own proxy handling is turned off by
    ``qwenapp serve``: this is the one place.)
    """

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.trusted and client \
                and _in(str(client[0]), self.trusted):
            headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            forwarded = [h.strip() for h in headers.get(b"x-forwarded-for", "").split(",")
                         if h.strip()]
            scope = dict(scope)
            for host in reversed(forwarded):
                if not _in(host, self.trusted):
                    scope["client"] = (host, 0)
                    break
            proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else \
                    {"http": "ws", "https": "wss"}[proto]
        await self.app(scope, receive, send)


class RequestSanity:
    """Inputs no handler should see: refused (400) or dropped at the door.

    * a NUL byte in the path or query (``?q=a%00b`` once reached SQLite FTS and
      came back as a 503): 400;
    * a ``Last-Event-ID`` that is not a plain ASCII number of at most 18 digits
      (browsers send back only ids the server sent): dropped, so the stream
      replays from ``?after=`` (``"²".isdigit()`` is true, ``int("²")`` fails).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or b""
            query = scope.get("query_string") or b""
            if b"%00" in query or b"%00" in raw or "\x00" in scope.get("path", ""):
                await _send_error(send, 400, "the request contains a NUL character",
                                  "invalid_request")
                return
            headers = scope.get("headers", [])
            if any(k == b"last-event-id" and not _event_id(v) for k, v in headers):
                scope = {**scope, "headers": [(k, v) for k, v in headers
                                              if k != b"last-event-id" or _event_id(v)]}
        await self.app(scope, receive, send)


def _event_id(value: bytes) -> bool:
    v = value.strip()
    return 0 < len(v) <= 18 and all(48 <= c <= 57 for c in v)
