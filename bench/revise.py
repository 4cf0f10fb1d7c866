"""Revision benchmark: seconds per kind of edit against regenerating the whole deck, one run.

Makes one 8-slide deck from a topic (timed: what a user pays today to change anything),
then applies each kind of revision request to that deck, each from the same first
version, on the same loaded engine, and prints for each: seconds, model calls, slides
changed, and whether the untouched slides are byte-identical. The targets of issue 13:
a one-slide edit under 15 s, a theme change under 1 s. The revised decks are written
next to each other in --out (default: a temporary folder) for looking at.

Model load time is reported apart. Usage:
``flock /tmp/qwenapp-model.lock python bench/revise.py [--model PATH] [--out DIR]``.
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
from qwenapp.slides import THEMES, Deck, DeckRequest, make_deck, save_deck
from qwenapp.slides.deck import CONTENT_KINDS
from qwenapp.slides.edits import Clarify
from qwenapp.slides.layout import overflow
from qwenapp.slides.revise import Revision, revise_text

TOPIC = "Why Qwen models lead open-source AI adoption"
REQUESTS = [
    ("theme", "use the dark theme"),
    ("remove", "remove the agenda"),
    ("shorter", "shorter bullets on slide {bullets}"),
    ("chart", "make slide {bullets} a chart: 2022 12, 2023 31, 2024 58"),
    ("kind", "turn slide {other} into a process"),
    ("add", "add a slide about licensing after slide 4"),
    ("merge", "merge slides {last_two}"),
    ("formal", "more formal"),
    ("translate", "translate the deck into Chinese"),
]


def _untouched_ok(old: Deck, r: Revision) -> str:
    """Every slide not in ``changed`` is byte-identical to a slide of the old deck."""
    before = {s.model_dump_json() for s in old.slides}
    bad = [i for i, s in enumerate(r.deck.slides, 1)
           if i not in r.changed and s.model_dump_json() not in before]
    return "yes" if not bad else f"NO: {bad}"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    path = resolve_model(args.model)
    threads = args.threads or default_threads()
    backend = EmbeddedBackend(path, context=4096, parallel=1, threads=threads)
    print(f"model {path.name} ({path.stat().st_size / 1e9:.2f} GB), {threads} threads, "
          f"{platform.machine()} {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    await asyncio.to_thread(backend.load)
    await complete(backend, [Message("user", "Hi")], GenerateOptions(max_tokens=4))
    print(f"model load and warm-up: {time.perf_counter() - t0:.1f} s (not counted below)")
    with tempfile.TemporaryDirectory(prefix="qwenapp-bench-") as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        made = await make_deck(backend, DeckRequest(TOPIC, slides=8, parallel=1, seed=1),
                               out / "v1.pptx", theme=THEMES["light"])
        whole = time.perf_counter() - t0
        deck = made.deck
        print(f"\nwhole deck, generated: {whole:6.1f} s, {made.stats.calls} model calls, "
              f"{len(deck.slides)} slides")
        for i, s in enumerate(deck.slides, 1):
            print(f"  {i}. {s.kind:8s} {s.title}")
        bullets = next((i for i, s in enumerate(deck.slides, 1) if s.kind == "bullets"), 3)
        other = next((i for i, s in enumerate(deck.slides, 1)
                      if s.kind in ("bullets", "compare") and i != bullets), 4)
        content = [i for i, s in enumerate(deck.slides, 1) if s.kind in CONTENT_KINDS]
        last_two = " and ".join(map(str, content[-2:]))
        print(f"\n{'edit':10s} {'seconds':>8s} {'vs whole':>8s} {'calls':>6s}  changed  "
              "untouched identical  request")
        for name, template in REQUESTS:
            request = template.format(bullets=bullets, other=other, last_two=last_two)
            t0 = time.perf_counter()
            try:
                r = await revise_text(backend, deck, "light", request, parallel=1,
                                      fit=lambda t: (lambda s: overflow(s, THEMES[t])))
            except Exception as e:  # a benchmark reports a failure and goes on
                print(f"{name:10s} FAILED after {time.perf_counter() - t0:.1f} s: {e}")
                continue
            seconds = time.perf_counter() - t0
            if isinstance(r, Clarify):
                print(f"{name:10s} {seconds:8.2f} {'':8s} {'':6s}  question: {r.question}")
                continue
            save_deck(r.deck, THEMES[r.theme], out / f"{name}.pptx")
            print(f"{name:10s} {seconds:8.2f} {seconds / whole:7.1%} {r.stats.calls:6d}  "
                  f"{','.join(map(str, r.changed)) or '-':7s}  {_untouched_ok(deck, r):19s}  "
                  f"{request}")
            for note in r.notes:
                print(f"{'':12s}note: {note}")
        if args.out:
            print(f"\ndecks in {out}")
    await backend.aclose()


if __name__ == "__main__":
    asyncio.run(main())
