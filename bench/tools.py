"""Tool-use benchmark: 20 fixed prompts, every built-in tool offered, one run per model.

Prints, measured in this run on the same engine and threads:

* **accuracy**: the share of prompts whose first model round is a valid call to the
  right tool with correct arguments (checked by meaning: the calculator's expression
  must evaluate to the right number, a conversion must give the right quantity, a
  search query must hold the key word...); also the share right in any round;
* **rounds**: model calls per turn (a tool turn needs at least 2: the call, the answer);
* **seconds**: the whole tool turn against the lower bound, the same prompt answered
  plainly with no tools offered (one model call, no tool list in the prompt); the
  difference is what a tool round costs.

The tools are the chat's: calculator, convert_units and current_time are the real
ones; library_search, web_search, fetch_url return canned text (no library, no
network), and write_report / make_deck are the real tools on a launcher that only
records (no job runs). Sampling is greedy (temperature 0, seed 0).

Usage (take the model lock): ``flock /tmp/qwenapp-model.lock python bench/tools.py
[--model NAME_OR_PATH ...] [--limit N]``. Default: both coder catalogue models.
Writes ``bench/out/tools-MODEL.json`` with every turn.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from benchmodel import resolve_model

from qwenapp.models.embedded import EmbeddedBackend, default_threads
from qwenapp.models.events import (
    GenerateOptions,
    Message,
    TextDelta,
    Usage,
)
from qwenapp.tools import FunctionTool, ToolBox, ToolFinished, ToolStarted, run_with_tools
from qwenapp.tools.calculator import calculator_tool, convert, evaluate, unit_tool
from qwenapp.tools.clock import clock_tool
from qwenapp.tools.jobs import JobTicket, deck_tool, report_tool
from qwenapp.tools.library_search import library_tool
from qwenapp.tools.web import fetch_tool, search_tool

MODELS = ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct")
OPTIONS = GenerateOptions(temperature=0.0, seed=0, max_tokens=200)

Check = Callable[[Mapping[str, Any]], bool]


def _number(expr: object, want: float, rel: float = 1e-6) -> bool:
    try:
        got = float(evaluate(str(expr)))
    except Exception:
        return False
    return abs(got - want) <= rel * max(1.0, abs(want))


def _converts(want: float, rel: float = 2e-3) -> Check:
    def check(a: Mapping[str, Any]) -> bool:
        try:
            got = float(convert(Fraction(str(a["value"])), str(a["from_unit"]),
                                str(a["to_unit"])))
        except Exception:
            return False
        return abs(got - want) <= rel * abs(want)
    return check


def _has(key: str, *words: str) -> Check:
    return lambda a: all(w.lower() in str(a.get(key, "")).lower() for w in words)


def _zone(*names: str) -> Check:
    return lambda a: str(a.get("timezone", "")).strip() in names


def _calc(want: float) -> Check:
    return lambda a: _number(a.get("expression"), want)


# (prompt, the right tool, a check of its arguments)
PROMPTS: list[tuple[str, str, Check]] = [
    ("What is 1234 × 5678?", "calculator", _calc(7006652)),
    ("What is 17% of 2,340?", "calculator", _calc(397.8)),
    ("Compute (3.5 + 4.25) * 12.", "calculator", _calc(93)),
    ("What is the square root of 2025?", "calculator", _calc(45)),
    ("How much is 2 to the power of 20?", "calculator", _calc(1048576)),
    ("Divide 987654 by 321.", "calculator", _calc(987654 / 321)),
    ("Convert 26.2 miles to kilometres.", "convert_units", _converts(42.1648)),
    ("How many pounds is 70 kg?", "convert_units", _converts(154.324)),
    ("What is 100 °F in Celsius?", "convert_units", _converts(37.7778)),
    ("How many litres are in 5 US gallons?", "convert_units", _converts(18.9271)),
    ("What time is it in Tokyo right now?", "current_time", _zone("Asia/Tokyo")),
    ("What's today's date?", "current_time", lambda a: True),
    ("What day of the week is it in New York now?", "current_time",
     _zone("America/New_York")),
    ("Search my documents for the refund policy.", "library_search", _has("query", "refund")),
    ("What do my notes say about the Q3 budget?", "library_search", _has("query", "budget")),
    ("Search the web for the latest llama.cpp release.", "web_search",
     _has("query", "llama.cpp")),
    ("Look up recent news about the Qwen3 release on the web.", "web_search",
     _has("query", "qwen3")),
    ("Read https://example.org/pricing and summarise it.", "fetch_url",
     lambda a: str(a.get("url", "")).rstrip("/") == "https://example.org/pricing"),
    ("Write a research report on solar panel efficiency.", "write_report",
     _has("question", "solar")),
    ("Make a slide deck about our onboarding process.", "make_deck", _has("topic", "onboarding")),
]


class RecordingLauncher:
    """Starts nothing: what a job tool would have started, with a plausible ticket."""

    def __init__(self) -> None:
        self.started: list[tuple[str, str]] = []

    async def start_report(self, question: str, depth: str) -> JobTicket:
        self.started.append(("report", question))
        return JobTicket("01BENCHREPORT", "report", question, "/api/jobs/01BENCHREPORT")

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        self.started.append(("deck", topic))
        return JobTicket("01BENCHDECK", "deck", topic, "/api/jobs/01BENCHDECK")


def _canned(tool: FunctionTool, text: str) -> FunctionTool:
    async def answer(args: Mapping[str, Any]) -> str:
        return text
    return FunctionTool(tool.spec, answer, timeout=5.0)


def toolbox() -> ToolBox:
    none = cast(Any, None)
    fetcher = cast(Any, SimpleNamespace(policy=SimpleNamespace(timeout=20.0)))
    launcher = RecordingLauncher()
    return ToolBox([
        calculator_tool(), unit_tool(), clock_tool(),
        _canned(library_tool(none), "[1] Handbook (p. 4)\nRefunds are paid within 14 days. "
                "The Q3 budget is 120,000 EUR."),
        _canned(fetch_tool(fetcher), "Pricing (https://example.org/pricing)\n\nBasic 5 EUR, "
                "Pro 20 EUR a month."),
        _canned(search_tool(none), "[1] Release notes\nhttps://example.org/notes\nThe latest "
                "release came out this week."),
        report_tool(launcher), deck_tool(launcher),
    ])


@dataclass
class Turn:
    prompt: str
    expected: str
    first_calls: list[dict[str, Any]] = field(default_factory=list)
    first_errors: int = 0  # unreadable calls, any round
    repeats: int = 0  # calls identical to an earlier one of the turn (not run again)
    first_right: bool = False
    any_right: bool = False
    rounds: int = 0
    seconds: float = 0.0
    first_round_seconds: float = 0.0
    plain_seconds: float = 0.0
    answer: str = ""
    tokens: int = 0


class Counting:
    """The backend, counting its model calls (a tool turn's rounds)."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self.backend = backend
        self.calls = 0

    def stream(self, messages: Any, options: GenerateOptions) -> Any:
        self.calls += 1
        return self.backend.stream(messages, options)


async def tool_turn(backend: EmbeddedBackend, box: ToolBox, prompt: str, expected: str,
                    check: Check) -> Turn:
    turn = Turn(prompt, expected)
    messages = [Message("user", prompt)]
    counting = Counting(backend)
    started = time.perf_counter()
    ran: set[str] = set()
    first_done: float | None = None
    text: list[str] = []
    async for ev in run_with_tools(cast(Any, counting), messages, OPTIONS, box):
        if isinstance(ev, ToolStarted):
            ran.add(ev.call.id)
            ok = ev.call.name == expected and check(ev.call.arguments)
            if ev.round == 1:
                turn.first_calls.append({"name": ev.call.name,
                                         "arguments": dict(ev.call.arguments),
                                         "repaired": ev.call.repaired})
                turn.first_right = turn.first_right or ok
                if first_done is None:
                    first_done = time.perf_counter()
            turn.any_right = turn.any_right or ok
        elif isinstance(ev, ToolFinished) and ev.error:
            if ev.content.startswith("you already called"):
                turn.repeats += 1
            elif ev.content.endswith("with the arguments as one JSON object."):
                turn.first_errors += 1  # a call that could not be read
        elif isinstance(ev, TextDelta):
            text.append(ev.text)
        elif isinstance(ev, Usage):
            turn.tokens = ev.completion_tokens
    turn.seconds = time.perf_counter() - started
    turn.first_round_seconds = (first_done or time.perf_counter()) - started
    turn.rounds = counting.calls
    turn.answer = "".join(text).strip()
    return turn


async def plain_seconds(backend: EmbeddedBackend, prompt: str) -> float:
    started = time.perf_counter()
    async for _ev in backend.stream([Message("user", prompt)], OPTIONS):
        pass
    return time.perf_counter() - started


async def run_model(path: Path, limit: int) -> tuple[list[Turn], float]:
    t0 = time.perf_counter()
    backend = EmbeddedBackend(path, context=8192, parallel=1)
    box = toolbox()
    turns: list[Turn] = []
    try:
        await plain_seconds(backend, "Hello")  # load and warm the engine (not counted)
        load = time.perf_counter() - t0
        for prompt, expected, check in PROMPTS[:limit]:
            turn = await tool_turn(backend, box, prompt, expected, check)
            turn.plain_seconds = await plain_seconds(backend, prompt)
            turns.append(turn)
            mark = "ok " if turn.first_right else ("ok2" if turn.any_right else "NO ")
            calls = ", ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})"
                              for c in turn.first_calls) or "(no call)"
            print(f"  {mark} {turn.seconds:5.1f}s vs {turn.plain_seconds:4.1f}s plain, "
                  f"{turn.rounds} calls | {prompt[:44]:44} -> {calls[:90]}", flush=True)
    finally:
        await box.aclose()
        await backend.aclose()
    return turns, load


