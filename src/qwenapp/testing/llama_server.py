"""A real llama.cpp HTTP server (via xllamacpp), for tests and benchmarks.

Why: the OpenAI-compatible backend must be tested against a real server, not
only against a mock of one. ``xllamacpp.Server`` loads a GGUF in-process and
serves llama.cpp's own HTTP server (``/v1/chat/completions`` with SSE,
``/v1/models``, ``/health``), so a tiny random GGUF gives a genuine
llama-server in milliseconds, with no binary to download.

Two entry points:

* ``python -m qwenapp.testing.llama_server --model PATH --port N [--api-key K]``
  serves on 127.0.0.1 until SIGTERM or SIGINT;
* :func:`running_llama_server` spawns that as a subprocess on a free port,
  waits for ``/health`` and yields the base URL (``http://127.0.0.1:PORT/v1``).

The server runs in its own process because llama.cpp's server keeps threads
and global state that cannot be torn down cleanly inside a test process.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

import httpx

from ..errors import BackendError

__all__ = ["free_port", "main", "running_llama_server", "serve"]

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def serve(
    model: Path,
    *,
    port: int,
    api_key: str | None = None,
    ctx: int = 2048,
    parallel: int = 2,
    threads: int = 2,
    stop: threading.Event | None = None,
) -> None:
    """Load *model* and serve it on ``127.0.0.1:port`` until *stop* is set.

    Prints ``listening on URL`` on stdout once the server accepts requests.
    """
    import xllamacpp as x

    p = x.CommonParams()
    p.model.path = str(model)
    p.n_ctx = ctx
    p.n_parallel = parallel
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.warmup = False
    p.verbosity = -1
    p.port = port
    p.hostnames = [HOST]
    if api_key:
        p.api_keys = [api_key]
    server = x.Server(p)
    print(f"listening on {server.listening_address}", flush=True)
    (stop or threading.Event()).wait()
    del server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qwenapp.testing.llama_server",
        description="Serve a GGUF with llama.cpp's OpenAI-compatible server on 127.0.0.1.",
    )
    parser.add_argument("--model", required=True, type=Path, help="path to a .gguf file")
    parser.add_argument("--port", required=True, type=int, help="TCP port (0: any free one)")
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--ctx", type=int, default=2048, help="context tokens, all slots")
    parser.add_argument("--parallel", type=int, default=2, help="concurrent request slots")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    args = parser.parse_args(argv)
    if not args.model.is_file():
        print(f"error: no model file at {args.model}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        serve(args.model, port=args.port, api_key=args.api_key, ctx=args.ctx,
              parallel=args.parallel, threads=args.threads, stop=stop)
    except RuntimeError as e:  # xllamacpp's only failure: model or port unusable
        print(f"error: cannot serve {args.model} on port {args.port}: {e}", file=sys.stderr)
        return 1
    return 0


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, deadline: float) -> None:
    last = "no answer yet"
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            rc = proc.poll()
            if rc is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-5:]
                raise BackendError(f"the llama.cpp test server exited with code {rc} "
                                   "before it was ready", " | ".join(tail))
            try:
                r = client.get(url)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.TransportError as e:
                last = type(e).__name__
            time.sleep(0.05)
    raise BackendError(f"the llama.cpp test server was not healthy in time ({last})",
                       f"see its log: {log}")


@contextlib.contextmanager
def running_llama_server(
    model_path: str | Path,
    *,
    api_key: str | None = None,
    ctx: int = 2048,
    parallel: int = 2,
    threads: int = 2,
    start_timeout: float = 60.0,
    stop_timeout: float = 10.0,
) -> Iterator[str]:
    """Run the server in a subprocess; yield its base URL ending in ``/v1``."""
    port = free_port()
    src = str(Path(__file__).resolve().parents[2])  # the directory holding ``qwenapp``
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "qwenapp.testing.llama_server", "--model", str(model_path),
           "--port", str(port), "--ctx", str(ctx), "--parallel", str(parallel),
           "--threads", str(threads)]
    if api_key:
        cmd += ["--api-key", api_key]
    with tempfile.TemporaryDirectory(prefix="qwenapp-llama-") as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as log_file:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, env=env)
            try:
                base = f"http://{HOST}:{port}"
                _wait_healthy(proc, base + "/health", log, time.monotonic() + start_timeout)
                yield base + "/v1"
            finally:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(stop_timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


if __name__ == "__main__":
    sys.exit(main())
