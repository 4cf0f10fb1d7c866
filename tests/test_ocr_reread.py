"""A mixed PDF added while OCR is off says which pages it skipped, and ``docs add
--reread`` reads them once OCR is on (issue 14), through the real ``qwenapp`` CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import qwenapp_cmd
from fixtures.ocr.pages import ENGLISH, ENGLISH_2, render, write_pdf


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env={**env, "COLUMNS": "500"}, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)


def test_pages_skipped_with_ocr_off_are_read_by_reread(cli_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "minutes.pdf", [ENGLISH_2, render(ENGLISH)])
    off = run({**cli_env, "QWENAPP_OCR": "0"}, "docs", "add", str(pdf))
    assert off.returncode == 0, off.stderr
    assert "minutes.pdf (1 sections" in off.stderr
    assert "1 scanned page(s) not read" in off.stderr and "switched off" in off.stderr
    assert "qwenapp docs add --reread" in off.stderr
    assert "minutes — page 2" not in run(cli_env, "docs", "search", "subscription").stdout
    again = run(cli_env, "docs", "add", str(pdf))  # OCR on, but the file is known
    assert "unchanged" in again.stderr
    reread = run(cli_env, "docs", "add", "--reread", str(pdf))
    assert reread.returncode == 0, reread.stderr
    assert "updated" in reread.stderr and "minutes.pdf (2 sections" in reread.stderr
    assert "not read" not in reread.stderr
    hit = run(cli_env, "docs", "search", "subscription service launched")
    assert "minutes — page 2" in hit.stdout
    listed = run(cli_env, "docs", "list").stdout.splitlines()
    assert len(listed) == 1 and "2 sec" in listed[0]  # the same document, read again


def test_report_docs_shows_ocr_progress_and_skipped_pages(cli_env: dict[str, str],
                                                          tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "minutes.pdf", [ENGLISH_2, render(ENGLISH), render(ENGLISH_2)])
    topic = "What did the planning meeting decide"
    off = run({**cli_env, "QWENAPP_OCR": "0"}, "report", topic, "--docs", str(pdf),
              "--model", "scripted")
    assert "2 scanned page(s) not read" in off.stderr, off.stderr
    on = run(cli_env, "report", topic, "--docs", str(tmp_path / "other"), "--model", "scripted")
    assert on.returncode != 0 and "Traceback" not in on.stderr  # a missing folder: plain error
    copy = tmp_path / "copy.pdf"  # a new file, so that it is read (with OCR on) and not reused
    write_pdf(copy, [ENGLISH_2 + "\nA second copy.", render(ENGLISH), render(ENGLISH_2)])
    read = run(cli_env, "report", topic, "--docs", str(copy), "--model", "scripted")
    assert "copy.pdf: OCR page 1 of 2" in read.stderr and "copy.pdf: OCR page 2 of 2" in read.stderr
    assert "read    copy (3 section(s)" in read.stderr


def test_slides_from_a_scan_shows_ocr_progress(cli_env: dict[str, str], tmp_path: Path) -> None:
    from qwenapp.slides.scripted import cli_script

    pdf = write_pdf(tmp_path / "board.pdf", [ENGLISH_2, render(ENGLISH), render(ENGLISH_2)])
    topic = "What the planning meeting decided"
    model = "scripted:" + str(cli_script(tmp_path / "deck.json", topic, 4))
    p = run(cli_env, "slides", topic, "--from", str(pdf), "-n", "4", "-o",
            str(tmp_path / "board.pptx"), "--model", model)
    assert p.returncode == 0, p.stderr
    assert "board.pdf: OCR page 1 of 2" in p.stderr and "board.pdf: OCR page 2 of 2" in p.stderr
