"""Soak: mixed traffic against a real ``qwenapp serve`` (loopback, scripted model), with kill -9s.

For ``--minutes`` (30 for the release figure, 2 in the test suite), worker
threads keep up: streamed chat turns, document uploads (now and then a
hostile one: a FlateDecode bomb, a megabyte without a full stop), report and
deck jobs followed over SSE that disconnect and reconnect with
``Last-Event-ID``. Every ``--kill-every`` seconds the server is killed with
SIGKILL and started again on the same database. Afterwards every answer the
client saw saved is read back, and every job's events are checked for gaps.

Figures printed (and returned by :func:`soak` for the test):

* ``server_errors``: responses with status >= 500 (must be 0);
* ``lost_messages``: answers the client saw ``saved`` as complete that are
  missing or different after the restarts (must be 0);
* ``event_gaps``: job events missing or repeated across reconnects (must be 0);
* ``stuck_streaming``: answers still "streaming" at the end (must be 0);
* memory: the server's RSS (with its reader process) sampled every few
  seconds, first and last third of each server lifetime.

Usage: ``python bench/soak.py [--minutes 30] [--kill-every 240] [--chats 4]``. Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from qwenapp.server.testing import ServeProcess, parse_sse, serve_process, write_demo_script

__all__ = ["SoakResult", "soak"]

TERMINAL = {"done", "failed", "cancelled"}


@dataclass
class SoakResult:
    seconds: float = 0.0
    requests: int = 0
    server_errors: int = 0
    refused_while_down: int = 0  # connection errors during a restart (expected)
    chats_saved: int = 0
    chats_interrupted: int = 0  # in flight at a kill: saved as interrupted
    lost_messages: int = 0
    uploads_added: int = 0
    uploads_refused: int = 0
    lost_documents: int = 0
    jobs_finished: int = 0
    jobs_unfinished: int = 0
    events_seen: int = 0
    event_gaps: int = 0
    reconnects: int = 0
    kills: int = 0
    stuck_streaming: int = 0
    rss_mb: list[tuple[float, int, float]] = field(default_factory=list)  # (t, life, MB)
    errors: list[str] = field(default_factory=list)

    def memory_summary(self) -> list[tuple[int, float, float]]:
        """Per server lifetime: (life, median MB of its first third, of its last third)."""
        out = []
        for life in sorted({lf for _, lf, _ in self.rss_mb}):
            xs = [mb for _, lf, mb in self.rss_mb if lf == life]
            if len(xs) >= 6:
                third = len(xs) // 3
                first, last = sorted(xs[:third]), sorted(xs[-third:])
                out.append((life, first[len(first) // 2], last[len(last) // 2]))
        return out


class _Server:
    """The serve process, restarted on demand; workers read ``url`` each request."""

    def __init__(self, cmd: list[str], env: dict[str, str], args: list[str]) -> None:
        self.cmd, self.env, self.args = cmd, env, args
        self.lock = threading.Lock()
        self.life = 0
        self.proc: ServeProcess = serve_process(cmd, env, args=args)
        self.url = self.proc.url
        self.up = threading.Event()
        self.up.set()

    def restart(self) -> None:
        self.up.clear()
        self.proc.stop(kill=True)
        self.proc = serve_process(self.cmd, self.env, args=self.args, timeout=120)
        with self.lock:
            self.url = self.proc.url
            self.life += 1
        self.up.set()

    def rss_mb(self) -> float:
        pids = [self.proc.proc.pid]
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pids[0]:
                        pids.append(int(d.name))
                except (OSError, ValueError, IndexError):
                    continue
        total = 0
        for pid in pids:
            try:
                for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024


class _Soak:
    def __init__(self, server: _Server, home: Path, deadline: float, seed: int) -> None:
        self.server, self.home, self.deadline = server, home, deadline
        self.result = SoakResult()
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.saved: dict[str, tuple[str, str]] = {}  # message id -> (conversation, content)
        self.documents: set[str] = set()
        self.jobs: dict[str, list[int]] = {}  # job id -> seqs seen

    def _count(self, **kw: int) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self.result, k, getattr(self.result, k) + v)

    @contextlib.contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        self.server.up.wait(180)
        with httpx.Client(base_url=self.server.url, timeout=60) as c:
            c.headers["X-CSRF-Token"] = c.get("/api/me").json()["csrf_token"]
            yield c

    def _check(self, r: httpx.Response, what: str) -> None:
        self._count(requests=1)
        if r.status_code >= 500:
            self._count(server_errors=1)
            with self.lock:
                self.result.errors.append(f"{what}: {r.status_code} {r.text[:200]}")

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def loop(self, step: Any) -> None:
        while self.running():
            try:
                with self._client() as c:
                    while self.running():
                        step(c)
            except (httpx.HTTPError, OSError, ValueError, KeyError):
                self._count(refused_while_down=1)
                time.sleep(0.3)

    # -- workers ------------------------------------------------------------------------

    def chat(self, c: httpx.Client) -> None:
        r = c.post("/api/conversations", json={})
        self._check(r, "create conversation")
        if r.status_code != 201:
            time.sleep(0.5)
            return
        cid = r.json()["id"]
        for turn in range(3):
            text = f"turn {turn} of {cid[-6:]} " + " ".join(
                self.rng.choice(["alpha", "beta", "gamma", "delta"]) for _ in range(8))
            answer, saved = "", None
            with c.stream("POST", f"/api/conversations/{cid}/messages",
                          json={"content": text}) as s:
                self._check(s, "chat turn")
                if s.status_code != 200:
                    s.read()
                    time.sleep(0.5)
                    return
                for ev in parse_sse(s.iter_lines()):
                    if ev.event == "text":
                        answer += ev.data["text"] if isinstance(ev.data, dict) else ""
                    elif ev.event == "saved":
                        saved = ev.data
            if saved and saved.get("status") == "complete":
                with self.lock:
                    self.saved[saved["message_id"]] = (cid, answer)
                self._count(chats_saved=1)

    def upload(self, c: httpx.Client) -> None:
        n = self.rng.randrange(10)
        if n == 0:
            name, data = "bomb.pdf", _bomb()
        elif n == 1:
            name, data = "line.txt", b"widget " * 142_857
        else:
            word = self.rng.choice(["quokka", "ibis", "lemur", "okapi"])
            name = f"{word}-{self.rng.randrange(10**6)}.md"
            data = f"# {word}\n\nThe {word} note number {n}. It is short.\n".encode()
        r = c.post("/api/documents", files={"file": (name, data)})
        self._check(r, f"upload {name}")
        if r.status_code == 201:
            with self.lock:
                self.documents.add(r.json()["id"])
            self._count(uploads_added=1)
        elif r.status_code in (400, 413, 415):
            self._count(uploads_refused=1)
        time.sleep(0.5)

    def job(self, c: httpx.Client) -> None:
        kind = self.rng.choice(["report", "deck"])
        body = ({"kind": "report", "question": "Why do developers adopt Qwen?",
                 "depth": "quick"} if kind == "report" else
                {"kind": "deck", "topic": "Open models at work", "slides": 5})
        r = c.post("/api/jobs", json=body)
        self._check(r, f"create {kind} job")
        if r.status_code not in (201, 202):
            time.sleep(2)
            return
        jid = r.json()["id"]
        with self.lock:
            self.jobs[jid] = []
        self.follow(jid)

    def follow(self, jid: str) -> None:
        """Follow a job's events to its end, dropping the connection every few events."""
        last = 0
        while self.running() or time.monotonic() < self.deadline + 60:
            try:
                with self._client() as c:
                    headers = {"Last-Event-ID": str(last)} if last else {}
                    with c.stream("GET", f"/api/jobs/{jid}/events", headers=headers) as s:
                        self._check(s, "job events")
                        if s.status_code != 200:
                            return
                        budget = self.rng.randint(2, 8)
                        for ev in parse_sse(s.iter_lines()):
                            seq = int(ev.id or 0)
                            with self.lock:
                                self.jobs[jid].append(seq)
                            self._count(events_seen=1)
                            last = seq
                            if ev.event in TERMINAL:
                                self._count(jobs_finished=1)
                                return
                            budget -= 1
                            if budget == 0:
                                break  # disconnect on purpose; resume with Last-Event-ID
                    self._count(reconnects=1)
            except (httpx.HTTPError, OSError, ValueError):
                self._count(refused_while_down=1)
                time.sleep(0.3)
        self._count(jobs_unfinished=1)

    # -- the end ------------------------------------------------------------------------

    def verify(self) -> None:
        with self._client() as c:
            by_conv: dict[str, dict[str, Any]] = {}
            for mid, (cid, content) in self.saved.items():
                if cid not in by_conv:
                    r = c.get(f"/api/conversations/{cid}")
                    self._check(r, "read conversation")
                    by_conv[cid] = {m["id"]: m for m in r.json().get("messages", [])} \
                        if r.status_code == 200 else {}
                m = by_conv[cid].get(mid)
                if m is None or m["content"] != content or m["status"] != "complete":
                    self._count(lost_messages=1)
            for msgs in by_conv.values():
                for m in msgs.values():
                    if m["status"] == "streaming":
                        self._count(stuck_streaming=1)
                    elif m["status"] == "interrupted":
                        self._count(chats_interrupted=1)
            listed = {d["id"] for d in c.get("/api/documents").json()["documents"]}
            self._count(lost_documents=len(self.documents - listed))
        for seqs in self.jobs.values():
            # across reconnects and restarts: 1, 2, 3, ... with nothing missing or repeated
            expected = list(range(1, len(seqs) + 1))
            if seqs != expected:
                self._count(event_gaps=max(1, len(set(expected) ^ set(seqs))))


