"""Revising a report job through the API, with the scripted extractive model: only the asked
section is rewritten, the job's files become the new version, versions are listed, read,
downloaded in every format the job offers, compared and restored; questions instead of
guesses; another user's report is a 404 on every route; deleting the job deletes them all.
Each test runs on SQLite and on PostgreSQL (a throwaway cluster, tests/pg_fixture.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from docx import Document

from fixtures.scripts import extractive_model
from qwenapp.output import find_soffice
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, chat, live_server, login, parse_sse
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CORPUS = Path(__file__).parent / "fixtures" / "corpus"
QUESTION = "What drove Qwen's adoption among developers?"
PLAN = {"title": "Why developers adopt Qwen", "sections": [
    {"heading": "Licensing", "questions": ["Which license do Qwen models use?"]},
    {"heading": "Running locally", "questions": ["Can Qwen run on a CPU with GGUF?"]},
    {"heading": "Community", "questions": ["Where can developers download Qwen models?"]}]}


pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    env = {"QWENAPP_HOME": str(home)}
    db: str | Path = home / "qwenapp.db"
    if request.param == "postgresql":
        db = env["QWENAPP_DATABASE_URL"] = request.getfixturevalue("pg_server").new_database()
    conn = open_db(db)
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    settings = load_settings(env)
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    model = extractive_model(PLAN)
    with live_server(create_app(settings, [model], config, hasher=FAST)) as url:
        alice = httpx.Client(base_url=url, timeout=120)
        bob = httpx.Client(base_url=url, timeout=120)
        login(alice, "alice", "alice-password")
        login(bob, "bob", "bob-password")
        for name in ("qwen_adoption.md", "local_inference.txt", "千问生态.md"):
            r = alice.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())})
            assert r.status_code == 201, r.text
        yield {"alice": alice, "bob": bob, "db": db, "model": model}
        alice.close()
        bob.close()


def make_report(api: httpx.Client) -> str:
    r = api.post("/api/jobs", json={"kind": "report", "question": QUESTION, "depth": "quick"})
    assert r.status_code == 202, r.text
    job: str = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{job}/events") as s:
        assert list(parse_sse(s.iter_lines()))[-1].event == "done"
    return job


def revise(api: httpx.Client, job: str, request: str) -> dict[str, Any]:
    r = api.post(f"/api/jobs/{job}/revisions", json={"request": request})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def sentences(report: dict[str, Any], section: int) -> list[str]:
    """Each sentence without its end (the files write it "… text [n].")."""
    return [x["text"].rstrip(".") for x in report["sections"][section - 1]["sentences"]]


def said(section: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """A section's sentences on their passages ([n] are renumbered by first citation)."""
    return [(x["text"], x["passage_ids"]) for x in section["sentences"]]


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((p.extract_text() or "").split())
                    for p in PdfReader(io.BytesIO(data)).pages)


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_revise_compare_download_and_restore(world: dict[str, Any]) -> None:
    api = world["alice"]
    job = make_report(api)
    first = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
    first_md = api.get(f"/api/jobs/{job}/artifacts/report.md").text
    listed = api.get(f"/api/jobs/{job}/versions").json()
    assert listed["kind"] == "report" and listed["current"] == 1
    assert listed["versions"][0]["sections"] == 3
    assert sorted(listed["versions"][0]["files"]) == ["report.docx", "report.html",
                                                      "report.json", "report.md"]

    plan = api.post(f"/api/jobs/{job}/revisions/preview",
                    json={"request": "expand the licensing section"}).json()
    assert plan["outcome"] == "plan" and plan["sections"] == [1]
    assert plan["steps"] == ["expanding section 1 (Licensing)"]

    out = revise(api, job, "expand the licensing section")
    assert out["outcome"] == "revised" and out["version"]["version"] == 2
    assert out["version"]["changed"] == [1]
    now = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
    new = [t for t in sentences(now, 1) if t not in sentences(first, 1)]
    assert new, "the expanded section says something it did not"
    for n in (2, 3):  # untouched sections: the same sentences on the same passages
        assert said(now["sections"][n - 1]) == said(first["sections"][n - 1])
    # the job's files are version 2, in every format it made; version 1 stays downloadable
    assert new[0] in api.get(f"/api/jobs/{job}/artifacts/report.md").text
    assert new[0] in api.get(f"/api/jobs/{job}/artifacts/report.html").text
    assert new[0] in docx_text(api.get(f"/api/jobs/{job}/artifacts/report.docx").content)
    old_md = api.get(f"/api/jobs/{job}/versions/1/report.md")
    assert old_md.status_code == 200 and "attachment" in old_md.headers["content-disposition"]
    assert old_md.text == first_md and new[0] not in old_md.text
    assert new[0] in docx_text(api.get(f"/api/jobs/{job}/versions/2/report.docx").content)
    assert api.get(f"/api/jobs/{job}/versions/2/report.pdf").status_code == 404  # not made
    assert api.get(f"/api/jobs/{job}/versions/2/deck.pptx").status_code == 404

    diff = api.get(f"/api/jobs/{job}/versions/1/compare/2").json()
    assert [(d["section"], d["status"], d["heading"]) for d in diff["sections"]] == [
        (1, "changed", "Licensing"), (2, "same", "Running locally"), (3, "same", "Community")]

    back = api.post(f"/api/jobs/{job}/versions/1/restore").json()
    assert back["outcome"] == "revised" and back["version"]["version"] == 3
    assert back["version"]["changed"] == [1]
    three = api.get(f"/api/jobs/{job}/versions/3").json()["report"]
    assert three["sections"] == first["sections"] and three["summary"] == first["summary"]
    assert api.get(f"/api/jobs/{job}/artifacts/report.md").text == first_md
    assert api.get(f"/api/jobs/{job}/artifacts/report.json").json()["sections"] == \
        first["sections"]
    listed = api.get(f"/api/jobs/{job}/versions").json()
    assert listed["current"] == 3
    assert [v["request"] for v in listed["versions"]] == [
        "", "expand the licensing section", "restore version 1"]
    assert api.get(f"/api/jobs/{job}/versions/9").status_code == 404
    # the revised text is what later turns of the conversation and "Make slides" read
    again = revise(api, job, "add a section on model sizes")
    assert again["version"]["version"] == 4 and again["version"]["changed"] == [4]
    assert "## Model sizes" in api.get(f"/api/jobs/{job}/artifacts/report.md").text


