"""Issue 9, item 4: forwarded headers count only from a proxy the operator named.

The server runs under uvicorn with ``qwenapp serve``'s own settings
(:func:`qwenapp.cli.serve_cmd.uvicorn_config`) on 127.0.0.1, so uvicorn's
default trust of loopback proxies would show here if it came back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from qwenapp.cli.serve_cmd import uvicorn_config
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, create_app
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@contextlib.contextmanager
def _serve(home: Path, proxies: Sequence[str] | None) -> Iterator[str]:
    import uvicorn

    settings = load_settings({"QWENAPP_HOME": str(home)})
    conn = open_db(settings.db_path)
    if UserStore(conn, FAST).count() == 0:
        UserStore(conn, FAST).add("alice", "alice-password")
    conn.close()
    app = create_app(settings, [ScriptedModel()], ServerConfig(trust_proxy=bool(proxies)),
                     hasher=FAST, trusted_proxies=proxies)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn_config(app, "warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def _attempts(url: str, n: int) -> list[int]:
    """``n`` wrong-password logins, each claiming a different X-Forwarded-For."""
    with httpx.Client(base_url=url) as c:
        return [c.post("/api/auth/login", json={"username": "alice", "password": "nope"},
                       headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(n)]


def _cookie(url: str, proto: str) -> str:
    r = httpx.post(url + "/api/auth/login", headers={"X-Forwarded-Proto": proto},
                   json={"username": "alice", "password": "alice-password"})
    assert r.status_code == 200
    return r.headers["set-cookie"].lower()


def test_rotating_forwarded_for_does_not_bypass_the_login_limit(tmp_path: Path) -> None:
    with _serve(tmp_path / "home", None) as url:
        codes = _attempts(url, 14)
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}


def test_forwarded_proto_does_not_make_cookies_secure_untrusted(tmp_path: Path) -> None:
    with _serve(tmp_path / "home", None) as url:
        attrs = [a.strip() for a in _cookie(url, "https").split(";")]
        assert "secure" not in attrs
    # a proxy named, but not the peer: still ignored
    with _serve(tmp_path / "home", ["10.0.0.1"]) as url:
        attrs = [a.strip() for a in _cookie(url, "https").split(";")]
        assert "secure" not in attrs
        codes = _attempts(url, 12)
        assert 429 in codes


def test_a_named_proxy_is_believed(tmp_path: Path) -> None:
    with _serve(tmp_path / "home", ["127.0.0.1"]) as url:
        attrs = [a.strip() for a in _cookie(url, "https").split(";")]
        assert "secure" in attrs
        # each forwarded client has its own budget: 14 clients, one attempt each
        assert set(_attempts(url, 14)) == {401}
        # and one client rotating nothing is still limited
        with httpx.Client(base_url=url) as c:
            codes = [c.post("/api/auth/login", json={"username": "alice", "password": "x"},
                            headers={"X-Forwarded-For": "198.51.100.7"}).status_code
                     for _ in range(12)]
        assert codes[-1] == 429


@pytest.mark.parametrize("spec", ["not-an-address", "10.0.0.0/99"])
def test_a_bad_proxy_spec_is_a_clean_error(spec: str) -> None:
    from qwenapp.cli.serve_cmd import _proxies
    from qwenapp.errors import InputError

    with pytest.raises(InputError, match="--trust-proxy"):
        _proxies(spec, ())


def test_trusted_proxies_come_from_settings(tmp_path: Path) -> None:
    env = {"QWENAPP_HOME": str(tmp_path), "QWENAPP_TRUST_PROXY": "10.0.0.5, 10.1.0.0/16"}
    assert load_settings(env).trusted_proxies == ("10.0.0.5", "10.1.0.0/16")
    assert load_settings({"QWENAPP_HOME": str(tmp_path)}).trusted_proxies == ()
