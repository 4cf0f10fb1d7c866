"""Per-user limits, the bounded queue, clear 429s, and disconnects that cancel generation."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from qwenapp.models.events import Event, GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server, parse_sse
from qwenapp.settings import load_settings


class RecordingModel(ScriptedModel):
    """A slow scripted model that counts streams finished and streams cut short."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(responder=lambda m, o: "word " * 400, chunk_size=5, **kw)
        self.finished = 0
        self.cancelled = 0
        self.active = 0

    async def stream(self, messages: Sequence[Message],
                     options: GenerateOptions) -> AsyncIterator[Event]:
        done = False
        self.active += 1
        try:
            async for ev in super().stream(messages, options):
                yield ev
            done = True
        finally:
            self.active -= 1
            if done:
                self.finished += 1
            else:
                self.cancelled += 1


def _app(home: Path, model: ScriptedModel, **limits: Any) -> FastAPI:
    settings = load_settings({"QWENAPP_HOME": str(home)})
    return create_app(settings, [model], ServerConfig(limits=ServerLimits(**limits)))


def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


CHAT = {"messages": [{"role": "user", "content": "talk"}], "stream": True}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_per_user_concurrent_streams(home: Path) -> None:
    model = RecordingModel(delay=0.05)
    app = _app(home, model, streams_per_user=2)
    with live_server(app) as url, api_client(url) as api, ExitStack() as stack:
        for _ in range(2):
            r = stack.enter_context(api.stream("POST", "/v1/chat/completions", json=CHAT))
            assert r.status_code == 200
        r = api.post("/v1/chat/completions", json=CHAT)
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "too_many_streams" and err["type"] == "rate_limit_error"
        assert "2 per user" in err["message"] and int(r.headers["retry-after"]) >= 1
        stack.close()  # both clients hang up
        _wait(lambda: app.state.server.streams.in_use("local") == 0)
        with api.stream("POST", "/v1/chat/completions", json=CHAT) as ok:
            assert ok.status_code == 200


def test_request_rate_limit(home: Path) -> None:
    app = _app(home, ScriptedModel(), requests_per_minute=60, burst=3)
    body = {"messages": [{"role": "user", "content": "hi"}]}
    with live_server(app) as url, api_client(url) as api:
        codes = [api.post("/v1/chat/completions", json=body).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = api.post("/v1/chat/completions", json=body)
        assert r.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 2


def test_server_wide_queue_is_bounded(home: Path) -> None:
    model = RecordingModel(delay=0.02)
    app = _app(home, model, streams_per_user=10, active_streams=1, queued_streams=1)
    with live_server(app) as url, api_client(url) as api:
        first = api.stream("POST", "/v1/chat/completions", json=CHAT)
        r1 = first.__enter__()
        assert r1.status_code == 200
        waited: list[int] = []

        def second() -> None:  # waits in the queue until the first ends
            with api_client(url) as other:
                waited.append(other.post("/v1/chat/completions",
                                         json={**CHAT, "stream": False,
                                               "max_tokens": 5}).status_code)

        t = threading.Thread(target=second)
        t.start()
        _wait(lambda: app.state.server.streams.gate.waiting == 1)
        third = api.post("/v1/chat/completions", json=CHAT)
        assert third.status_code == 429 and third.json()["error"]["code"] == "server_busy"
        first.__exit__(None, None, None)
        t.join(30)
        assert waited == [200]


def test_disconnect_mid_stream_cancels_the_chat_turn(home: Path) -> None:
    model = RecordingModel(delay=0.05)
    app = _app(home, model)
    with live_server(app) as url, api_client(url) as api:
        conv = api.post("/api/conversations", json={}).json()
        with api.stream("POST", f"/api/conversations/{conv['id']}/messages",
                        json={"content": "talk to me"}) as r:
            seen = 0
            for ev in parse_sse(r.iter_lines()):
                seen += ev.event == "text"
                if seen == 3:
                    break  # leaving the block closes the connection
        _wait(lambda: model.cancelled == 1)
        assert model.finished == 0 and model.active == 0
        _wait(lambda: app.state.server.streams.in_use("local") == 0)
        detail = api.get(f"/api/conversations/{conv['id']}").json()
        answer = detail["messages"][-1]
        assert answer["status"] == "interrupted" and answer["finish_reason"] == "cancelled"
        assert answer["content"].startswith("word word")
        assert len(answer["content"]) < len("word " * 400)


def test_disconnect_cancels_openai_streams_and_whole_answers(home: Path) -> None:
    model = RecordingModel(delay=0.05)
    app = _app(home, model)
    with live_server(app) as url, api_client(url) as api:
        with api.stream("POST", "/v1/chat/completions", json=CHAT) as r:
            next(r.iter_lines())
        _wait(lambda: model.cancelled == 1)
        with pytest.raises(httpx.ReadTimeout):  # a non-streamed answer, abandoned
            api.post("/v1/chat/completions", json={**CHAT, "stream": False}, timeout=0.5)
        _wait(lambda: model.cancelled == 2)
        assert model.finished == 0
        _wait(lambda: app.state.server.streams.in_use("local") == 0)


def test_stalled_model_is_still_cancelled_promptly(home: Path) -> None:
    """A model that is slow to produce its next token still stops when the client leaves
    (the server listens for the disconnect instead of waiting for the next chunk)."""
    model = RecordingModel(delay=5.0)
    app = _app(home, model)
    with live_server(app) as url, api_client(url) as api:
        conv = api.post("/api/conversations", json={}).json()
        with api.stream("POST", f"/api/conversations/{conv['id']}/messages",
                        json={"content": "slow"}) as r:
            for ev in parse_sse(r.iter_lines()):
                if ev.event == "started":
                    break
        t0 = time.monotonic()
        _wait(lambda: model.cancelled == 1, timeout=4)
        assert time.monotonic() - t0 < 4


def test_limits_are_per_user(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from qwenapp.server.testing import login
    from qwenapp.server.users import UserStore
    from qwenapp.store import open_db

    home = tmp_path / "home"
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    conn = open_db(home / "qwenapp.db")
    UserStore(conn, fast).add("ann", "ann-password")
    UserStore(conn, fast).add("ben", "ben-password")
    conn.close()
    model = RecordingModel(delay=0.05)
    settings = load_settings({"QWENAPP_HOME": str(home)})
    app = create_app(settings, [model], ServerConfig(limits=ServerLimits(streams_per_user=1)),
                     hasher=fast)
    with live_server(app) as url, httpx.Client(base_url=url) as ann, \
            httpx.Client(base_url=url) as ben:
        login(ann, "ann", "ann-password")
        login(ben, "ben", "ben-password")
        with ann.stream("POST", "/v1/chat/completions", json=CHAT) as r:
            assert r.status_code == 200
            assert ann.post("/v1/chat/completions", json=CHAT).status_code == 429
            with ben.stream("POST", "/v1/chat/completions", json=CHAT) as r2:
                assert r2.status_code == 200  # ann's limit is not ben's


