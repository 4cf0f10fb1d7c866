"""Run a server for tests and benchmarks: in a thread, or as a real ``qwenapp serve``.

:func:`live_server` serves an app (built with :func:`~.app.create_app`, so a
test can pass its own scripted model and inspect it) on 127.0.0.1 from a
background thread with its own event loop. :func:`serve_process` starts the
real console script and waits for the line that names its port.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

__all__ = [
    "ServeProcess",
    "SseEvent",
    "api_client",
    "chat",
    "live_server",
    "login",
    "parse_sse",
    "refresh_csrf",
    "serve_process",
    "write_demo_script",
]


@contextlib.contextmanager
def live_server(app: FastAPI, *, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           access_log=False, timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="qwenapp-test-server")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    url: str
    log: list[str]

    def stop(self, *, kill: bool = False, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


_SERVING = re.compile(r"serving on (http://\S+)")


def serve_process(cmd: Sequence[str], env: dict[str, str], *, args: Sequence[str] = (),
                  timeout: float = 60.0, cwd: Path | None = None) -> ServeProcess:
    """Start ``cmd serve --port 0 ARGS`` and wait until it prints its URL.

    The caller stops it (:meth:`ServeProcess.stop`); its stderr lines are
    collected in ``log`` by a reader thread.
    """
    proc = subprocess.Popen([*cmd, "serve", "--port", "0", *args], env={**env,
                            "COLUMNS": "300"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)
    log: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line.rstrip("\n"))
            m = _SERVING.search(line)
            if m and not found.is_set():
                url.append(m.group(1))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found.wait(0.1):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            raise RuntimeError("qwenapp serve did not start:\n" + "\n".join(log))
    running = ServeProcess(proc, url[0], log)
    # The URL is printed before uvicorn accepts; wait until it answers.
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(running.url + "/api/health", timeout=2).status_code == 200:
                return running
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    running.stop(kill=True)
    raise RuntimeError("qwenapp serve did not answer:\n" + "\n".join(log))



@dataclass(frozen=True, slots=True)
class SseEvent:
    event: str
    data: Any
    id: str | None = None


def parse_sse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """SSE messages from response lines (``data`` decoded as JSON when it is JSON)."""
    event, eid = "message", None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    value: Any = json.loads(text)
                except ValueError:
                    value = text
                yield SseEvent(event, value, eid)
            event, data, eid = "message", [], None
        elif line.startswith(":"):
            continue
        else:
            field, _, value_text = line.partition(":")
            value_text = value_text.removeprefix(" ")
            if field == "event":
                event = value_text
            elif field == "data":
                data.append(value_text)
            elif field == "id":
                eid = value_text
    if data:
        yield SseEvent(event, "\n".join(data), eid)


@contextlib.contextmanager
def api_client(base_url: str, **kwargs: Any) -> Iterator[httpx.Client]:
    """An httpx client for the native API that sends the CSRF token a browser page would.

    It reads ``GET /api/me`` (after a login, if the caller logs in first:
    call :func:`refresh_csrf` again) and sends the token on every request.
    """
    with httpx.Client(base_url=base_url, timeout=kwargs.pop("timeout", 30.0), **kwargs) as c:
        refresh_csrf(c)
        yield c


def refresh_csrf(client: httpx.Client) -> None:
    r = client.get("/api/me")
    if r.status_code == 200 and r.json().get("csrf_token"):
        client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    else:
        client.headers.pop("X-CSRF-Token", None)


def login(client: httpx.Client, username: str, password: str) -> dict[str, Any]:
    r = client.post("/api/auth/login", json={"username": username, "password": password})
    r.raise_for_status()
    me: dict[str, Any] = r.json()
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    return me


def chat(client: httpx.Client, conversation_id: str, content: str,
         **body: Any) -> list[SseEvent]:
    """One chat turn through the native API, collected."""
    with client.stream("POST", f"/api/conversations/{conversation_id}/messages",
                       json={"content": content, **body}) as r:
        if r.status_code != 200:
            r.read()
            raise httpx.HTTPStatusError(f"HTTP {r.status_code}: {r.text}", request=r.request,
                                        response=r)
        return list(parse_sse(r.iter_lines()))


REPORT_PLAN: dict[str, Any] = {
    "title": "Why developers adopt Qwen",
    "sections": [
        {"heading": "Licensing", "questions": ["Which license do Qwen models use?"]},
        {"heading": "Running locally", "questions": ["Can Qwen run on a CPU?"]},
    ],
}


CLARIFY = {"questions": [{"question": "Which aspect matters most to you?",
                           "options": ["Licensing", "Local use", "Cost"]}]}


def write_demo_script(path: Path, *, deck_topic: str = "Open models at work",
                      deck_slides: int = 5, delay: float = 0.0,
                      extra_rules: Sequence[dict[str, Any]] = ()) -> Path:
    """A ``scripted:PATH`` file that answers chat, report and deck requests plausibly.

    Clarifying questions: one question with three options (:data:`CLARIFY`).
    Reports: a fixed two-section plan, sections that cite passage [1], a
    summary. Decks: :func:`qwenapp.slides.scripted.cli_script`'s rules for
    ``deck_topic`` with ``deck_slides`` slides. Chat: the scripted echo.
    ``delay`` (seconds per chunk) makes every answer slow, for tests that
    need a job or a stream to be caught mid-way.
    """
    from ..slides.scripted import cli_script

    cli_script(path, deck_topic, deck_slides)
    deck_rules = json.loads(path.read_text(encoding="utf-8"))["rules"]
    rules = [  # first match wins: the deck's rules go before the report's, whose
        # "conclusion" the deck outline's prompt also says ("no conclusion slide")
        *extra_rules,
        *deck_rules,
        {"contains": "Ask your clarifying question", "reply": CLARIFY},
        {"contains": "You plan research reports", "reply": REPORT_PLAN},
        {"contains": "You write one section",
         "reply": "Qwen models are released under the Apache 2.0 license [1]. "
                  "They run on ordinary CPUs in GGUF form [1]."},
        {"contains": "executive summary",
         "reply": "Developers adopt Qwen for its license and local use [1]."},
        {"contains": "conclusion", "reply": "In conclusion, the sources answer the question."},
    ]
    path.write_text(json.dumps({"rules": rules, "chunk_size": 4, "delay": delay},
                               ensure_ascii=False), encoding="utf-8")
    return path
