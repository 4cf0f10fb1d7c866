"""`qwenapp serve` reads the operations settings from the environment: JSON logs with the
request id, and a bad log format is a one-line error before any model loads."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx

from conftest import qwenapp_cmd
from qwenapp.server.testing import serve_process


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


def test_serve_writes_json_logs_with_the_request_id(tmp_path: Path) -> None:
    proc = serve_process(qwenapp_cmd(), _env(tmp_path, QWENAPP_LOG_FORMAT="json"),
                         args=["-m", "scripted"])
    try:
        r = httpx.get(f"{proc.url}/healthz", headers={"X-Request-ID": "probe-42"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "probe-42"
        deadline = time.monotonic() + 20
        found: list[dict[str, object]] = []
        while not found and time.monotonic() < deadline:
            for line in list(proc.log):
                if line.startswith("{"):
                    record = json.loads(line)
                    if record.get("request_id") == "probe-42":
                        found.append(record)
            time.sleep(0.1)
        assert found, proc.log
    finally:
        proc.stop()


def test_a_bad_log_format_is_one_line(tmp_path: Path) -> None:
    p = subprocess.run([*qwenapp_cmd(), "serve", "--port", "0", "-m", "scripted"],
                       env=_env(tmp_path, QWENAPP_LOG_FORMAT="yaml"), capture_output=True,
                       text=True, timeout=60)
    assert p.returncode != 0
    assert "QWENAPP_LOG_FORMAT must be text or json" in p.stderr
    assert "Traceback" not in p.stderr
