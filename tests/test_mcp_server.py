"""``qwenapp mcp``: the real console script as an MCP server, driven by the official SDK client."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, qwenapp_cmd

pytest.importorskip("mcp")

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = f"scripted:{FIXTURES / 'scripted_report.json'}"
QUESTION = "What drove Qwen's adoption among developers?"


@pytest.fixture
def library_home(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    p = subprocess.run([*qwenapp_cmd(), "docs", "add", str(docs)], env=cli_env, text=True,
                       capture_output=True, timeout=180)
    assert p.returncode == 0, p.stderr
    return cli_env


async def _session(env: dict[str, str], body: Any, *args: str) -> Any:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    cmd = qwenapp_cmd()
    params = StdioServerParameters(command=cmd[0], args=[*cmd[1:], "mcp", *args], env=env)
    with open(os.devnull, "w") as quiet:
        async with stdio_client(params, errlog=quiet) as streams, \
                ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await body(session)


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content if c.type == "text")


def test_stdio_library_tools(library_home: dict[str, str]) -> None:
    async def body(session: Any) -> Any:
        listed = await session.list_tools()
        docs = await session.call_tool("list_documents", {})
        hits = await session.call_tool("library_search", {"query": "Qwen", "limit": 3})
        return listed, docs, hits

    listed, docs, hits = asyncio.run(asyncio.wait_for(_session(library_home, body), 120))
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == {"library_search", "list_documents", "research_report", "slide_deck"}
    assert tools["library_search"].annotations.read_only_hint is True
    assert not (tools["research_report"].annotations and
                tools["research_report"].annotations.read_only_hint)
    assert len(_text(docs).splitlines()) == len(list(CORPUS.rglob("*.*")))
    text = _text(hits)
    assert text.startswith("[1] ") and "document_id=" in text and not hits.is_error


def test_stdio_research_report_cites_the_library(library_home: dict[str, str]) -> None:
    async def body(session: Any) -> Any:
        return await session.call_tool("research_report", {"question": QUESTION})

    result = asyncio.run(asyncio.wait_for(_session(library_home, body, "--model", SCRIPT), 300))
    report = _text(result)
    assert not result.is_error, report
    assert report.startswith("# ") and "[1]" in report


def test_stdio_slide_deck_writes_an_editable_deck_from_the_library(
        library_home: dict[str, str], tmp_path: Path) -> None:
    from pptx import Presentation

    from qwenapp.slides.scripted import cli_script

    script = cli_script(tmp_path / "deck-script.json", "Qwen adoption", 5)

    async def body(session: Any) -> Any:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert tools["slide_deck"].annotations.read_only_hint is False  # it writes a file
        return await session.call_tool("slide_deck", {"topic": "Qwen adoption", "slides": 5})

    result = asyncio.run(asyncio.wait_for(
        _session(library_home, body, "--model", f"scripted:{script}"), 300))
    answer = _text(result)
    assert not result.is_error, answer
    path = Path(answer.split("\n")[0].split(" ")[1].rstrip(","))
    assert path.parent == Path(library_home["QWENAPP_HOME"]) / "decks" and path.suffix == ".pptx"
    assert "citing" in answer.splitlines()[0]  # the library's documents were its sources
    pres = Presentation(str(path))
    assert len(pres.slides) >= 3
    titles = [line.split(". ", 1)[1] for line in answer.splitlines()[1:]]
    assert len(titles) == len(pres.slides)


def test_bad_arguments_are_tool_errors(library_home: dict[str, str]) -> None:
    async def body(session: Any) -> Any:
        return await session.call_tool("research_report", {"question": "x", "depth": "huge"})

    result = asyncio.run(asyncio.wait_for(_session(library_home, body), 120))
    assert result.is_error


def test_http_transport(library_home: dict[str, str]) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*qwenapp_cmd(), "mcp", "--http", "--port", str(port)],
                            env=library_home, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)

        async def go() -> Any:
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as streams, \
                    ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await session.call_tool("library_search", {"query": "Qwen"})

        result = asyncio.run(asyncio.wait_for(go(), 60))
        assert _text(result).startswith("[1] ")
    finally:
        proc.terminate()
        proc.wait(10)


def test_http_refuses_other_addresses(cli_env: dict[str, str]) -> None:
    p = subprocess.run([*qwenapp_cmd(), "mcp", "--http", "--host", "0.0.0.0"], env=cli_env,
                       text=True, capture_output=True, timeout=60)
    assert p.returncode != 0 and "only on this machine" in p.stderr
    assert "Traceback" not in p.stderr