def summary(name: str, turns: list[Turn], load: float) -> dict[str, Any]:
    n = len(turns)
    extra = [t.seconds - t.plain_seconds for t in turns]
    return {
        "model": name, "prompts": n, "load_seconds": round(load, 1),
        "first_round_accuracy": sum(t.first_right for t in turns) / n,
        "any_round_accuracy": sum(t.any_right for t in turns) / n,
        "unreadable_calls": sum(t.first_errors for t in turns),
        "repeated_calls": sum(t.repeats for t in turns),
        "model_calls_per_turn": statistics.mean(t.rounds for t in turns),
        "tool_turn_seconds_median": statistics.median(t.seconds for t in turns),
        "plain_seconds_median": statistics.median(t.plain_seconds for t in turns),
        "extra_seconds_median": statistics.median(extra),
        "first_round_seconds_median": statistics.median(t.first_round_seconds for t in turns),
        "tool_turn_seconds_total": sum(t.seconds for t in turns),
        "plain_seconds_total": sum(t.plain_seconds for t in turns),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", help="catalogue name or .gguf (repeatable)")
    ap.add_argument("--limit", type=int, default=len(PROMPTS), help="first N prompts only")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{default_threads()} engine threads, Python {platform.python_version()}")
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    rows = []
    for spec in args.model or MODELS:
        path = resolve_model(spec)
        print(f"\n{path.name}", flush=True)
        turns, load = asyncio.run(run_model(path, args.limit))
        row = summary(path.stem, turns, load)
        rows.append(row)
        (out_dir / f"tools-{path.stem}.json").write_text(json.dumps(
            {"summary": row, "turns": [t.__dict__ for t in turns]}, ensure_ascii=False,
            indent=1), encoding="utf-8")
    print("\nmodel                                  right(1st) right(any) calls/turn "
          "tool-turn s  plain s  extra s (medians)")
    for r in rows:
        print(f"{r['model'][:38]:38} {r['first_round_accuracy']:9.0%} "
              f"{r['any_round_accuracy']:10.0%} {r['model_calls_per_turn']:10.2f} "
              f"{r['tool_turn_seconds_median']:11.1f} {r['plain_seconds_median']:8.1f} "
              f"{r['extra_seconds_median']:8.1f}")


if __name__ == "__main__":
    main()
