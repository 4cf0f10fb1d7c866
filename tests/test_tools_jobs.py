"""``write_report`` and ``make_deck`` as chat tools: their arguments, and ``qwenapp chat``
starting the real ``qwenapp slides`` / ``qwenapp report`` in the background (the files they
write appear after the chat has exited), asking first, and failing plainly without sources."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from conftest import qwenapp_cmd
from qwenapp.models.events import ToolCall
from qwenapp.server.testing import write_demo_script
from qwenapp.tools import ToolBox
from qwenapp.tools.builtin import builtin_toolbox
from qwenapp.tools.jobs import JobTicket, deck_tool, report_tool

RULES = [
    {"contains": "library is empty", "reply": "I cannot: your library is empty."},
    {"contains": "did not allow", "reply": "Not started, as you wished."},
    {"contains": "Started the slide deck", "reply": "Your deck is being made."},
    {"contains": "Started the research report", "reply": "Your report is being written."},
    {"contains": "slides about tea", "reply": {"tool_calls": [
        {"name": "make_deck", "arguments": {"topic": "Tea at work", "slides": 3}}]}},
    {"contains": "report on qwen", "reply": {"tool_calls": [
        {"name": "write_report", "arguments": {"question": "Why do developers adopt Qwen?",
                                               "depth": "quick"}}]}},
]


class Recorder:
    def __init__(self) -> None:
        self.started: list[tuple[str, str, Any]] = []

    async def start_report(self, question: str, depth: str) -> JobTicket:
        self.started.append(("report", question, depth))
        return JobTicket("J1", "report", question, "/jobs/J1")

    async def start_deck(self, topic: str, slides: int) -> JobTicket:
        self.started.append(("deck", topic, slides))
        return JobTicket("J2", "deck", topic, "/jobs/J2")


def _run(box: ToolBox, name: str, args: Mapping[str, Any]) -> Any:
    return asyncio.run(box.execute(ToolCall("c1", name, args)))


def test_the_job_tools_check_their_arguments_and_return_the_ticket() -> None:
    rec = Recorder()
    box = ToolBox([report_tool(rec), deck_tool(rec)])
    assert all(box.get(n).side_effects for n in ("write_report", "make_deck"))  # type: ignore[union-attr]
    ok = _run(box, "write_report", {"question": "Why Qwen?"})
    assert not ok.error and "job J1" in ok.content and ok.data["job"]["link"] == "/jobs/J1"
    assert rec.started == [("report", "Why Qwen?", "quick")]
    assert _run(box, "write_report", {"question": "Q", "depth": "huge"}).error
    assert _run(box, "write_report", {"question": "  "}).error
    _run(box, "make_deck", {"topic": "Tea", "slides": 99})
    assert rec.started[-1] == ("deck", "Tea", 20)  # clamped
    assert _run(box, "make_deck", {"topic": "Tea", "slides": "many"}).error
    with pytest.raises(Exception, match="needs somewhere to run jobs"):
        builtin_toolbox(["make_deck"])


def _env(home: Path, cli_env: dict[str, str]) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {**cli_env, "COLUMNS": "300"}


def _chat(env: dict[str, str], model: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([*qwenapp_cmd(), "chat", "-m", model, "--json", *args], env=env,
                          text=True, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def _wait_file(path: Path, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, log.read_text() if log.exists() else "no log"
        time.sleep(0.3)


def test_chat_starts_a_deck_in_the_background(home: Path, cli_env: dict[str, str]) -> None:
    env = _env(home, cli_env)
    script = write_demo_script(home / "script.json", deck_topic="Tea at work", deck_slides=3,
                               extra_rules=RULES)
    model = f"scripted:{script}"
    refused = _chat(env, model, "--tool", "make_deck", "make slides about tea")
    assert refused["tool_calls"][0]["error"] and "did not allow" in \
        refused["tool_calls"][0]["result"]  # no terminal to ask on, no --yes: refused
    assert not (home / "jobs").exists()
    data = _chat(env, model, "--tool", "make_deck", "--yes", "make slides about tea")
    [call] = data["tool_calls"]
    assert call["name"] == "make_deck" and not call["error"], call
    assert data["content"] == "Your deck is being made."
    found = re.search(r"it will be at (\S+\.pptx)", call["result"])
    assert found, call["result"]
    deck = Path(found.group(1))
    assert deck.parent.parent == home / "jobs"
    _wait_file(deck, deck.parent / "log.txt")  # made after the chat has exited
    assert deck.read_bytes()[:2] == b"PK"


def test_chat_starts_a_report_only_with_sources(home: Path, cli_env: dict[str, str]) -> None:
    env = _env(home, cli_env)
    script = write_demo_script(home / "script.json", extra_rules=RULES)
    model = f"scripted:{script}"
    empty = _chat(env, model, "--tool", "write_report", "--yes", "write a report on qwen")
    assert empty["tool_calls"][0]["error"] and "library is empty" in \
        empty["tool_calls"][0]["result"]
    notes = home / "qwen_adoption.md"
    notes.write_text("# Qwen adoption\n\nQwen models are released under the Apache 2.0 "
                     "license. They run on ordinary CPUs in GGUF form.\n", encoding="utf-8")
    added = subprocess.run([*qwenapp_cmd(), "docs", "add", str(notes)], env=env, text=True,
                           capture_output=True, timeout=120)
    assert added.returncode == 0, added.stderr
    data = _chat(env, model, "--tool", "write_report", "--yes", "write a report on qwen")
    [call] = data["tool_calls"]
    assert not call["error"], call
    report = Path(re.search(r"it will be at (\S+\.md)", call["result"]).group(1))  # type: ignore[union-attr]
    _wait_file(report, report.parent / "log.txt")
    assert "Apache 2.0" in report.read_text(encoding="utf-8")
