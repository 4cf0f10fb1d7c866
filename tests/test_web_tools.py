"""Tools in the web page, against the real ``qwenapp serve`` process in headless Chromium: a
call and its result as a collapsible step (live and after a reload), a call with side effects
asking in the page (allow starts a deck job whose card follows the answer; refuse runs
nothing), and the settings page listing the server's tools."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import CHROMIUM, app_page, chromium, qwenapp_cmd
from qwenapp.server.testing import ServeProcess, serve_process, write_demo_script

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

RULES = [  # first match wins, over every message of the request (tool results included)
    {"contains": "did not allow", "reply": "Fine: I did not start the deck."},
    {"contains": "Started the slide deck", "reply": "Your deck is on its way: see its card."},
    {"contains": "7006652", "reply": "1234 × 5678 = **7,006,652**."},
    {"contains": "1234 × 5678", "reply": {"tool_calls": [
        {"name": "calculator", "arguments": {"expression": "1234*5678"}}]}},
    {"contains": "slides about tea", "reply": {"tool_calls": [
        {"name": "make_deck", "arguments": {"topic": "Tea at work", "slides": 3}}]}},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("home")
    (home / "config.toml").write_text('[tools]\nenabled = ["calculator", "make_deck"]\n',
                                      encoding="utf-8")
    script = write_demo_script(home / "script.json", deck_topic="Tea at work", deck_slides=3,
                               extra_rules=RULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = serve_process(qwenapp_cmd(), env, args=["-m", f"scripted:{script}",
                                                   "--log-level", "warning"])
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, server: ServeProcess) -> Iterator[Any]:
    with app_page(browser, server.url, viewport={"width": 1200, "height": 850},
                  locale="en-US") as pg:
        yield pg


def _send(page: Any, text: str) -> None:
    page.wait_for_selector("#send:not([hidden])")
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")


def _answer(page: Any) -> Any:
    return page.locator(".msg.assistant").last


def test_a_tool_call_is_a_collapsible_step_live_and_after_a_reload(page: Any) -> None:
    assert page.locator("#tools-option").is_visible()
    _send(page, "What is 1234 × 5678?")
    answer = _answer(page)
    answer.locator(".answer strong", has_text="7,006,652").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    step = answer.locator("details.tool-step[data-tool=calculator]")
    assert step.locator("summary").inner_text().startswith("⚙")
    assert 'expression="1234*5678"' in step.locator(".tool-args").inner_text()
    result = step.locator(".tool-result")
    assert not result.is_visible()  # folded until opened
    step.locator("summary").click()
    assert "7006652" in result.inner_text() and result.is_visible()
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    again = _answer(page).locator("details.tool-step[data-tool=calculator]")
    again.wait_for()
    again.locator("summary").click()
    assert "7006652" in again.locator(".tool-result").inner_text()
    assert _answer(page).locator(".answer").inner_text().startswith("1234 × 5678 = 7,006,652")


def test_a_side_effect_asks_in_the_page_and_allow_starts_the_deck(page: Any,
                                                                  server: ServeProcess) -> None:
    _send(page, "Make me slides about tea, please")
    ask = page.locator(".tool-confirm")
    ask.wait_for()
    assert "Allow make_deck to run?" in ask.inner_text()
    assert page.locator("details.tool-step[data-tool=make_deck] .tool-status").inner_text() \
        == "waiting for you"
    ask.get_by_role("button", name="Allow", exact=True).click()
    answer = _answer(page)
    answer.locator(".answer", has_text="Your deck is on its way").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    step = answer.locator("details.tool-step[data-tool=make_deck]")
    assert "Deck started: Tea at work" in answer.locator(".tool-job").inner_text()
    assert "failed" not in (step.get_attribute("class") or "")
    # the job's card follows the answer, and the deck is really made
    card = page.locator(".msg.assistant + .job.card")
    card.wait_for()
    card.locator(".status.done").wait_for(timeout=60_000)
    cid = page.url.rsplit("/", 1)[1]
    jobs = httpx.get(f"{server.url}/api/conversations/{cid}").json()["jobs"]
    assert [j["kind"] for j in jobs] == ["deck"] and jobs[0]["status"] == "done"


def test_refusing_in_the_page_runs_nothing(page: Any, server: ServeProcess) -> None:
    before = len(httpx.get(f"{server.url}/api/jobs").json()["jobs"])
    _send(page, "Make me slides about tea again")
    page.locator(".tool-confirm").get_by_role("button", name="Don't allow").click()
    answer = _answer(page)
    answer.locator(".answer", has_text="I did not start the deck").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    step = answer.locator("details.tool-step[data-tool=make_deck]")
    assert "failed" in (step.get_attribute("class") or "")
    step.locator("summary").click()
    assert "did not allow" in step.locator(".tool-result").inner_text()
    assert len(httpx.get(f"{server.url}/api/jobs").json()["jobs"]) == before
    assert page.locator(".job.card").count() == 0


def test_settings_list_the_tools_and_a_tool_turned_off_is_not_offered(
        page: Any, server: ServeProcess) -> None:
    page.click("[data-nav=settings]")
    box = page.locator("#tools-settings")
    box.wait_for()
    names = box.locator("input[data-tool]")
    assert [names.nth(i).get_attribute("data-tool") for i in range(names.count())] == \
        ["calculator", "make_deck"]
    assert "asks you first" in box.locator(".tool-choice", has_text="make_deck").inner_text()
    box.locator("input[data-tool=calculator]").uncheck()
    page.click("[data-nav=chat]")
    with page.expect_request("**/messages") as req:
        _send(page, "just say hi")
    assert req.value.post_data_json["tools"] == ["make_deck"]
    page.wait_for_selector("#send:not([hidden])")
    page.uncheck("#use-tools")
    with page.expect_request("**/messages") as req:
        _send(page, "say hi again")
    assert req.value.post_data_json["tools"] == []
    page.wait_for_selector("#send:not([hidden])")
