"""The reader process: forks one limited child per document (``python -m qwenapp.library.forker``).

Why a process of its own rather than :mod:`multiprocessing`: a server has
engine and event-loop threads, and forking a threaded process can leave a
child stuck on a lock another thread held. This process is single-threaded
and does nothing but wait, so forking it is safe, and it preloads the parsers
so a fork costs milliseconds instead of a fresh interpreter's second.
(``multiprocessing``'s forkserver would also re-run the caller's main script
in every child.)

Protocol, one JSON object per line. In (stdin): ``{"id", "path", "out",
"chunk_tokens", "limits": {Limits fields}}``. Out (stdout): ``{"id", "exit",
"timeout"}`` once the child has ended; ``exit`` 0 means the pickled result
(``("ok", Prepared)`` or ``("error", (message, hint))`` or ``("memory",
None)``) is in the file ``out``. While it reads, a child may also write
``{"id", "progress": [done, total]}`` (pages recognised by OCR). A child gets ``RLIMIT_CPU`` and
``RLIMIT_AS`` before it reads a byte, and is killed at its wall-clock
deadline. End of stdin (the parent went away, even by ``kill -9``) ends
this process and its children.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pickle
import select
import signal
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

__all__ = ["main"]

PRELOAD = ("qwenapp.library.worker", "qwenapp.documents.pdf", "qwenapp.documents.office",
           "qwenapp.documents.html", "qwenapp.documents.images", "pypdf", "docx", "pptx",
           "openpyxl", "PIL.PngImagePlugin", "PIL.JpegImagePlugin", "PIL.TiffImagePlugin",
           "PIL.WebPImagePlugin")


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(req: dict[str, Any]) -> None:
    """In the forked child: limit, read, pickle the result to ``req["out"]``. Never returns."""
    import resource

    from ..documents import DocumentError, Limits
    from .worker import prepare_here

    code = 0
    try:
        limits = Limits(**req["limits"])
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime) + max(1, limits.cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU, then SIGKILL
        if limits.memory_bytes:
            cap = _vm_bytes() + limits.memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        path = Path(req["path"])

        def progress(done: int, total: int) -> None:  # one line, one write: atomic in a pipe
            os.write(1, (json.dumps({"id": req["id"], "progress": [done, total]}) + "\n")
                     .encode())

        try:
            result: tuple[str, Any] = ("ok", prepare_here(path, limits, req["chunk_tokens"],
                                                          progress))
        except DocumentError as e:
            result = ("error", (e.message, e.hint))
        except MemoryError:
            result = ("memory", None)
        except RecursionError:
            result = ("error", (f"{path.name}: the file is nested too deeply to read", ""))
        except Exception as e:  # any parser failure is a reason to refuse
            result = ("error", (f"{path.name}: cannot be read ({type(e).__name__}: "
                                f"{str(e)[:200]})", ""))
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory", None))
        tmp = req["out"] + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, req["out"])
    except BaseException:  # the parent reads the exit code
        code = 3
    os._exit(code)


def _field_names() -> set[str]:
    from ..documents import Limits

    return {f.name for f in fields(Limits)}


def main() -> None:
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    known = _field_names()
    children: dict[int, tuple[int, float]] = {}  # pid -> (request id, deadline)
    timed_out: set[int] = set()
    buf = b""
    out = sys.stdout

    def report(rid: int, exit_code: int, timeout: bool) -> None:
        out.write(json.dumps({"id": rid, "exit": exit_code, "timeout": timeout}) + "\n")
        out.flush()

    open_in = True
    while open_in or children:
        ready, _, _ = select.select([0] if open_in else [], [], [], 0.05 if children else 1.0)
        if ready:
            data = os.read(0, 65536)
            if not data:  # the parent is gone: stop everything
                open_in = False
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                req = json.loads(line)
                req["limits"] = {k: v for k, v in req["limits"].items() if k in known}
                pid = os.fork()
                if pid == 0:
                    _child(req)
                wall = float(req["limits"].get("wall_seconds", 180.0))
                children[pid] = (int(req["id"]), time.monotonic() + wall)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            rid, _ = children.pop(pid, (-1, 0.0))
            if open_in:
                report(rid, os.waitstatus_to_exitcode(status), pid in timed_out)
            timed_out.discard(pid)
        now = time.monotonic()
        for pid, (_, deadline) in children.items():
            if now > deadline and pid not in timed_out:
                timed_out.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
