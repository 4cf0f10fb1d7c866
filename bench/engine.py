"""Engine benchmark: qwenapp's embedded path against the raw engine, in one run.

Prints ratios measured in this run, on one GGUF, one prompt, the same threads:

* streamed decode tokens/s through ``EmbeddedBackend.stream`` over the raw
  ``xllamacpp`` server callback (target >= 0.97);
* time to first token, both paths;
* time to first token at turn 20 of a growing conversation over turn 1
  (target <= 1.2, thanks to prompt-cache reuse), for qwenapp and for the raw
  engine holding the same conversation, with the prompt tokens each turn had
  to evaluate (the rest came from the cache): what grows beyond reuse is the
  engine's own attention over a longer context, not our path;
* decode tokens/s over the memory-bandwidth limit (measured copy bandwidth
  divided by the bytes of weights read per token).

Usage: ``python bench/engine.py [--model PATH_OR_NAME] [--tokens 128] [--runs 5]``.
Default model: ``$QWENAPP_BENCH_MODEL`` or the catalogue default (fetched if needed).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchmodel import resolve_model

from qwenapp.models.embedded import EmbeddedBackend, _engine, default_threads
from qwenapp.models.events import GenerateOptions, Message, TextDelta, Usage
from qwenapp.models.profile import QwenProfile, request_body

PROMPT = "Write a Python function that returns the n-th Fibonacci number, with a docstring."


def raw_call(backend: EmbeddedBackend, messages: list[dict[str, str]],
             options: GenerateOptions) -> tuple[float, list[float], str]:
    """One request straight to the engine's server callback: (start, content stamps, text)."""
    server = _engine(backend._prepare()).server
    body = request_body(messages, options, QwenProfile())
    stamps: list[float] = []
    parts: list[str] = []

    def cb(chunk: Any) -> bool:
        ch = chunk.get("choices") or []
        text = (ch[0].get("delta") or {}).get("content") if ch else None
        if text:
            stamps.append(time.perf_counter())
            parts.append(text)
        return False

    t0 = time.perf_counter()
    server.handle_chat_completions(body, cb)
    return t0, stamps, "".join(parts)


def raw_run(backend: EmbeddedBackend, tokens: int) -> tuple[float, float, int]:
    """(ttft, decode tok/s, n) calling the engine's server directly."""
    t0, stamps, _ = raw_call(backend, [{"role": "user", "content": PROMPT}],
                             GenerateOptions(max_tokens=tokens, temperature=0, seed=1))
    n = len(stamps)
    return stamps[0] - t0, (n - 1) / (stamps[-1] - stamps[0]), n


async def ours_run(backend: EmbeddedBackend, tokens: int) -> tuple[float, float, int]:
    stamps: list[float] = []
    t0 = time.perf_counter()
    async for ev in backend.stream([Message("user", PROMPT)],
                                   GenerateOptions(max_tokens=tokens, temperature=0, seed=1)):
        if isinstance(ev, TextDelta):
            stamps.append(time.perf_counter())
    n = len(stamps)
    return stamps[0] - t0, (n - 1) / (stamps[-1] - stamps[0]), n


def _question(i: int, raw: bool = False) -> str:
    # The two conversations differ from their first words, so neither reuses the other's cache.
    if raw:
        return f"Turn {i + 1}. Name one more useful built-in function of Python."
    return f"Question {i + 1}: name one more useful Python standard library module."


async def turn_ttfts(backend: EmbeddedBackend, turns: int) -> list[tuple[float, int]]:
    """(TTFT, prompt tokens evaluated) of each turn of one growing conversation
    (answers capped at 48 tokens)."""
    history: list[Message] = []
    out: list[tuple[float, int]] = []
    for i in range(turns):
        t0 = time.perf_counter()
        first: float | None = None
        text = ""
        fresh = -1
        msgs = [*history, Message("user", _question(i))]
        async for ev in backend.stream(msgs, GenerateOptions(max_tokens=48, temperature=0)):
            if isinstance(ev, TextDelta):
                first = first or time.perf_counter()
                text += ev.text
            elif isinstance(ev, Usage):
                fresh = ev.prompt_tokens - (ev.cached_tokens or 0)
        out.append(((first or time.perf_counter()) - t0, fresh))
        print(f"turn {i + 1}: qwenapp ttft {out[-1][0] * 1000:.0f} ms, {fresh} prompt tokens "
              "evaluated", file=sys.stderr, flush=True)
        history += [Message("user", _question(i)), Message("assistant", text)]
    return out


