"""Revising a report in the real page (headless Chromium), in the conversation it was started
from: ask for a change under the report, see what is being done and each section as it is
written again, then the new version's text with the rewritten section marked; a question
for a section that does not exist; download, compare and go back through the version
switcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, open_app
from fixtures.scripts import extractive_model
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
CORPUS = Path(__file__).parent / "fixtures" / "corpus"
PLAN = {"title": "Why developers adopt Qwen", "sections": [
    {"heading": "Licensing", "questions": ["Which license do Qwen models use?"]},
    {"heading": "Running locally", "questions": ["Can Qwen run on a CPU with GGUF?"]},
    {"heading": "Community", "questions": ["Where can developers download Qwen models?"]}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    # slow answers (a chunk every 10 ms): what is being done stays on screen a moment
    with live_server(create_app(settings, [extractive_model(PLAN, delay=0.01)], config)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with open_app(server, viewport={"width": 1200, "height": 900}) as pg:
        yield pg


def fetch_json(page: Any, url: str) -> Any:
    return page.evaluate(f"fetch('{url}').then(r => r.json())")


def test_revise_a_report_in_its_conversation(page: Any) -> None:
    for name in ("qwen_adoption.md", "local_inference.txt", "千问生态.md"):
        page.set_input_files("#file", str(CORPUS / name))
        page.locator("#attachments .chip:not(.pending)", has_text=name).wait_for()
    page.click("[data-mode=research]")
    page.locator("#ask-option input").uncheck()
    page.select_option("#composer select[name=depth]", "quick")
    page.fill("#prompt", "What drove Qwen's adoption among developers?")
    page.press("#prompt", "Enter")
    page.wait_for_url("**/c/*")
    card = page.locator(".job").last
    card.locator(".status.done").wait_for(timeout=120_000)
    job = card.get_attribute("data-job")
    body = card.locator(".report-body")
    body.locator("h2", has_text="Licensing").wait_for()
    box = card.locator(".revise")
    versions = box.locator("select[name=version] option")
    versions.first.wait_for(state="attached")
    assert versions.count() == 1 and "first version" in versions.first.inner_text()
    assert "expand the section on risks" in (
        box.locator("input[name=revision]").get_attribute("placeholder") or "")
    first = fetch_json(page, f"/api/jobs/{job}/versions/1")["report"]

    box.locator("input[name=revision]").fill("expand the licensing section")
    box.locator("button[type=submit]").click()
    reply = box.locator(".revise-reply")
    reply.filter(has_text="expanding section 1 (Licensing)").wait_for(timeout=30_000)
    reply.filter(has_text="Version 2").wait_for(timeout=60_000)
    assert "sections changed: 1" in reply.inner_text()
    # each section as it was written again, from the revision's event stream
    assert box.locator(".revise-log li").all_inner_texts()[0].startswith("Rewritten: Licensing (")
    page.wait_for_function("() => document.querySelectorAll('.revise select option')"
                           ".length === 2")
    assert "(current)" in versions.nth(1).inner_text()
    second = fetch_json(page, f"/api/jobs/{job}/versions/2")["report"]
    old = {x["text"] for x in first["sections"][0]["sentences"]}
    new = [x["text"].rstrip(".") for x in second["sections"][0]["sentences"]
           if x["text"] not in old]
    assert new
    # the card shows the new version's text, its rewritten section marked, and nothing else
    page.wait_for_function("(t) => document.querySelector('.report-body').textContent"
                           ".includes(t)", arg=new[0])
    assert body.locator("h2.changed").all_inner_texts() == ["Licensing"]

    box.locator("input[name=revision]").fill("expand section 9")
    box.locator("button[type=submit]").click()
    reply.filter(has_text="no section 9").wait_for(timeout=30_000)
    assert "Question" in reply.inner_text()
    assert versions.count() == 2  # a question makes no version

    box.locator("select[name=version]").select_option("1")
    hrefs = [a.get_attribute("href") for a in box.locator(".versions a").all()]
    assert hrefs == [f"/api/jobs/{job}/versions/1/report.{ext}"
                     for ext in ("md", "html", "docx")]
    box.locator("button.compare").click()
    rows = box.locator(".version-diff li")
    rows.first.wait_for()
    assert [r.get_attribute("data-status") for r in rows.all()] == ["changed", "same", "same"]
    assert "Section 1: Licensing — changed" in rows.first.inner_text()
    restore = box.locator("button.restore")
    assert restore.is_visible()
    restore.click()
    reply.filter(has_text="Version 3").wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.revise select option')"
                           ".length === 3")
    page.wait_for_function("(t) => !document.querySelector('.report-body').textContent"
                           ".includes(t)", arg=new[0])  # back to version 1's text
    md = page.evaluate(f"fetch('/api/jobs/{job}/artifacts/report.md').then(r => r.text())")
    assert new[0] not in md
