"""Jobs on the durable queue with real processes: two ``qwenapp serve`` without local jobs
and ``qwenapp worker`` processes on one throwaway PostgreSQL, with the scripted model.

A report created through app process A runs in one of two workers and is followed live
through A; that worker is killed with SIGKILL mid-report; the other takes the job over
and resumes it from its saved stages (the plan and the gathered passages are not made
again); A's follower sees every event once, in order, and a follower that reconnects to
app process B with ``Last-Event-ID`` gets exactly the rest. Another user sees the job
from neither process. A deck created through A is cancelled through B and stops in the
worker; the per-user job limit holds across the two app processes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from argon2 import PasswordHasher

from conftest import qwenapp_cmd
from qwenapp.server.testing import (
    ServeProcess,
    SseEvent,
    api_client,
    login,
    parse_sse,
    serve_process,
    write_demo_script,
)
from qwenapp.server.users import UserStore
from qwenapp.store import open_db

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
STALLED = "3"  # seconds without a heartbeat before a worker's job goes to another
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class World:
    home: Path
    url: str
    env: dict[str, str]
    script: Path
    a: ServeProcess
    b: ServeProcess
    workers: list[subprocess.Popen[str]] = field(default_factory=list)

    def worker(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """A ``qwenapp worker``, once it says it runs (its stderr to a log file)."""
        n = len(self.workers) + 1
        log = (self.home / f"worker{n}.log").open("w")
        proc = subprocess.Popen([*qwenapp_cmd(), "worker", "-m", f"scripted:{self.script}",
                                 "--stalled-after", STALLED, "--no-report-pdf",
                                 "--no-deck-previews", "--log-level", "info", *args],
                                env={**self.env, **env}, stdout=subprocess.DEVNULL, stderr=log,
                                text=True)
        self.workers.append(proc)
        deadline = time.monotonic() + 60
        while "worker on" not in self.log(n - 1):
            assert proc.poll() is None, self.log(n - 1)
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        return proc

    def log(self, index: int) -> str:
        """What worker ``index`` (from 0) wrote to stderr so far."""
        return (self.home / f"worker{index + 1}.log").read_text()


def _env(home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", QWENAPP_PARALLEL="2",
               QWENAPP_DATABASE_URL=url)
    return env


@pytest.fixture
def world(tmp_path: Path, pg_server: PgServer) -> Iterator[World]:
    home = tmp_path / "home"
    home.mkdir()
    url = pg_server.new_database()
    conn = open_db(url)
    users = UserStore(conn, FAST)
    users.add("alice", "alice-password")
    users.add("bob", "bob-password")
    conn.close()
    script = write_demo_script(home / "script.json", delay=0.05)
    env = _env(home, url)
    args = ["-m", f"scripted:{script}", "--log-level", "warning", "--no-local-jobs",
            "--jobs-per-user", "1", "--rate", "10000"]
    a = serve_process(qwenapp_cmd(), env, args=args)
    try:
        b = serve_process(qwenapp_cmd(), env, args=args)
    except BaseException:
        a.stop()
        raise
    w = World(home, url, env, script, a, b)
    try:
        yield w
    finally:
        for p in w.workers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        a.stop()
        b.stop()
        pg_server.drop_database(url)


class Follower:
    """An SSE follower of one job in a thread: ``events`` grows as they arrive."""

    def __init__(self, api: httpx.Client, job_id: str, **headers: str) -> None:
        self.events: list[SseEvent] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, args=(api, job_id, headers),
                                        daemon=True)
        self._thread.start()

    def _read(self, api: httpx.Client, job_id: str, headers: dict[str, str]) -> None:
        try:
            with api.stream("GET", f"/api/jobs/{job_id}/events", headers=headers,
                            timeout=180) as r:
                assert r.status_code == 200, r.status_code
                for ev in parse_sse(r.iter_lines()):
                    self.events.append(ev)
        except BaseException as e:  # reported by the test
            self.error = e

    def wait_for(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.event == name for e in self.events):
            assert self.error is None, self.error
            assert self._thread.is_alive() or any(e.event == name for e in self.events), \
                [e.event for e in self.events]
            assert time.monotonic() < deadline, f"no {name}: {[e.event for e in self.events]}"
            time.sleep(0.05)

    def join(self, timeout: float = 180) -> list[SseEvent]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), [e.event for e in self.events]
        assert self.error is None, self.error
        return self.events


def _upload(api: httpx.Client, name: str) -> str:
    r = api.post("/api/documents", files={"file": (name, (CORPUS / name).read_bytes())})
    assert r.status_code == 201, r.text
    doc_id: str = r.json()["id"]
    return doc_id


def _ids(events: list[SseEvent]) -> list[int]:
    return [int(e.id) for e in events if e.id is not None]


def test_a_report_survives_its_worker_killed_mid_job(world: World) -> None:
    workers = [world.worker(), world.worker()]
    with api_client(world.a.url, timeout=60) as alice_a, \
            api_client(world.b.url, timeout=60) as alice_b, \
            api_client(world.a.url, timeout=60) as bob_a, \
            api_client(world.b.url, timeout=60) as bob_b:
        login(alice_a, "alice", "alice-password")
        login(alice_b, "alice", "alice-password")
        login(bob_a, "bob", "bob-password")
        login(bob_b, "bob", "bob-password")
        doc = _upload(alice_a, "qwen_adoption.md")
        r = alice_a.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?",
                                            "depth": "quick", "document_ids": [doc]})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        live = Follower(alice_a, job_id)
        live.wait_for("section_started")  # the plan and the passages are saved stages now
        logs = [world.log(i) for i in range(len(workers))]
        running = [i for i, text in enumerate(logs) if job_id in text]
        assert len(running) == 1, logs  # exactly one worker took it
        victim, other = workers[running[0]], workers[1 - running[0]]
        victim.kill()  # SIGKILL: no goodbye, no heartbeat, its connections drop
        victim.wait()
        before = len(live.events)
        assert live.events[-1].event != "done"
        events = live.join()  # the other worker found the job stalled and took it over
        assert other.poll() is None and job_id in world.log(1 - running[0])
        kinds = [e.event for e in events]
        assert kinds[-1] == "done", kinds
        assert len(events) > before
        ids = _ids(events)
        assert ids == list(range(1, len(ids) + 1))  # every event once, in order, no gap
        assert kinds.count("resuming") == 1 and kinds.count("running") == 2
        assert kinds.count("done") == 1, kinds
        after_kill = kinds[kinds.index("resuming"):]
        reused = [e.data["stage"] for e in events[kinds.index("resuming"):]
                  if e.event == "stage_reused"]
        assert "plan" in reused and "gather" in reused, after_kill  # not made again
        assert "worker" in events[kinds.index("resuming")].data["reason"]
        # process C (here B) resumes a follower with Last-Event-ID: exactly the rest
        mid = ids[len(ids) // 2]
        rest = Follower(alice_b, job_id, **{"Last-Event-ID": str(mid)}).join()
        assert _ids(rest) == ids[ids.index(mid) + 1:]
        assert [e.event for e in rest] == kinds[ids.index(mid) + 1:]
        job = alice_b.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "done"
        assert {a["name"] for a in job["artifacts"]} >= {"report.md", "report.html"}
        art = alice_b.get(f"/api/jobs/{job_id}/artifacts/report.md")
        assert art.status_code == 200 and b"Qwen" in art.content
        for bob in (bob_a, bob_b):  # another user sees it from neither process
            assert bob.get(f"/api/jobs/{job_id}").status_code == 404
            assert bob.get(f"/api/jobs/{job_id}/events").status_code == 404
            assert job_id not in {j["id"] for j in bob.get("/api/jobs").json()["jobs"]}


def test_cancel_through_another_process_and_limits_across_processes(world: World) -> None:
    world.worker()
    with api_client(world.a.url, timeout=60) as a, api_client(world.b.url, timeout=60) as b:
        login(a, "alice", "alice-password")
        login(b, "alice", "alice-password")
        r = a.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                      "slides": 5})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        # the per-user limit (1 here) is counted in the database: B refuses a second job
        second = b.post("/api/jobs", json={"kind": "deck", "topic": "x", "slides": 5})
        assert second.status_code == 429, second.text
        assert second.json()["error"]["code"] == "too_many_jobs"
        live = Follower(a, job_id)
        live.wait_for("outline_started")  # running in the worker
        r = b.post(f"/api/jobs/{job_id}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        events = live.join()
        assert events[-1].event == "cancelled", [e.event for e in events]
        # the worker stopped it: its queue job ends, and no event follows the cancel
        _wait_queue_job_ended(world.url, job_id)
        conn = open_db(world.url)
        try:
            stored = conn.execute("SELECT type FROM server_job_events WHERE job_id = ? "
                                  "ORDER BY seq", (job_id,)).fetchall()
        finally:
            conn.close()
        assert stored[-1][0] == "cancelled" and [t for (t,) in stored].count("cancelled") == 1
        assert a.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"
        # with the first one ended, a new job is accepted through B and runs to the end
        r = b.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                      "slides": 5})
        assert r.status_code == 202, r.text
        done = Follower(a, r.json()["id"]).join()
        assert done[-1].event == "done", [e.event for e in done]
        # deleted through B while it runs in the worker: gone everywhere, files too
        r = a.post("/api/jobs", json={"kind": "deck", "topic": "Open models at work",
                                      "slides": 5})
        gone = r.json()["id"]
        live = Follower(a, gone)
        live.wait_for("outline_started")
        assert b.delete(f"/api/jobs/{gone}").status_code == 204
        live.join()  # the follower on A ends: the job is gone
        _wait_queue_job_ended(world.url, gone)
        assert a.get(f"/api/jobs/{gone}").status_code == 404
        assert not (world.home / "server" / "jobs" / gone).exists()


def _wait_queue_job_ended(url: str, job_id: str) -> None:
    conn = open_db(url)
    try:
        deadline = time.monotonic() + 60
        while True:
            row = conn.execute("SELECT status FROM procrastinate_jobs WHERE lock = ?",
                               (job_id,)).fetchone()
            if row is not None and row[0] in ("succeeded", "failed", "aborted", "cancelled"):
                return
            assert time.monotonic() < deadline, row
            time.sleep(0.1)
    finally:
        conn.close()


def test_db_migrate_installs_the_queue_once(tmp_path: Path, pg_server: PgServer) -> None:
    url = pg_server.new_database(migrated=False)
    env = _env(tmp_path / "home", url)
    try:
        outs = [subprocess.run([*qwenapp_cmd(), "db", "migrate"], env=env, capture_output=True,
                               text=True, timeout=120) for _ in range(2)]
    finally:
        pg_server.drop_database(url)
    assert all(r.returncode == 0 for r in outs), [r.stderr for r in outs]
    assert "installed the job queue's tables" in outs[0].stdout
    assert "is up to date" in outs[1].stdout and "job queue" not in outs[1].stdout


def test_the_worker_and_no_local_jobs_need_postgres(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(tmp_path / "home"))
    for args in (["worker", "-m", "scripted"],
                 ["serve", "-m", "scripted", "--port", "0", "--no-local-jobs"]):
        r = subprocess.run([*qwenapp_cmd(), *args], env=env, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
        assert "needs PostgreSQL" in r.stderr


def test_a_worker_stopped_with_sigterm_hands_its_job_back(world: World) -> None:
    """Graceful shutdown: after ``--grace`` the running job goes back to the queue, and
    the next worker resumes it from its saved stages."""
    first = world.worker("--grace", "0")
    with api_client(world.a.url, timeout=60) as a:
        login(a, "alice", "alice-password")
        doc = _upload(a, "qwen_adoption.md")
        r = a.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?",
                                      "depth": "quick", "document_ids": [doc]})
        job_id = r.json()["id"]
        live = Follower(a, job_id)
        live.wait_for("section_started")
        first.terminate()  # SIGTERM
        assert first.wait(timeout=60) == 0, world.log(0)
        assert "worker stopped" in world.log(0)
        conn = open_db(world.url)
        try:  # handed back: waiting in the queue, the row still says where it got to
            assert conn.execute("SELECT status FROM procrastinate_jobs WHERE lock = ?",
                                (job_id,)).fetchone()[0] == "todo"
        finally:
            conn.close()
        assert a.get(f"/api/jobs/{job_id}").json()["status"] == "running"
        port = _free_port()
        world.worker("--metrics-port", str(port), QWENAPP_LOG_FORMAT="json")
        events = live.join()
        kinds = [e.event for e in events]
        assert kinds[-1] == "done" and kinds.count("resuming") == 1, kinds
        reused = [e.data["stage"] for e in events[kinds.index("resuming"):]
                  if e.event == "stage_reused"]
        assert "plan" in reused and "gather" in reused
        assert _ids(events) == list(range(1, len(events) + 1))
        # the worker's own metrics and JSON log lines, with the job's id
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'qwenapp_jobs_total{kind="report",outcome="done"} 1.0' in text
        lines = [json.loads(line) for line in world.log(1).splitlines()
                 if line.startswith("{")]
        ended = [x for x in lines if x.get("msg") == "job ended"]
        assert ended and ended[0]["job_id"] == job_id and ended[0]["resumed"] is True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
