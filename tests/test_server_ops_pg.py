"""``/readyz`` on a real PostgreSQL: ready, then the cluster stops (503 with the reason,
promptly, while ``/healthz`` stays 200), then it starts again (ready again).

The cluster is the session's throwaway one (tests/pg_fixture.py); it is started again
before the test ends, so the tests after this one find it as they expect.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, create_app
from qwenapp.server.testing import live_server
from qwenapp.settings import load_settings

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


def _pg_ctl(pg: PgServer, *args: str) -> None:
    from pg_fixture import _runner, find_pg_bin

    bin_dir = find_pg_bin()
    assert bin_dir is not None
    r = subprocess.run([*_runner(), str(bin_dir / "pg_ctl"), "-D", str(pg.root / "data"),
                        *args], capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readyz_follows_the_database(tmp_path: Path, pg_server: PgServer,
                                     pg_url: str) -> None:
    settings = load_settings({"QWENAPP_HOME": str(tmp_path), "QWENAPP_DATABASE_URL": pg_url})
    app = create_app(settings, [ScriptedModel()], ServerConfig(report_pdf=False,
                                                               deck_previews=False))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        r = c.get("/readyz")
        assert r.status_code == 200 and r.json() == {"status": "ready"}
        metrics = c.get("/metrics")  # the queue gauge is read from PostgreSQL
        assert metrics.status_code == 200
        assert 'qwenapp_jobs_in_queue{kind="",status="queued"} 0.0' in metrics.text
        _pg_ctl(pg_server, "-m", "fast", "-w", "stop")
        try:
            r = c.get("/readyz")
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["status"] == "not ready"
            assert "cannot reach PostgreSQL" in body["reason"], body
            assert "qwenapp-test" not in body["reason"]  # the password is not shown
            assert "\n" not in body["reason"]
            assert c.get("/healthz").status_code == 200  # alive, only not ready
        finally:
            # restart reads the options of the last start from postmaster.opts
            _pg_ctl(pg_server, "-l", str(pg_server.root / "log"), "-w", "-t", "60", "restart")
        r = c.get("/readyz")
        assert r.status_code == 200, r.text
