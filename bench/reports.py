"""Benchmark of the research-report feature, all figures in one run.

    python bench/reports.py                    # default model (the 1.5B), standard report
    python bench/reports.py --model /tmp/q05.gguf --depth quick
    python bench/reports.py --skip-report      # ingestion and retrieval only (no model)

Prints:
  * ingestion throughput (pages/s) over a generated corpus of PDF, DOCX, PPTX, XLSX, Markdown
    and text files (a "page" is what extraction calls a section: a PDF page, a slide, a sheet,
    a headed section);
  * query latency (BM25, FTS5) over a library of 10,000 chunks;
  * end-to-end time of a report over tests/fixtures/corpus with the model, split into model
    time (wall time while at least one model call is in flight, loading included) and
    everything else;
  * citation precision: the share of [n] in the report whose passage shares at least a quarter
    of its sentence's content words (the validator's string-overlap check).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the sample-file builders live with the tests

from fixtures.samples import write_docx, write_pdf, write_pptx, write_xlsx  # noqa: E402
from qwenapp.documents import Document, Section  # noqa: E402
from qwenapp.library import Library  # noqa: E402
from qwenapp.models.base import Backend  # noqa: E402
from qwenapp.models.events import Event, GenerateOptions, Message, Usage  # noqa: E402
from qwenapp.store import open_db  # noqa: E402

WORDS = [
    "model", "license", "developer", "adoption", "quantization", "inference", "latency",
    "token", "context", "benchmark", "open", "weights", "community", "download", "release",
    "coder", "multilingual", "chinese", "english", "server", "laptop", "memory", "throughput",
    "privacy", "cost", "api", "agent", "tool", "retrieval", "passage", "search", "index",
    "report", "citation", "source", "evidence", "survey", "growth", "market", "team",
    "product",
]


def sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int = 6) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def make_corpus(folder: Path, rng: random.Random) -> None:
    for i in range(12):
        write_pdf(folder / f"paper{i}.pdf", [paragraph(rng, 8).replace(". ", ".\n")
                                             for _ in range(10)], title=f"Paper {i}")
    for i in range(8):
        write_docx(folder / f"memo{i}.docx", f"Memo {i}",
                   [(f"Part {j}", [paragraph(rng), paragraph(rng)]) for j in range(5)],
                   table=[["metric", "value"], ["downloads", str(rng.randint(1, 10**6))]])
    for i in range(5):
        write_pptx(folder / f"deck{i}.pptx", [(f"Slide {j}", [sentence(rng), sentence(rng)])
                                             for j in range(8)])
    header: list[object] = ["a", "b", "c"]
    for i in range(3):
        sheets: dict[str, list[list[object]]] = {
            f"S{j}": [header] + [[rng.randint(0, 99) for _ in range(3)] for _ in range(50)]
            for j in range(3)}
        write_xlsx(folder / f"sheet{i}.xlsx", sheets)
    for i in range(10):
        md = "\n\n".join(f"## Heading {j}\n\n{paragraph(rng)}" for j in range(6))
        (folder / f"note{i}.md").write_text(f"# Note {i}\n\n{md}\n", encoding="utf-8")
        (folder / f"log{i}.txt").write_text("\n\n".join(paragraph(rng) for _ in range(8)),
                                            encoding="utf-8")


def bench_ingestion(rng: random.Random) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        make_corpus(folder, rng)
        lib = Library(open_db(Path(tmp) / "lib.db"))
        outcomes = []
        by_kind: dict[str, list[float]] = {}  # suffix -> [seconds, pages]
        t0 = time.perf_counter()
        for path in lib.expand([folder]):
            t = time.perf_counter()
            o = lib.ingest_file(path)
            acc = by_kind.setdefault(path.suffix, [0.0, 0.0])
            acc[0] += time.perf_counter() - t
            acc[1] += o.sections
            outcomes.append(o)
        elapsed = time.perf_counter() - t0
        pages = sum(o.sections for o in outcomes)
        pdf_pages = sum(o.sections for o in outcomes if o.path.suffix == ".pdf")
        t1 = time.perf_counter()
        again = list(lib.ingest([folder]))
        noop = time.perf_counter() - t1
        assert all(o.status == "unchanged" for o in again)
        return {"files": len(outcomes), "pages": pages, "chunks": sum(o.chunks for o in outcomes),
                "seconds": round(elapsed, 2), "pages_per_s": round(pages / elapsed, 1),
                "pdf_pages": pdf_pages, "readd_unchanged_s": round(noop, 3),
                "pages_per_s_by_kind": {k: round(v[1] / v[0], 1) for k, v in by_kind.items()}}


def bench_queries(rng: random.Random, n_chunks: int, n_queries: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library(open_db(Path(tmp) / "lib.db"))
        per_doc = 100
        t0 = time.perf_counter()
        for d in range(n_chunks // per_doc):
            sections = [Section(text=paragraph(rng, 5), location=f"page {i + 1}")
                        for i in range(per_doc)]
            doc = Document(path=Path(f"/bench/doc{d}.pdf"), title=f"Doc {d}", kind="pdf",
                           sha256=f"{d:064x}", sections=sections)
            lib.add_document(doc, f"/bench/doc{d}.pdf")
        build = time.perf_counter() - t0
        chunks = lib.conn.execute("SELECT count(*) FROM library_chunks").fetchone()[0]
        queries = [" ".join(rng.sample(WORDS, 3)) for _ in range(n_queries)]
        lib.search(queries[0])  # warm the page cache
        times = []
        for q in queries:
            t = time.perf_counter()
            lib.search(q, limit=8)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return {"chunks": chunks, "build_s": round(build, 1), "queries": n_queries,
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
                "mean_ms": round(statistics.fmean(times), 2)}


class TimedBackend:
    """Wraps a backend; ``busy`` is wall time with at least one call in flight."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.busy = 0.0
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._active = 0
        self._since = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    @property
    def supports_thinking(self) -> bool:
        return self.inner.supports_thinking

    async def stream(self, messages: Sequence[Message], options: GenerateOptions
                     ) -> AsyncIterator[Event]:
        if self._active == 0:
            self._since = time.perf_counter()
        self._active += 1
        self.calls += 1
        try:
            async for ev in self.inner.stream(messages, options):
                if isinstance(ev, Usage):
                    self.prompt_tokens += ev.prompt_tokens
                    self.completion_tokens += ev.completion_tokens
                yield ev
        finally:
            self._active -= 1
            if self._active == 0:
                self.busy += time.perf_counter() - self._since

    async def aclose(self) -> None:
        await self.inner.aclose()


