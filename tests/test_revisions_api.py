"""Revising a deck job through the API: versions listed, downloaded, compared and restored,
questions instead of guesses, and the isolation matrix for versions (another user's deck
cannot be revised or read: 404 on every route). The API tests run on SQLite and on
PostgreSQL (a throwaway cluster, tests/pg_fixture.py): versions are stored with the job in
both backends."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from pptx import Presentation

from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server, login, parse_sse, write_demo_script
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.slides.export import find_pdftoppm, find_soffice
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
TOPIC = "Open models at work"


pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    env = {"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"}
    db: str | Path = home / "qwenapp.db"
    if request.param == "postgresql":
        db = env["QWENAPP_DATABASE_URL"] = request.getfixturevalue("pg_server").new_database()
    conn = open_db(db)
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    script = write_demo_script(home / "script.json", deck_topic=TOPIC, deck_slides=8)
    settings = load_settings(env)
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config,
                                hasher=FAST)) as url:
        alice = httpx.Client(base_url=url, timeout=60)
        bob = httpx.Client(base_url=url, timeout=60)
        login(alice, "alice", "alice-password")
        login(bob, "bob", "bob-password")
        yield {"url": url, "alice": alice, "bob": bob, "home": home, "db": db}
        alice.close()
        bob.close()


def make_deck(api: httpx.Client) -> str:
    r = api.post("/api/jobs", json={"kind": "deck", "topic": TOPIC, "slides": 8})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=120) as s:
        assert list(parse_sse(s.iter_lines()))[-1].event == "done"
    return job_id


def current_deck(api: httpx.Client, job_id: str) -> dict[str, Any]:
    r = api.get(f"/api/jobs/{job_id}/artifacts/deck.json")
    assert r.status_code == 200
    deck: dict[str, Any] = r.json()
    return deck


def revise(api: httpx.Client, job_id: str, request: str) -> httpx.Response:
    return api.post(f"/api/jobs/{job_id}/revisions", json={"request": request})


def test_revise_list_download_compare_and_restore(world: dict[str, Any]) -> None:
    api = world["alice"]
    job = make_deck(api)
    first = current_deck(api, job)
    listed = api.get(f"/api/jobs/{job}/versions").json()
    assert listed["current"] == 1 and [v["version"] for v in listed["versions"]] == [1]

    themed = revise(api, job, "use the dark theme")
    assert themed.status_code == 200, themed.text
    body = themed.json()
    assert body["outcome"] == "revised" and body["version"]["version"] == 2
    assert body["version"]["theme"] == "dark" and body["version"]["changed"] == []
    assert current_deck(api, job) == first  # a theme change leaves every slide as it was

    charted = revise(api, job, "make slide 3 a chart: 2022 10, 2023 14, 2024 19").json()
    assert charted["outcome"] == "revised" and charted["version"]["changed"] == [3]
    now = current_deck(api, job)
    assert now["slides"][2]["kind"] == "chart"
    for n in (0, 1, 3, 4, 5, 6, 7):  # untouched slides: the same structure, byte for byte
        assert json.dumps(now["slides"][n]) == json.dumps(first["slides"][n])

    plan = api.post(f"/api/jobs/{job}/revisions/preview",
                    json={"request": "merge slides 6 and 7; use the paper theme"}).json()
    assert plan == {"outcome": "plan", "question": None, "slides": [6, 7], "needs_model": True,
                    "recognized": True,
                    "steps": ["merging slides 6 and 7", "switching to the paper theme"]}
    # what the page routes from the chat composer: a request for this deck, even one that
    # needs a question, and not a chat message in which nothing maps to an edit
    for text, recognized in (("make slide 20 a chart", True), ("use the neon theme", True),
                             ("thanks! now use the dark theme", True),
                             ("What is the capital of France?", False), ("hello", False)):
        read = api.post(f"/api/jobs/{job}/revisions/preview", json={"request": text}).json()
        assert read["recognized"] is recognized, (text, read)
    assert api.get(f"/api/jobs/{job}/versions").json()["current"] == 3  # nothing was done
    asked = revise(api, job, "make slide 20 a chart").json()
    assert asked["outcome"] == "question" and "no slide 20" in asked["question"]
    assert asked["version"] is None

    listed = api.get(f"/api/jobs/{job}/versions").json()
    assert listed["current"] == 3
    assert [v["request"] for v in listed["versions"]] == [
        "", "use the dark theme", "make slide 3 a chart: 2022 10, 2023 14, 2024 19"]

    one = api.get(f"/api/jobs/{job}/versions/1").json()
    assert one["deck"] == first
    pptx = api.get(f"/api/jobs/{job}/versions/3/deck.pptx")
    assert pptx.status_code == 200 and "attachment" in pptx.headers["content-disposition"]
    prs = Presentation(io.BytesIO(pptx.content))
    assert len(prs.slides) == 8
    assert any(shape.has_chart for shape in prs.slides[2].shapes)
    old = Presentation(io.BytesIO(api.get(f"/api/jobs/{job}/versions/1/deck.pptx").content))
    assert not any(shape.has_chart for shape in old.slides[2].shapes)
    job_pptx = api.get(f"/api/jobs/{job}/artifacts/deck.pptx").content
    assert any(shape.has_chart for shape in Presentation(io.BytesIO(job_pptx)).slides[2].shapes)

    diff = api.get(f"/api/jobs/{job}/versions/1/compare/3").json()
    assert diff["theme"] == ["light", "dark"]
    status = {d["slide"]: d["status"] for d in diff["slides"]}
    assert status == {1: "same", 2: "same", 3: "changed", 4: "same", 5: "same", 6: "same",
                      7: "same", 8: "same"}

    back = api.post(f"/api/jobs/{job}/versions/1/restore").json()
    assert back["version"]["version"] == 4 and back["version"]["changed"] == [3]
    assert back["version"]["theme"] == "light"
    assert current_deck(api, job) == first
    assert api.get(f"/api/jobs/{job}/versions").json()["current"] == 4
    assert api.get(f"/api/jobs/{job}/versions/9").status_code == 404


def test_removing_the_agenda_makes_no_model_call(world: dict[str, Any]) -> None:
    api = world["alice"]
    job = make_deck(api)
    first = current_deck(api, job)
    r = revise(api, job, "remove the agenda").json()
    assert r["outcome"] == "revised"
    now = current_deck(api, job)
    assert [s["kind"] for s in now["slides"]].count("agenda") == 0
    assert now["slides"] == [first["slides"][0], *first["slides"][2:]]


def test_another_users_deck_cannot_be_revised_or_read(world: dict[str, Any]) -> None:
    alice, bob = world["alice"], world["bob"]
    job = make_deck(alice)
    assert revise(alice, job, "use the paper theme").json()["outcome"] == "revised"
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/api/jobs/{job}/revisions", {"json": {"request": "use the dark theme"}}),
        ("POST", f"/api/jobs/{job}/revisions", {"json": {"request": "make slide 99 a chart"}}),
        ("POST", f"/api/jobs/{job}/revisions/preview", {"json": {"request": "remove slide 2"}}),
        ("GET", f"/api/jobs/{job}/versions", {}),
        ("GET", f"/api/jobs/{job}/versions/1", {}),
        ("GET", f"/api/jobs/{job}/versions/2/deck.pptx", {}),
        ("GET", f"/api/jobs/{job}/versions/1/compare/2", {}),
        ("POST", f"/api/jobs/{job}/versions/1/restore", {}),
    ]
    for method, path, kw in attempts:
        r = bob.request(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert "paper" not in r.text and TOPIC not in r.text
    versions = alice.get(f"/api/jobs/{job}/versions").json()
    assert versions["current"] == 2 and versions["versions"][-1]["theme"] == "paper"


def test_a_report_job_has_report_versions_not_decks(world: dict[str, Any]) -> None:
    """A report job's revisions are a report's (tests/test_report_revisions_api.py)."""
    api = world["alice"]
    r = api.post("/api/jobs", json={"kind": "report", "question": "What about licensing?",
                                    "depth": "quick", "allow_uncited": True})
    report = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{report}/events", timeout=120) as s:
        list(parse_sse(s.iter_lines()))
    asked = revise(api, report, "use the dark theme").json()
    assert asked["kind"] == "report" and asked["outcome"] == "question"
    assert api.get(f"/api/jobs/{report}/versions").json()["kind"] == "report"
    assert api.get(f"/api/jobs/{report}/versions/1/deck.pptx").status_code == 404
    deck = make_deck(api)
    assert api.get(f"/api/jobs/{deck}/versions/1/report.md").status_code == 404
    assert "kind" not in api.get(f"/api/jobs/{deck}/versions").json()


def test_deleting_the_job_deletes_its_versions(world: dict[str, Any]) -> None:
    api = world["alice"]
    job = make_deck(api)
    assert revise(api, job, "use the qwen theme").json()["outcome"] == "revised"
    conn = open_db(world["db"])
    try:
        count = "SELECT count(*) FROM deck_versions WHERE job_id = ?"
        assert conn.execute(count, (job,)).fetchone()[0] == 2
        assert api.delete(f"/api/jobs/{job}").status_code == 204
        assert conn.execute(count, (job,)).fetchone()[0] == 0
    finally:
        conn.close()
    assert api.get(f"/api/jobs/{job}/versions").status_code == 404


@pytest.mark.skipif(find_soffice() is None or find_pdftoppm() is None,
                    reason="needs LibreOffice and pdftoppm")
def test_thumbnails_follow_the_current_version(tmp_path: Path) -> None:
    script = write_demo_script(tmp_path / "script.json", deck_topic=TOPIC, deck_slides=8)
    settings = load_settings({"QWENAPP_HOME": str(tmp_path), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=True)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url, \
            api_client(url, timeout=120) as api:
        job = make_deck(api)
        before = api.get(f"/api/jobs/{job}/artifacts/deck-3.png").content
        r = revise(api, job, "make slide 3 a chart: 2022 10, 2023 14, 2024 19; remove slide 8")
        body = r.json()
        assert body["outcome"] == "revised", r.text
        assert body["thumbnails"] == [f"deck-{n}.png" for n in range(1, 8)]
        after = api.get(f"/api/jobs/{job}/artifacts/deck-3.png")
        assert after.status_code == 200 and after.content != before
        assert api.get(f"/api/jobs/{job}/artifacts/deck-8.png").status_code == 410
