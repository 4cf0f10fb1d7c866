"""Saved stages of a deck run, so an interrupted job resumes where it stopped.

A deck is made of stages that are each worth keeping: the data slides, the
outline, each slide's first draft, and each finished slide. The runner
saves every one as JSON the moment it is complete and, on a second run
with the same store, loads what exists and does only the rest (the way
reports keep ``plan``, ``gather`` and ``section:N``). The server's deck job
keeps them in the job's folder (:class:`DirStages`); a plain run keeps them
in memory (:class:`MemoryStages`), which costs nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from .output import write_atomic

__all__ = ["DirStages", "MemoryStages", "Stages"]


class Stages(Protocol):
    def load(self, key: str) -> str | None:
        """The saved JSON of stage ``key``, or None."""
        ...

    def save(self, key: str, value: str) -> None:
        ...


class MemoryStages:
    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def load(self, key: str) -> str | None:
        return self.saved.get(key)

    def save(self, key: str, value: str) -> None:
        self.saved[key] = value


_KEY = re.compile(r"^[a-z]+(?::\d+)?$")


class DirStages:
    """One ``KEY.json`` file per stage in ``folder``, each written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"bad stage key {key!r}")
        return self.folder / (key.replace(":", "-") + ".json")

    def load(self, key: str) -> str | None:
        try:
            return self._path(key).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def save(self, key: str, value: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self._path(key), value.encode("utf-8"))
