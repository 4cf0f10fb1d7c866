"""Reading a document in a child process with CPU-time and memory limits.

Parsers are where hostile input bites: a one-line megabyte of text, a DOCX
whose paragraphs inflate to 10 MB, a PDF whose FlateDecode stream expands to
a gigabyte or whose page holds a 70 MB content stream. Run in the server's
process, any of these froze every other request (the event loop) or kept
hundreds of megabytes after it was done. So extraction and chunking run in a
child process, forked by :mod:`.forker` (a small single-threaded process with
the parsers preloaded, so a fork costs milliseconds), with ``RLIMIT_CPU`` and
``RLIMIT_AS`` set before it reads a byte, and a wall-clock deadline after
which it is killed. A child over a limit dies; its memory goes with
it; the caller gets a :class:`~qwenapp.documents.DocumentError` that says
which limit, and every other file and request goes on.

A thread could not give this: it cannot be killed, and shares the GIL and the
heap. Where ``fork`` is not available (not Linux/macOS), the work runs in a
thread and only the wall-clock deadline and the text limit apply.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..documents import DEFAULT_LIMITS, Document, DocumentError, Limits, extract, kind_of
from ..documents.limits import human_size
from ..documents.ocr import Progress
from .chunking import Chunk, chunk_sections

__all__ = ["DocumentWorker", "Prepared", "prepare_here"]

@dataclass(frozen=True, slots=True)
class Prepared:
    """A document read and cut into passages, ready to store."""

    document: Document
    chunks: list[Chunk]


def prepare_here(path: Path, limits: Limits = DEFAULT_LIMITS,
                 chunk_tokens: int = 200, progress: Progress | None = None) -> Prepared:
    """Extraction and chunking in this process (what the child runs)."""
    doc = extract(path, limits, progress)
    return Prepared(doc, chunk_sections(doc.sections, chunk_tokens))


def _refusal(path: Path, what: str) -> DocumentError:
    return DocumentError(f"{path.name}: {what}; refused",
                         "split it into smaller files, or raise the document limits")


class DocumentWorker:
    """Extract + chunk files in bounded child processes, ``parallel`` at a time."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, chunk_tokens: int = 200, *,
                 parallel: int = 2) -> None:
        self.limits = limits
        self.chunk_tokens = chunk_tokens
        self.parallel = max(1, parallel)
        self._slots = threading.BoundedSemaphore(self.parallel)
        self._async_slots: asyncio.Semaphore | None = None

    def prepare(self, path: Path, limits: Limits | None = None,
                progress: Progress | None = None) -> Prepared:
        """Read ``path`` in a child process; raises :class:`DocumentError` on any failure.

        ``progress(done, total)`` is called (on a reader thread) as OCR recognises pages.
        """
        limits = limits or self.limits
        with self._slots:
            if not hasattr(os, "fork"):  # pragma: no cover - Windows
                return prepare_here(path, limits, self.chunk_tokens, progress)
            return self._run(Path(path), limits, progress)

    async def aprepare(self, path: Path, limits: Limits | None = None,
                       progress: Progress | None = None) -> Prepared:
        """:meth:`prepare` off the event loop; waiting callers queue without holding a thread."""
        if self._async_slots is None:
            self._async_slots = asyncio.Semaphore(self.parallel)
        async with self._async_slots:
            return await asyncio.to_thread(self.prepare, path, limits, progress)


    def _run(self, path: Path, limits: Limits, progress: Progress | None) -> Prepared:
        if limits.ocr and kind_of(path) in ("pdf", "image"):
            # OCR has a time budget of its own, checked in the child page by page; the wall
            # clock grows by it. CPU does not: the engine runs in processes of its own, and
            # the child's share (decoding pictures) fits the usual limit.
            limits = replace(limits, wall_seconds=limits.wall_seconds + limits.ocr_seconds)
        exit_code, timeout, data = _forker().run(path, limits, self.chunk_tokens, progress)
        if timeout:
            raise _refusal(path, f"reading it took more than {limits.wall_seconds:.0f} s")
        if exit_code in (-signal.SIGXCPU, -signal.SIGKILL):
            raise _refusal(path, f"reading it took more than {limits.cpu_seconds} s of CPU")
        if exit_code != 0 or data is None:
            cap = human_size(limits.memory_bytes)
            raise _refusal(path, f"the reader stopped unexpectedly (exit {exit_code}), most "
                                 f"likely over the memory limit ({cap})")
        status, value = pickle.loads(data)
        if status == "ok":
            assert isinstance(value, Prepared)
            return value
        if status == "memory":
            raise _refusal(path, f"reading it needs more than {human_size(limits.memory_bytes)} "
                                 "of memory")
        message, hint = value
        raise DocumentError(message, hint)


class _Forker:
    """The client of one ``qwenapp.library.forker`` process, shared by the whole process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="qwenapp-read-"))
        self._next = 0
        self._waiting: dict[int, tuple[threading.Event, list[dict[str, Any]],
                                       Progress | None]] = {}
        atexit.register(self.close)

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        import qwenapp

        src = str(Path(qwenapp.__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
        proc = subprocess.Popen([sys.executable, "-m", "qwenapp.library.forker"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, close_fds=True)
        self._proc = proc
        threading.Thread(target=self._read, args=(proc,), daemon=True,
                         name="qwenapp-reader").start()
        return proc

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with contextlib.suppress(ValueError, KeyError):
                msg = json.loads(line)
                if "progress" in msg:
                    with self._lock:
                        listener = self._waiting.get(int(msg["id"]), (None, None, None))[2]
                    if listener is not None:
                        with contextlib.suppress(Exception):  # a listener's bug is not ours
                            listener(*(int(n) for n in msg["progress"][:2]))
                    continue
                with self._lock:
                    waiter = self._waiting.pop(int(msg["id"]), None)
                if waiter is not None:
                    waiter[1].append(msg)
                    waiter[0].set()
        with self._lock:  # the reader process died: nobody waiting will hear back
            if self._proc is proc:
                self._proc = None
            lost = list(self._waiting.items())
            self._waiting.clear()
        for _, (event, _box, _progress) in lost:
            event.set()

    def run(self, path: Path, limits: Limits, chunk_tokens: int,
            progress: Progress | None = None) -> tuple[int | None, bool, bytes | None]:
        """(exit code, killed at the deadline, pickled result) for one document."""
        event = threading.Event()
        box: list[dict[str, Any]] = []
        with self._lock:
            proc = self._start()
            self._next += 1
            rid = self._next
            out = self._dir / f"{rid}.pickle"
            self._waiting[rid] = (event, box, progress)
            req = {"id": rid, "path": str(path.resolve()), "out": str(out),
                   "chunk_tokens": chunk_tokens, "limits": asdict(limits)}
            try:
                assert proc.stdin is not None
                proc.stdin.write((json.dumps(req) + "\n").encode())
                proc.stdin.flush()
            except OSError:
                self._waiting.pop(rid, None)
                return None, False, None
        event.wait(limits.wall_seconds + 30)
        with self._lock:
            self._waiting.pop(rid, None)
        try:
            data = out.read_bytes() if box and box[0]["exit"] == 0 else None
        except OSError:
            data = None
        out.unlink(missing_ok=True)
        if not box:
            return None, False, None
        return int(box[0]["exit"]), bool(box[0]["timeout"]), data

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        shutil.rmtree(self._dir, ignore_errors=True)


_FORKER: _Forker | None = None
_FORKER_LOCK = threading.Lock()


def _forker() -> _Forker:
    global _FORKER
    with _FORKER_LOCK:
        if _FORKER is None:
            _FORKER = _Forker()
        return _FORKER