def test_a_section_that_does_not_exist_gets_a_question(world: dict[str, Any]) -> None:
    api, model = world["alice"], world["model"]
    job = make_report(api)
    before = api.get(f"/api/jobs/{job}/artifacts/report.md").text
    calls = len(model.calls)
    asked = revise(api, job, "expand section 9")
    assert asked["outcome"] == "question" and asked["version"] is None
    assert "3 sections" in asked["question"] and "no section 9" in asked["question"]
    vague = revise(api, job, "make it sparkle")
    assert vague["outcome"] == "question"
    assert len(model.calls) == calls  # no model call, nothing changed
    assert api.get(f"/api/jobs/{job}/versions").json()["current"] == 1
    assert api.get(f"/api/jobs/{job}/artifacts/report.md").text == before
    preview = api.post(f"/api/jobs/{job}/revisions/preview",
                       json={"request": "expand section 9"}).json()
    assert preview["outcome"] == "question" and "no section 9" in preview["question"]
    assert preview["recognized"] is True  # the chat composer routes it to the report
    for said in ("make it sparkle", "Who wrote the first source?"):
        read = api.post(f"/api/jobs/{job}/revisions/preview", json={"request": said}).json()
        assert read["outcome"] == "question" and read["recognized"] is False, read


def test_another_users_report_cannot_be_revised_or_read(world: dict[str, Any]) -> None:
    alice, bob = world["alice"], world["bob"]
    job = make_report(alice)
    assert revise(alice, job, "expand the licensing section")["outcome"] == "revised"
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/jobs/{job}/revisions", {"json": {"request": "make it shorter"}}),
        ("POST", f"/api/jobs/{job}/revisions", {"json": {"request": "expand section 9"}}),
        ("POST", f"/api/jobs/{job}/revisions/preview", {"json": {"request": "make it shorter"}}),
        ("GET", f"/api/jobs/{job}/versions", {}),
        ("GET", f"/api/jobs/{job}/versions/1", {}),
        ("GET", f"/api/jobs/{job}/versions/2/report.md", {}),
        ("GET", f"/api/jobs/{job}/versions/1/report.json", {}),
        ("GET", f"/api/jobs/{job}/versions/1/compare/2", {}),
        ("POST", f"/api/jobs/{job}/versions/1/restore", {}),
    ]
    for method, path, kw in attempts:
        r = bob.request(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert "Licensing" not in r.text and "Qwen" not in r.text
    assert alice.get(f"/api/jobs/{job}/versions").json()["current"] == 2


def test_deleting_the_job_deletes_every_version(world: dict[str, Any]) -> None:
    api = world["alice"]
    job = make_report(api)
    revise(api, job, "expand the licensing section")
    revise(api, job, "add a section on model sizes")
    conn = open_db(world["db"])
    try:
        chain = conn.execute("SELECT chain_id, report_id FROM report_versions WHERE chain_id "
                             "IN (SELECT chain_id FROM report_versions WHERE report_id = ?)",
                             (api.get(f"/api/jobs/{job}/versions/1").json()["report"]["id"],)
                             ).fetchall()
        ids = sorted({r[1] for r in chain})
        assert len(chain) == 3 and len(ids) == 3
        marks = ",".join("?" * len(ids))
        reports = f"SELECT count(*) FROM reports WHERE id IN ({marks})"
        stages = f"SELECT count(*) FROM report_stages WHERE report_id IN ({marks})"
        assert conn.execute(reports, ids).fetchone()[0] == 3
        assert conn.execute(stages, ids).fetchone()[0] > 0
        assert api.delete(f"/api/jobs/{job}").status_code == 204
        assert conn.execute(reports, ids).fetchone()[0] == 0
        assert conn.execute(stages, ids).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM report_versions WHERE chain_id = ?",
                            (chain[0][0],)).fetchone()[0] == 0
    finally:
        conn.close()
    assert api.get(f"/api/jobs/{job}/versions").status_code == 404


