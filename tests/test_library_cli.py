"""``qwenapp docs add | list | search | rm`` through the real console script."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import qwenapp_cmd

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env={**env, "COLUMNS": "500"}, text=True,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def test_docs_lifecycle(cli_env: dict[str, str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    p = run(cli_env, "docs", "add", str(docs))
    assert p.returncode == 0, p.stderr
    assert p.stderr.count("added") == 6
    again = run(cli_env, "docs", "add", str(docs))
    assert again.returncode == 0 and again.stderr.count("unchanged") == 6

    listed = run(cli_env, "docs", "list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 6
    assert "千问开源生态" in listed.stdout

    hit = run(cli_env, "docs", "search", "魔搭社区", "-n", "1")
    assert hit.returncode == 0 and "千问开源生态" in hit.stdout and "社区" in hit.stdout
    hit = run(cli_env, "docs", "search", "GGUF quantization")
    assert "local_inference — lines 1-11" in hit.stdout.splitlines()[0]

    short_id = next(ln for ln in listed.stdout.splitlines() if "gardening" in ln).split()[0]
    rm = run(cli_env, "docs", "rm", short_id)
    assert rm.returncode == 0 and "removed gardening" in rm.stderr
    assert len(run(cli_env, "docs", "list").stdout.splitlines()) == 5
    none = run(cli_env, "docs", "search", "tomato mulch")
    assert none.returncode == 0 and "no matches" in none.stderr


def test_docs_add_reports_failures(cli_env: dict[str, str], tmp_path: Path) -> None:
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    (tmp_path / "ok.md").write_text("# Fine\nreadable text\n")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")  # pictures: test_ocr
    p = run(cli_env, "docs", "add", str(tmp_path))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "added" in p.stderr and "skipped   " in p.stderr and "clip.mp4" in p.stderr
    assert "failed    " in p.stderr and "bad.pdf: corrupt PDF" in p.stderr
    assert "error: 1 of 3 file(s) could not be added" in p.stderr
    named = run(cli_env, "docs", "add", str(tmp_path / "clip.mp4"))
    assert named.returncode == 2 and "unsupported file type '.mp4'" in named.stderr


def test_docs_bad_input(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "docs", "add", str(tmp_path / "missing"))
    assert p.returncode == 2 and "no such file or folder" in p.stderr
    p = run(cli_env, "docs", "rm", "NOPE1234")
    assert p.returncode == 2 and "no document 'NOPE1234'" in p.stderr
    p = run(cli_env, "docs", "search", "x", "--hybrid")
    assert p.returncode == 2 and "--hybrid needs an embedding endpoint" in p.stderr
    assert "Traceback" not in p.stderr


def test_docs_hybrid_search_with_embedding_endpoint(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    from fixtures.standin import standin

    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    with standin() as site:
        spec = f"openai:{site.base}/v1#bag"
        p = run(cli_env, "docs", "add", str(docs), "--embed", spec)
        assert p.returncode == 0 and "embedded" in p.stderr and "passages with bag" in p.stderr
        hit = run(cli_env, "docs", "search", "tomato watering", "--hybrid", "--embed", spec)
    assert hit.returncode == 0, hit.stderr
    assert "gardening" in hit.stdout.splitlines()[0]
