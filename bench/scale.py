"""Jobs through the durable queue, in one run (not a test; figures for the README).

A throwaway PostgreSQL cluster (``tests/pg_fixture.py``'s), one ``qwenapp serve
--no-local-jobs`` and ``qwenapp worker`` processes, all with the scripted model (so the
model is not what is measured) and without PDFs or previews (LibreOffice is not what is
measured either):

1. **Pickup latency**: one idle worker; jobs created one after another, each followed
   over SSE from the app process: time from the ``POST /api/jobs`` reply to the
   ``running`` event reaching the follower (the worker woken by LISTEN/NOTIFY, its
   ``running`` event announced back to the app process by NOTIFY).
2. **Throughput**: ``--jobs`` reports created at once, with one worker and then with two:
   jobs per second from the first POST to the last job ``done``, and the ratio.
3. **Takeover after kill -9**: two workers with ``--stalled-after``; a slow report is
   followed, the worker running it killed with SIGKILL, and the time from the kill to the
   follower's ``resuming`` event (bounded by ``--stalled-after`` plus a sweep, every third
   of it), and to ``done``.

Usage: ``python bench/scale.py [--jobs 24] [--pickups 10] [--stalled-after 3]``.
Prints the machine (cores, load average) with the figures: on a shared machine other
processes' load is in them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from argon2 import PasswordHasher

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pg_fixture import pg_server  # noqa: E402  (the tests' throwaway cluster)
from qwenapp.server.testing import (  # noqa: E402
    ServeProcess,
    api_client,
    login,
    parse_sse,
    serve_process,
    write_demo_script,
)
from qwenapp.server.users import UserStore  # noqa: E402
from qwenapp.store import open_db  # noqa: E402

DOC = ROOT / "tests" / "fixtures" / "corpus" / "qwen_adoption.md"


def _cmd() -> list[str]:
    exe = Path(sys.executable).with_name("qwenapp")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qwenapp"]


class Site:
    """One app process and the workers started so far, on one database."""

    def __init__(self, home: Path, url: str, stalled_after: float) -> None:
        self.home = home
        self.stalled_after = stalled_after
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
        self.env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1",
                        QWENAPP_DATABASE_URL=url, QWENAPP_PARALLEL="4")
        self.fast = write_demo_script(home / "fast.json")
        self.slow = write_demo_script(home / "slow.json", delay=0.03)
        self.app: ServeProcess = serve_process(_cmd(), self.env, args=[
            "-m", f"scripted:{self.fast}", "--log-level", "warning", "--no-local-jobs",
            "--jobs-per-user", "64", "--rate", "100000"])
        self.workers: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []

    def worker(self, script: Path) -> subprocess.Popen[str]:
        log = self.home / f"worker{len(self.workers) + 1}.log"
        proc = subprocess.Popen([*_cmd(), "worker", "-m", f"scripted:{script}",
                                 "--stalled-after", str(self.stalled_after), "--no-report-pdf",
                                 "--no-deck-previews", "--log-level", "info"],
                                env=self.env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                                text=True)
        deadline = time.monotonic() + 60
        while "worker on" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start:\n" + log.read_text())
            time.sleep(0.05)
        self.workers.append(proc)
        self.logs.append(log)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.workers, self.logs = [], []

    def close(self) -> None:
        self.stop_workers()
        self.app.stop()


def _report(api: httpx.Client, doc: str) -> str:
    r = api.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?",
                                    "depth": "quick", "document_ids": [doc]})
    r.raise_for_status()
    job_id: str = r.json()["id"]
    return job_id


def _follow(api: httpx.Client, job_id: str, marks: dict[str, float]) -> None:
    """Follow ``job_id`` to its end: the first arrival time of each event name."""
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=600) as r:
        for ev in parse_sse(r.iter_lines()):
            marks.setdefault(ev.event, time.monotonic())


def pickup(site: Site, api: httpx.Client, doc: str, n: int) -> list[float]:
    site.worker(site.fast)
    out = []
    for _ in range(n):
        time.sleep(0.5)  # the worker is idle, waiting on LISTEN
        t0 = time.monotonic()
        job_id = _report(api, doc)
        marks: dict[str, float] = {}
        _follow(api, job_id, marks)
        assert "done" in marks, marks
        out.append(marks["running"] - t0)
    site.stop_workers()
    return out


def throughput(site: Site, api: httpx.Client, doc: str, n: int, workers: int) -> float:
    for _ in range(workers):
        site.worker(site.fast)
    t0 = time.monotonic()
    ids = [_report(api, doc) for _ in range(n)]
    pending = set(ids)
    while pending:
        jobs = {j["id"]: j["status"] for j in api.get("/api/jobs").json()["jobs"]}
        bad = [i for i in pending if jobs.get(i) in ("failed", "cancelled")]
        assert not bad, bad
        pending = {i for i in pending if jobs.get(i) != "done"}
        time.sleep(0.02)
    wall = time.monotonic() - t0
    site.stop_workers()
    return n / wall


def takeover(site: Site, api: httpx.Client, doc: str) -> tuple[float, float]:
    for _ in range(2):
        site.worker(site.slow)
    job_id = _report(api, doc)
    marks: dict[str, float] = {}
    follower = threading.Thread(target=_follow, args=(api, job_id, marks), daemon=True)
    follower.start()
    deadline = time.monotonic() + 120
    while "section_started" not in marks:
        assert time.monotonic() < deadline and follower.is_alive(), marks
        time.sleep(0.01)
    running = [i for i, log in enumerate(site.logs) if job_id in log.read_text()]
    assert len(running) == 1, running
    killed = time.monotonic()
    site.workers[running[0]].kill()
    follower.join(600)
    assert "resuming" in marks and "done" in marks, marks
    site.stop_workers()
    return marks["resuming"] - killed, marks["done"] - killed


def _ms(values: list[float]) -> str:
    data = sorted(values)
    p50 = statistics.median(data)
    return (f"p50 {p50 * 1000:.0f} ms, min {data[0] * 1000:.0f} ms, "
            f"max {data[-1] * 1000:.0f} ms (n={len(data)})")


@contextlib.contextmanager
def _cluster() -> Iterator[str]:
    gen = pg_server.__wrapped__()  # type: ignore[attr-defined]
    server = next(gen)
    try:
        yield server.new_database()
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=24, help="reports per throughput run (≤ 32)")
    ap.add_argument("--pickups", type=int, default=10)
    ap.add_argument("--stalled-after", type=float, default=3.0)
    args = ap.parse_args()
    load0 = os.getloadavg()
    with _cluster() as url, tempfile.TemporaryDirectory() as tmp:
        conn = open_db(url)
        UserStore(conn, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)).add(
            "alice", "alice-password")
        conn.close()
        site = Site(Path(tmp), url, args.stalled_after)
        try:
            with api_client(site.app.url, timeout=120) as api:
                login(api, "alice", "alice-password")
                r = api.post("/api/documents",
                             files={"file": (DOC.name, DOC.read_bytes())})
                r.raise_for_status()
                doc = r.json()["id"]
                picks = pickup(site, api, doc, args.pickups)
                one = throughput(site, api, doc, args.jobs, 1)
                two = throughput(site, api, doc, args.jobs, 2)
                resumed, done = takeover(site, api, doc)
        finally:
            site.close()
    load1 = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load0[0]:.1f} at the start, "
          f"{load1[0]:.1f} at the end (other processes' work is in these figures)")
    print(f"pickup (created → running, seen by a follower): {_ms(picks)}")
    print(f"throughput, {args.jobs} quick reports, scripted model: 1 worker {one:.2f} jobs/s, "
          f"2 workers {two:.2f} jobs/s, ratio {two / one:.2f}")
    print(f"kill -9 of the worker running a report (--stalled-after {args.stalled_after:g}): "
          f"resuming after {resumed:.1f} s, done after {done:.1f} s")


if __name__ == "__main__":
    main()
