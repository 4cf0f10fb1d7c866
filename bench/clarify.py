"""Clarifying-questions benchmark: how long the round takes, and what a JSON schema costs.

Prints, measured in one run on one GGUF with the same engine and threads:

* seconds for :func:`qwenapp.clarify.clarifying_questions` on three requests
  (English report, Chinese deck, English report), and whether the model's
  questions or the fixed fallback came back;
* the same clarify prompt decoded under the old JSON schema against plain
  text (no grammar): tokens/s of decoding and tokens written, so the cost of
  grammar-constrained sampling and of JSON syntax shows as two ratios.

Usage: ``python bench/clarify.py [--model PATH_OR_NAME]``.
Default model: ``$QWENAPP_BENCH_MODEL`` or the catalogue default (fetched if needed).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from benchmodel import resolve_model

from qwenapp.clarify import _messages, clarifying_questions
from qwenapp.models.embedded import EmbeddedBackend
from qwenapp.models.events import GenerateOptions, TextDelta, Usage

REQUESTS = [("report", "Why do developers adopt Qwen models?"),
            ("deck", "开源大模型在企业中的应用"),
            ("report", "Compare SQLite and PostgreSQL for a small web app")]

_ITEM = {"type": "object", "properties": {
    "question": {"type": "string"},
    "options": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4}},
    "required": ["question", "options"], "additionalProperties": False}
JSON_SCHEMA: dict[str, Any] = {  # what clarify used to ask for
    "type": "object", "properties": {"questions": {"type": "array", "items": _ITEM,
                                                   "minItems": 1, "maxItems": 2}},
    "required": ["questions"], "additionalProperties": False}


async def decode(backend: EmbeddedBackend, schema: dict[str, Any] | None) -> tuple[float, int]:
    """(decode tok/s after the first token, tokens written) for the clarify prompt."""
    options = GenerateOptions(temperature=0, max_tokens=160, json_schema=schema, think=False)
    first: float | None = None
    tokens = 0
    async for ev in backend.stream(_messages("report", REQUESTS[0][1], "en", 2), options):
        if isinstance(ev, TextDelta) and first is None:
            first = time.perf_counter()
        if isinstance(ev, Usage):
            tokens = ev.completion_tokens
    assert first is not None
    return (tokens - 1) / (time.perf_counter() - first), tokens


async def main(model: str) -> None:
    backend = EmbeddedBackend(resolve_model(model))
    backend.load()
    try:
        for kind, text in REQUESTS:
            t0 = time.perf_counter()
            got = await clarifying_questions(backend, kind, text)  # type: ignore[arg-type]
            print(f"clarify {kind} {text!r}: {time.perf_counter() - t0:.1f} s, "
                  f"{len(got.questions)} question(s) from the {got.source}")
        await decode(backend, None)  # the prompt is now cached for both runs
        plain_tps, plain_n = await decode(backend, None)
        json_tps, json_n = await decode(backend, JSON_SCHEMA)
        print(f"decode tok/s: plain {plain_tps:.2f}, JSON schema {json_tps:.2f}")
        print(f"RATIO decode speed JSON schema / plain: {json_tps / plain_tps:.3f}")
        print(f"RATIO tokens written JSON / plain: {json_n / max(plain_n, 1):.2f} "
              f"({json_n} vs {plain_n}, cap 160)")
    finally:
        await backend.aclose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    asyncio.run(main(ap.parse_args().model))
