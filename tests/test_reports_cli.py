"""``qwenapp report`` through the real console script: outputs, re-export, every bad input."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import qwenapp_cmd
from fixtures.standin import StandIn, standin

FIXTURES = Path(__file__).parent / "fixtures"
SCRIPT = f"scripted:{FIXTURES / 'scripted_report.json'}"
QUESTION = "What drove Qwen's adoption among developers?"


def run(env: dict[str, str], *args: str, timeout: float = 180
        ) -> subprocess.CompletedProcess[str]:
    # rich wraps stderr at 80 columns when it is not a terminal; a wide one keeps each
    # message on the line it was printed on
    return subprocess.run([*qwenapp_cmd(), *args], env={**env, "COLUMNS": "500"}, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line_error(p: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert p.returncode == code, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr + p.stdout
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, p.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    shutil.copytree(FIXTURES / "corpus", d)
    return d


@pytest.fixture(scope="module")
def site() -> Iterator[StandIn]:
    with standin() as s:
        yield s


def test_report_save_list_show_reexport(cli_env: dict[str, str], docs: Path,
                                        tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT,
            "--depth", "quick", "-o", str(out))
    assert p.returncode == 0, p.stderr
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Qwen adoption among developers")
    assert "## References" in md and "qwen_adoption.md" in md
    # the model's own markers are not citations (code cites), and its unsupported
    # sentences are dropped or replaced by the quoted fact: the run says which
    assert "[9]" not in md and "[42]" not in md and "【1】" not in md
    assert "An invented claim" not in md
    for needle in ("plan:", "1. Licensing", "read ", "qwen_adoption.md", "section 1/2 written",
                   "warning:", "wrote "):
        assert needle in p.stderr, needle
    rid = re.search(r"saved as report (\w+)", p.stderr).group(1)  # type: ignore[union-attr]

    # every stage is saved: nothing redone (the CLI resolves the default model eagerly, so
    # the resume names the same scripted model)
    resumed = run(cli_env, "report", "--resume", rid, "--model", SCRIPT)
    assert resumed.returncode == 0 and "reusing saved stage: plan" in resumed.stderr
    assert "reusing saved stage: section:1" in resumed.stderr and resumed.stdout == md

    listed = run(cli_env, "report", "--list")
    assert rid in listed.stdout and "done" in listed.stdout
    shown = run(cli_env, "report", "--show", rid)
    assert shown.returncode == 0 and shown.stdout == md
    docx_out = tmp_path / "again.docx"
    again = run(cli_env, "report", "--show", rid[:20], "-o", str(docx_out))
    assert again.returncode == 0, again.stderr
    import docx

    paras = [p.text for p in docx.Document(str(docx_out)).paragraphs]
    assert "Qwen adoption among developers" in paras and "References" in paras


def test_markdown_to_stdout_and_library_reuse(cli_env: dict[str, str], docs: Path) -> None:
    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT,
            "--depth", "quick")
    assert p.returncode == 0 and p.stdout.startswith("# ")
    # no sources named: the library (now holding the corpus) is used
    p2 = run(cli_env, "report", QUESTION, "--model", SCRIPT, "--depth", "quick")
    assert p2.returncode == 0 and "searching the whole document library" in p2.stderr
    assert "## References" in p2.stdout


def test_unknown_output_extension(cli_env: dict[str, str], docs: Path, tmp_path: Path) -> None:
    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT,
            "-o", str(tmp_path / "r.txt"))
    one_line_error(p, 1, "unknown output extension '.txt'")
    assert "plan:" not in p.stderr  # refused before any work


@pytest.mark.parametrize("target", ["missing-dir/r.md", "/proc/qwenapp-test/r.md",
                                    "/proc/r.docx"])
def test_unwritable_output(cli_env: dict[str, str], docs: Path, tmp_path: Path,
                           target: str) -> None:
    path = target if target.startswith("/") else str(tmp_path / target)
    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT, "-o", path)
    one_line_error(p, 1, "cannot write")
    assert "plan:" not in p.stderr


def test_missing_docs_folder(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "report", QUESTION, "--docs", str(tmp_path / "nope"), "--model", SCRIPT)
    one_line_error(p, 2, "no such file or folder", "nope")


def test_corrupt_and_encrypted_documents_are_skipped(cli_env: dict[str, str], docs: Path,
                                                     tmp_path: Path) -> None:
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (docs / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    big = docs / "huge.txt"
    with big.open("wb") as f:
        f.truncate(101 * 1024 * 1024)  # sparse: over the 100 MB limit, no disk used
    out = tmp_path / "r.md"
    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT,
            "--depth", "quick", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert re.search(r"skipped .*locked\.xlsx: .*password-protected", p.stderr)
    assert re.search(r"skipped .*broken\.pdf: ", p.stderr)
    assert re.search(r"skipped .*huge\.txt: .*too large", p.stderr)
    assert out.exists()


def test_only_document_unreadable(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "locked.docx"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    p = run(cli_env, "report", QUESTION, "--docs", str(bad), "--model", SCRIPT)
    one_line_error(p, 2, "no sources found", "password-protected")


def test_no_sources_at_all(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "report", QUESTION, "--model", SCRIPT)
    one_line_error(p, 2, "no sources given")
    p = run(cli_env, "report", QUESTION, "--model", SCRIPT, "--allow-uncited", "--depth",
            "quick")
    assert p.returncode == 0 and "cites nothing" in p.stdout


def test_no_matching_sources(cli_env: dict[str, str], tmp_path: Path) -> None:
    d = tmp_path / "garden"
    d.mkdir()
    (d / "tomato.txt").write_text("Tomatoes want sun.")
    p = run(cli_env, "report", QUESTION, "--docs", str(d), "--model", SCRIPT)
    one_line_error(p, 2, "no sources found", "none matched")


def test_url_timeout(cli_env: dict[str, str], site: StandIn) -> None:
    p = run(cli_env, "report", QUESTION, "--url", f"{site.base}/slow?s=4", "--allow-host",
            "127.0.0.1", "--url-timeout", "1", "--model", SCRIPT)
    one_line_error(p, 2, "no sources found", "timed out after 1 s")


def test_url_not_html(cli_env: dict[str, str], site: StandIn) -> None:
    p = run(cli_env, "report", QUESTION, "--url", f"{site.base}/image.png", "--allow-host",
            "127.0.0.1", "--model", SCRIPT)
    one_line_error(p, 2, "no sources found", "not a web page (content type image/png)")


def test_url_private_address_refused(cli_env: dict[str, str], site: StandIn) -> None:
    p = run(cli_env, "report", QUESTION, "--url", f"{site.base}/pages/qwen_blog.html",
            "--model", SCRIPT)
    one_line_error(p, 2, "no sources found", "refusing to fetch")


def test_url_and_web_search(cli_env: dict[str, str], site: StandIn, tmp_path: Path) -> None:
    out = tmp_path / "web.html"
    p = run(cli_env, "report", QUESTION, "--web", "--search", f"searxng:{site.base}",
            "--url", f"{site.base}/redirect?to=/pages/local_news.html",
            "--allow-host", "127.0.0.1", "--model", SCRIPT, "--depth", "quick", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert "search " in p.stderr and "result(s)" in p.stderr
    page = out.read_text(encoding="utf-8")
    assert f"{site.base}/pages/" in page  # a web page is among the references


def test_notes_are_saved_with_the_request(cli_env: dict[str, str], docs: Path) -> None:
    from qwenapp.reports import ReportStore
    from qwenapp.store import open_db

    p = run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT, "--depth",
            "quick", "--notes", " - Focus?: licensing ")
    assert p.returncode == 0, p.stderr
    store = ReportStore(open_db(Path(cli_env["QWENAPP_HOME"]) / "qwenapp.db"))
    [saved] = store.recent()
    assert store.request(saved.id).notes == "- Focus?: licensing"
    one_line_error(run(cli_env, "report", QUESTION, "--docs", str(docs), "--model", SCRIPT,
                       "--notes", "x" * 1501), 2, "--notes is longer than 1500")


def test_bad_invocations(cli_env: dict[str, str]) -> None:
    one_line_error(run(cli_env, "report", "--model", SCRIPT), 2, "give a question")
    one_line_error(run(cli_env, "report", "--show", "NOSUCHREPORT"), 2, "no saved report")
    one_line_error(run(cli_env, "report", "--resume", "NOSUCHREPORT"), 2, "no saved report")
    one_line_error(run(cli_env, "report", QUESTION, "--web", "--search", "bing",
                       "--model", SCRIPT), 2, "unknown search provider")
