"""What every model source shares: the cache layout, progress, and the verified install.

The cache is ``models_dir/<filename>`` (only ever a complete, verified file),
its ``.verified`` sidecar (hash, size and mtime recorded once, so later runs
check only the size), and a per-model staging folder
``models_dir/.partial/<name>/`` where a source keeps what it has downloaded
until the file is complete. A source writes the file as ``<filename>.part``
and hands it to :func:`_install`, which checks size, sha256 and the GGUF
header, moves it into place with ``os.replace`` and records the sidecar
(through the one atomic writer, :func:`qwenapp.output.write_atomic`).

Also here: :class:`Source` (the protocol a source implements),
:class:`SourceFailed` (how it says no) and :class:`FetchProgress` (what it
reports progress to: a callback object the CLI implements, so nothing in
``models/`` draws on a terminal). :mod:`.fetch` re-exports the public names.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Protocol

from ..output import write_atomic
from .catalogue import CatalogueEntry
from .gguf_check import check_gguf

__all__ = ["FetchProgress", "SilentProgress", "Source", "SourceFailed"]

_CHUNK = 1 << 20


class SourceFailed(Exception):
    """A source cannot provide the model; ``str`` is the one-line reason."""


class FetchProgress(Protocol):
    """What a fetch reports its progress to (the CLI draws it; the core never prints).

    ``add`` starts a task (a file being downloaded, with its size when known) and
    returns its id; ``update`` moves it; ``done`` ends it; ``note`` is a one-line
    message ("waiting for another download…"); ``close`` ends everything.
    """

    def add(self, description: str, total: int | None, completed: int = 0) -> int: ...

    def update(self, task: int, *, description: str | None = None, advance: int = 0,
               completed: int | None = None) -> None: ...

    def done(self, task: int) -> None: ...

    def note(self, text: str) -> None: ...

    def close(self) -> None: ...


class SilentProgress:
    """A :class:`FetchProgress` that shows nothing (the default)."""

    def add(self, description: str, total: int | None, completed: int = 0) -> int:
        return 0

    def update(self, task: int, *, description: str | None = None, advance: int = 0,
               completed: int | None = None) -> None:
        return None

    def done(self, task: int) -> None:
        return None

    def note(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None


class Source(Protocol):
    """One place a model can come from."""

    @property
    def needs_network(self) -> bool:
        """Whether it needs the network (offline mode skips it)."""
        ...

    def describe(self, entry: CatalogueEntry) -> str:
        """A short label for messages, e.g. ``Hugging Face hub (Qwen/...)``."""
        ...

    def fetch(self, entry: CatalogueEntry, models_dir: Path, progress: FetchProgress) -> Path:
        """Return the final, verified path, or raise :class:`SourceFailed`."""
        ...


# --- the cache: final path, sidecar, staging --------------------------------------------------

def _final(entry: CatalogueEntry, models_dir: Path) -> Path:
    return models_dir / entry.filename


def _sidecar(entry: CatalogueEntry, models_dir: Path) -> Path:
    return models_dir / f"{entry.filename}.verified"


def _staging(entry: CatalogueEntry, models_dir: Path) -> Path:
    return models_dir / ".partial" / entry.name


def _drop_staging(entry: CatalogueEntry, models_dir: Path) -> bool:
    """Delete the partial download (and ``.partial`` itself once empty)."""
    staging = _staging(entry, models_dir)
    existed = staging.is_dir()
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()
    return existed


def _read_sidecar(entry: CatalogueEntry, models_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_sidecar(entry, models_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _sidecar_matches(entry: CatalogueEntry, models_dir: Path, st: os.stat_result) -> bool:
    data = _read_sidecar(entry, models_dir)
    if data is None or data.get("size") != st.st_size or data.get("mtime_ns") != st.st_mtime_ns:
        return False
    return not entry.pinned or data.get("sha256") == entry.sha256


def _write_sidecar(entry: CatalogueEntry, models_dir: Path, sha256: str, source: str) -> None:
    st = _final(entry, models_dir).stat()
    write_atomic(_sidecar(entry, models_dir),
                 json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                             "source": source}))


def _sha256_file(path: Path, progress: FetchProgress, label: str) -> str:
    h = hashlib.sha256()
    task = progress.add(label, path.stat().st_size)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            progress.update(task, advance=len(chunk))
    progress.done(task)
    return h.hexdigest()


def _install(tmp: Path, entry: CatalogueEntry, models_dir: Path, progress: FetchProgress,
             source: str, sha256: str | None = None) -> Path:
    """Verify *tmp* and move it to the final path; delete it when it is bad."""
    try:
        size = tmp.stat().st_size
        if entry.pinned and size != entry.size:
            raise SourceFailed(f"got {size} bytes, expected {entry.size}")
        sha256 = sha256 or _sha256_file(tmp, progress, f"{entry.name}: verifying")
        if entry.pinned and sha256 != entry.sha256:
            raise SourceFailed(f"sha256 mismatch: got {sha256[:16]}…, "
                               f"expected {entry.sha256[:16]}…")
        check_gguf(tmp, entry.size or None)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    final = _final(entry, models_dir)
    os.replace(tmp, final)
    _write_sidecar(entry, models_dir, sha256, source)
    return final
