"""The web page in a real browser: a scan attached in the composer shows its OCR progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, open_app
from fixtures.ocr.pages import ENGLISH, ENGLISH_2, render, write_pdf
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(upload_bytes=20_000_000,
                                              requests_per_minute=10_000, burst=10_000))
    with live_server(create_app(settings, [ScriptedModel()], config)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with open_app(server, viewport={"width": 1200, "height": 900}) as pg:
        yield pg


def test_attaching_a_scan_shows_pages_read_then_the_file(page: Any, tmp_path: Path) -> None:
    scan = write_pdf(tmp_path / "board-minutes.pdf",
                     [render(ENGLISH if i % 2 else ENGLISH_2, noise=True) for i in range(8)])
    page.set_input_files("#file", str(scan))
    # the page asks once a second: 8 pages take several (two at a time, about a second each)
    pending = page.locator("#attachments .chip.pending", has_text="of 8 pages")
    pending.wait_for(timeout=120_000)  # "board-minutes.pdf — reading: 2 of 8 pages…"
    assert "board-minutes.pdf — reading: " in pending.inner_text()
    page.screenshot(path=str(tmp_path / "reading.png"))
    page.locator("#attachments .chip:not(.pending)", has_text="board-minutes.pdf").wait_for(
        timeout=120_000)
    assert page.locator("#attachments .chip.pending").count() == 0
