"""The chat box's Research and Slides modes through the API: clarifying questions, jobs
shown in the conversation they were started from, a deck made from a finished report,
report data for the citation viewer, and chat citations that survive a reload."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwenapp.models.scripted import ScriptedModel, load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, chat, live_server, parse_sse, write_demo_script
from qwenapp.settings import load_settings

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    script = write_demo_script(home / "script.json", deck_slides=5)
    model = load_script(str(script))
    broken = ScriptedModel(replies=["not json at all"], name="broken")
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [model, broken], config)) as url, \
            api_client(url, timeout=120) as api:
        yield {"api": api, "model": model}


def _upload(api: httpx.Client, name: str) -> str:
    r = api.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _finish(api: httpx.Client, job_id: str) -> dict[str, Any]:
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=120) as r:
        events = list(parse_sse(r.iter_lines()))
    assert events[-1].event == "done", events[-1]
    job: dict[str, Any] = api.get(f"/api/jobs/{job_id}").json()
    return job


def test_clarifying_questions_from_the_model(world: dict[str, Any]) -> None:
    api = world["api"]
    r = api.post("/api/clarify", json={"kind": "report", "text": "Why do developers adopt Qwen?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "model" and body["language"] == "en"
    assert body["questions"] == [{"question": "Which aspect matters most to you?",
                                  "options": ["Licensing", "Local use", "Cost"]}]


def test_clarifying_questions_fall_back_when_the_model_cannot_help(world: dict[str, Any]
                                                                   ) -> None:
    api = world["api"]
    r = api.post("/api/clarify", json={"kind": "deck", "text": "开源模型的发展", "model": "broken"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "default" and body["language"] == "zh"
    assert body["questions"] and all(any("\u4e00" <= ch <= "\u9fff" for ch in q["question"])
                                     for q in body["questions"])


def test_bad_clarify_requests(world: dict[str, Any]) -> None:
    api = world["api"]
    for bad in ({"kind": "poem", "text": "x"}, {"kind": "report", "text": ""},
                {"kind": "report", "text": "x" * 2001}, {"kind": "report"}):
        r = api.post("/api/clarify", json=bad)
        assert r.status_code == 400, (bad, r.text)
        assert "Traceback" not in r.text
    r = api.post("/api/clarify", json={"kind": "report", "text": "q", "model": "nope"})
    assert r.status_code in (400, 404)


def test_a_report_in_a_conversation_with_answers_then_a_deck_from_it(
        world: dict[str, Any]) -> None:
    api, model = world["api"], world["model"]
    doc = _upload(api, "qwen_adoption.md")
    conv = api.post("/api/conversations", json={"title": "Why Qwen?"}).json()
    chat(api, conv["id"], "hello first")
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    leaf = detail["thread"][-1]
    before = len(model.calls)
    r = api.post("/api/jobs", json={
        "kind": "report", "question": "Why do developers adopt Qwen?", "depth": "quick",
        "document_ids": [doc], "conversation_id": conv["id"],
        "clarifications": [{"question": "Which aspect matters most to you?",
                            "answer": "Licensing for startups"},
                           {"question": "Anything else?", "answer": ""}],
        "audience": "startup founders"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["conversation_id"] == conv["id"] and job["after_message_id"] == leaf
    done = _finish(api, job["id"])
    # The answers reached the model's prompts as the user's notes (empty ones dropped).
    prompts = [m.content for c in model.calls[before:] for m in c.messages]
    assert any("Which aspect matters most to you?: Licensing for startups" in p
               for p in prompts), prompts[:3]
    assert not any("Anything else?" in p for p in prompts)
    # report.json: the data behind the citation viewer, with upload names, no server paths.
    names = {a["name"] for a in done["artifacts"]}
    assert {"report.md", "report.html", "report.docx", "report.json"} <= names
    data = api.get(f"/api/jobs/{job['id']}/artifacts/report.json").json()
    ref = data["references"][0]
    passage = next(p for p in data["passages"] if p["id"] == ref["passage_id"])
    assert ref["locator"] == "qwen_adoption.md" and passage["text"]
    assert str(Path.home()) not in json.dumps(data)
    # The conversation lists its job, after the message it followed.
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    assert [j["id"] for j in detail["jobs"]] == [job["id"]]
    assert detail["jobs"][0]["status"] == "done"

    # A deck presenting that report, in the same conversation.
    before = len(model.calls)  # before the job exists: it starts at once
    r = api.post("/api/jobs", json={"kind": "deck", "from_job": job["id"], "slides": 5,
                                    "conversation_id": conv["id"]})
    assert r.status_code == 202, r.text
    deck = r.json()
    assert deck["title"] == "Deck from a report"
    deck_done = _finish(api, deck["id"])
    assert deck_done["result"]["slides"] == 5
    prompts = [m.content for c in model.calls[before:] for m in c.messages]
    assert any("qwen_adoption.md" in p for p in prompts)  # the report's sources, by name
    assert any("Why developers adopt Qwen" in p for p in prompts)  # the report's title
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    assert [j["id"] for j in detail["jobs"]] == [job["id"], deck["id"]]
    # The deck as data, and the next turn of the conversation sees it (and the report).
    data = api.get(f"/api/jobs/{deck['id']}/artifacts/deck.json").json()
    assert len(data["slides"]) == 5
    chat(api, conv["id"], "Rewrite the bullets of slide 2.")
    system = model.calls[-1].messages[0].content
    assert "=== DECK: Deck from a report ===" in system
    assert f"## Slide 2: {data['slides'][1]['title']}" in system
    assert "=== REPORT: Why do developers adopt Qwen? ===" in system
    assert system.index("=== DECK:") < system.index("=== REPORT:")  # newest first


def test_bad_links_and_sources(world: dict[str, Any]) -> None:
    api = world["api"]
    conv = api.post("/api/conversations", json={}).json()
    other = api.post("/api/conversations", json={}).json()
    chat(api, other["id"], "in the other one")
    other_msg = api.get(f"/api/conversations/{other['id']}").json()["thread"][-1]
    base = {"kind": "report", "question": "q", "allow_uncited": True}
    cases = [
        ({**base, "conversation_id": "01NOSUCHCONVERSATION0000000"}, 404),
        ({**base, "conversation_id": conv["id"], "after_message_id": other_msg}, 404),
        ({**base, "after_message_id": other_msg}, 400),
        ({"kind": "deck", "from_job": "01NOSUCHJOB0000000000000000", "slides": 5}, 404),
        ({**base, "clarifications": [{"question": "q" * 301, "answer": "a"}]}, 400),
    ]
    for body, status in cases:
        r = api.post("/api/jobs", json=body)
        assert r.status_code == status, (body, r.text)
    # A deck job is not a report; an unfinished report cannot be presented yet.
    deck = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                       "slides": 5}).json()
    r = api.post("/api/jobs", json={"kind": "deck", "from_job": deck["id"], "slides": 5})
    assert r.status_code == 404
    _finish(api, deck["id"])


def test_deleting_the_conversation_keeps_its_jobs(world: dict[str, Any]) -> None:
    api = world["api"]
    conv = api.post("/api/conversations", json={}).json()
    job = api.post("/api/jobs", json={"kind": "report", "question": "Why adopt Qwen?",
                                      "depth": "quick", "allow_uncited": True,
                                      "conversation_id": conv["id"]}).json()
    _finish(api, job["id"])
    assert api.delete(f"/api/conversations/{conv['id']}").status_code == 204
    kept = api.get(f"/api/jobs/{job['id']}").json()
    assert kept["status"] == "done" and kept["conversation_id"] is None
    assert kept["after_message_id"] is None


def test_chat_citations_survive_a_reload(world: dict[str, Any]) -> None:
    api = world["api"]
    doc = _upload(api, "local_inference.txt")
    conv = api.post("/api/conversations", json={}).json()
    with api.stream("POST", f"/api/conversations/{conv['id']}/messages",
                    json={"content": "How do people run models locally?",
                          "document_ids": [doc]}) as r:
        events = list(parse_sse(r.iter_lines()))
    sent = next(e.data for e in events if e.event == "sources")["sources"]
    saved = next(e.data for e in events if e.event == "saved")["message_id"]
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    answer = next(m for m in detail["messages"] if m["id"] == saved)
    assert answer["sources"] == sent and sent[0]["filename"] == "local_inference.txt"
    question = next(m for m in detail["messages"] if m["role"] == "user")
    assert question["sources"] is None


def test_openapi_documents_the_new_routes(world: dict[str, Any]) -> None:
    spec = world["api"].get("/openapi.json").json()
    assert "post" in spec["paths"]["/api/clarify"]
    job_create = json.dumps(spec["paths"]["/api/jobs"]["post"])
    assert "ReportJobRequest" in job_create and "DeckJobRequest" in job_create
    schemas = spec["components"]["schemas"]
    assert "from_job" in schemas["DeckJobRequest"]["properties"]
    assert "clarifications" in schemas["ReportJobRequest"]["properties"]
    assert "jobs" in schemas["ConversationDetail"]["properties"]


def test_later_turns_can_ask_about_a_report_of_their_branch(world: dict[str, Any]) -> None:
    api, model = world["api"], world["model"]
    doc = _upload(api, "qwen_adoption.md")
    conv = api.post("/api/conversations", json={}).json()
    chat(api, conv["id"], "hello before the report")
    root = api.get(f"/api/conversations/{conv['id']}").json()["thread"][0]
    job = api.post("/api/jobs", json={"kind": "report", "question": "Why do developers adopt "
                                      "Qwen?", "depth": "quick", "document_ids": [doc],
                                      "conversation_id": conv["id"]}).json()
    _finish(api, job["id"])
    events = chat(api, conv["id"], "Shorten the licensing part of the report.")
    system = model.calls[-1].messages[0]
    assert system.role == "system"
    assert "=== REPORT: Why do developers adopt Qwen? ===" in system.content
    assert "Apache 2.0 license" in system.content  # the report's text itself
    # The answer's [n] open the report's passages, as the report's own citations do.
    sources = next(e.data for e in events if e.event == "sources")["sources"]
    assert sources[0]["n"] == 1 and "Apache" in sources[0]["text"]
    # A branch that forks before the report (editing the first question) does not see it.
    chat(api, conv["id"], "an edited first question", parent_id=root)
    assert not any("=== REPORT:" in m.content for m in model.calls[-1].messages)


def test_a_long_report_is_cut_to_the_budget(world: dict[str, Any]) -> None:
    from qwenapp.server.job_context import _cut

    text = "# Title\n\n" + "".join(f"## Section {i}\n\n{'word ' * 200}\n\n" for i in range(20))
    cut = _cut(text, 4000)
    assert len(cut.encode()) <= 4000 + 100
    assert cut.endswith("[… the rest is not shown]")
    assert cut.split("\n\n[…")[0].rstrip().endswith("word")  # cut before a heading
    assert _cut("短" * 10, 100) == "短" * 10
    assert "\ufffd" not in _cut("汉字" * 1000, 1001)


def test_leaving_while_the_model_asks_frees_the_slot(tmp_path: Path) -> None:
    """Skip in the page aborts the clarify request; the server must stop the model then."""
    slow = ScriptedModel(replies=[{"questions": [{"question": "q" * 150,
                                                  "options": ["o" * 70] * 4}] * 6}],
                         delay=0.05, name="slow")  # ~12 s of streaming if nobody stops it
    settings = load_settings({"QWENAPP_HOME": str(tmp_path)})
    app = create_app(settings, [slow], ServerConfig(report_pdf=False, deck_previews=False))
    with live_server(app) as url, api_client(url, timeout=60) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.post("/api/clarify", json={"kind": "report", "text": "why?"}, timeout=1.0)
        gate = app.state.server.streams.gate
        deadline = time.monotonic() + 5
        while gate.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gate.active == 0  # cancelled within seconds, not after the whole answer
        assert len(slow.calls) == 1


def test_a_turn_from_the_root(world: dict[str, Any]) -> None:
    api, model = world["api"], world["model"]
    conv = api.post("/api/conversations", json={}).json()
    chat(api, conv["id"], "hello from the first branch")
    events = chat(api, conv["id"], "a fresh first question", from_root=True)
    assert events[-1].event == "done"
    assert not any("first branch" in m.content for m in model.calls[-1].messages)
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    started = next(e.data for e in events if e.event == "started")
    new = next(m for m in detail["messages"] if m["id"] == started["user_message_id"])
    assert new["parent_id"] is None and detail["thread"][0] == new["id"]
    r = api.post(f"/api/conversations/{conv['id']}/messages",
                 json={"content": "x", "from_root": True, "parent_id": detail["thread"][-1]})
    assert r.status_code == 400 and "exclude" in r.json()["error"]["message"]