_BOMB: bytes | None = None


def _bomb() -> bytes:
    """A 100 KB PDF whose content stream inflates to 100 MB (refused by the reader)."""
    global _BOMB
    if _BOMB is None:
        import zlib

        comp = zlib.compressobj(9)
        stream = b"".join(comp.compress(b" " * (1 << 20)) for _ in range(100)) + comp.flush()
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
                + stream + b"\nendstream"]
        out = bytearray(b"%PDF-1.4\n")
        offsets = []
        for i, body in enumerate(objs, start=1):
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
        out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n" \
            .encode()
        _BOMB = bytes(out)
    return _BOMB


def soak(home: Path, *, seconds: float, kill_every: float, chats: int = 3, uploads: int = 1,
         jobs: int = 1, cmd: list[str] | None = None, seed: int = 1) -> SoakResult:
    """Run the soak for ``seconds`` against a fresh ``qwenapp serve`` on ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    script = write_demo_script(home / "script.json", delay=0.01)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", QWENAPP_PARALLEL="2")
    args = ["-m", f"scripted:{script}", "--log-level", "warning", "--rate", "100000",
            "--streams-per-user", "64", "--jobs-per-user", "8", "--max-jobs", "2"]
    cmd = cmd or [str(Path(sys.executable).with_name("qwenapp"))]
    started = time.monotonic()
    server = _Server(cmd, env, args)
    run = _Soak(server, home, started + seconds, seed)
    threads = [threading.Thread(target=run.loop, args=(step,), daemon=True)
               for step in [run.chat] * chats + [run.upload] * uploads + [run.job] * jobs]
    for t in threads:
        t.start()
    next_kill = started + kill_every
    try:
        while run.running():
            time.sleep(min(3.0, max(0.1, run.deadline - time.monotonic())))
            with run.lock:
                run.result.rss_mb.append((time.monotonic() - started, server.life,
                                          server.rss_mb()))
            if time.monotonic() >= next_kill and time.monotonic() < run.deadline - 10:
                server.restart()
                run.result.kills += 1
                next_kill = time.monotonic() + kill_every
        for t in threads:
            t.join(120)
        run.verify()
    finally:
        server.proc.stop()
    run.result.seconds = time.monotonic() - started
    return run.result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--kill-every", type=float, default=240.0, help="seconds between kill -9s")
    ap.add_argument("--chats", type=int, default=4)
    ap.add_argument("--uploads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 minutes, a kill every 45 s")
    a = ap.parse_args()
    minutes, kill_every = (2.0, 45.0) if a.quick else (a.minutes, a.kill_every)
    with tempfile.TemporaryDirectory(prefix="qwenapp-soak-") as tmp:
        r = soak(Path(tmp) / "home", seconds=minutes * 60, kill_every=kill_every,
                 chats=a.chats, uploads=a.uploads, jobs=a.jobs)
    figures = {k: v for k, v in vars(r).items() if k not in ("rss_mb", "errors")}
    print(json.dumps(figures, indent=1))
    print("memory (MB) per server lifetime: life, first third, last third")
    for life, first, last in r.memory_summary():
        print(f"  {life}: {first:.0f} -> {last:.0f}")
    for e in r.errors[:20]:
        print("ERROR", e)
    ok = (r.server_errors == 0 and r.lost_messages == 0 and r.event_gaps == 0
          and r.stuck_streaming == 0 and r.lost_documents == 0)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
