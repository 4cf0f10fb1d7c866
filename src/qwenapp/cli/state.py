"""What every command gets through ``click``'s ``ctx.obj``."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console

from ..models.base import Backend
from ..settings import Settings

__all__ = ["AppState"]


@dataclass
class AppState:
    settings: Settings
    console: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(
        default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True))

    def backend(self, spec: str | None = None) -> Backend:
        """The backend for a ``--model`` value (``None``: the configured default)."""
        from ..models.resolve import resolve_backend
        from .progress import ConsoleProgress

        return resolve_backend(spec or self.settings.model, self.settings,
                               progress=ConsoleProgress(self.err))