def raw_turn_ttfts(backend: EmbeddedBackend, turns: int) -> list[float]:
    """The same conversation through the raw engine's server callback."""
    history: list[dict[str, str]] = []
    out: list[float] = []
    for i in range(turns):
        msgs = [*history, {"role": "user", "content": _question(i, raw=True)}]
        t0, stamps, text = raw_call(backend, msgs, GenerateOptions(max_tokens=48, temperature=0))
        out.append((stamps[0] if stamps else time.perf_counter()) - t0)
        print(f"turn {i + 1}: raw ttft {out[-1] * 1000:.0f} ms", file=sys.stderr, flush=True)
        history += [msgs[-1], {"role": "assistant", "content": text}]
    return out


def bandwidth_gbs() -> float:
    """Best-of-5 memory copy bandwidth (read + write bytes) in GB/s."""
    a = np.ones(256 * 1024 * 1024 // 8)
    b = np.empty_like(a)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        dt = time.perf_counter() - t
        best = max(best, 2 * a.nbytes / dt / 1e9)
    return best


def weight_bytes_per_token(path: Path) -> int:
    import gguf

    reader = gguf.GGUFReader(str(path))
    total = 0
    names = {t.name for t in reader.tensors}
    for t in reader.tensors:
        if t.name == "token_embd.weight" and "output.weight" in names:
            continue  # only one row of the embedding table is read per token
        total += int(t.n_bytes)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--turns", type=int, default=20)
    args = ap.parse_args()
    path = resolve_model(args.model)
    threads = default_threads()
    backend = EmbeddedBackend(path, context=8192, parallel=1, threads=threads)
    backend.load()
    asyncio.run(ours_run(backend, 8))  # warm up
    raw_r, ours_r = [], []
    for i in range(args.runs):  # interleaved, so drift hits both alike
        raw_r.append(raw_run(backend, args.tokens))
        ours_r.append(asyncio.run(ours_run(backend, args.tokens)))
        print(f"run {i + 1}: raw {raw_r[-1][1]:.2f} tok/s, qwenapp {ours_r[-1][1]:.2f} tok/s",
              file=sys.stderr, flush=True)
    raw_tps = statistics.median(r[1] for r in raw_r)
    ours_tps = statistics.median(r[1] for r in ours_r)
    raw_ttft = statistics.median(r[0] for r in raw_r)
    ours_ttft = statistics.median(r[0] for r in ours_r)
    raw_turns = raw_turn_ttfts(backend, args.turns)
    turns = asyncio.run(turn_ttfts(backend, args.turns))
    ttfts = [t for t, _ in turns]
    bw = bandwidth_gbs()
    wbytes = weight_bytes_per_token(path)
    limit = bw * 1e9 / wbytes
    print(f"machine: {platform.machine()}, {threads} threads, {platform.processor() or ''}".strip())
    print(f"model: {path.name} ({path.stat().st_size / 1e6:.0f} MB)")
    print(f"decode tok/s: qwenapp {ours_tps:.2f}, raw engine {raw_tps:.2f}")
    print(f"RATIO streamed tok/s qwenapp/raw: {ours_tps / raw_tps:.3f} (target >= 0.97)")
    print(f"time to first token: qwenapp {ours_ttft * 1000:.0f} ms, raw {raw_ttft * 1000:.0f} ms"
          f" (ratio {ours_ttft / raw_ttft:.3f})")
    n = len(ttfts)
    print(f"TTFT turn 1 {ttfts[0] * 1000:.0f} ms, turn {n} {ttfts[-1] * 1000:.0f} ms; prompt "
          f"tokens evaluated: turn 1 {turns[0][1]}, turn {n} {turns[-1][1]} (the rest reused "
          "from the cache)")
    print(f"RATIO TTFT turn {n}/turn 1: {ttfts[-1] / ttfts[0]:.3f} (target <= 1.2)")
    print(f"raw engine, same conversation: TTFT turn 1 {raw_turns[0] * 1000:.0f} ms, turn {n} "
          f"{raw_turns[-1] * 1000:.0f} ms (ratio {raw_turns[-1] / raw_turns[0]:.3f})")
    last = statistics.median(ttfts[-3:]) / statistics.median(raw_turns[-3:])
    print(f"RATIO TTFT last 3 turns qwenapp/raw: {last:.3f}")
    print(f"memory bandwidth {bw:.1f} GB/s, weights read per token {wbytes / 1e6:.0f} MB "
          f"-> limit {limit:.1f} tok/s")
    print(f"RATIO decode tok/s / bandwidth limit: {ours_tps / limit:.3f}")


if __name__ == "__main__":
    main()
