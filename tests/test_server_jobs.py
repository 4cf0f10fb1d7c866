"""Reports and decks as jobs: create, follow (and resume) the SSE stream, cancel,
download; and a real server restart in the middle of a running job."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import qwenapp_cmd
from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import (
    SseEvent,
    api_client,
    live_server,
    parse_sse,
    serve_process,
    write_demo_script,
)
from qwenapp.settings import load_settings

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
LIMITS = ServerLimits(requests_per_minute=10_000, burst=10_000, jobs_per_user=2)


def _follow(api: httpx.Client, job_id: str, **headers: str) -> list[SseEvent]:
    with api.stream("GET", f"/api/jobs/{job_id}/events", headers=headers,
                    timeout=120) as r:
        assert r.status_code == 200
        return list(parse_sse(r.iter_lines()))


def _upload(api: httpx.Client, name: str) -> str:
    data = (CORPUS / name).read_bytes()
    r = api.post("/api/documents", files={"file": (name, data)})
    assert r.status_code == 201, r.text
    doc_id: str = r.json()["id"]
    return doc_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    script = write_demo_script(home / "script.json", deck_slides=5)
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=LIMITS, report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url:
        yield url


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with api_client(server, timeout=120) as c:
        yield c


def test_report_job_end_to_end(api: httpx.Client) -> None:
    doc = _upload(api, "qwen_adoption.md")
    r = api.post("/api/jobs", json={"kind": "report", "question": "Why do developers adopt "
                                    "Qwen?", "depth": "quick", "document_ids": [doc]})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and job["kind"] == "report"
    events = _follow(api, job["id"])
    kinds = [e.event for e in events]
    assert kinds[0] == "queued" and kinds[-1] == "done"
    for needed in ("running", "started", "plan", "source_read", "passages", "section_written",
                   "result"):
        assert needed in kinds, kinds
    ids = [int(e.id or 0) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    source = next(e.data for e in events if e.event == "source_read")
    assert source["source"] == "qwen_adoption.md"  # the upload name, never a server path
    plan = next(e.data for e in events if e.event == "plan")
    assert [s["heading"] for s in plan["sections"]] == ["Licensing", "Running locally"]
    done = api.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "done" and done["result"]["title"] == "Why developers adopt Qwen"
    names = {a["name"] for a in done["artifacts"]}
    assert names == {"report.md", "report.html", "report.docx", "report.json"}
    md = api.get(f"/api/jobs/{job['id']}/artifacts/report.md")
    assert md.status_code == 200 and "attachment" in md.headers["content-disposition"]
    assert "# Why developers adopt Qwen" in md.text
    assert "qwen_adoption.md" in md.text and "/uploads/" not in md.text
    html = api.get(f"/api/jobs/{job['id']}/artifacts/report.html", params={"inline": 1})
    assert html.headers["content-disposition"].startswith("inline")
    assert "sandbox" in html.headers["content-security-policy"]
    docx = api.get(f"/api/jobs/{job['id']}/artifacts/report.docx")
    from docx import Document

    assert "Licensing" in "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert api.get(f"/api/jobs/{job['id']}/artifacts/../../etc/passwd").status_code == 404
    assert api.get(f"/api/jobs/{job['id']}/artifacts/nothing.md").status_code == 404


def test_events_resume_with_last_event_id(api: httpx.Client) -> None:
    r = api.post("/api/jobs", json={"kind": "report", "question": "What about licensing?",
                                    "depth": "quick", "allow_uncited": True,
                                    "document_ids": []})
    job = r.json()
    full = _follow(api, job["id"])
    cut = full[len(full) // 2]
    rest = _follow(api, job["id"], **{"Last-Event-ID": str(cut.id)})
    assert [e.id for e in rest] == [e.id for e in full if int(e.id or 0) > int(cut.id or 0)]
    assert rest[-1].event == "done"
    again = api.get(f"/api/jobs/{job['id']}/events", params={"after": full[-1].id})
    assert list(parse_sse(again.text.splitlines())) == []


def test_deck_job_end_to_end(api: httpx.Client) -> None:
    r = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                    "slides": 5})
    assert r.status_code == 202, r.text
    events = _follow(api, r.json()["id"])
    kinds = [e.event for e in events]
    assert kinds[-1] == "done", events[-3:]
    for needed in ("outline_started", "outline", "slide_written", "rendered", "result"):
        assert needed in kinds
    job = api.get(f"/api/jobs/{r.json()['id']}").json()
    assert [a["name"] for a in job["artifacts"]] == ["deck.pptx", "deck.json"]
    data = api.get(job["artifacts"][0]["url"]).content
    from pptx import Presentation

    deck = Presentation(io.BytesIO(data))
    assert len(deck.slides) == 5


def test_bad_job_requests(api: httpx.Client) -> None:
    r = api.post("/api/jobs", json={"kind": "poem", "topic": "x"})
    assert r.status_code == 400
    r = api.post("/api/jobs", json={"kind": "deck", "topic": "x", "slides": 99})
    assert r.status_code == 400 and r.json()["error"]["param"] == "deck.slides"
    r = api.post("/api/jobs", json={"kind": "deck", "topic": "", "slides": 5})
    assert r.status_code == 400
    r = api.post("/api/jobs", json={"kind": "deck", "topic": "x", "theme": "neon"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_theme"
    r = api.post("/api/jobs", json={"kind": "report", "question": "q",
                                    "document_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]})
    assert r.status_code == 404


def test_a_job_without_sources_fails_with_a_reason(api: httpx.Client) -> None:
    r = api.post("/api/jobs", json={"kind": "report", "question": "Anything?",
                                    "depth": "quick", "document_ids": []})
    events = _follow(api, r.json()["id"])
    assert events[-1].event == "failed"
    assert "no sources" in events[-1].data["error"]
    job = api.get(f"/api/jobs/{r.json()['id']}").json()
    assert job["status"] == "failed" and "no sources" in job["error"]


def test_cancel_and_delete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = write_demo_script(home / "script.json", delay=0.05)
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=LIMITS, report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url, \
            api_client(url) as api:
        first = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                            "slides": 5}).json()
        second = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                             "slides": 5}).json()
        third = api.post("/api/jobs", json={"kind": "deck", "topic": "x", "slides": 5})
        assert third.status_code == 429 and third.json()["error"]["code"] == "too_many_jobs"
        assert int(third.headers["retry-after"]) > 0
        with api.stream("GET", f"/api/jobs/{first['id']}/events") as r:
            for ev in parse_sse(r.iter_lines()):
                if ev.event == "outline_started":
                    break
        r = api.post(f"/api/jobs/{first['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert _follow(api, first["id"])[-1].event == "cancelled"
        assert api.post(f"/api/jobs/{second['id']}/cancel").json()["status"] == "cancelled"
        assert api.get(f"/api/jobs/{second['id']}").json()["status"] == "cancelled"
        assert api.delete(f"/api/jobs/{first['id']}").status_code == 204
        assert api.get(f"/api/jobs/{first['id']}").status_code == 404
        assert not (home / "server" / "jobs" / first["id"]).exists()


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", QWENAPP_PARALLEL="2")
    return env


def _wait_for(api: httpx.Client, job_id: str, event: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=timeout) as r:
        for ev in parse_sse(r.iter_lines()):
            if ev.event == event:
                return
            assert time.monotonic() < deadline
    raise AssertionError(f"no {event} event")


def test_restart_resumes_a_report_and_a_deck(tmp_path: Path) -> None:
    """Kill the real server mid-job, start it again: the report resumes from its saved
    stages and finishes, and so does the deck (its outline and slides are saved stages)."""
    home = tmp_path / "home"
    home.mkdir()
    script = write_demo_script(home / "script.json", delay=0.03)
    args = ["-m", f"scripted:{script}", "--log-level", "warning", "--jobs-per-user", "4",
            "--max-jobs", "2"]
    server = serve_process(qwenapp_cmd(), _env(home), args=args)
    try:
        with api_client(server.url) as api:
            doc = _upload(api, "qwen_adoption.md")
            report = api.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?",
                                                 "depth": "quick", "document_ids": [doc]}).json()
            deck = api.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                               "slides": 5}).json()
            _wait_for(api, deck["id"], "outline_started")
            _wait_for(api, report["id"], "section_started")
            before = _follow_until_now(api, report["id"])
    finally:
        server.stop(kill=True)  # no graceful shutdown: as if the machine lost power
    server = serve_process(qwenapp_cmd(), _env(home), args=args)
    try:
        with api_client(server.url) as api:
            events = _follow(api, report["id"])
            kinds = [e.event for e in events]
            assert kinds[-1] == "done", kinds
            assert "resuming" in kinds
            reused = [e.data["stage"] for e in events if e.event == "stage_reused"]
            assert "plan" in reused and "gather" in reused  # not redone after the restart
            assert len(events) > len(before)
            done = api.get(f"/api/jobs/{report['id']}").json()
            assert {a["name"] for a in done["artifacts"]} >= {"report.md", "report.html"}
            deck_events = _follow(api, deck["id"])
            deck_kinds = [e.event for e in deck_events]
            assert deck_kinds[-1] == "done", deck_kinds
            assert "resuming" in deck_kinds
            finished = api.get(f"/api/jobs/{deck['id']}").json()
            assert finished["status"] == "done"
            assert any(a["name"].endswith(".pptx") for a in finished["artifacts"])
    finally:
        server.stop()


def _follow_until_now(api: httpx.Client, job_id: str) -> list[Any]:
    """The events stored so far (without waiting for the job to end)."""
    out = []
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=5) as r:
        lines: list[str] = []
        try:
            for line in r.iter_lines():
                lines.append(line)
                if not line and lines[-2:-1] and lines[-2].startswith("data:"):
                    out = list(parse_sse(lines))
                    if out and out[-1].event == "section_started":
                        break
        except httpx.ReadTimeout:
            pass
    return out


PAGE = (b"<!doctype html><html><head><title>Qwen licensing</title></head><body>"
        b"<h1>Qwen licensing</h1><p>Qwen models are released under the Apache 2.0 license, "
        b"which permits commercial use. Developers run Qwen on CPUs with GGUF files.</p>"
        b"</body></html>")


@pytest.fixture
def web_page() -> Iterator[str]:
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/qwen.html"
    httpd.shutdown()
    httpd.server_close()


def test_reports_read_the_web_only_when_the_server_allows_it(api: httpx.Client,
                                                             tmp_path: Path,
                                                             web_page: str) -> None:
    r = api.post("/api/jobs", json={"kind": "report", "question": "Qwen license?",
                                    "urls": [web_page]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "web_disabled"
    home = tmp_path / "home"
    home.mkdir()
    script = write_demo_script(home / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    for allowed, expect in ((frozenset(), "failed"), (frozenset({"127.0.0.1"}), "done")):
        config = ServerConfig(limits=LIMITS, report_pdf=False, deck_previews=False, web=True,
                              web_allowed_hosts=allowed)
        with live_server(create_app(settings, [load_script(str(script))], config)) as url, \
                api_client(url, timeout=60) as web_api:
            assert web_api.get("/api/me").json()["web"] is True
            job = web_api.post("/api/jobs", json={"kind": "report", "depth": "quick",
                                                  "question": "Which license does Qwen use?",
                                                  "urls": [web_page], "document_ids": []})
            assert job.status_code == 202, job.text
            events = _follow(web_api, job.json()["id"])
            assert events[-1].event == expect, events[-3:]
            if expect == "failed":  # loopback is private: blocked unless allowed
                skipped = [e.data for e in events if e.event == "source_skipped"]
                assert skipped and skipped[0]["source"] == web_page
            else:
                read = [e.data for e in events if e.event == "source_read"]
                assert read[0]["source"] == web_page
                md = web_api.get(f"/api/jobs/{job.json()['id']}/artifacts/report.md").text
                assert web_page in md
