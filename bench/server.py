"""Server benchmark: what the HTTP layer adds, and continuous batching through it, in one run.

1. With the scripted model (so the engine is not what is measured): N concurrent streaming
   chats for N = 1, 16, 64, 256, through a real ``qwenapp serve`` subprocess, against the
   same chats through the Python API directly (``Assistant.chat`` in this process). For
   each N: time to the first answer chunk (p50, p99) on both paths, the latency the server
   adds (server minus direct), and the chunk throughput (answer chunks per second, all
   streams together). Two server paths are measured: the OpenAI-compatible stream
   (stateless, like ``Assistant(backend, None)``) and the native chat turn (saved to the
   database, like ``Assistant(backend, store)``).
2. With the real default model (``$QWENAPP_BENCH_MODEL``, e.g. the 1.5B GGUF): aggregate
   completion tokens/s of 4 concurrent chats over 1 chat, through the server.

Usage: ``python bench/server.py [--n 1,16,64,256] [--chunks 32] [--delay 0.02]
[--model PATH] [--tokens 64] [--skip-real]``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from qwenapp.chat import Assistant
from qwenapp.models.events import GenerateOptions, TextDelta
from qwenapp.models.scripted import load_script
from qwenapp.server.testing import ServeProcess, serve_process
from qwenapp.store import ConversationStore, open_db

PROMPT = "Explain continuous batching in two sentences."


@dataclass
class Run:
    ttfb: list[float]  # seconds to the first answer chunk, per stream
    chunks: int
    wall: float

    def pct(self, q: float) -> float:
        data = sorted(self.ttfb)
        return data[min(len(data) - 1, round(q * (len(data) - 1)))]

    @property
    def throughput(self) -> float:
        return self.chunks / self.wall if self.wall else 0.0


def _cmd() -> list[str]:
    exe = Path(sys.executable).with_name("qwenapp")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qwenapp"]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


async def _gather(n: int, one: Callable[[], Awaitable[tuple[float, int]]]) -> Run:
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(n)))
    wall = time.perf_counter() - t0
    return Run([r[0] for r in results], sum(r[1] for r in results), wall)


# -- direct: the Python API in this process ---------------------------------------------

async def direct(script: Path, n: int, store: bool, db: Path) -> Run:
    model = load_script(str(script))
    conn = open_db(db) if store else None
    assistant = Assistant(model, ConversationStore(conn) if conn else None)

    async def one() -> tuple[float, int]:
        t0 = time.perf_counter()
        first = 0.0
        chunks = 0
        async for ev in assistant.chat(PROMPT, options=GenerateOptions()):
            if isinstance(ev, TextDelta):
                chunks += 1
                if not first:
                    first = time.perf_counter() - t0
        return first, chunks

    try:
        return await _gather(n, one)
    finally:
        if conn is not None:
            conn.close()


# -- through the server -----------------------------------------------------------------
#
# The client is a few lines of asyncio over raw sockets, not an HTTP library: it shares the
# machine's CPUs with the server, and an HTTP library parsing thousands of SSE lines a
# second would be what the benchmark measured. Connections are opened before the clock
# starts (a page or an SDK reuses its connections).

class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> _Conn:
        hostport = url.removeprefix("http://").rstrip("/")
        host, port = hostport.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
        return cls(reader, writer, hostport)

    async def request(self, method: str, path: str, body: object | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send a request and read the whole (non-streamed) answer."""
        status = await self.send(method, path, body, headers)
        data = b"".join([chunk async for chunk in self.chunks()])
        return status, data

    async def send(self, method: str, path: str, body: object | None = None,
                   headers: dict[str, str] | None = None) -> int:
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}",
                 f"Content-Length: {len(payload)}", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        self._chunked = b"transfer-encoding: chunked" in head.lower()
        self._length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                self._length = int(line.split(b":")[1])
        return int(head.split(b" ", 2)[1])

    async def chunks(self) -> AsyncIterator[bytes]:
        if not self._chunked:
            yield await self.reader.readexactly(self._length)
            return
        while True:
            size = int((await self.reader.readline()).strip(), 16)
            data = await self.reader.readexactly(size + 2)
            if size == 0:
                return
            yield data[:-2]

    def close(self) -> None:
        self.writer.close()


async def _stream_all(url: str, n: int, path: str | Callable[[int], str], body: object,
                      marker: bytes, headers: dict[str, str],
                      usage: bool = False) -> Run:
    conns = [await _Conn.open(url) for _ in range(n)]

    async def one(i: int) -> tuple[float, int]:
        c = conns[i]
        t0 = time.perf_counter()
        status = await c.send("POST", path(i) if callable(path) else path, body, headers)
        assert status == 200, status
        first, count = 0.0, 0
        async for data in c.chunks():
            hits = data.count(marker)
            if hits:
                count += hits
                if not first:
                    first = time.perf_counter() - t0
            if usage and b'"usage":' in data:
                tail = data[data.index(b"data: {") + 6:].split(b"\n", 1)[0]
                count = max(count, int(json.loads(tail)["usage"]["completion_tokens"]))
        return first, count

    try:
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - t0
    finally:
        for c in conns:
            c.close()
    return Run([r[0] for r in results], sum(r[1] for r in results), wall)


