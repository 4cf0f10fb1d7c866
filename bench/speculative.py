"""Does llama.cpp's n-gram self-speculation speed up qwenapp's calls on this CPU?

    python bench/speculative.py [--model NAME_OR_PATH]

Two calls shaped like the pipelines' own (a report section rewording six numbered facts,
a slide's four bullets), each run twice (cold, then with the prompt cached) on a fresh
in-process engine per speculation type: none, ngram_simple, ngram_map_k, ngram_mod. It
prints the engine's own decode speed (``predicted_per_second``) and, where it reports
them, the drafted and accepted tokens. Measured 2026-12-04 (README, Report quality): no
type beat none (27-30 tok/s for all), so the embedded engine does not use one.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from benchmodel import resolve_model

FACTS = """1. Insist on doing everything through "channels." Never permit short-cuts to be taken \
in order to expedite decisions.
2. Make "speeches." Talk as frequently as possible and at great length.
3. When possible, refer all matters to committees, for "further study and consideration."
4. Bring up irrelevant issues as frequently as possible.
5. Haggle over precise wordings of communications, minutes, resolutions.
6. Refer back to matters decided upon at the last meeting and attempt to re-open the \
question of the advisability of that decision."""

PROMPTS: dict[str, list[dict[str, str]]] = {
    "section": [
        {"role": "system", "content": "You write one section of a research report. Rewrite "
         "each numbered fact as one plain sentence, keeping its numbers and names. Answer "
         "with numbered sentences only."},
        {"role": "user", "content": "Section: Disrupting conferences\nFacts:\n" + FACTS}],
    "slide": [
        {"role": "system", "content": "You write slide bullets. Each bullet at most 12 "
         "words, a full sentence."},
        {"role": "user", "content": "Topic: Why open-weight language models are gaining "
         "adoption among developers.\nSlide heading: Lower cost of deployment\nWrite 4 "
         "bullets, one per line, starting with '- '."}],
}
KINDS = ("none", "ngram_simple", "ngram_map_k", "ngram_mod")


def _server(model: str, kind: str, threads: int) -> Any:
    import xllamacpp as xl

    p = xl.CommonParams()
    p.model.path = model
    p.n_parallel = 1
    p.n_ctx = 8192
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    p.warmup = False
    p.verbosity = -1
    p.cache_prompt = True
    p.hostnames = ["127.0.0.1"]
    p.port = 0
    if kind != "none":
        p.speculative.types = [getattr(xl.common_speculative_type,
                                       "COMMON_SPECULATIVE_TYPE_" + kind.upper())]
    return xl.Server(p)


def main() -> None:
    from qwenapp.models.embedded import default_threads

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a .gguf path or catalogue name (default: the default model)")
    args = ap.parse_args()
    model = str(resolve_model(args.model))
    for kind in KINDS:
        server = _server(model, kind, default_threads())
        for name, messages in PROMPTS.items():
            for rep in range(2):
                body = {"messages": messages, "max_tokens": 300, "temperature": 0.3,
                        "top_p": 0.9, "repeat_penalty": 1.05, "seed": 7, "stream": False,
                        "cache_prompt": rep == 1}
                t0 = time.perf_counter()
                reply = server.handle_chat_completions(body)
                t = reply.get("timings", {})
                print(json.dumps({
                    "speculation": kind, "call": name, "cached": rep == 1,
                    "seconds": round(time.perf_counter() - t0, 2),
                    "generated": t.get("predicted_n"),
                    "decode_tok_s": round(t.get("predicted_per_second", 0.0), 1),
                    "drafted": t.get("draft_n"), "accepted": t.get("draft_n_accepted")}))
        del server


if __name__ == "__main__":
    main()
