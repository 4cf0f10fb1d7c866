"""Issue 9 against a live server on 127.0.0.1: a hostile upload never freezes the others.

Responsiveness is judged by ratio and order (health answers many times, each
far faster than the upload), never by an absolute time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server
from qwenapp.settings import load_settings
from reliability_files import flate_bomb_pdf, one_line_text, unpunctuated_docx


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(upload_bytes=30 * 1024 * 1024,
                                              requests_per_minute=10_000, burst=10_000))
    with live_server(create_app(settings, [ScriptedModel(chunk_size=3)], config)) as url:
        yield url, home


def test_hostile_uploads_do_not_freeze_the_server(server: tuple[str, Path],
                                                  tmp_path: Path) -> None:
    url, _ = server
    files = [one_line_text(tmp_path / "x.txt"), unpunctuated_docx(tmp_path / "big.docx"),
             flate_bomb_pdf(tmp_path / "bomb.pdf")]
    results: list[tuple[str, int, Any, float]] = []

    def upload() -> None:
        with api_client(url, timeout=300) as c:
            for f in files:
                t = time.perf_counter()
                with f.open("rb") as fh:
                    r = c.post("/api/documents", files={"file": (f.name, fh)})
                results.append((f.name, r.status_code, r.json(), time.perf_counter() - t))

    worker = threading.Thread(target=upload)
    started = time.perf_counter()
    worker.start()
    health: list[float] = []
    with httpx.Client(base_url=url, timeout=300) as c:
        while worker.is_alive():
            t = time.perf_counter()
            assert c.get("/api/health").status_code == 200
            health.append(time.perf_counter() - t)
            time.sleep(0.02)
    worker.join()
    total = time.perf_counter() - started
    by_name = {name: (code, body) for name, code, body, _ in results}
    assert by_name["x.txt"][0] == 201 and by_name["x.txt"][1]["chunks"] > 1000
    code, body = by_name["big.docx"]
    assert code == 400 and "too much text" in body["error"]["message"], body
    assert "big.docx" in body["error"]["message"]
    code, body = by_name["bomb.pdf"]
    assert code == 400 and "bomb" in body["error"]["message"]
    # health kept answering all along, each answer a small fraction of the uploads' time
    assert len(health) >= 10
    assert max(health) < total / 5, (max(health), total)