def test_later_turns_of_the_conversation_read_the_new_version(world: dict[str, Any]) -> None:
    api, model = world["alice"], world["model"]
    cid = api.post("/api/conversations", json={}).json()["id"]
    r = api.post("/api/jobs", json={"kind": "report", "question": QUESTION, "depth": "quick",
                                    "conversation_id": cid})
    job = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{job}/events") as s:
        assert list(parse_sse(s.iter_lines()))[-1].event == "done"
    first = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
    revise(api, job, "expand the licensing section")
    now = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
    new = [t for t in sentences(now, 1) if t not in sentences(first, 1)]
    chat(api, cid, "What does the report say about licensing?")
    system = model.calls[-1].messages[0].content
    assert new[0] in system and "# Why developers adopt Qwen" in system


@pytest.mark.skipif(find_soffice() is None, reason="needs LibreOffice")
def test_the_pdf_the_job_made_follows_the_current_version(tmp_path: Path) -> None:
    settings = load_settings({"QWENAPP_HOME": str(tmp_path)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=True, deck_previews=False)
    with live_server(create_app(settings, [extractive_model(PLAN)], config)) as url, \
            api_client(url, timeout=300) as api:
        for name in ("qwen_adoption.md", "local_inference.txt", "千问生态.md"):
            api.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())})
        job = make_report(api)
        first = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
        out = revise(api, job, "expand the licensing section")
        assert "report.pdf" in out["version"]["files"] and not out["notes"]
        now = api.get(f"/api/jobs/{job}/artifacts/report.json").json()
        new = [t for t in sentences(now, 1) if t not in sentences(first, 1)]
        pdf = api.get(f"/api/jobs/{job}/artifacts/report.pdf").content
        assert " ".join(new[0].split()[:4]) in pdf_text(pdf)
        assert " ".join(new[0].split()[:4]) not in pdf_text(
            api.get(f"/api/jobs/{job}/versions/1/report.pdf").content)


def test_a_revision_answered_as_it_happens(world: dict[str, Any]) -> None:
    """With Accept: text/event-stream: the plan, each section written again, the version."""
    api = world["alice"]
    job = make_report(api)
    with api.stream("POST", f"/api/jobs/{job}/revisions",
                    json={"request": "expand the licensing section"},
                    headers={"Accept": "text/event-stream"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = list(parse_sse(r.iter_lines()))
    names = [e.event for e in events]
    assert names == ["revision_plan", "section_started", "section_written", "revised"]
    assert events[0].data["steps"] == ["expanding section 1 (Licensing)"]
    assert events[2].data["heading"] == "Licensing" and events[2].data["index"] == 1
    assert events[-1].data["version"]["version"] == 2
    assert events[-1].data["version"]["changed"] == [1]
    assert api.get(f"/api/jobs/{job}/versions").json()["current"] == 2
    with api.stream("POST", f"/api/jobs/{job}/revisions", json={"request": "expand section 9"},
                    headers={"Accept": "text/event-stream"}) as r:
        asked = list(parse_sse(r.iter_lines()))
    assert [e.event for e in asked] == ["question"] and "no section 9" in asked[0].data["question"]
    assert api.get(f"/api/jobs/{job}/versions").json()["current"] == 2
