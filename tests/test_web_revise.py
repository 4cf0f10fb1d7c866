"""Revising a deck in the real page (headless Chromium): ask for a change under the deck's
thumbnails, see the new version and its thumbnails, get a question for a slide that does
not exist, switch versions and go back."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pptx import Presentation

from conftest import CHROMIUM, open_app
from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, write_demo_script
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
OFFICE = shutil.which("soffice") is not None and shutil.which("pdftoppm") is not None
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
TOPIC = "Open models at work"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    # slow answers (a chunk every 50 ms): the slide being rewritten stays on screen a moment
    script = write_demo_script(home / "script.json", deck_topic=TOPIC, deck_slides=5,
                               delay=0.05)
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=OFFICE)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with open_app(server, viewport={"width": 1200, "height": 900}) as pg:
        yield pg


def make_deck(page: Any) -> Any:
    """A 5-slide deck made in Slides mode, questions skipped; its finished card."""
    page.click("[data-mode=slides]")
    page.fill("#composer input[name=slides]", "5")
    page.fill("#prompt", TOPIC)
    page.press("#prompt", "Enter")
    page.locator(".job.clarify legend").first.wait_for()
    page.locator(".job.clarify button.action", has_text="Skip questions").click()
    card = page.locator(".job").last
    card.locator(".status.done").wait_for(timeout=300_000)
    return card


def test_ask_for_a_change_see_the_new_version_and_go_back(page: Any, server: str) -> None:
    card = make_deck(page)
    box = card.locator(".revise")
    versions = box.locator("select[name=version] option")
    versions.first.wait_for(state="attached")
    assert versions.count() == 1 and "first version" in versions.first.inner_text()
    if OFFICE:
        card.locator(".thumbs img").first.wait_for()
        old_src = card.locator(".thumbs img").nth(2).get_attribute("src")

    box.locator("input[name=revision]").fill("make slide 3 a chart: 2022 10, 2023 14, 2024 19")
    box.locator("button[type=submit]").click()
    reply = box.locator(".revise-reply")
    reply.filter(has_text="making slide 3 a chart").wait_for(timeout=30_000)
    if OFFICE:
        assert "rewriting" in (card.locator(".thumbs img").nth(2).get_attribute("class") or "")
    reply.filter(has_text="Version 2").wait_for(timeout=60_000)
    assert "slides changed: 3" in reply.inner_text()
    page.wait_for_function("() => document.querySelectorAll('.revise select option')"
                           ".length === 2")
    assert "(current)" in versions.nth(1).inner_text()
    if OFFICE:  # the new thumbnails, the rewritten slide marked
        thumbs = card.locator(".thumbs img")
        assert thumbs.count() == 5
        assert thumbs.nth(2).get_attribute("src") != old_src
        assert "changed" in (thumbs.nth(2).get_attribute("class") or "")
        page.wait_for_function("() => [...document.querySelectorAll('.thumbs img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")

    box.locator("input[name=revision]").fill("make slide 9 a chart")
    box.locator("button[type=submit]").click()
    reply.filter(has_text="no slide 9").wait_for(timeout=30_000)
    assert "Question" in reply.inner_text()
    assert versions.count() == 2  # a question makes no version

    box.locator("select[name=version]").select_option("1")
    href = box.locator(".versions a").get_attribute("href")
    assert href is not None and href.endswith("/versions/1/deck.pptx")
    restore = box.locator("button.restore")
    assert restore.is_visible()
    restore.click()
    reply.filter(has_text="Version 3").wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.revise select option')"
                           ".length === 3")
    job_id = card.get_attribute("data-job")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=server, cookies=cookies) as api:
        current = Presentation(io.BytesIO(api.get(f"/api/jobs/{job_id}/artifacts/deck.pptx")
                                          .content))
        assert not any(s.has_chart for s in current.slides[2].shapes)  # back to version 1


def test_a_chat_message_asking_for_a_change_revises_the_deck_and_others_go_to_chat(
        page: Any) -> None:
    card = make_deck(page)
    reply = card.locator(".revise-reply")

    page.click("[data-mode=chat]")  # typed into the chat's own composer, as a chat message
    page.fill("#prompt", "use the dark theme")
    page.press("#prompt", "Enter")
    reply.filter(has_text="Version 2").wait_for(timeout=60_000)
    assert "dark" in reply.inner_text()
    assert page.locator("#messages .msg").count() == 0  # not a chat turn
    page.wait_for_function("() => document.querySelectorAll('.revise select option')"
                           ".length === 2")

    page.fill("#prompt", "make slide 9 a chart")  # a request for this deck: its question
    page.press("#prompt", "Enter")
    reply.filter(has_text="no slide 9").wait_for(timeout=30_000)
    assert page.locator("#messages .msg").count() == 0

    page.fill("#prompt", "Who uses open models at work?")  # nothing to edit: the chat answers
    page.press("#prompt", "Enter")
    page.locator("#messages .msg.assistant").first.wait_for(timeout=60_000)
    assert page.locator("#messages .msg.user").first.inner_text().startswith("Who uses")
    assert page.locator(".revise select option").count() == 2  # the deck stayed at version 2
