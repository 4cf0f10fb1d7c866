"""Operations of a served app: probes, Prometheus metrics and JSON logs with request ids.

Real request cycles against :func:`live_server` with the scripted model on SQLite
(the PostgreSQL probes are in test_server_ops_pg.py).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qwenapp.errors import InputError
from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.health import check_database
from qwenapp.server.logs import JsonFormatter, install, uninstall
from qwenapp.server.ops import OpsConfig
from qwenapp.server.testing import api_client, chat, live_server, parse_sse, write_demo_script
from qwenapp.settings import load_settings

_FAST = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                     report_pdf=False, deck_previews=False)


def _app(home: Path, config: ServerConfig = _FAST, **kw: Any) -> Any:
    home.mkdir(parents=True, exist_ok=True)
    script = write_demo_script(home / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    return create_app(settings, [load_script(str(script))], config, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(_app(tmp_path_factory.mktemp("home"))) as url:
        yield url


class _Capture(logging.Handler):
    """Every record, formatted as the JSON logs write it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured() -> Iterator[_Capture]:
    cap = _Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(cap)
    root.setLevel(logging.INFO)
    try:
        yield cap
    finally:
        root.removeHandler(cap)
        root.setLevel(old)


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def _value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str,
           **labels: str) -> float:
    return sum(v for lab, v in samples.get(name, []) if labels.items() <= lab.items())


