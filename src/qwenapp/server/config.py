"""What the server is configured with: bind address, models, limits. Typed, loaded at the edge.

``qwenapp serve`` builds a :class:`ServerConfig` from its options and the
:class:`~qwenapp.settings.Settings`; the app factory receives it and never
reads the environment itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MB", "ServerConfig", "ServerLimits", "is_loopback"]

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Per-user and server-wide limits; going over one is a 429 that says which."""

    streams_per_user: int = 4  # chat generations one user may run at once
    requests_per_minute: int = 120  # generation requests per user (token bucket)
    burst: int = 30  # requests a user may make at once before the rate applies
    jobs_per_user: int = 2  # queued or running reports and decks per user
    active_streams: int = 64  # generations server-wide; more wait in the queue below
    queued_streams: int = 64  # waiting generations server-wide before 429
    running_jobs: int = 1  # jobs run at once server-wide (they share the engine)
    queued_jobs: int = 32  # queued jobs server-wide before 429
    upload_bytes: int = 50 * MB
    session_days: int = 14
    login_attempts_per_minute: int = 10  # per client address


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    limits: ServerLimits = field(default_factory=ServerLimits)
    secure_cookies: bool | None = None  # None: Secure when the request came over https
    trust_proxy: bool = False  # honour X-Forwarded-Proto (behind a TLS-terminating proxy)
    data_dir: Path | None = None  # uploads and job files; default: $QWENAPP_HOME/server
    report_pdf: bool = True  # render a PDF of each report when LibreOffice is installed
    deck_previews: bool = True  # PDF and slide thumbnails of decks, when tools exist
    web: bool = False  # report jobs may read URLs and search the web
    search: str = "duckduckgo"  # provider spec, see qwenapp.web.make_provider
    search_env: Mapping[str, str] = field(default_factory=dict)  # BRAVE_API_KEY, ...
    web_allowed_hosts: frozenset[str] = frozenset()  # private hosts reports may still fetch

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
