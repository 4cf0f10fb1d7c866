"""Deck quality benchmark: real requests, real documents, real models, issue 15's figures.

    python bench/deck_quality.py                   # the 1.5B (catalogue default), every request
    python bench/deck_quality.py --both            # the 0.5B, then the 1.5B
    python bench/deck_quality.py --only zh-topic --only co2-csv --model PATH.gguf
    python bench/deck_quality.py --no-previews     # skip the LibreOffice PDF/PNG previews

Requests: English and Chinese topics (the Chinese one is the request that failed in issue 15),
a 12-slide deck, a series of numbers written in the request, a 35-page PDF nobody on the team
wrote (Riis, *How the Other Half Lives*), a spreadsheet of real public data (the Global Carbon
Project's fossil CO2 table), a Chinese statute, and a deck from a report (a quick report on
the OSS *Simple Sabotage Field Manual*, written first and not timed with the deck). Every
corpus is described in ``bench/corpus/SOURCES.md``.

Per deck and in total it prints, all computed by code from the deck and the written .pptx:
decks produced out of requested; slides asked for and made; slides simplified, replaced or
dropped; truncated lines; bullets that echo their heading; near-duplicate bullet pairs in the
deck; lines in the wrong language; distinct layout kinds; the least-filled content slide
(:func:`qwenapp.slides.measure.content_fill`); charts and tables made out of the numeric
tables offered; numbers on slides not found in the request or the sources; seconds split into
model calls and everything else. Decks (and with previews, their PDF and PNGs at 50 dpi) are
written under ``bench/out/decks/MODEL/`` (git-ignored), to be looked at.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
OUT = ROOT / "bench" / "out" / "decks"
MODELS = Path("/root/.local/share/qwenapp/models")
SMALL = MODELS / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT = MODELS / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

from qwenapp.slides import (  # noqa: E402
    DataTable,
    Deck,
    DeckBuilt,
    DeckError,
    DeckRequest,
    DeckStats,
    Finding,
    Passage,
    build_deck,
    get_theme,
    load_sources,
)
from qwenapp.slides.checks import (  # noqa: E402
    echoes,
    extract_numbers,
    near_duplicate,
    truncated,
    unsupported_numbers,
)
from qwenapp.slides.content import slide_texts  # noqa: E402
from qwenapp.slides.deck import CONTENT_KINDS  # noqa: E402
from qwenapp.slides.tables import chart_or_table, find_tables, table_numbers  # noqa: E402


@dataclass(frozen=True)
class Case:
    id: str
    topic: str
    slides: int = 8
    files: tuple[str, ...] = ()  # paths under bench/corpus
    report: str = ""  # a report question: the deck presents a quick report on ``files``
    theme: str = "light"
    note: str = ""


CASES = [
    Case("en-topic", "Why open-weight language models are gaining adoption among developers",
         8, note="issue 15: 8 asked, 4 made (0.5B)"),
    Case("zh-topic", "开源大模型为何受到开发者欢迎", 6, theme="qwen",
         note="issue 15: failed after 144 s (1.5B)"),
    Case("en-12", "How cities can make streets safer for cyclists and pedestrians", 12,
         theme="paper", note="a 12-slide deck"),
    Case("series", "Qwen model downloads by quarter: Q1 10 million, Q2 14 million, "
         "Q3 18 million, Q4 25 million. What drove the growth?", 6,
         note="a number series in the request"),
    Case("riis-pdf", "Life in the New York tenements of 1890", 8,
         ("tenements/how_the_other_half_lives_riis_1890.pdf",), theme="paper",
         note="35-page real PDF"),
    Case("co2-csv", "Global CO2 emissions from fossil fuels", 6,
         ("co2/global.csv", "co2/README.md"), theme="dark", note="real public data table"),
    Case("zh-law", "个人信息保护法的主要规定", 6, ("zh_law/个人信息保护法(2021-08-20).md",),
         theme="qwen", note="Chinese statute"),
    Case("report", "", 7, ("sabotage/simple_sabotage_field_manual.txt",),
         report="What does the Simple Sabotage Field Manual advise for disrupting "
                "organizations and conferences?", note="deck from a report"),
]


def _han(text: str) -> int:
    return sum("\u4e00" <= c <= "\u9fff" for c in text)


def wrong_language(line: str, lang: str) -> bool:
    """A Chinese deck's line with no Han text, or another deck's line mostly Han."""
    letters = sum(c.isalpha() for c in line)
    if letters < 4:
        return False
    han = _han(line)
    return han == 0 if lang == "zh" else han > letters / 2


def measure(deck: Deck, pptx: Path, stats: DeckStats, allowed: set[float], asked: int,
            numeric_tables: int, topic: str) -> dict[str, Any]:
    from qwenapp.slides.measure import content_fill

    content = [s for s in deck.slides if s.kind in CONTENT_KINDS]
    lines = [(s, x) for s in deck.slides for x in [s.title, *slide_texts(s)] if x.strip()]
    cut = [x for _, x in lines if truncated(x)]
    echo = [b for s in content for b in [*s.bullets, *(c for col in (s.left, s.right) if col
                                                      for c in col.bullets)]
            if echoes(b, s.title)]
    bullets = [b for s in content for b in [*s.bullets, s.takeaway, *(st.text for st in s.steps),
                                            *(c for col in (s.left, s.right) if col
                                              for c in col.bullets)] if b]
    # the topic's own words are left out, as the pipeline does: sharing the subject
    # ("open-weight models …") is not saying the same thing
    dups = [(a, b) for i, a in enumerate(bullets) for b in bullets[i + 1:]
            if near_duplicate(a, b, subject=topic)]
    heads = [s.title for s in content]
    same_heads = [(a, b) for i, a in enumerate(heads) for b in heads[i + 1:]
                  if near_duplicate(a, b, 0.8)]
    wrong = [x for _, x in lines if wrong_language(x, deck.language)]
    numbers: list[str] = []
    for s in deck.slides:
        if s.kind in ("chart", "table"):
            texts = [s.title, s.takeaway, *s.bullets]  # the data itself is copied by code
            if s.chart is not None:
                numbers += [str(v) for se in s.chart.series for v in se.values
                            if not any(abs(v - a) < 1e-9 for a in allowed)]
        else:
            texts = [s.title, s.subtitle, *slide_texts(s)]
        for t in texts:
            numbers += unsupported_numbers(t, allowed)
    fills = content_fill(pptx)
    content_fills = [(round(f, 3), s.kind, s.title) for f, s in zip(fills, deck.slides,
                                                                      strict=False)
                     if s.kind in CONTENT_KINDS]
    least = min(content_fills, default=(0.0, "", ""))
    return {
        "slides_asked": asked, "slides_made": len(deck.slides),
        "simplified": stats.degraded, "replaced": stats.replaced, "dropped": stats.dropped,
        "truncated": cut, "heading_echoes": echo, "near_duplicates": dups,
        "same_headings": same_heads, "wrong_language": wrong,
        "kinds": sorted({s.kind for s in deck.slides}),
        "content_kinds": sorted({s.kind for s in content}),
        "least_fill": least, "fills": content_fills,
        "numeric_tables_offered": min(numeric_tables, stats.tables_offered),
        "data_slides": stats.data_slides, "tables_found": stats.tables_found,
        "report_slides": stats.report_slides,
        "unsupported_numbers": numbers,
    }


def export(pptx: Path) -> list[Path]:
    """PDF by LibreOffice, then one PNG per slide at 50 dpi (what a reviewer looks at)."""
    with tempfile.TemporaryDirectory(prefix="qwenapp-dq-") as tmp:
        profile = Path(tmp) / "profile"
        subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(pptx.parent), str(pptx)],
                       check=True, capture_output=True, timeout=300)
    pdf = pptx.with_suffix(".pdf")
    for old in pptx.parent.glob(f"{pptx.stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(pptx.with_suffix(""))],
                   check=True, capture_output=True, timeout=300)
    return sorted(pptx.parent.glob(f"{pptx.stem}-*.png"))


def contact_sheet(pngs: Sequence[Path], out: Path, width: int = 1200, cols: int = 3) -> Path:
    """The slides' PNGs tiled on one small image (palette PNG, for docs/decks/)."""
    from PIL import Image

    ims = [Image.open(p).convert("RGB") for p in pngs]
    w, h = ims[0].size
    gap = 8
    sheet = Image.new("RGB", (cols * w + (cols - 1) * gap,
                              -(-len(ims) // cols) * (h + gap) - gap), (200, 200, 200))
    for i, im in enumerate(ims):
        sheet.paste(im, ((i % cols) * (w + gap), (i // cols) * (h + gap)))
    scale = width / sheet.width
    sheet = sheet.resize((width, round(sheet.height * scale)), Image.Resampling.LANCZOS)
    sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    return out


async def report_passages(case: Case, backend: Any, folder: Path
                          ) -> tuple[list[Passage], list[Finding], str]:
    """A quick report on the case's files (cached per model in ``folder``): its passages,
    its verified sentences by section, its title."""
    from qwenapp.library import Library
    from qwenapp.reports import Finished, Report, ReportRequest, SourceTools, run_report
    from qwenapp.reports.runner import RunConfig
    from qwenapp.settings import load_settings
    from qwenapp.slides import findings_from_report, passages_from_report
    from qwenapp.store import open_db

    cached = folder / f"{case.id}-report.json"
    if cached.exists():
        report = Report.model_validate_json(cached.read_text(encoding="utf-8"))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="qwenapp-dq-report-"))
        try:
            settings = load_settings({**os.environ, "QWENAPP_HOME": str(tmp / "home")})
            conn = open_db(settings.db_path)
            docs = [str(CORPUS / f) for f in case.files]
            request = ReportRequest(question=case.report, docs=docs, depth="quick")
            found: Report | None = None
            t0 = time.perf_counter()
            async for ev in run_report(conn, backend, request, SourceTools(library=Library(conn)),
                                       config=RunConfig(parallel=1)):
                if isinstance(ev, Finished):
                    found = ev.report
            assert found is not None
            report = found
            print(f"  (report for {case.id} written in {time.perf_counter() - t0:.0f} s, "
                  "not counted)", file=sys.stderr)
            conn.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        cached.write_text(report.model_dump_json(), encoding="utf-8")
    return (passages_from_report(report), findings_from_report(report),
            case.topic or report.title)


def _what(options: Any) -> str:
    """Which stage a call belongs to, read from its schema's keys."""
    props = (options.json_schema or {}).get("properties", {})
    for key, name in (("slides", "outline"), ("lines", "shorten"), ("heads", "headings"),
                      ("take", "data")):
        if key in props:
            return name
    return "slide"


class Recorder:
    """The backend, with every call recorded: prompt tokens (and how many the engine's
    prompt cache served), generated tokens, time to the first token (mostly prompt
    evaluation) and the whole call. Where a deck's seconds go is read from these."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[dict[str, Any]] = []
        self.serial_jobs = getattr(inner, "serial_jobs", False)

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def context_length(self) -> int:
        return int(self.inner.context_length)

    @property
    def supports_thinking(self) -> bool:
        return bool(self.inner.supports_thinking)

    async def stream(self, messages: Any, options: Any) -> Any:
        from qwenapp.models.events import TextDelta, Usage

        t0 = time.perf_counter()
        first = None
        rec: dict[str, Any] = {"what": _what(options), "prompt": 0.0, "cached": 0.0,
                               "generated": 0.0, "ttft_s": 0.0, "s": 0.0,
                               "max_tokens": float(options.max_tokens or 0)}
        async for ev in self.inner.stream(messages, options):
            if first is None and isinstance(ev, TextDelta):
                first = time.perf_counter() - t0
            if isinstance(ev, Usage):
                rec.update(prompt=ev.prompt_tokens, cached=ev.cached_tokens,
                           generated=ev.completion_tokens)
            yield ev
        rec["ttft_s"] = first or 0.0
        rec["s"] = time.perf_counter() - t0
        self.calls.append(rec)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def summary(self, since: int = 0) -> dict[str, Any]:
        cs = self.calls[since:]
        kinds = sorted({c["what"] for c in cs})
        return {"calls": len(cs),
                # where the seconds go, by kind of call: calls, generated tokens, seconds
                "by_call": {k: [sum(1 for c in cs if c["what"] == k),
                                int(sum(c["generated"] for c in cs if c["what"] == k)),
                                round(sum(c["s"] for c in cs if c["what"] == k), 1)]
                            for k in kinds},
                "prompt_tokens": sum(c["prompt"] for c in cs),
                "cached_tokens": sum(c["cached"] for c in cs),
                "generated_tokens": sum(c["generated"] for c in cs),
                "prompt_s": round(sum(c["ttft_s"] for c in cs), 1),
                "generate_s": round(sum(c["s"] - c["ttft_s"] for c in cs), 1),
                "capped": sum(1 for c in cs if c["generated"] >= c["max_tokens"] > 0)}


def _event(ev: object) -> str:
    text = getattr(ev, "text", None)
    if callable(text):
        return str(text())
    name = type(ev).__name__
    fields = {k: getattr(ev, k) for k in getattr(ev, "__slots__", ())
              if k not in ("outline", "deck", "stats", "result")}
    return f"{name} {fields}"


async def run_case(case: Case, backend: Any, folder: Path, previews: bool,
                   verbose: bool) -> dict[str, Any]:
    passages: list[Passage] = []
    tables: list[DataTable] | None = None
    findings: list[Finding] = []
    topic = case.topic
    if case.report:
        passages, findings, topic = await report_passages(case, backend, folder)
    elif case.files:
        passages, tables = load_sources([CORPUS / f for f in case.files])
    request = DeckRequest(topic=topic, slides=case.slides, parallel=1, seed=0)
    offered = list(tables) if tables is not None else find_tables(passages=passages)
    allowed = extract_numbers(topic) | {v for p in passages for v in extract_numbers(p.text)}
    for t in offered:
        allowed |= table_numbers(t)
    from qwenapp.slides.tables import series_in_request
    series = series_in_request(topic)
    if series is not None:
        offered.insert(0, series)
        allowed |= table_numbers(series)
    numeric = sum(1 for t in offered if chart_or_table(t) is not None)
    out = folder / f"{case.id}.pptx"
    since = len(backend.calls) if isinstance(backend, Recorder) else 0
    t0 = time.perf_counter()
    try:
        built: DeckBuilt | None = None
        async for ev in build_deck(backend, request, out, theme=get_theme(case.theme),
                                   passages=passages, tables=tables, findings=findings):
            if isinstance(ev, DeckBuilt):
                built = ev
            elif verbose:
                print(f"  [{time.perf_counter() - t0:6.1f} s] {_event(ev)}", file=sys.stderr)
    except DeckError as e:
        return {"case": case.id, "note": case.note, "produced": False, "error": str(e),
                "seconds": round(time.perf_counter() - t0, 1)}
    total = time.perf_counter() - t0
    assert built is not None
    deck, stats = built.result.deck, built.result.stats
    (folder / f"{case.id}.json").write_text(deck.model_dump_json(indent=1), encoding="utf-8")
    pngs = export(out) if previews else []
    m = measure(deck, out, stats, allowed, case.slides, numeric, topic)
    return {"case": case.id, "note": case.note, "produced": True, **m,
            "seconds": round(total, 1), "model_s": round(stats.model_call_seconds, 1),
            "other_s": round(total - stats.model_call_seconds, 1), "calls": stats.calls,
            "retries": stats.retries, "tokens": stats.completion_tokens,
            "split": backend.summary(since) if isinstance(backend, Recorder) else {},
            "each_call": backend.calls[since:] if isinstance(backend, Recorder) else [],
            "pngs": [str(p) for p in pngs]}


def line(r: dict[str, Any]) -> str:
    if not r["produced"]:
        return f"{r['case']:<9} NO DECK after {r['seconds']:.0f} s: {r['error']}"
    least = r["least_fill"]
    return (f"{r['case']:<9} slides {r['slides_made']}/{r['slides_asked']}  simplified "
            f"{r['simplified']} replaced {r['replaced']} dropped {r['dropped']}  cut "
            f"{len(r['truncated'])} echo {len(r['heading_echoes'])} dup "
            f"{len(r['near_duplicates'])} samehead {len(r['same_headings'])} lang "
            f"{len(r['wrong_language'])}  kinds {len(r['kinds'])} "
            f"({','.join(r['content_kinds'])})  least fill {least[0]:.2f} ({least[1]})  "
            f"data {r['data_slides']}/{r['numeric_tables_offered']} offered "
            f"({r['tables_found']} found)  numbers {len(r['unsupported_numbers'])}  "
            f"{r['seconds']:.0f} s = model {r['model_s']:.0f} + other {r['other_s']:.1f} "
            f"({r['calls']} calls, {r['retries']} retries, {r['tokens']} tokens)"
            + _split(r.get("split") or {}))


def _split(sp: dict[str, float]) -> str:
    if not sp:
        return ""
    return (f"\n          model time: prompt {sp['prompt_s']:.0f} s ({sp['prompt_tokens']:.0f} "
            f"prompt tokens, {sp['cached_tokens']:.0f} from the cache) + generation "
            f"{sp['generate_s']:.0f} s ({sp['generated_tokens']:.0f} tokens; "
            f"{sp['capped']:.0f} calls hit max_tokens)"
            + "\n          by call (calls, tokens, s): " + json.dumps(sp.get("by_call", {})))


def details(r: dict[str, Any]) -> list[str]:
    out = []
    for key in ("truncated", "heading_echoes", "near_duplicates", "same_headings",
                "wrong_language", "unsupported_numbers"):
        if r.get(key):
            out.append(f"    {key}: {json.dumps(r[key], ensure_ascii=False)[:400]}")
    return out


def totals(model: str, rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    made = [r for r in rs if r["produced"]]

    def tot(key: str) -> int:
        return sum(len(r[key]) if isinstance(r[key], list) else r[key] for r in made)

    return {
        "model": model, "decks": f"{len(made)}/{len(rs)}",
        "slides": f"{sum(r['slides_made'] for r in made)}/"
                  f"{sum(r['slides_asked'] for r in made)}",
        "simplified": tot("simplified"), "replaced": tot("replaced"), "dropped": tot("dropped"),
        "truncated": tot("truncated"), "heading_echoes": tot("heading_echoes"),
        "near_duplicates": tot("near_duplicates"), "same_headings": tot("same_headings"),
        "wrong_language": tot("wrong_language"),
        "min_kinds_8plus": min((len(r["kinds"]) for r in made if r["slides_asked"] >= 8),
                               default=0),
        "least_fill": min((r["least_fill"][0] for r in made), default=0.0),
        "data": f"{tot('data_slides')}/{tot('numeric_tables_offered')}",
        "unsupported_numbers": tot("unsupported_numbers"),
        "seconds": round(sum(r["seconds"] for r in rs), 1),
        "model_s": round(sum(r.get("model_s", 0) for r in rs), 1),
        "other_s": round(sum(r.get("other_s", 0) for r in rs), 1),
        "prompt_s": round(sum((r.get("split") or {}).get("prompt_s", 0) for r in rs), 1),
        "generate_s": round(sum((r.get("split") or {}).get("generate_s", 0) for r in rs), 1),
        "generated_tokens": sum((r.get("split") or {}).get("generated_tokens", 0) for r in rs),
        "en_topic_8_s": next((r["seconds"] for r in made if r["case"] == "en-topic"), None),
    }


async def run_model(model: str, cases: Sequence[Case], previews: bool, verbose: bool
                    ) -> list[dict[str, Any]]:
    from qwenapp.models.resolve import resolve_backend
    from qwenapp.settings import load_settings

    folder = OUT / Path(model).name.removesuffix(".gguf")
    folder.mkdir(parents=True, exist_ok=True)
    inner = resolve_backend(model, load_settings())
    load = getattr(inner, "load", None)
    backend = Recorder(inner)
    t = time.perf_counter()
    if callable(load):
        await asyncio.to_thread(load)
    print(f"# {Path(model).name}: loaded in {time.perf_counter() - t:.1f} s (not counted); "
          f"{platform.machine()}, {os.cpu_count()} CPUs", file=sys.stderr)
    results = []
    try:
        for case in cases:
            r = await run_case(case, backend, folder, previews, verbose)
            results.append(r)
            print(line(r), file=sys.stderr)
            for d in details(r):
                print(d, file=sys.stderr)
    finally:
        await backend.aclose()
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help=f"a .gguf path, catalogue name or endpoint (default {DEFAULT})")
    ap.add_argument("--both", action="store_true", help="run the 0.5B, then the 1.5B")
    ap.add_argument("--only", action="append", help="a case id (repeatable)")
    ap.add_argument("--no-previews", action="store_true", help="no PDF/PNG previews")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--sheets", type=Path, help="tile each deck's PNGs into DIR/MODEL-CASE.png")
    ap.add_argument("-v", "--verbose", action="store_true", help="print progress events")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.only or c.id in args.only]
    models = [str(SMALL), str(DEFAULT)] if args.both else [args.model or str(DEFAULT)]
    everything = []
    for m in models:
        rs = asyncio.run(run_model(m, cases, not args.no_previews, args.verbose))
        name = Path(m).name
        if args.sheets:
            args.sheets.mkdir(parents=True, exist_ok=True)
            short = name.removeprefix("qwen2.5-coder-").split("-instruct")[0]
            for r in rs:
                if r.get("pngs"):
                    contact_sheet([Path(p) for p in r["pngs"]],
                                  args.sheets / f"{short}-{r['case']}.png")
        print(f"\n== {name}: {len(cases)} requests; {platform.machine()}, {os.cpu_count()} CPUs "
              f"(decks in {OUT.relative_to(ROOT)}/)")
        for r in rs:
            print(line(r))
            for d in details(r):
                print(d)
        t = totals(name, rs)
        print("TOTAL " + json.dumps(t, ensure_ascii=False))
        everything.append({"model": name, "results": rs, "totals": t})
    if args.json:
        args.json.write_text(json.dumps(everything, ensure_ascii=False, indent=1),
                             encoding="utf-8")


if __name__ == "__main__":
    main()