def bench_report(model: str, depth: str, length: str, home: Path) -> dict[str, Any]:
    from qwenapp.models.base import job_parallel
    from qwenapp.models.resolve import resolve_backend
    from qwenapp.reports import (
        Finished,
        ReportRequest,
        RunConfig,
        SectionWritten,
        SourceTools,
        citation_support,
        run_report,
    )
    from qwenapp.reports.render import to_markdown
    from qwenapp.settings import load_settings

    settings = load_settings({**os.environ, "QWENAPP_HOME": str(home)})
    docs = home / "corpus"
    shutil.copytree(ROOT / "tests" / "fixtures" / "corpus", docs)
    conn = open_db(settings.db_path)
    request = ReportRequest(question="What drove Qwen's adoption among developers?",
                            docs=[str(docs)], depth=depth, length=length)  # type: ignore[arg-type]

    async def main() -> tuple[Any, TimedBackend, float, float]:
        inner = resolve_backend(model, settings)
        t_load = time.perf_counter()
        load = getattr(inner, "load", None)
        if callable(load):  # the embedded engine: load outside the timed run
            await asyncio.to_thread(load)
        load_s = time.perf_counter() - t_load
        backend = TimedBackend(inner)
        fanout = job_parallel(inner, settings.job_parallel, settings.parallel)
        print(f"  {fanout} section writer(s) at once (QWENAPP_JOB_PARALLEL to change)",
              file=sys.stderr)
        t0 = time.perf_counter()
        report = None
        try:
            async for ev in run_report(conn, backend, request, SourceTools(library=Library(conn)),
                                       config=RunConfig(parallel=fanout)):
                if isinstance(ev, SectionWritten):
                    print(f"  section {ev.index}/{ev.total} written "
                          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
                if isinstance(ev, Finished):
                    report = ev.report
        finally:
            await backend.aclose()
        return report, backend, time.perf_counter() - t0, load_s

    report, backend, total, load_s = asyncio.run(main())
    attributed = sum(s.attributed_citations for s in report.sections)
    supported, cited = citation_support(report)
    out = home / "bench-report.md"
    out.write_text(to_markdown(report), encoding="utf-8")
    return {"model": model, "depth": depth, "length": length, "load_s": round(load_s, 1),
            "total_s": round(total, 1), "model_s": round(backend.busy, 1),
            "other_s": round(total - backend.busy, 2), "attributed_citations": attributed,
            "model_calls": backend.calls, "prompt_tokens": backend.prompt_tokens,
            "completion_tokens": backend.completion_tokens,
            "sections": len(report.sections), "references": len(report.references),
            "citations": cited, "citations_supported": supported,
            "citation_precision": round(supported / cited, 3) if cited else None,
            "report_file": str(out)}


def default_model() -> str:
    env = os.environ.get("QWENAPP_BENCH_MODEL")
    if env:
        return env
    if Path("/tmp/q15.gguf").exists():
        return "/tmp/q15.gguf"
    from qwenapp.settings import DEFAULT_MODEL

    return DEFAULT_MODEL


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default=None, help="model for the report (default: the 1.5B)")
    ap.add_argument("--depth", default="standard", choices=["quick", "standard", "deep"])
    ap.add_argument("--length", default="medium", choices=["short", "medium", "long"])
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--skip-report", action="store_true", help="no model: ingestion and queries")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    rng = random.Random(7)
    results: dict[str, Any] = {}
    print("ingestion ...", file=sys.stderr)
    results["ingestion"] = ing = bench_ingestion(rng)
    print(f"ingestion: {ing['files']} files, {ing['pages']} pages ({ing['pdf_pages']} PDF pages), "
          f"{ing['chunks']} chunks in {ing['seconds']} s = {ing['pages_per_s']} pages/s; "
          f"re-adding unchanged: {ing['readd_unchanged_s']} s")
    print("  pages/s by kind: " + ", ".join(f"{k} {v}" for k, v in
                                            ing["pages_per_s_by_kind"].items()))
    print("queries ...", file=sys.stderr)
    results["queries"] = q = bench_queries(rng, args.chunks)
    print(f"query latency at {q['chunks']} chunks: p50 {q['p50_ms']} ms, p95 {q['p95_ms']} ms, "
          f"mean {q['mean_ms']} ms over {q['queries']} queries (index built in {q['build_s']} s)")
    if not args.skip_report:
        model = args.model or default_model()
        print(f"report with {model} ...", file=sys.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            results["report"] = r = bench_report(model, args.depth, args.length, Path(tmp))
            shutil.copy(r["report_file"], ROOT / "bench" / "last-report.md")
        r["report_file"] = "bench/last-report.md"
        print(f"report ({r['depth']}, {r['length']}, {r['model']}): {r['total_s']} s end to end "
              f"= {r['model_s']} s model + {r['other_s']} s everything else; "
              f"{r['model_calls']} model calls, {r['prompt_tokens']} prompt + "
              f"{r['completion_tokens']} completion tokens (model loaded beforehand in "
              f"{r['load_s']} s)")
        prec = r["citation_precision"]
        print(f"citation precision: {r['citations_supported']}/{r['citations']} = "
              f"{prec if prec is not None else 'n/a (no citations)'} "
              f"({r['references']} references, {r['sections']} sections; "
              f"{r['attributed_citations']} citation(s) in sections added by attribution)")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
