"""Research and Slides modes in the real page (headless Chromium): attach a document, make a
report and a deck, watch their progress, see them inline, and download every file."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, open_app
from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, write_demo_script
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
CORPUS = Path(__file__).parent / "fixtures" / "corpus"
OFFICE = shutil.which("soffice") is not None and shutil.which("pdftoppm") is not None
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    script = write_demo_script(home / "script.json", deck_slides=5)
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=OFFICE, deck_previews=OFFICE)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with open_app(server, viewport={"width": 1200, "height": 900},
                          accept_downloads=True) as pg:
        yield pg


def _download(page: Any, card: Any, name: str) -> bytes:
    with page.expect_download() as info:
        card.locator(f"a[data-artifact='{name}']").click()
    path = info.value.path()
    assert info.value.suggested_filename == name
    return Path(path).read_bytes()


def test_research_mode_asks_then_reports_with_citations_then_makes_slides(page: Any) -> None:
    page.set_input_files("#file", str(CORPUS / "qwen_adoption.md"))
    page.locator("#attachments .chip", has_text="qwen_adoption.md").wait_for()
    page.click("[data-mode=research]")
    assert page.locator("#research-options").is_visible()
    assert page.locator("#ask-option input").is_checked()
    page.select_option("#composer select[name=depth]", "quick")
    page.fill("#prompt", "Why do developers adopt Qwen?")
    page.press("#prompt", "Enter")
    # One round of clarifying questions: the model's, plus audience and length.
    ask = page.locator(".job.clarify").last
    ask.locator("legend", has_text="Which aspect matters most to you?").wait_for()
    ask.locator(".chip.choice", has_text="Licensing").click()
    assert ask.locator("input[data-question]").input_value() == "Licensing"
    ask.locator("input[name=audience]").fill("startup founders")
    ask.locator("select[name=length]").select_option("short")
    ask.locator("button[type=submit]").click()
    page.wait_for_url("**/c/*")
    card = page.locator(".job").last
    # (attached, not visible: a finished job folds its steps under the result)
    step = card.locator(".job-log li")
    step.filter(has_text="Plan: Why developers adopt Qwen").wait_for(state="attached")
    step.filter(has_text="qwen_adoption.md").wait_for(state="attached")
    card.locator(".status.done").wait_for(timeout=120_000)
    # The answers are shown with the job, and were sent with it.
    assert "Licensing" in (card.locator("details.answers").text_content() or "")
    job_id = card.get_attribute("data-job")
    job = page.evaluate(f"fetch('/api/jobs/{job_id}').then(r => r.json())")
    assert job["request"]["clarifications"] == [
        {"question": "Which aspect matters most to you?", "answer": "Licensing"}]
    assert job["request"]["audience"] == "startup founders"
    assert job["request"]["length"] == "short"
    # The report inline, sanitised Markdown, with citations that open their passage.
    report = card.locator(".report-body")
    report.locator("h1", has_text="Why developers adopt Qwen").wait_for()
    report.locator("button.cite").first.click()
    dialog = page.locator("dialog.source")
    dialog.wait_for()
    assert "qwen_adoption.md" in dialog.inner_text()
    assert "Apache" in dialog.locator("blockquote").inner_text()
    dialog.locator("button").click()
    dialog.wait_for(state="detached")
    md = _download(page, card, "report.md").decode()
    assert md.startswith("# Why developers adopt Qwen")
    assert "qwen_adoption.md" in md
    html = _download(page, card, "report.html").decode()
    assert "<h1>" in html
    from docx import Document

    docx = Document(io.BytesIO(_download(page, card, "report.docx")))
    assert any("Licensing" in p.text for p in docx.paragraphs)
    if OFFICE:
        assert _download(page, card, "report.pdf").startswith(b"%PDF")
    assert card.locator("a[data-artifact='report.json']").count() == 0
    # A deck from the finished report, in the same conversation.
    page.click("[data-mode=slides]")
    page.fill("#composer input[name=slides]", "5")
    card.locator("button.make-deck").click()
    deck = page.locator(".job").last
    deck.locator(".job-title", has_text="Deck from a report").wait_for()
    deck.locator(".status.done").wait_for(timeout=180_000)
    if OFFICE:
        deck.locator(".thumbs img").first.wait_for()
    # Both cards belong to the conversation: they are there after a reload.
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    page.locator(".job .report-body h1", has_text="Why developers adopt Qwen").wait_for()
    page.locator(".job .job-title", has_text="Deck from a report").wait_for()
    assert page.locator(".job").count() == 2
    page.click("#new-chat")
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.locator(".job").count() == 0


def test_slides_mode_makes_a_deck_with_thumbnails_and_downloads(page: Any) -> None:
    page.click("[data-mode=slides]")
    page.fill("#composer input[name=slides]", "5")
    page.fill("#prompt", "Open models at work")
    page.press("#prompt", "Enter")
    page.locator(".job.clarify legend").first.wait_for()
    page.locator(".job.clarify button.action", has_text="Skip questions").click()
    card = page.locator(".job").last
    step = card.locator(".job-log li")
    step.filter(has_text="Plan: Open models at work").wait_for(state="attached")
    step.filter(has_text="Slide 3/3 written").wait_for(state="attached", timeout=60_000)
    card.locator(".status.done").wait_for(timeout=180_000)
    from pptx import Presentation

    deck = Presentation(io.BytesIO(_download(page, card, "deck.pptx")))
    assert len(deck.slides) == 5
    if OFFICE:
        thumbs = card.locator(".thumbs img")
        thumbs.first.wait_for()
        assert thumbs.count() == 5
        page.wait_for_function("() => [...document.querySelectorAll('.thumbs img')]"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        assert _download(page, card, "deck.pdf").startswith(b"%PDF")


def test_without_questions_a_job_starts_at_once_and_stays_on_its_branch(page: Any) -> None:
    page.fill("#prompt", "hello there")
    page.press("#prompt", "Enter")
    page.locator(".msg.assistant:not(.streaming)").first.wait_for()
    page.click("[data-mode=slides]")
    page.locator("#ask-option input").uncheck()
    page.fill("#composer input[name=slides]", "5")
    page.fill("#prompt", "Open models at work")
    page.press("#prompt", "Enter")
    card = page.locator(".job").last
    card.locator(".job-head").wait_for()
    assert page.locator(".job.clarify").count() == 0
    # The card follows the answer it came after ...
    assert page.evaluate("() => document.querySelector('#messages').lastElementChild"
                         ".classList.contains('job')")
    card.locator(".status.done").wait_for(timeout=180_000)
    # ... and an edit of the question (a new branch) does not show it.
    page.click("[data-mode=chat]")
    page.locator(".msg.user .action", has_text="Edit").first.click()
    page.fill(".msg.user textarea.edit", "hello again")
    page.locator(".msg.user .action", has_text="Save").click()
    page.locator(".msg.user .branches").first.wait_for()
    page.locator(".msg.assistant:not(.streaming)").first.wait_for()
    assert page.locator(".job").count() == 0
    page.locator(".msg.user .branches button").first.click()
    page.locator(".job .status.done").wait_for()


def test_library_page_lists_documents_and_jobs(page: Any, server: str) -> None:
    page.click("a[data-nav=library]")
    page.wait_for_url("**/library")
    page.locator("#library-view h1").wait_for()
    with page.expect_file_chooser() as chooser:
        page.click("#library-upload")
    chooser.value.set_files(str(CORPUS / "local_inference.txt"))
    row = page.locator("#documents-table tr", has_text="local_inference.txt")
    row.wait_for()
    page.locator("#jobs-list .job").first.wait_for()
    page.on("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Delete").click()
    row.wait_for(state="detached")
    page.click("a[data-nav=settings]")
    page.locator("#account-local").wait_for()
    page.select_option("#set-lang", "zh")
    assert page.locator("a[data-nav=library]").inner_text() == "资料库"
    page.select_option("#set-lang", "en")


def test_the_clarifying_round_speaks_chinese(page: Any) -> None:
    page.click("#lang-toggle")  # English -> 中文
    page.locator("#new-chat", has_text="新对话").wait_for()
    page.click("[data-mode=research]")
    assert page.locator("#ask-option").inner_text() == "先问我几个问题"
    page.fill("#prompt", "开发者为什么选择通义千问？")
    page.press("#prompt", "Enter")
    ask = page.locator(".job.clarify").last
    ask.locator("button[type=submit]", has_text="开始").wait_for()
    assert "先确认几个问题" in ask.inner_text()
    assert ask.locator("button.action", has_text="跳过提问").is_visible()
    ask.locator("button.action", has_text="取消").click()
    ask.wait_for(state="detached")
    page.click("#lang-toggle")
