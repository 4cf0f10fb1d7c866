"""Accounts and security: loopback without login, refusal elsewhere, sessions, CSRF, keys."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from conftest import qwenapp_cmd
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server, login
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1")
    return env


def _add_user(home: Path, name: str, password: str, admin: bool = False) -> None:
    conn = open_db(home / "qwenapp.db")
    UserStore(conn, FAST).add(name, password, admin=admin)
    conn.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _serve(home: Path, **config: Any) -> AbstractContextManager[str]:
    settings = load_settings({"QWENAPP_HOME": str(home)})
    return live_server(create_app(settings, [ScriptedModel()], ServerConfig(**config),
                                  hasher=FAST))


# -- loopback, no accounts ----------------------------------------------------------------

def test_loopback_without_accounts_needs_no_login(home: Path) -> None:
    with _serve(home) as url:
        me = httpx.get(url + "/api/me").json()
        assert me["auth"] == "none" and me["accounts"] is False
        assert me["user"]["username"] == "local" and me["csrf_token"]


def test_local_writes_need_the_csrf_token(home: Path) -> None:
    with _serve(home) as url:
        r = httpx.post(url + "/api/conversations", json={})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = httpx.post(url + "/api/conversations", json={}, headers={"X-CSRF-Token": "nope"})
        assert r.status_code == 403
        with api_client(url) as c:
            assert c.post("/api/conversations", json={}).status_code == 201
        # programs (OpenAI clients) send a bearer token, which no other site can add
        r = httpx.post(url + "/api/conversations", json={},
                       headers={"Authorization": "Bearer anything"})
        assert r.status_code == 201


def test_dns_rebinding_is_refused_on_loopback(home: Path) -> None:
    with _serve(home) as url:
        r = httpx.get(url + "/api/me", headers={"Host": "attacker.example:8080"})
        assert r.status_code == 421 and r.json()["error"]["code"] == "bad_host"
        assert httpx.get(url + "/", headers={"Host": "localhost:8080"}).status_code == 200


def test_cli_refuses_a_public_address_without_accounts(home: Path) -> None:
    r = subprocess.run([*qwenapp_cmd(), "serve", "--host", "0.0.0.0", "--port", "0", "-m",
                        "scripted"], env=_env(home), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert "refusing to listen on 0.0.0.0 without accounts" in r.stderr
    assert "qwenapp users add" in r.stderr


def test_off_loopback_every_request_needs_credentials(home: Path) -> None:
    # The app believes it is bound to a public address (it is really on 127.0.0.1).
    with _serve(home, host="192.0.2.10") as url:
        assert httpx.get(url + "/api/me").status_code == 401
        assert httpx.get(url + "/v1/models",
                         headers={"Authorization": "Bearer x"}).status_code == 401
        assert httpx.get(url + "/api/health").status_code == 200


# -- accounts -------------------------------------------------------------------------------

def test_users_cli(home: Path) -> None:
    env = _env(home)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*qwenapp_cmd(), "users", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    r = run("add", "alice", "--admin", "--password-stdin", stdin="correct horse\n")
    assert r.returncode == 0, r.stderr
    assert run("add", "bob", "--password-stdin", stdin="short\n").returncode == 2
    assert run("add", "bob", "--password-stdin", stdin="battery staple\n").returncode == 0
    listed = run("list").stdout
    assert "alice\tadmin" in listed and "bob\tuser" in listed
    key = run("add-key", "bob", "--name", "laptop").stdout.strip()
    assert key.startswith("qwk_") and len(key) > 40
    assert "laptop" in run("keys", "bob").stdout
    assert key not in run("keys", "bob").stdout
    conn = open_db(home / "qwenapp.db")
    stored = conn.execute("SELECT password_hash FROM server_users WHERE username = 'alice'"
                          ).fetchone()[0]
    assert stored.startswith("$argon2id$")
    assert key not in str(conn.execute("SELECT * FROM server_api_keys").fetchall())
    conn.close()
    assert run("set-password", "alice", "--password-stdin", stdin="new password!\n"
               ).returncode == 0
    assert UserStore(open_db(home / "qwenapp.db")).verify("alice", "new password!")
    assert run("rm", "bob", "--yes").returncode == 0
    assert "bob" not in run("list").stdout
    assert run("rm", "nobody", "--yes").returncode == 2


def test_user_store_rules(home: Path) -> None:
    from qwenapp.errors import InputError

    store = UserStore(open_db(home / "qwenapp.db"), FAST)
    store.add("Carol", "long enough")
    with pytest.raises(InputError, match="already exists"):
        store.add("carol", "long enough")  # names are case-insensitive
    for bad in ("", "local", "a b", "x" * 65, "../etc"):
        with pytest.raises(InputError):
            store.add(bad, "long enough")
    assert store.verify("carol", "long enough") is not None
    assert store.verify("carol", "wrong") is None
    assert store.verify("nobody", "long enough") is None


@pytest.fixture
def accounts(home: Path) -> Iterator[str]:
    _add_user(home, "alice", "alice-password", admin=True)
    with _serve(home, limits=ServerLimits(login_attempts_per_minute=5)) as url:
        yield url


def test_login_sets_a_safe_session_cookie(accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        assert c.get("/api/me").status_code == 401
        r = c.post("/api/auth/login", json={"username": "alice", "password": "alice-password"})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("qwenapp_session=")
        low = cookie.lower()
        assert "httponly" in low and "samesite=lax" in low and "secure" not in low
        assert "path=/" in low
        me = c.get("/api/me").json()
        assert me["user"]["username"] == "alice" and me["auth"] == "session"


def test_session_writes_need_csrf_and_same_origin(accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        me = login(c, "alice", "alice-password")
        token = me["csrf_token"]
        del c.headers["X-CSRF-Token"]
        r = c.post("/api/conversations", json={})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = c.post("/api/conversations", json={}, headers={"X-CSRF-Token": token + "x"})
        assert r.status_code == 403
        r = c.post("/api/conversations", json={},
                   headers={"X-CSRF-Token": token, "Origin": "http://evil.example"})
        assert r.status_code == 403
        r = c.post("/api/conversations", json={},
                   headers={"X-CSRF-Token": token, "Origin": accounts})
        assert r.status_code == 201
        assert c.get("/api/conversations").status_code == 200  # reads need no token


def test_logout_ends_the_session(accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        login(c, "alice", "alice-password")
        assert c.post("/api/auth/logout").status_code == 204
        assert c.get("/api/me").status_code == 401


def test_wrong_passwords_and_the_login_rate_limit(accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        r = c.post("/api/auth/login", json={"username": "alice", "password": "wrong"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
        r = c.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
        assert r.status_code == 401  # same answer for an unknown name
        codes = [c.post("/api/auth/login", json={"username": "alice", "password": "x"}
                        ).status_code for _ in range(6)]
        assert codes[-1] == 429
        r = c.post("/api/auth/login", json={"username": "alice", "password": "x"})
        assert int(r.headers["retry-after"]) >= 1


def test_api_keys_are_for_programs(accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        login(c, "alice", "alice-password")
        new = c.post("/api/keys", json={"name": "script"}).json()
        secret = new["secret"]
        assert [k["name"] for k in c.get("/api/keys").json()] == ["script"]
        assert "secret" not in c.get("/api/keys").json()[0]
    bearer = {"Authorization": f"Bearer {secret}"}
    r = httpx.post(accounts + "/api/conversations", json={}, headers=bearer)
    assert r.status_code == 201  # no CSRF token needed: not a cookie
    r = httpx.post(accounts + "/v1/chat/completions", headers=bearer,
                   json={"messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200
    bad = httpx.get(accounts + "/v1/models", headers={"Authorization": "Bearer qwk_wrong"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
    assert "bearer" in bad.headers["www-authenticate"].lower()
    with httpx.Client(base_url=accounts) as c:
        login(c, "alice", "alice-password")
        assert c.delete(f"/api/keys/{new['id']}").status_code == 204
    assert httpx.get(accounts + "/v1/models", headers=bearer).status_code == 401


def test_password_change_ends_sessions(home: Path, accounts: str) -> None:
    with httpx.Client(base_url=accounts) as c:
        login(c, "alice", "alice-password")
        r = c.post("/api/me/password", json={"current_password": "nope",
                                             "new_password": "whatever123"})
        assert r.status_code == 403
        r = c.post("/api/me/password", json={"current_password": "alice-password",
                                             "new_password": "a-new-password"})
        assert r.status_code == 204
        assert c.get("/api/me").status_code == 401
        login(c, "alice", "a-new-password")


def test_secure_cookie_behind_https_proxy(home: Path) -> None:
    _add_user(home, "alice", "alice-password")
    with _serve(home, trust_proxy=True) as url:
        r = httpx.post(url + "/api/auth/login",
                       json={"username": "alice", "password": "alice-password"},
                       headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 200
        assert "secure" in r.headers["set-cookie"].lower()
