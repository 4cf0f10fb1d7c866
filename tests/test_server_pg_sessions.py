"""Sessions and API keys across app processes: two `qwenapp serve` processes on one
PostgreSQL database share every login, CSRF token and key, with no secret to share.

Decision (issue 12, "a shared secret for sessions across processes"): a session is a row
(a random token and its CSRF token, stored server-side), not a signed cookie, so there is
no signing key to distribute; a login on one process is valid on every process of the
database, and a logout or a revoked key on one is seen by all at their next request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from argon2 import PasswordHasher

from conftest import qwenapp_cmd
from qwenapp.server.auth import CSRF_HEADER, SESSION_COOKIE
from qwenapp.server.testing import serve_process
from qwenapp.server.users import UserStore
from qwenapp.store import open_db

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server)
pytestmark = pytest.mark.slow  # two server processes


def test_a_login_key_and_logout_on_one_process_hold_on_the_other(
        tmp_path: Path, pg_server: PgServer) -> None:
    url = pg_server.new_database()
    conn = open_db(url)
    UserStore(conn, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).add(
        "alice", "alice-password")
    conn.close()
    procs = []
    for name in ("a", "b"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
        env.update(QWENAPP_HOME=str(tmp_path / name), QWENAPP_DATABASE_URL=url,
                   PYTHONUNBUFFERED="1")
        procs.append(serve_process(qwenapp_cmd(), env, args=["-m", "scripted"]))
    a_url, b_url = (p.url for p in procs)
    try:
        with httpx.Client(base_url=a_url, timeout=30) as a, \
                httpx.Client(base_url=b_url, timeout=30) as b:
            me = a.post("/api/auth/login",
                        json={"username": "alice", "password": "alice-password"}).json()
            cookie, csrf = a.cookies[SESSION_COOKIE], me["csrf_token"]
            b.cookies.set(SESSION_COOKIE, cookie)
            seen = b.get("/api/me").json()
            assert seen["auth"] == "session" and seen["user"]["username"] == "alice"
            made = b.post("/api/conversations", json={"title": "from B"},
                          headers={CSRF_HEADER: csrf})
            assert made.status_code == 201, made.text
            assert b.post("/api/conversations", json={"title": "no token"}).status_code == 403
            titles = [c["title"] for c in a.get("/api/conversations").json()["conversations"]]
            assert "from B" in titles

            key = a.post("/api/keys", json={"name": "ci"}, headers={CSRF_HEADER: csrf}).json()
            bearer = {"Authorization": f"Bearer {key['secret']}"}
            assert httpx.get(f"{b_url}/v1/models", headers=bearer).status_code == 200
            assert a.delete(f"/api/keys/{key['id']}",
                            headers={CSRF_HEADER: csrf}).status_code == 204
            assert httpx.get(f"{b_url}/v1/models", headers=bearer).status_code == 401

            assert b.post("/api/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204
            a.cookies.set(SESSION_COOKIE, cookie)
            assert a.get("/api/me").status_code == 401  # logged out everywhere
    finally:
        for p in procs:
            p.stop()
