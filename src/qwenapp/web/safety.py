"""Which URLs may be fetched: http(s) to public addresses only, unless allowed.

A page, a search result or a redirect can point at ``http://127.0.0.1``,
a router on ``192.168.*``, or the cloud metadata service on
``169.254.169.254``. Every hop is resolved and every address checked; the
connection then goes to the checked address (see :mod:`.fetch`), so a DNS
answer that changes between check and connect (rebinding) cannot slip past.
IPv6 forms that carry an IPv4 address (mapped ``::ffff:a.b.c.d``,
compatible, 6to4, NAT64, Teredo) are judged by the IPv4 address inside.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import InputError

__all__ = [
    "BlockedUrlError",
    "Resolver",
    "UrlPolicy",
    "WebError",
    "check_url",
    "is_public_address",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BLOCKED_NAMES = {"localhost", "metadata", "metadata.google.internal", "instance-data"}


class WebError(InputError):
    """A URL could not be used: refused, unreachable, too slow, too big or not a page."""


class BlockedUrlError(WebError):
    """The URL (or a redirect) points at a non-public address."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """Limits for fetching. ``allow_private`` lifts the address check for every host;
    ``allowed_hosts`` lifts it for the named hosts only (a self-hosted intranet page)."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    max_bytes: int = 5 * 1024 * 1024
    timeout: float = 30.0  # seconds for the whole fetch, redirects included
    connect_timeout: float = 10.0
    max_redirects: int = 5


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    packed = ip.packed
    if packed[:12] == b"\0" * 12 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public_address(address: str | IPAddress) -> bool:
    """Whether ``address`` is a globally routable unicast address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = _embedded_v4(ip)
        if inner is not None:
            return is_public_address(inner)
    return bool(ip.is_global) and not ip.is_multicast and not ip.is_reserved


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise WebError(f"cannot resolve {host}: {e.strerror}") from None
    except UnicodeError:  # the IDNA codec refuses a label over 63 characters, or an empty one
        raise WebError(f"not a valid host name: {host[:80]}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _host_allowed(host: str, port: int | None, policy: UrlPolicy) -> bool:
    if policy.allow_private:
        return True
    names = {host, f"{host}:{port}"} if port else {host}
    return bool(names & policy.allowed_hosts)


async def check_url(url: str, policy: UrlPolicy, resolver: Resolver = system_resolver
                    ) -> tuple[str, int, list[str]]:
    """``(host, port, addresses)`` for a URL that may be fetched, or raise.

    The addresses are the ones to connect to: all of them passed the check.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise WebError(f"not a valid URL: {url} ({e})") from None
    if parts.scheme not in ("http", "https"):
        raise WebError(f"only http and https URLs can be fetched, not {parts.scheme or '?'}: "
                       f"{url}")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise WebError(f"the URL has no host: {url}")
    if parts.username or parts.password:
        raise WebError(f"URLs with credentials are not fetched: {parts.hostname}")
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = _host_allowed(host, port, policy)
    hint = "pass --allow-private-urls (or --allow-host HOST) to fetch it anyway"
    if not allowed and (host in _BLOCKED_NAMES or host.endswith((".localhost", ".internal"))):
        raise BlockedUrlError(f"refusing to fetch {url}: {host} is a local name", hint)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = await resolver(host, port)
        if not addresses:
            raise WebError(f"cannot resolve {host}")
    if not allowed:
        for a in addresses:
            try:
                public = is_public_address(a)
            except ValueError:
                public = False
            if not public:
                raise BlockedUrlError(f"refusing to fetch {url}: {host} is a private, loopback "
                                      f"or link-local address ({a})", hint)
    # IPv4 first: many hosts publish AAAA records that this machine cannot reach
    addresses.sort(key=lambda a: ":" in a)
    return host, port, addresses
