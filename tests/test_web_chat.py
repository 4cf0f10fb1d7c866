"""The web page in headless Chromium (Debian's, driven by Playwright): chat, streaming,
stop, regenerate, edit, thinking, search, languages, login, and hostile model output."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CHROMIUM, app_page, chromium
from qwenapp.models.scripted import ScriptedModel, load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, write_demo_script
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

MARKDOWN = ("# Plan\n\nSome **bold**, `code`, and $e^{i\\pi}+1=0$.\n\n"
            "```python\ndef double(x):\n    return x * 2\n```\n")


class Canary:
    """A loopback HTTP server that records every request: no page may ever call it."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.hits = hits
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# A citation in a top-level text node: the fragment, not an element, is its parent.
TOP_LEVEL_CITE = "<div>Qwen is open.</div> [1]"

# Shapes of output that once broke (or could break) rendering; none may throw.
ODD_OUTPUTS = [TOP_LEVEL_CITE, "[1]", "[1] [2] [99]", "<p>[1]</p>[1]", "<code>[1]</code> [1]",
               "`[1]` [1]", "$$", "$x$ [1]", "```", "```\n[1]", "QWMATH0QW [1]",
               "<table><tr><td>[1]</td></tr></table>[1]", "<div>" * 3000 + "[1]",
               "\u0000[1]\u202e", "<svg><text>[1]</text></svg>", "<math>[1]</math> [1]",
               "<template>[1]</template>[1]", "<!-- [1] -->[1]", "\\[ [1] \\]", ""]


def hostile(canary: str) -> str:
    """Model output written to attack the page."""
    return "\n\n".join([
        "Here is your answer.",
        "```html\n<script>window.__pwned='code'</script>\n```",
        "<script>window.__pwned = 'script'</script>",
        '<img src="x" onerror="window.__pwned=\'onerror\'">',
        f'<img src="{canary}/img-tag.png">',
        f"![tracking pixel]({canary}/markdown-image.png)",
        "[click me](javascript:window.__pwned='link')",
        "<a href=\"javascript:window.__pwned='a-tag'\">a tag</a>",
        "<a href=\"JaVaScRiPt&colon;window.__pwned='entity'\">entity link</a>",
        f'<a href="{canary}/ok-link" ping="{canary}/ping">a normal link</a>',
        '<svg onload="window.__pwned=\'svg\'"><circle r="5"/></svg>',
        '<iframe src="javascript:window.__pwned=\'iframe\'"></iframe>',
        f'<iframe src="{canary}/frame"></iframe>',
        f'<div style="background:url({canary}/css-bg)">styled</div>',
        f'<link rel="stylesheet" href="{canary}/sheet.css">',
        '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=\'meta\'">',
        '<form action="javascript:window.__pwned=\'form\'"><button>go</button></form>',
        '<details open ontoggle="window.__pwned=\'details\'"><summary>x</summary></details>',
        f'<video src="{canary}/video.mp4" autoplay></video>',
        f'<object data="{canary}/object"></object>',
        "[data link](data:text/html,<script>window.__pwned='data'</script>)",
        "$\\href{javascript:window.__pwned='math'}{click}$",
        f"<a href=\"{canary}/x\" onclick=\"window.__pwned='onclick'\">click handler</a>",
        '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned=\'mxss\'">',
    ])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.close()


HOMES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, canary: Canary) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    attack = hostile(canary.url)
    script = write_demo_script(home / "script.json", extra_rules=[
        {"contains": "markdown please", "reply": MARKDOWN},
        {"contains": "attack", "reply": f"<think>{attack}</think>{attack}"},
        {"contains": "cite at the top level", "reply": TOP_LEVEL_CITE},
        {"contains": "ponder", "reply": "<think>Let me weigh it.</think>**Decided.**"},
    ])
    slow = ScriptedModel(responder=lambda m, o: "slow " * 300, delay=0.02, name="slow")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    model = load_script(str(script))
    HOMES["server"] = home
    with live_server(create_app(settings, [model, slow], config)) as url:
        yield url


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    with app_page(browser, server, viewport={"width": 1200, "height": 850},
                  locale="en-US") as pg:
        yield pg


