"""Models off the web tier: `qwenapp serve` configured with an OpenAI-compatible endpoint
as its model answers through that server process and never loads the embedded engine
(no llama.cpp library in its memory map, no model file fetched)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from conftest import qwenapp_cmd
from qwenapp.server.testing import serve_process
from qwenapp.testing.llama_server import running_llama_server

pytestmark = [pytest.mark.slow,  # processes: in the slow lane like SLOW_MODULES
              pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")]


def _mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_serve_with_an_endpoint_model_never_loads_the_engine(tmp_path: Path,
                                                             tiny_gguf: Path) -> None:
    pytest.importorskip("xllamacpp")
    with running_llama_server(tiny_gguf) as upstream:
        home = tmp_path / "home"
        home.mkdir()
        (home / "config.toml").write_text(
            f'model = "gpu"\n\n[endpoints.gpu]\nbase_url = "{upstream}"\n'
            'model = "tiny"\nthinking = false\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
        env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1")
        proc = serve_process(qwenapp_cmd(), env)
        try:
            with httpx.Client(base_url=proc.url, timeout=60,
                              headers={"Authorization": "Bearer any"}) as api:
                models = api.get("/v1/models").json()
                assert [m["id"] for m in models["data"]] == ["tiny"]
                r = api.post("/v1/chat/completions", json={
                    "model": "tiny", "max_tokens": 8,
                    "messages": [{"role": "user", "content": "Say hi"}]})
                assert r.status_code == 200, r.text
                assert r.json()["choices"][0]["message"]["role"] == "assistant"
                assert api.get("/readyz").status_code == 200
            maps = _mapped(proc.proc.pid)
            assert "xllamacpp" not in maps and "libllama" not in maps and "ggml" not in maps
            assert not list(home.rglob("*.gguf"))  # nothing fetched for the web tier
        finally:
            proc.stop()


def test_the_upstream_process_is_where_the_engine_is(tiny_gguf: Path) -> None:
    """The check above can fail: the engine's library shows in the serving process's map."""
    pytest.importorskip("xllamacpp")
    with running_llama_server(tiny_gguf) as upstream:
        port = int(upstream.rsplit(":", 1)[1].split("/")[0])
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        found = False
        for pid in pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"qwenapp.testing.llama_server" in cmdline and str(port).encode() in cmdline:
                found = "xllamacpp" in _mapped(int(pid)) or "ggml" in _mapped(int(pid))
        assert found
