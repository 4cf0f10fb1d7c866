"""Two ``qwenapp serve`` processes on one database: a restart leaves the other's answers alone.

On SQLite (one file) and on a real PostgreSQL: app process B streams a long chat answer;
app process A is stopped and started again meanwhile. A's start-up used to mark every
streaming answer interrupted; now B's answer stays ``streaming`` while A comes back, B
goes on sending it, and it is saved ``complete`` and whole. Then B is killed with
SIGKILL mid-answer, and A, which keeps running, marks that answer interrupted on its
own (B's process is gone) with what was saved kept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from conftest import qwenapp_cmd
from qwenapp.server.testing import (
    ServeProcess,
    api_client,
    parse_sse,
    serve_process,
    write_demo_script,
)

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

LONG = " ".join(f"w{i:04d}" for i in range(600))  # 3,600 characters, 900 chunks of 4


class Stream:
    """A chat turn streamed in a thread: ``text`` grows as the answer arrives."""

    def __init__(self, url: str, conversation: str) -> None:
        self.text = ""
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._read, args=(url, conversation),
                                        daemon=True)
        self._thread.start()

    def _read(self, url: str, conversation: str) -> None:
        try:
            with api_client(url, timeout=120) as api, api.stream(
                    "POST", f"/api/conversations/{conversation}/messages",
                    json={"content": "tell me a long story"}) as r:
                assert r.status_code == 200, r.status_code
                for ev in parse_sse(r.iter_lines()):
                    if ev.event == "text" and isinstance(ev.data, dict):
                        self.text += str(ev.data["text"])
        except (httpx.HTTPError, AssertionError) as e:  # a killed server cuts it
            self.error = e

    def wait_for(self, chars: int) -> None:
        deadline = time.monotonic() + 120
        while len(self.text) < chars:
            assert self._thread.is_alive(), (self.error, len(self.text))
            assert time.monotonic() < deadline, len(self.text)
            time.sleep(0.05)

    def join(self) -> str:
        self._thread.join(180)
        assert not self._thread.is_alive()
        return self.text


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1",
               QWENAPP_PARALLEL="2")
    (tmp_path / "home").mkdir()
    if request.param == "sqlite":
        yield env
        return
    server: PgServer = request.getfixturevalue("pg_server")
    url = server.new_database()
    yield {**env, "QWENAPP_DATABASE_URL": url}
    server.drop_database(url)


def _answer(server: ServeProcess, conversation: str) -> dict[str, object]:
    with api_client(server.url, timeout=60) as api:
        message: dict[str, object] = api.get(
            f"/api/conversations/{conversation}").json()["messages"][-1]
    assert message["role"] == "assistant"
    return message


def test_a_restart_leaves_the_other_process_streaming(tmp_path: Path,
                                                      env: dict[str, str]) -> None:
    script = write_demo_script(tmp_path / "script.json", delay=0.03,
                               extra_rules=[{"contains": "long story", "reply": LONG}])
    args = ["-m", f"scripted:{script}", "--log-level", "warning", "--stalled-after", "3",
            "--rate", "10000"]
    a = serve_process(qwenapp_cmd(), env, args=args)
    b: ServeProcess | None = None
    try:
        b = serve_process(qwenapp_cmd(), env, args=args)
        with api_client(b.url, timeout=60) as api:
            conv = api.post("/api/conversations", json={}).json()["id"]
            other = api.post("/api/conversations", json={}).json()["id"]
        stream = Stream(b.url, conv)
        stream.wait_for(40)  # B streams it now
        a.stop()
        a = serve_process(qwenapp_cmd(), env, args=args)  # A's start-up runs here
        at_restart = len(stream.text)
        answer = _answer(a, conv)
        assert answer["status"] == "streaming", answer["status"]  # left to B
        assert at_restart < len(LONG), "the answer ended before A came back: lengthen LONG"
        assert stream.join() == LONG  # B went on sending it, to the end
        assert stream.error is None, stream.error
        answer = _answer(a, conv)
        assert answer["status"] == "complete" and answer["content"] == LONG
        # B killed mid-answer: A, still running, closes B's answer by itself
        cut = Stream(b.url, other)
        cut.wait_for(40)
        b.stop(kill=True)
        deadline = time.monotonic() + 60
        while (answer := _answer(a, other))["status"] == "streaming":
            assert time.monotonic() < deadline, "B's answer stayed streaming"
            time.sleep(0.2)
        assert answer["status"] == "interrupted"
        assert LONG.startswith(str(answer["content"]))  # what B had saved is kept
    finally:
        a.stop()
        if b is not None:
            b.stop(kill=True)