async def via_openai(url: str, n: int, max_tokens: int | None = None) -> Run:
    body: dict[str, object] = {"stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    if max_tokens:
        body.update(max_tokens=max_tokens, temperature=0,
                    stream_options={"include_usage": True})
    return await _stream_all(url, n, "/v1/chat/completions", body, b'"delta":{"content":"',
                             {"Authorization": "Bearer bench"}, usage=bool(max_tokens))


async def via_native(url: str, n: int) -> Run:
    c = await _Conn.open(url)
    try:
        _, me = await c.request("GET", "/api/me")
        token = json.loads(me)["csrf_token"]
        convs = []
        for _ in range(n):
            _, made = await c.request("POST", "/api/conversations", {},
                                      {"X-CSRF-Token": token})
            convs.append(json.loads(made)["id"])
    finally:
        c.close()
    return await _stream_all(url, n, lambda i: f"/api/conversations/{convs[i]}/messages",
                             {"content": PROMPT}, b"event: text", {"X-CSRF-Token": token})


def _ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def scripted_part(ns: list[int], chunks: int, delay: float) -> list[str]:
    rows = ["| N | path | TTFB p50 ms | TTFB p99 ms | added p50 ms | added p99 ms | "
            "chunks/s |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="qwenapp-bench-") as tmp:
        home = Path(tmp)
        script = home / "script.json"
        script.write_text(json.dumps({"replies": [], "rules": [
            {"contains": "", "reply": "abcd" * chunks}], "chunk_size": 4, "delay": delay}))
        top = str(max(ns))
        server: ServeProcess = serve_process(
            _cmd(), _env(home), args=["-m", f"scripted:{script}", "--log-level", "warning",
                                      "--max-streams", top, "--streams-per-user", top,
                                      "--rate", "100000"])
        try:
            asyncio.run(via_openai(server.url, 4))  # warm up connections and imports
            for n in ns:
                plain = asyncio.run(direct(script, n, False, home / "direct.db"))
                saved = asyncio.run(direct(script, n, True, home / "direct.db"))
                openai_run = asyncio.run(via_openai(server.url, n))
                native = asyncio.run(via_native(server.url, n))
                for name, run, base in (("direct Assistant (no store)", plain, None),
                                        ("server /v1 stream", openai_run, plain),
                                        ("direct Assistant (store)", saved, None),
                                        ("server /api chat turn", native, saved)):
                    added50 = _ms(run.pct(.5) - base.pct(.5)) if base else "—"
                    added99 = _ms(run.pct(.99) - base.pct(.99)) if base else "—"
                    rows.append(f"| {n} | {name} | {_ms(run.pct(.5))} | {_ms(run.pct(.99))} "
                                f"| {added50} | {added99} | {run.throughput:,.0f} |")
        finally:
            server.stop()
    return rows


def real_part(model: Path, tokens: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="qwenapp-bench-") as tmp:
        server = serve_process(_cmd(), _env(Path(tmp), QWENAPP_PARALLEL="4"),
                               args=["-m", str(model), "--log-level", "warning"],
                               timeout=600)
        try:
            asyncio.run(via_openai(server.url, 1, max_tokens=8))  # load and warm up
            one = asyncio.run(via_openai(server.url, 1, max_tokens=tokens))
            four = asyncio.run(via_openai(server.url, 4, max_tokens=tokens))
        finally:
            server.stop()
    single = one.chunks / one.wall
    batched = four.chunks / four.wall
    return [
        "| concurrent chats | completion tokens | wall s | aggregate tok/s |",
        "|---|---|---|---|",
        f"| 1 | {one.chunks} | {one.wall:.1f} | {single:.2f} |",
        f"| 4 | {four.chunks} | {four.wall:.1f} | {batched:.2f} |",
        "",
        f"4 concurrent over 1: **{batched / single:.2f}x** aggregate tokens/s "
        f"({model.name}, {os.cpu_count()} CPUs, QWENAPP_PARALLEL=4)",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--n", default="1,16,64,256", help="concurrent streams, comma-separated")
    ap.add_argument("--chunks", type=int, default=32, help="answer chunks per stream")
    ap.add_argument("--delay", type=float, default=0.02,
                    help="seconds between scripted chunks (0.02: 50 tokens/s per stream)")
    ap.add_argument("--model", default=os.environ.get("QWENAPP_BENCH_MODEL"),
                    help="GGUF for the real-model part (default $QWENAPP_BENCH_MODEL)")
    ap.add_argument("--tokens", type=int, default=64, help="tokens per real-model answer")
    ap.add_argument("--skip-real", action="store_true", help="scripted part only")
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",") if x.strip()]
    print(f"## Scripted model: {args.chunks} chunks per answer, {args.delay * 1000:g} ms "
          f"apart; {os.cpu_count()} CPUs\n")
    print("\n".join(scripted_part(ns, args.chunks, args.delay)))
    if args.skip_real:
        return
    if not args.model or not Path(args.model).exists():
        print("\n(real-model part skipped: set QWENAPP_BENCH_MODEL or --model to a GGUF)")
        return
    print(f"\n## Real model: {Path(args.model).name}, {args.tokens} tokens per answer\n")
    print("\n".join(real_part(Path(args.model), args.tokens)))


if __name__ == "__main__":
    main()
