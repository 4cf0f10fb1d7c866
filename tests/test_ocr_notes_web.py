"""Scanned pages left unread are said, not dropped silently: the upload answer carries
``notes`` and the library page shows them, in a real browser (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, open_app
from fixtures.ocr.pages import ENGLISH, ENGLISH_2, render, write_pdf
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_OCR": "0"})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000))
    with live_server(create_app(settings, [ScriptedModel()], config)) as url:
        yield url


def test_upload_answer_names_scanned_pages_left_unread(server: str, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "mixed.pdf", [ENGLISH_2, render(ENGLISH)])
    plain = tmp_path / "plain.txt"
    plain.write_text("plain words of a note\n", encoding="utf-8")
    with api_client(server) as api:
        r = api.post("/api/documents", files={"file": ("mixed.pdf", pdf.read_bytes())},
                     timeout=120)
        assert r.status_code == 201, r.text
        assert r.json()["sections"] == 1
        [note] = r.json()["notes"]
        assert note.startswith("1 scanned page(s) not read") and "switched off" in note
        r = api.post("/api/documents", files={"file": ("plain.txt", plain.read_bytes())})
        assert r.status_code == 201 and r.json()["notes"] == []
        listed = api.get("/api/documents").json()["documents"]
        assert {d["filename"] for d in listed} == {"mixed.pdf", "plain.txt"}


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_the_library_page_shows_the_note(server: str, tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "board.pdf", [ENGLISH_2, render(ENGLISH), render(ENGLISH_2)])
    with open_app(server, viewport={"width": 1200, "height": 900}) as pg:
        pg.goto(server + "/library")
        pg.set_input_files("#library-file", str(pdf))
        status = pg.locator("#library-status", has_text="not read")
        status.wait_for(timeout=60_000)
        text: Any = status.inner_text()
        assert text.startswith("board.pdf: 2 scanned page(s) not read"), text
        pg.locator("#documents-table", has_text="board").wait_for(timeout=30_000)

