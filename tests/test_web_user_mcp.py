"""'My MCP servers' on the settings page, against the real ``qwenapp serve`` process in headless
Chromium: adding one's own streamable-HTTP MCP server (a real process) lists it and its tools,
a refused URL says why, a server that fails is named among the problems, and removing one takes
its tools away; a chat turn then uses an added server's tool."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, app_page, chromium, qwenapp_cmd
from qwenapp.server.testing import ServeProcess, serve_process
from user_mcp_world import OWN, free_port, http_mcp_server

playwright_sync = pytest.importorskip("playwright.sync_api")
pytest.importorskip("mcp")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")]

RULES = [
    {"contains": "42", "reply": "The sum is 42."},
    {"contains": "add 2 and 40", "reply": {"tool_calls": [
        {"name": "mine_add", "arguments": {"a": 2, "b": 40}}]}},
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str, str]]:
    home = tmp_path_factory.mktemp("home")
    own_py = home / "own_mcp.py"
    own_py.write_text(OWN, encoding="utf-8")
    script = home / "script.json"
    script.write_text(json.dumps({"rules": RULES}), encoding="utf-8")
    dead = free_port()
    with http_mcp_server(own_py, home / "notes.txt") as port:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
        env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1")
        proc = serve_process(qwenapp_cmd(), env, args=[
            "-m", f"scripted:{script}", "--log-level", "warning",
            "--allow-host", f"127.0.0.1:{port}", "--allow-host", f"127.0.0.1:{dead}"])
        try:
            yield proc, f"http://127.0.0.1:{port}/mcp", f"http://127.0.0.1:{dead}/mcp"
        finally:
            proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, setup: tuple[ServeProcess, str, str]) -> Iterator[Any]:
    with app_page(browser, setup[0].url, viewport={"width": 1200, "height": 850},
                  locale="en-US") as pg:
        yield pg


def _add(page: Any, name: str, url: str) -> None:
    form = page.locator("#mcp-form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=url]").fill(url)
    form.locator("button[type=submit]").click()


def test_my_mcp_servers_add_fail_and_remove(page: Any, setup: tuple[ServeProcess, str, str],
                                             tmp_path: Path) -> None:
    _, own_url, dead_url = setup
    page.click("[data-nav=settings]")
    box = page.locator("#mcp-settings")
    box.wait_for()
    assert box.locator("h3").inner_text() == "My MCP servers"
    # a private address the server does not allow: refused, saying why
    _add(page, "peek", "http://127.0.0.1:9/mcp")
    page.locator("#mcp-status", has_text="refusing").wait_for()
    assert "--allow-host" in page.locator("#mcp-status").inner_text()
    assert box.locator("tr[data-server]").count() == 0
    # a real one: listed, and its tools join the tools list
    _add(page, "mine", own_url)
    page.locator("#mcp-table tr[data-server=mine]").wait_for()
    assert own_url in page.locator("#mcp-table tr[data-server=mine]").inner_text()
    page.locator("#tools-list input[data-tool=mine_add]").wait_for()
    assert "asks you first" in page.locator(".tool-choice", has_text="mine_write_note"
                                            ).inner_text()
    # one that cannot be reached: named among the problems
    _add(page, "gone", dead_url)
    page.locator("#tools-problems", has_text="'gone' could not be started").wait_for()
    page.locator("#mcp-table tr[data-server=gone] button").click()
    page.locator("#mcp-table tr[data-server=gone]").wait_for(state="detached")
    playwright_sync.expect(page.locator("#tools-problems")).not_to_contain_text("gone")
    # the chat uses the added server's tool
    page.click("[data-nav=chat]")
    page.wait_for_selector("#send:not([hidden])")
    page.fill("#prompt", "add 2 and 40")
    page.press("#prompt", "Enter")
    answer = page.locator(".msg.assistant").last
    answer.locator(".answer", has_text="The sum is 42.").wait_for()
    assert answer.locator("details.tool-step[data-tool=mine_add]").count() == 1
    # removed: its tools go too (after a reload, from the server)
    page.click("[data-nav=settings]")
    page.locator("#mcp-table tr[data-server=mine] button").click()
    page.locator("#mcp-table tr[data-server=mine]").wait_for(state="detached")
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    page.click("[data-nav=settings]")
    page.locator("#mcp-settings").wait_for()
    assert page.locator("#tools-list input[data-tool=mine_add]").count() == 0
    assert page.locator("#mcp-table tr[data-server]").count() == 0
