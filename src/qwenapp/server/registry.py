"""The models a server offers: the backends it was started with, by name.

The first backend is the default (what a request without ``model`` gets).
An embedder, when configured, serves ``/v1/embeddings``; a backend that
itself has ``embed(texts)`` serves it too. A name it does not know is a core
:class:`~qwenapp.errors.UnknownModelError` (jobs ask it too, wherever they run);
the API answers that with a 404 (:func:`.errors.from_core`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from ..errors import UnknownModelError
from ..library import Embedder
from ..models.base import Backend

__all__ = ["ModelRegistry"]


class ModelRegistry:
    def __init__(self, backends: Sequence[Backend], embedder: Embedder | None = None) -> None:
        if not backends:
            raise ValueError("a server needs at least one model")
        names = [b.name for b in backends]
        if len(set(names)) != len(names):
            raise ValueError(f"two models share a name: {names}")
        self.backends = list(backends)
        self.embedder = embedder

    @property
    def default(self) -> Backend:
        return self.backends[0]

    def names(self) -> list[str]:
        return [b.name for b in self.backends]

    def get(self, name: str | None) -> Backend:
        """The backend called ``name`` (``None`` or empty: the default)."""
        if not name:
            return self.default
        for b in self.backends:
            if b.name == name:
                return b
        raise UnknownModelError(f"the model {name!r} does not exist on this server",
                                "available: " + ", ".join(self.names()))

    def embedder_for(self, name: str | None) -> Embedder | None:
        """What embeds for model ``name``: the backend itself when it can, else the
        configured embedder (asked for by its own name, or by default)."""
        if self.embedder is not None and (not name or name == self.embedder.name):
            return self.embedder
        backend = self.get(name)
        if isinstance(backend, Embedder):
            return backend
        return None

    async def aclose(self) -> None:
        for b in self.backends:
            with contextlib.suppress(Exception):
                await b.aclose()
        closer = getattr(self.embedder, "aclose", None)
        if closer is not None:
            with contextlib.suppress(Exception):
                await closer()
