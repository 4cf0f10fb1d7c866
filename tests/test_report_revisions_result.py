"""What a report job says it made follows its current version: after a revision (and after
going back), ``GET /api/jobs/{id}`` and a replay of the job's events describe the version
the job's files hold, not the first draft; the progress before it is left as it happened.
On SQLite and on PostgreSQL (a throwaway cluster, tests/pg_fixture.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from fixtures.scripts import extractive_model
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, login, parse_sse
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CORPUS = Path(__file__).parent / "fixtures" / "corpus"
PLAN = {"title": "Why developers adopt Qwen", "sections": [
    {"heading": "Licensing", "questions": ["Which license do Qwen models use?"]},
    {"heading": "Running locally", "questions": ["Can Qwen run on a CPU with GGUF?"]}]}

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("home")
    env = {"QWENAPP_HOME": str(home)}
    db: str | Path = home / "qwenapp.db"
    if request.param == "postgresql":
        db = env["QWENAPP_DATABASE_URL"] = request.getfixturevalue("pg_server").new_database()
    conn = open_db(db)
    UserStore(conn, FAST).add("alice", "alice-password")
    conn.close()
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    app = create_app(load_settings(env), [extractive_model(PLAN)], config, hasher=FAST)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        login(client, "alice", "alice-password")
        r = client.post("/api/documents", files={"file": (
            "qwen_adoption.md", (CORPUS / "qwen_adoption.md").read_bytes())})
        assert r.status_code == 201, r.text
        yield client


def _events(api: httpx.Client, job: str) -> list[Any]:
    with api.stream("GET", f"/api/jobs/{job}/events") as s:
        return list(parse_sse(s.iter_lines()))


def _result(api: httpx.Client, job: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The job's result as GET says it and as a replay of its events says it."""
    events = _events(api, job)
    assert events[-1].event == "done"  # the stream still ends as it did
    replayed = [e.data for e in events if e.event == "result"]
    assert len(replayed) == 1, replayed
    got: dict[str, Any] = api.get(f"/api/jobs/{job}").json()["result"]
    return got, replayed[0]


def _revise(api: httpx.Client, job: str, request: str) -> dict[str, Any]:
    r = api.post(f"/api/jobs/{job}/revisions", json={"request": request})
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "revised", r.json()
    version: dict[str, Any] = r.json()["version"]
    return version


def test_the_job_result_describes_the_current_version(api: httpx.Client) -> None:
    r = api.post("/api/jobs", json={"kind": "report", "depth": "quick",
                                    "question": "What drove Qwen's adoption among developers?"})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    before = _events(api, job)
    first, replayed = _result(api, job)
    assert first == replayed and first["sections"] == 2
    first_id = first["report_id"]
    assert first_id == api.get(f"/api/jobs/{job}/versions/1").json()["report"]["id"]

    v2 = _revise(api, job, "add a section on community")
    assert v2["version"] == 2 and v2["sections"] == 3
    now, replayed = _result(api, job)
    assert now == replayed
    v2_id = api.get(f"/api/jobs/{job}/versions/2").json()["report"]["id"]
    assert now["report_id"] == v2_id != first_id
    assert now["sections"] == 3 and now["version"] == 2
    assert now["title"] == v2["title"] and now["language"] == "en"
    assert now["references"] == len(api.get(f"/api/jobs/{job}/artifacts/report.json")
                                     .json()["references"])
    assert set(now["artifacts"]) == set(first["artifacts"])
    # Only the result moved: every other event is replayed exactly as it happened.
    after = _events(api, job)
    assert [(e.id, e.event) for e in after] == [(e.id, e.event) for e in before]
    assert [e.data for e in after if e.event != "result"] == \
        [e.data for e in before if e.event != "result"]

    # Going back to version 1: the result says version 3, holding the first report.
    r = api.post(f"/api/jobs/{job}/versions/1/restore")
    assert r.status_code == 200, r.text
    back, replayed = _result(api, job)
    assert back == replayed
    assert back["version"] == 3 and back["report_id"] == first_id and back["sections"] == 2
    listed = api.get("/api/jobs", params={"kind": "report"}).json()["jobs"]
    assert next(j for j in listed if j["id"] == job)["result"] == back