def _wait_job(api: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = api.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


# -- probes ---------------------------------------------------------------------------------

def test_healthz_and_readyz_need_no_auth_or_csrf(server: str) -> None:
    r = httpx.get(server + "/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    r = httpx.get(server + "/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ready"}
    assert r.headers["x-request-id"]


def test_readyz_reason_when_sqlite_is_gone(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    assert asyncio.run(check_database(tmp_path / "x.db", conn)) is None
    conn.close()
    reason = asyncio.run(check_database(tmp_path / "x.db", conn))
    assert reason is not None and reason.startswith("the database does not answer")
    assert "\n" not in reason


def test_readyz_is_bounded_on_a_silent_postgresql() -> None:
    """A server that accepts and never speaks: the check ends at its deadline, a 503."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        pytest.importorskip("psycopg")
        reason = asyncio.run(check_database(f"postgresql://u:secret@127.0.0.1:{port}/db",
                                            None, timeout=1.0))
    assert reason is not None and "secret" not in reason
    assert "within 1 s" in reason or "cannot reach PostgreSQL" in reason


# -- metrics --------------------------------------------------------------------------------

def test_metrics_count_requests_streams_tokens_and_jobs(server: str) -> None:
    with api_client(server) as api:
        conv = api.post("/api/conversations", json={}).json()
        chat(api, conv["id"], "hello metrics")
        assert api.get(f"/api/conversations/{conv['id']}").status_code == 200
        assert api.get("/api/no-such-thing/42").status_code == 404
        assert api.get("/static/app.css").status_code == 200
        doc = api.post("/api/documents", files={"file": (
            "n.md", b"# Notes\n\nQwen models are released under the Apache 2.0 license.\n")}
                       ).json()
        job = api.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?",
                                          "depth": "quick", "document_ids": [doc["id"]]}
                       ).json()
        assert _wait_job(api, job["id"])["status"] == "done"
        r = httpx.get(server + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    s = _samples(r.text)
    # by route template, never by id
    assert _value(s, "qwenapp_http_requests_total", method="GET",
                  route="/api/conversations/{conversation_id}", status="200") >= 1
    assert not any(conv["id"] in lab.get("route", "") for lab, _ in
                   s["qwenapp_http_requests_total"])
    assert _value(s, "qwenapp_http_requests_total", route="<unmatched>", status="404") >= 1
    assert _value(s, "qwenapp_http_requests_total", route="/static", status="200") >= 1
    assert _value(s, "qwenapp_http_request_duration_seconds_count", method="POST",
                  route="/api/conversations/{conversation_id}/messages", status="200") >= 1
    assert _value(s, "qwenapp_stream_duration_seconds_count",
                  route="/api/conversations/{conversation_id}/messages") >= 1
    assert _value(s, "qwenapp_tokens_total", model="scripted", type="generated") > 0
    assert _value(s, "qwenapp_tokens_total", model="scripted", type="prompt") > 0
    assert _value(s, "qwenapp_jobs_total", kind="report", outcome="done") == 1
    assert _value(s, "qwenapp_job_duration_seconds_count", kind="report", outcome="done") == 1
    assert _value(s, "qwenapp_jobs_in_queue", status="queued") == 0
    assert _value(s, "qwenapp_jobs_in_queue", status="running") == 0


def test_queue_gauge_and_a_cancelled_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    script = write_demo_script(home / "script.json", delay=0.05)
    settings = load_settings({"QWENAPP_HOME": str(home)})
    app = create_app(settings, [load_script(str(script))], _FAST)
    with live_server(app) as url, api_client(url) as api:
        deck = {"kind": "deck", "topic": "Open models at work", "slides": 5}
        first = api.post("/api/jobs", json=deck).json()
        second = api.post("/api/jobs", json=deck).json()  # waits: one job runs at a time
        with api.stream("GET", f"/api/jobs/{first['id']}/events") as r:
            for ev in parse_sse(r.iter_lines()):
                if ev.event == "outline_started":
                    break
        s = _samples(httpx.get(url + "/metrics").text)
        assert _value(s, "qwenapp_jobs_in_queue", kind="deck", status="running") == 1
        assert _value(s, "qwenapp_jobs_in_queue", kind="deck", status="queued") == 1
        assert api.post(f"/api/jobs/{first['id']}/cancel").json()["status"] == "cancelled"
        assert api.post(f"/api/jobs/{second['id']}/cancel").json()["status"] == "cancelled"
        with api.stream("GET", f"/api/jobs/{first['id']}/events") as r:
            assert list(parse_sse(r.iter_lines()))[-1].event == "cancelled"
        s = _samples(httpx.get(url + "/metrics").text)
    # runs are counted (the second may have started in between the two cancels, or not)
    assert _value(s, "qwenapp_jobs_total", kind="deck", outcome="cancelled") in (1, 2)
    assert _value(s, "qwenapp_jobs_total", kind="deck", outcome="done") == 0
    assert _value(s, "qwenapp_jobs_in_queue", status="running") == 0
    assert _value(s, "qwenapp_jobs_in_queue", status="queued") == 0


def test_metrics_are_open_on_loopback_only(tmp_path: Path) -> None:
    # a server bound to all interfaces (live_server still listens on 127.0.0.1 only)
    public = ServerConfig(host="0.0.0.0", report_pdf=False, deck_previews=False)
    with live_server(_app(tmp_path / "a", public)) as url:
        r = httpx.get(url + "/metrics")
        assert r.status_code == 403 and "QWENAPP_METRICS_TOKEN" in r.json()["error"]["hint"]
    with live_server(_app(tmp_path / "b", trusted_proxies=["127.0.0.1"])) as url:
        assert httpx.get(url + "/metrics").status_code == 403  # a proxy forwards the world


def test_metrics_token(tmp_path: Path) -> None:
    public = ServerConfig(host="0.0.0.0", report_pdf=False, deck_previews=False)
    with live_server(_app(tmp_path, public, ops=OpsConfig(metrics_token="s3cret"))) as url:
        assert httpx.get(url + "/metrics").status_code == 401
        bad = httpx.get(url + "/metrics", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        r = httpx.get(url + "/metrics", headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200 and "qwenapp_http_requests_total" in r.text


# -- logs -----------------------------------------------------------------------------------

def test_request_id_is_taken_or_made_and_logged(server: str, captured: _Capture) -> None:
    r = httpx.get(server + "/api/health", headers={"X-Request-ID": "req-abc.123"})
    assert r.headers["x-request-id"] == "req-abc.123"
    made = httpx.get(server + "/api/health").headers["x-request-id"]
    assert len(made) == 32 and made != "req-abc.123"
    odd = httpx.get(server + "/api/health", headers={"X-Request-ID": "a b\"c" + "x" * 200})
    assert odd.headers["x-request-id"] != "a b\"c" and len(odd.headers["x-request-id"]) == 32
    lines = [ln for ln in captured.lines if ln["logger"] == "qwenapp.access"]
    mine = [ln for ln in lines if ln.get("request_id") == "req-abc.123"]
    assert len(mine) == 1
    assert mine[0]["msg"] == "request" and mine[0]["path"] == "/api/health"
    assert mine[0]["status"] == 200 and mine[0]["method"] == "GET"
    assert isinstance(mine[0]["duration_ms"], float)
    assert any(ln.get("request_id") == made for ln in lines)


def test_job_log_lines_carry_the_job_id(server: str, captured: _Capture) -> None:
    with api_client(server) as api:
        doc = api.post("/api/documents", files={"file": (
            "m.md", b"# More\n\nQwen runs on ordinary CPUs in GGUF form.\n")}).json()
        job = api.post("/api/jobs", json={"kind": "report", "question": "CPU?",
                                          "depth": "quick", "document_ids": [doc["id"]]},
                       headers={"X-Request-ID": "make-the-job"}).json()
        _wait_job(api, job["id"])
    ended = [ln for ln in captured.lines if ln["msg"] == "job ended"]
    assert ended and ended[-1]["job_id"] == job["id"]
    assert ended[-1]["kind"] == "report" and ended[-1]["outcome"] == "done"
    assert any(ln["msg"] == "job started" and ln["job_id"] == job["id"]
               for ln in captured.lines)


def test_install_writes_json_lines() -> None:
    out = io.StringIO()
    install("json", out)
    try:
        logging.getLogger("qwenapp.test").warning("disk %s", "low", extra={"free_mb": 12})
        logging.getLogger("uvicorn.error").info("Started server process")
    finally:
        uninstall()
    lines = [json.loads(ln) for ln in out.getvalue().splitlines()]
    assert lines[0]["msg"] == "disk low" and lines[0]["level"] == "warning"
    assert lines[0]["free_mb"] == 12 and lines[0]["logger"] == "qwenapp.test"
    assert lines[1]["logger"] == "uvicorn.error"
    assert not logging.getLogger().handlers or all(
        not isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def test_ops_config_from_env() -> None:
    assert OpsConfig.from_env({}) == OpsConfig()
    ops = OpsConfig.from_env({"QWENAPP_LOG_FORMAT": "JSON", "QWENAPP_METRICS_TOKEN": " t "})
    assert ops == OpsConfig(log_format="json", metrics_token="t")
    with pytest.raises(InputError):
        OpsConfig.from_env({"QWENAPP_LOG_FORMAT": "xml"})
