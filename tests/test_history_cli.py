"""``qwenapp history`` end to end: the real CLI on a real database in a temporary hist."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from qwenapp.cli.main import cli
from qwenapp.cli.state import AppState
from qwenapp.models.events import Usage
from qwenapp.settings import Settings, load_settings
from qwenapp.store import ConversationStore, open_db


@dataclass
class Home:
    settings: Settings
    store: ConversationStore
    sky: str  # conversation ids
    beijing: str

    def prefix(self, conv_id: str) -> str:
        """The shortest prefix (at least 12 characters) naming only ``conv_id``: ids made in
        the same millisecond share 12 or more characters, sometimes all but the last."""
        other = self.beijing if conv_id == self.sky else self.sky
        n = next(n for n in range(12, len(conv_id) + 1) if not other.startswith(conv_id[:n]))
        return conv_id[:n]

    def run(self, *args: str, input: str | None = None) -> Result:
        state = AppState(settings=self.settings, console=Console(width=200, highlight=False),
                         err=Console(stderr=True, width=200, highlight=False))
        return CliRunner().invoke(cli, ["history", *args], input=input, obj=state)


@pytest.fixture
def hist(tmp_path: Path) -> Iterator[Home]:
    settings = load_settings({"QWENAPP_HOME": str(tmp_path)})
    conn = open_db(settings.db_path)
    store = ConversationStore(conn)
    sky = store.create("qwen3-8b")
    q = store.add_message(sky.id, "user", "Why is the sky [bold]blue[/bold]? :smile:")
    store.add_message(sky.id, "assistant", "Rayleigh scattering.", parent_id=q.id,
                      reasoning="Short wavelengths scatter more.", usage=Usage(10, 3))
    store.add_message(sky.id, "assistant", "Because of scattering", parent_id=q.id,
                      status="interrupted")  # a regenerated, stopped answer
    bj = store.create("qwen2.5-7b-instruct")
    q = store.add_message(bj.id, "user", "请介绍一下北京的历史")
    store.add_message(bj.id, "assistant", "北京有三千多年的建城史。", parent_id=q.id)
    yield Home(settings, store, sky.id, bj.id)
    conn.close()


def _one_line_error(result: Result, exit_code: int, text: str) -> None:
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and text in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_list(hist: Home) -> None:
    result = hist.run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "updated", "msgs", "model", "title"]
    assert "请介绍一下北京的历史" in lines[1] and "qwen2.5-7b-instruct" in lines[1]
    assert "Why is the sky [bold]blue[/bold]? :smile:" in lines[2]  # printed as typed
    assert lines[2].split()[0] == hist.sky[: len(lines[2].split()[0])]

    data = json.loads(hist.run("list", "--json", "--limit", "1").stdout)
    assert [(c["id"], c["messages"], c["model"]) for c in data] == [
        (hist.beijing, 2, "qwen2.5-7b-instruct")]


def test_list_empty(tmp_path: Path) -> None:
    settings = load_settings({"QWENAPP_HOME": str(tmp_path / "new")})
    result = CliRunner().invoke(cli, ["history", "list"], obj=AppState(settings=settings))
    assert result.exit_code == 0 and "No saved conversations yet." in result.stdout
    assert settings.db_path.exists()


def test_search(hist: Home) -> None:
    result = hist.run("search", "北京")
    assert result.exit_code == 0, result.output
    assert "请介绍一下北京的历史" in result.stdout and "建城史" in result.stdout
    hits = json.loads(hist.run("search", "scattering", "--json").stdout)
    assert {h["conversation_id"] for h in hits} == {hist.sky}
    assert {h["role"] for h in hits} == {"assistant"}
    assert all("scattering" in h["snippet"] for h in hits)
    assert "Nothing matches" in hist.run("search", "nonexistent").stdout
    assert hist.run("search", "--", '"-:*').exit_code == 0  # FTS syntax is just text
    _one_line_error(hist.run("search", '""'), 2, "nothing to search for")


def test_show(hist: Home) -> None:
    result = hist.run("show", hist.sky)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Why is the sky [bold]blue[/bold]? :smile:" in out
    assert "Because of scattering" in out and "[interrupted]" in out  # the newest branch
    assert "version 2 of 2" in out and "Rayleigh" not in out

    data = json.loads(hist.run("show", hist.prefix(hist.beijing), "--json").stdout)
    assert data["conversation"]["id"] == hist.beijing
    assert [m["role"] for m in data["messages"]] == ["user", "assistant"]


def test_show_reasoning_is_dimmed(hist: Home) -> None:
    conv = hist.store.create("qwen3-8b")
    q = hist.store.add_message(conv.id, "user", "Think first")
    hist.store.add_message(conv.id, "assistant", "Answer.", parent_id=q.id,
                           reasoning="Thinking hard.")
    console = Console(force_terminal=True, color_system="standard", width=200)  # keep styles
    state = AppState(settings=hist.settings, console=console)
    result = CliRunner().invoke(cli, ["history", "show", conv.id], obj=state)
    assert result.exit_code == 0, result.output
    assert "\x1b[2;3mThinking hard.\x1b[0m" in result.stdout  # dim italic
    assert result.stdout.index("Thinking hard.") < result.stdout.index("Answer.")


def test_unknown_and_ambiguous_ids(hist: Home) -> None:
    _one_line_error(hist.run("show", "ZZZZZZZZ"), 2, "no conversation with id 'ZZZZZZZZ'")
    shared = hist.sky[:4]  # both conversations were created in the same second
    assert hist.beijing.startswith(shared)
    _one_line_error(hist.run("export", shared), 2, "matches more than one conversation")
    _one_line_error(hist.run("rm", "abc", "--yes"), 2, "at least 4 characters")


def test_export_markdown_to_stdout(hist: Home) -> None:
    result = hist.run("export", hist.sky)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Why is the sky [bold]blue[/bold]? :smile:\n")
    assert "### Assistant" in result.stdout and "*[interrupted" in result.stdout


def test_export_json_to_file(hist: Home, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "sky.json"
    out.parent.mkdir()
    out.write_text("old")
    result = hist.run("export", hist.sky, "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    data = json.loads(out.read_text())
    assert data["conversation"]["id"] == hist.sky
    assert [p.name for p in out.parent.iterdir()] == ["sky.json"]  # no temporary file left
    out.chmod(0o640)  # a replaced file keeps its mode
    assert hist.run("export", hist.sky, "-o", str(out)).exit_code == 0
    assert out.read_text().startswith("# Why is the sky")
    assert out.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "exports" / "fresh.md"
    assert hist.run("export", hist.sky, "-o", str(fresh)).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    _one_line_error(hist.run("export", hist.sky, "-o", str(tmp_path / "no" / "x.md")), 1,
                    "cannot write")


def test_rm(hist: Home) -> None:
    result = hist.run("rm", hist.beijing, "--yes")
    assert result.exit_code == 0 and f"deleted {hist.beijing}" in result.stdout
    # Standard input is not a terminal here: nothing to ask, so it deletes.
    assert hist.run("rm", hist.sky).exit_code == 0
    assert json.loads(hist.run("list", "--json").stdout) == []
    _one_line_error(hist.run("rm", hist.sky, "--yes"), 2, "no conversation")


def test_rename(hist: Home) -> None:
    result = hist.run("rename", hist.prefix(hist.sky), "Sky", "colour")
    assert result.exit_code == 0, result.output
    assert hist.store.get(hist.sky).title == "Sky colour"
    _one_line_error(hist.run("rename", hist.sky, " "), 2, "a title cannot be empty")


def test_locked_database(hist: Home) -> None:
    holder = sqlite3.connect(hist.settings.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert hist.run("list").exit_code == 0  # readers are not blocked
        # A write waits for the busy timeout (5 s), then says plainly what is wrong.
        result = hist.run("rename", hist.sky, "x")
        _one_line_error(result, 1, "another qwenapp is writing")
        assert "try again in a moment" in result.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