def _send(page: Any, text: str) -> None:
    page.wait_for_selector("#send:not([hidden])")
    page.fill("#prompt", text)
    page.press("#prompt", "Enter")


def _wait_js(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll a JS condition from Python (page.wait_for_function would need eval, which the
    page's CSP forbids)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def _last_answer(page: Any) -> Any:
    return page.locator(".msg.assistant").last


def test_chat_streams_markdown_with_code_and_math(page: Any) -> None:
    _send(page, "markdown please")
    answer = _last_answer(page)
    answer.locator("h1", has_text="Plan").wait_for()
    answer.locator("pre code.hljs").wait_for()
    assert answer.locator("strong").inner_text() == "bold"
    assert answer.locator(".hljs-keyword").first.inner_text() == "def"
    assert answer.locator("math").count() == 1  # rendered to MathML
    assert answer.locator("pre .copy-code").count() == 1
    page.wait_for_url("**/c/*")
    assert page.locator("#conversations .conv").first.inner_text().startswith("markdown please")


def test_streaming_is_visible_and_stop_keeps_the_partial_answer(page: Any, server: str) -> None:
    import httpx

    assert page.locator("#model option").all_inner_texts() == ["scripted", "slow"]
    page.select_option("#model", "slow")  # the model picker
    _send(page, "answer slowly")
    page.wait_for_selector("#stop:not([hidden])")
    text = "document.querySelector('.msg.assistant:last-of-type .answer')?.textContent.length"
    _wait_js(page, f"{text} > 40")
    first = _last_answer(page).locator(".answer").inner_text()
    _wait_js(page, f"{text} > {len(first) + 20}")  # it grows while we watch
    page.click("#stop")
    page.wait_for_selector("#send:not([hidden])")
    tag = _last_answer(page).locator(".tag.interrupted")
    tag.wait_for()
    assert tag.inner_text() == "stopped"
    cid = page.url.rsplit("/", 1)[1]
    saved = httpx.get(f"{server}/api/conversations/{cid}").json()["messages"][-1]
    assert saved["status"] == "interrupted" and saved["model"] == "slow"
    assert 0 < len(saved["content"]) < len("slow " * 300)


def test_regenerate_and_edit_make_switchable_branches(page: Any) -> None:
    _send(page, "first question")
    _last_answer(page).locator(".answer", has_text="You said: first question").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    _last_answer(page).get_by_role("button", name="Regenerate").click()
    page.locator(".msg.user .branches .count", has_text="2/2").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    page.locator(".msg.user .branches button").first.click()  # back to the first version
    page.locator(".msg.user .branches .count", has_text="1/2").wait_for()
    page.locator(".msg.user").last.get_by_role("button", name="Edit").click()
    page.fill(".msg.user textarea.edit", "edited question")
    page.get_by_role("button", name="Save & send").click()
    _last_answer(page).locator(".answer", has_text="You said: edited question").wait_for()
    page.locator(".msg.user .branches .count", has_text="3/3").wait_for()


def test_editing_the_first_question_of_a_cli_conversation_branches_in_place(
        page: Any, server: str) -> None:
    """A conversation made by `qwenapp chat` has no root message: the edit is a new first
    message of the same conversation, not a new conversation."""
    from qwenapp.store import ConversationStore, open_db

    conn = open_db(load_settings({"QWENAPP_HOME": str(HOMES["server"])}).db_path)
    store = ConversationStore(conn)
    conv = store.create("scripted", title="made by the CLI")
    q = store.add_message(conv.id, "user", "first question from the CLI")
    store.add_message(conv.id, "assistant", "an answer", parent_id=q.id)
    conn.close()
    page.goto(f"{server}/c/{conv.id}")
    page.locator(".msg.user", has_text="first question from the CLI").wait_for()
    page.locator(".msg.user").first.get_by_role("button", name="Edit").click()
    page.fill(".msg.user textarea.edit", "the edited first question")
    page.get_by_role("button", name="Save & send").click()
    _last_answer(page).locator(".answer", has_text="You said: the edited first question").wait_for()
    page.locator(".msg.user .branches .count", has_text="2/2").wait_for()
    assert page.url.endswith(f"/c/{conv.id}")  # the same conversation
    page.locator(".msg.user .branches button").first.click()
    page.locator(".msg.user", has_text="first question from the CLI").wait_for()
    assert page.locator(".msg.assistant .answer", has_text="an answer").count() == 1


def test_thinking_toggle_shows_collapsible_reasoning(page: Any) -> None:
    page.check("#think")
    _send(page, "ponder this")
    answer = _last_answer(page)
    answer.locator(".answer strong", has_text="Decided.").wait_for()
    page.wait_for_selector("#send:not([hidden])")
    details = answer.locator("details.reasoning")
    assert "Let me weigh it." in (details.text_content() or "")
    answer.locator("details.reasoning:not([open])").wait_for()  # collapsed once it is done
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert "Let me weigh it." in details.inner_text()


def test_search_finds_a_conversation(page: Any) -> None:
    _send(page, "kumquat marmalade recipes")
    _last_answer(page).locator(".answer", has_text="kumquat").wait_for()
    page.click("#new-chat")
    page.fill("#search", "kumquat")
    page.locator("#conversations .conv", has_text="kumquat marmalade").wait_for()
    _wait_js(page, "document.querySelectorAll('#conversations .conv').length === 1")


def test_copy_button_copies_the_answer(browser: Any, server: str) -> None:
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    pg = context.new_page()
    pg.goto(server + "/")
    pg.wait_for_selector("#app:not([hidden])")
    _send(pg, "copy this text")
    _last_answer(pg).locator(".answer", has_text="You said: copy this text").wait_for()
    pg.wait_for_selector("#send:not([hidden])")
    _last_answer(pg).get_by_role("button", name="Copy", exact=True).click()
    assert pg.evaluate("navigator.clipboard.readText()") == "You said: copy this text"
    context.close()


def test_chinese_interface(page: Any) -> None:
    page.click("#lang-toggle")
    assert page.locator("#new-chat").inner_text() == "新对话"
    assert page.locator("#send").inner_text() == "发送"
    assert page.locator("[data-mode=research]").inner_text() == "研究"
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    assert page.locator("#new-chat").inner_text() == "新对话"  # remembered
    page.click("#lang-toggle")
    assert page.locator("#new-chat").inner_text() == "New chat"


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "sanitiser-alone"])
def test_hostile_model_output_is_sanitised(browser: Any, server: str, canary: Canary,
                                           csp: bool) -> None:
    """Scripts, handlers, javascript: links and remote resources from the model never run
    or load, with the page's CSP and (bypassing it) with the sanitiser alone."""
    context = browser.new_context(bypass_csp=not csp)
    pg = context.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/")
    pg.wait_for_selector("#app:not([hidden])")
    pg.check("#think")  # the reasoning is hostile too
    before = len(canary.hits)
    _send(pg, "attack the page")
    answer = _last_answer(pg)
    answer.locator(".answer", has_text="a normal link").wait_for()
    pg.wait_for_selector("#send:not([hidden])")
    answer.locator("details.reasoning > summary").first.click()  # open the reasoning too
    # clicking what was a javascript: link must not run anything either
    clicked = answer.evaluate("root => [...root.querySelectorAll('a:not([href])')]"
                              ".map(a => (a.click(), 1)).length")
    assert clicked >= 3
    pg.wait_for_timeout(800)
    assert pg.evaluate("window.__pwned") is None
    assert errors == []
    assert canary.hits[before:] == []
    assert [u for u in requests if not u.startswith(server)] == []
    dom = answer.evaluate("""root => {
        const all = [...root.querySelectorAll('*')];
        return {
          scripts: root.querySelectorAll('script, iframe, object, embed, form, video, svg,'
                                         + ' link, meta, style').length,
          handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on')))
                       .map(e => e.outerHTML),
          jsLinks: all.filter(e => /^\\s*javascript:/i.test(e.getAttribute('href') || ''))
                      .length,
          images: [...root.querySelectorAll('img')].map(i => i.getAttribute('src')),
          styles: all.filter(e => e.hasAttribute('style') && !e.closest('math')).length,
          links: [...root.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'),
                                                                  a.rel, a.target]),
          code: root.querySelector('pre code')?.textContent || '',
        };
    }""")
    assert dom["scripts"] == 0
    assert dom["handlers"] == []
    assert dom["jsLinks"] == 0
    assert dom["images"] == []
    assert dom["styles"] == 0
    for href, rel, target in dom["links"]:
        assert href.startswith(("http://", "https://")), href
        assert "noopener" in rel and "noreferrer" in rel and target == "_blank"
    assert "window.__pwned='code'" in dom["code"]  # shown as code, not run
    assert answer.locator(".blocked-image").count() >= 2
    context.close()


