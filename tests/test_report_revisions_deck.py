""""Make slides" from a revised report, through the API with scripted models: the deck
presents the version the report job holds now (its sections, its verified sentences, its
sources), not the first draft; going back to version 1 makes the next deck from it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.scripts import extractive_model
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import Reply, ScriptedModel, load_script
from qwenapp.reports.prompts import FRAME_SYSTEM, SECTION_SYSTEM
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server, parse_sse, write_demo_script
from qwenapp.settings import load_settings

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
PLAN = {"title": "Why developers adopt Qwen", "sections": [
    {"heading": "Licensing", "questions": ["Which license do Qwen models use?"]},
    {"heading": "Running locally", "questions": ["Can Qwen run on a CPU with GGUF?"]}]}
REPORT = ("You plan research reports", SECTION_SYSTEM, FRAME_SYSTEM)


def _model(script: Path) -> ScriptedModel:
    """Reports written extractively (each sentence is a fact of its passages, so every
    section is verified), decks and everything else by the demo script's rules."""
    writer, deck = extractive_model(PLAN)._responder, load_script(str(script))._responder
    assert writer is not None and deck is not None

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
        if messages[0].content.startswith(REPORT):
            return writer(messages, options)
        return deck(messages, options)

    return ScriptedModel(responder=respond)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    model = _model(write_demo_script(home / "script.json", deck_slides=5))
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    app = create_app(load_settings({"QWENAPP_HOME": str(home)}), [model], config)
    with live_server(app) as url, api_client(url, timeout=120) as api:
        for name in ("qwen_adoption.md", "local_inference.txt"):
            r = api.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())})
            assert r.status_code == 201, r.text
        yield {"api": api, "model": model}


def _finish(api: httpx.Client, job: str) -> None:
    with api.stream("GET", f"/api/jobs/{job}/events") as s:
        events = list(parse_sse(s.iter_lines()))
    assert events[-1].event == "done", events[-1]


def _deck(world: dict[str, Any], report_job: str) -> tuple[str, str]:
    """A deck made from ``report_job``: (its deck.json as text, every prompt it sent)."""
    api, model = world["api"], world["model"]
    before = len(model.calls)
    r = api.post("/api/jobs", json={"kind": "deck", "from_job": report_job, "slides": 5})
    assert r.status_code == 202, r.text
    _finish(api, r.json()["id"])
    deck = api.get(f"/api/jobs/{r.json()['id']}/artifacts/deck.json")
    assert deck.status_code == 200, deck.text
    prompts = "\n".join(m.content for c in model.calls[before:] for m in c.messages)
    return json.dumps(deck.json(), ensure_ascii=False), prompts


def _sentences(report: dict[str, Any], heading: str) -> list[str]:
    section = next(s for s in report["sections"] if s["heading"] == heading)
    return [x["text"] for x in section["sentences"]]


def test_a_deck_from_a_revised_report_presents_the_revision(world: dict[str, Any]) -> None:
    api = world["api"]
    r = api.post("/api/jobs", json={"kind": "report", "depth": "quick",
                                    "question": "What drove Qwen's adoption among developers?"})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    _finish(api, job)
    first = api.get(f"/api/jobs/{job}/versions/1").json()["report"]
    gone = _sentences(first, "Running locally")
    assert gone
    deck1, prompts1 = _deck(world, job)
    assert "Running locally" in prompts1  # the first draft's section reaches the deck

    r = api.post(f"/api/jobs/{job}/revisions", json={"request": "remove section 2"})
    assert r.status_code == 200 and r.json()["outcome"] == "revised", r.text
    second = api.get(f"/api/jobs/{job}/versions/2").json()["report"]
    assert [s["heading"] for s in second["sections"]] == ["Licensing"]
    kept = _sentences(second, "Licensing")
    deck2, prompts2 = _deck(world, job)
    # The deck is made from version 2: its section, and nothing of the removed one.
    assert "Running locally" not in prompts2 and "Running locally" not in deck2
    assert not any(x.strip("“”\" ")[:40] in prompts2 for x in gone)
    assert any(x.strip("“”\" ")[:40] in prompts2 + deck2 for x in kept), prompts2[-2000:]
    assert deck1 != deck2

    # Back to version 1: the next deck presents it again.
    r = api.post(f"/api/jobs/{job}/versions/1/restore")
    assert r.status_code == 200, r.text
    _, prompts3 = _deck(world, job)
    assert "Running locally" in prompts3
