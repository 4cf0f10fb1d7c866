"""``python -m qwenapp.testing.llama_server``: starts, serves, stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qwenapp.errors import BackendError
from qwenapp.testing.llama_server import free_port, running_llama_server

pytest.importorskip("xllamacpp")

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_module_serves_until_signalled(tiny_gguf: Path, sig: signal.Signals) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qwenapp.testing.llama_server", "--model", str(tiny_gguf),
         "--port", str(port), "--api-key", "k"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.strip() == f"listening on http://127.0.0.1:{port}"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=5,
                           headers={"Authorization": "Bearer k"})
        assert models.status_code == 200
        proc.send_signal(sig)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_context_manager_stops_the_server(tiny_gguf: Path) -> None:
    with running_llama_server(tiny_gguf) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        health = url.removesuffix("/v1") + "/health"
        assert httpx.get(health, timeout=5).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(health, timeout=2)


def test_a_server_that_dies_early_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf")
    with pytest.raises(BackendError, match="exited with code 1 before it was ready") as info, \
            running_llama_server(bad, start_timeout=30):
        pass
    assert "cannot serve" in info.value.hint