def test_hostile_output_never_blanks_an_answer(browser: Any, server: str) -> None:
    """``<div>Qwen is open.</div> [1]`` as an answer with an attached document renders
    (text and citation chip), after a reload too; no odd output makes rendering throw."""
    from qwenapp.server.testing import api_client, chat

    with api_client(server) as c:
        doc = c.post("/api/documents", files={"file": (
            "open.md", b"# Open\n\nQwen is open.\n")}).json()
        conv = c.post("/api/conversations", json={"title": "top-level citation"}).json()
        chat(c, conv["id"], "cite at the top level", document_ids=[doc["id"]])
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/")
    pg.wait_for_selector("#app:not([hidden])")
    pg.locator("#conversations .conv", has_text="top-level citation").click()
    answer = _last_answer(pg)
    answer.locator(".cite", has_text="1").wait_for()
    assert "Qwen is open." in answer.inner_text()
    thrown = pg.evaluate("""async (outputs) => {
        const { renderInto } = await import('/static/markdown.js');
        const sources = [{ n: 1, filename: 'open.md', location: 'Open' }];
        const failed = [];
        for (const out of outputs) {
          for (const opts of [{ sources }, {}, { sources: 'junk' }]) {
            const div = document.createElement('div');
            try { renderInto(div, out, opts); } catch (e) { failed.push([out, String(e)]); }
            if (out && !div.textContent.trim() && !/^<(template|!--|svg)/.test(out)
                && !/^(\\$\\$|```)$/.test(out)) failed.push([out, 'blank']);
          }
        }
        for (const junk of [null, undefined, 42, {}]) {
          try { renderInto(document.createElement('div'), junk, {}); }
          catch (e) { failed.push([String(junk), String(e)]); }
        }
        return failed;
    }""", ODD_OUTPUTS)
    assert thrown == []
    assert errors == []
    context.close()


