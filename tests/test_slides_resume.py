"""Decks run the way reports run: each stage is saved, and an interrupted deck resumes.

In process: a run that dies mid-way (the model fails after some calls) leaves
its stages; a second run with the same store reuses them and makes only the
rest. Then the real thing: a server killed mid-job (no graceful shutdown)
and started again finishes the deck from its saved stages.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from conftest import qwenapp_cmd
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server.testing import api_client, parse_sse, serve_process, write_demo_script
from qwenapp.slides import (
    DeckGenerated,
    DeckRequest,
    DirStages,
    StageReused,
    generate_deck,
)
from qwenapp.slides.scripted import deck_responder


class Dies(ScriptedModel):
    """Answers like the deck responder, then fails (as a killed process would) at call N."""

    def __init__(self, after: int) -> None:
        inner = deck_responder()
        self.after = after

        def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
            if len(self.calls) > self.after:
                raise RuntimeError("the machine lost power")
            return inner(messages, options)

        super().__init__(responder=respond)


async def _events(model: ScriptedModel, stages: DirStages) -> list[Any]:
    return [ev async for ev in generate_deck(model, DeckRequest("Qwen adoption", slides=8,
                                                                parallel=1), stages=stages)]


def test_an_interrupted_deck_resumes_from_its_saved_stages(tmp_path: Path) -> None:
    stages = DirStages(tmp_path / "stages")
    first = Dies(after=3)  # the outline and two slides, then the failure
    try:
        asyncio.run(_events(first, stages))
        raise AssertionError("the first run should have failed")
    except RuntimeError:
        pass
    saved = sorted(p.name for p in (tmp_path / "stages").iterdir())
    assert "outline.json" in saved and "draft-0.json" in saved and "draft-1.json" in saved

    second = ScriptedModel(responder=deck_responder())
    events = asyncio.run(_events(second, stages))
    reused = [e.stage for e in events if isinstance(e, StageReused)]
    assert "outline" in reused and "draft:0" in reused and "draft:1" in reused
    deck = events[-1].deck if isinstance(events[-1], DeckGenerated) else None
    assert deck is not None and len(deck.slides) == 8
    # only the missing slides were asked for: 5 content slides, 2 done before the failure
    assert len(second.calls) == 3
    fresh = ScriptedModel(responder=deck_responder())
    whole = asyncio.run(_events(fresh, DirStages(tmp_path / "other")))
    assert whole[-1].deck == deck  # the resumed deck is the deck an unbroken run makes


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", QWENAPP_PARALLEL="1")
    return env


def _events_until(api: httpx.Client, job_id: str, event: str, count: int) -> None:
    seen = 0
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=60) as r:
        for ev in parse_sse(r.iter_lines()):
            seen += ev.event == event
            if seen >= count:
                return
    raise AssertionError(f"fewer than {count} {event} events")


def test_a_deck_job_resumes_after_a_real_server_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = write_demo_script(home / "script.json", deck_slides=8, delay=0.02)
    args = ["-m", f"scripted:{script}", "--log-level", "warning"]
    server = serve_process(qwenapp_cmd(), _env(home), args=args)
    try:
        with api_client(server.url) as api:
            job = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                              "slides": 8}).json()
            _events_until(api, job["id"], "slide_written", 2)
    finally:
        server.stop(kill=True)  # no graceful shutdown: as if the machine lost power
    server = serve_process(qwenapp_cmd(), _env(home), args=args)
    try:
        with api_client(server.url) as api:
            with api.stream("GET", f"/api/jobs/{job['id']}/events", timeout=120) as r:
                events = list(parse_sse(r.iter_lines()))
            kinds = [e.event for e in events]
            assert kinds[-1] == "done", kinds
            assert "resuming" in kinds
            reused = [e.data["stage"] for e in events if e.event == "stage_reused"]
            assert "outline" in reused and "draft:0" in reused and "draft:1" in reused
            done = api.get(f"/api/jobs/{job['id']}").json()
            assert done["status"] == "done"
            assert "deck.pptx" in {a["name"] for a in done["artifacts"]}
            result = next(e.data for e in events if e.event == "result")
            assert result["slides"] == 8
    finally:
        server.stop()
