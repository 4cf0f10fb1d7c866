"""Deck benchmark: an 8-slide deck from a topic, end to end, in one run.

Prints, measured in this run on one GGUF with the same engine and threads:

* end-to-end seconds for the deck, split into model time (the outline and
  slide stages) and everything else (prompts, validation, layout, rendering,
  the atomic write); targets: everything else <= 5 % of the total, rendering
  alone <= 0.5 s;
* completion tokens generated per content slide (retries included), and per call;
* sequential (one engine slot used at a time) against parallel-slot generation
  (the slides written concurrently), on the same loaded engine.

Model load time is reported apart, not counted in either run.

Usage: ``python bench/slides.py [--model PATH_OR_NAME] [--slides 8] [--parallel 4]``.
Default model: ``$QWENAPP_BENCH_MODEL`` or the catalogue default (fetched if needed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from pathlib import Path

from benchmodel import resolve_model

from qwenapp.models.base import complete
from qwenapp.models.embedded import EmbeddedBackend, default_threads
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.slides import THEMES, DeckRequest, DeckResult, make_deck

TOPIC = "Why Qwen models lead open-source AI adoption"


async def one_deck(backend: EmbeddedBackend, slides: int, parallel: int,
                   out: Path) -> tuple[DeckResult, float]:
    started = time.perf_counter()
    result = await make_deck(backend, DeckRequest(TOPIC, slides=slides, parallel=parallel,
                                                  seed=1), out, theme=THEMES["light"])
    return result, time.perf_counter() - started


def report(name: str, result: DeckResult, total: float) -> None:
    s = result.stats
    model = s.model_seconds
    other = total - model
    content = len(s.slide_tokens)
    per_slide = sum(s.slide_tokens) / max(1, content)
    print(f"\n[{name}] {len(result.deck.slides)} slides, {content} content slides")
    print(f"  end to end          {total:8.2f} s")
    print(f"  model time          {model:8.2f} s  (outline {s.outline_seconds:.2f} s, "
          f"slides {s.slides_seconds:.2f} s)")
    print(f"  everything else     {other:8.2f} s  = {100 * other / total:.2f} % of the total "
          f"(target <= 5 %: {'ok' if other <= 0.05 * total else 'MISSED'})")
    print(f"  rendering alone     {s.render_seconds:8.3f} s  "
          f"(target <= 0.5 s: {'ok' if s.render_seconds <= 0.5 else 'MISSED'})")
    print(f"  tokens generated    {s.completion_tokens:8d}  (outline {s.outline_tokens}, "
          f"{per_slide:.0f} per content slide: {s.slide_tokens})")
    print(f"  calls / retries     {s.calls:8d} / {s.retries}")
    print(f"  decode throughput   {s.completion_tokens / model:8.1f} tokens/s of model time")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--slides", type=int, default=8)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    path = resolve_model(args.model)
    threads = args.threads or default_threads()
    backend = EmbeddedBackend(path, context=4096, parallel=args.parallel, threads=threads)
    print(f"model {path.name} ({path.stat().st_size / 1e9:.2f} GB), {threads} threads, "
          f"{args.parallel} engine slots, {platform.machine()} {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    await asyncio.to_thread(backend.load)
    await complete(backend, [Message("user", "Hi")], GenerateOptions(max_tokens=4))
    print(f"model load and warm-up: {time.perf_counter() - t0:.1f} s (not counted below)")
    with tempfile.TemporaryDirectory(prefix="qwenapp-bench-") as tmp:
        seq, seq_total = await one_deck(backend, args.slides, 1, Path(tmp) / "seq.pptx")
        report("sequential: one slide at a time", seq, seq_total)
        par, par_total = await one_deck(backend, args.slides, args.parallel,
                                        Path(tmp) / "par.pptx")
        report(f"parallel: {args.parallel} slots", par, par_total)
    print(f"\nparallel over sequential: {seq_total / par_total:.2f}x faster end to end, "
          f"slide stage {seq.stats.slides_seconds / par.stats.slides_seconds:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