def test_login_page_then_chat_with_csrf(browser: Any, tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    from qwenapp.server.users import UserStore
    from qwenapp.store import open_db

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    home = tmp_path / "home"
    conn = open_db(home / "qwenapp.db")
    UserStore(conn, fast).add("dana", "dana-password")
    conn.close()
    app = create_app(load_settings({"QWENAPP_HOME": str(home)}), [ScriptedModel()],
                     hasher=fast)
    with live_server(app) as url:
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(url + "/")
        pg.wait_for_selector("#login-view:not([hidden])")
        pg.fill("#login-form input[name=username]", "dana")
        pg.fill("#login-form input[name=password]", "wrong-password")
        pg.click("#login-form button[type=submit]")
        pg.locator("#login-error", has_text="wrong user name or password").wait_for()
        pg.fill("#login-form input[name=password]", "dana-password")
        pg.click("#login-form button[type=submit]")
        pg.wait_for_selector("#app:not([hidden])")
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["qwenapp_session"]["httpOnly"] is True
        assert cookies["qwenapp_session"]["sameSite"] == "Lax"
        assert pg.evaluate("document.cookie") == ""  # scripts cannot read the session
        _send(pg, "hello from dana")
        _last_answer(pg).locator(".answer", has_text="You said: hello from dana").wait_for()
        pg.goto(url + "/settings")
        pg.locator("#account-name", has_text="dana").wait_for()
        pg.fill("#key-form input[name=keyname]", "laptop")
        pg.click("#key-form button[type=submit]")
        pg.locator("#new-key", has_text="qwk_").wait_for()
        pg.locator("#keys-table td", has_text="laptop").wait_for()
        pg.click("#logout")
        pg.wait_for_selector("#login-view:not([hidden])")
        context.close()


