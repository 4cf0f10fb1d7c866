"""The operations options of a server: log format and the metrics token. Loaded at the edge.

``qwenapp serve`` reads them with :meth:`OpsConfig.from_env` (``QWENAPP_LOG_FORMAT``
= ``text`` | ``json``, ``QWENAPP_METRICS_TOKEN``) and passes them to
:func:`~.app.create_app`; the app never reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import InputError
from .logs import LogFormat

__all__ = ["OpsConfig"]


@dataclass(frozen=True, slots=True)
class OpsConfig:
    log_format: LogFormat = "text"  # json: one object a line, with request and job ids
    metrics_token: str | None = None  # Bearer token for /metrics (see .metrics)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OpsConfig:
        fmt = env.get("QWENAPP_LOG_FORMAT", "text").strip().lower() or "text"
        if fmt not in ("text", "json"):
            raise InputError(f"QWENAPP_LOG_FORMAT must be text or json, not {fmt!r}",
                             "unset it, or set QWENAPP_LOG_FORMAT=json")
        token = env.get("QWENAPP_METRICS_TOKEN", "").strip() or None
        return cls(log_format="json" if fmt == "json" else "text", metrics_token=token)
