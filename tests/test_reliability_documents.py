"""Issue 9, items 1-3: chunking is linear, reading is bounded, every reader error is a refusal.

Costs are compared as ratios of the same machine's timings (min of repeats),
never against absolute times. Hostile files are built by
``reliability_files`` in a temp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qwenapp.documents import DocumentError, Limits, Section, extract
from qwenapp.library import Library, chunk_sections, chunking, estimate_tokens
from qwenapp.library.worker import DocumentWorker
from qwenapp.store import open_db
from reliability_files import (
    aes_pdf,
    flate_bomb_pdf,
    huge_content_pdf,
    one_line_text,
    simple_pdf,
    unpunctuated_docx,
)


def _cost(text: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Characters the chunker reads to cut ``text`` (every token estimate reads its input
    once, and the rest of the work is proportional to it): a count, not a time, so the
    bound holds on a loaded machine."""
    read = 0

    def counting(s: str) -> int:
        nonlocal read
        read += len(s)
        return estimate_tokens(s)

    with monkeypatch.context() as m:
        m.setattr(chunking, "estimate_tokens", counting)
        chunk_sections([Section(text, "x")])
    return read


@pytest.mark.parametrize("unit", ["widget ", "widget", "模型训练", "word. "])
def test_chunking_is_linear_in_text_length(unit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base = unit * (64_000 // len(unit))
    costs = {k: _cost(base * k, monkeypatch) for k in (1, 2, 4, 8)}
    # linear: 8x the text costs ~8x; quadratic (the old cut) cost ~64x
    assert costs[2] / costs[1] < 2 * 1.5
    assert costs[4] / costs[1] < 4 * 1.5
    assert costs[8] / costs[1] < 8 * 1.5, costs


def test_hard_cuts_keep_every_word_and_the_size() -> None:
    text = "widget " * 20_000
    chunks = chunk_sections([Section(text, "lines 1-1")], target_tokens=200)
    assert all(estimate_tokens(c.text) <= 200 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()  # cut at spaces only
    cjk = "模型" * 10_000
    pieces = chunk_sections([Section(cjk, "x")], target_tokens=100)
    assert "".join(c.text for c in pieces) == cjk
    assert all(estimate_tokens(c.text) <= 100 for c in pieces)


@pytest.fixture(scope="module")
def worker() -> DocumentWorker:
    return DocumentWorker()


def test_one_line_megabyte_is_read_in_a_child(tmp_path: Path, worker: DocumentWorker) -> None:
    got = worker.prepare(one_line_text(tmp_path / "x.txt"))
    assert len(got.chunks) > 1000
    assert got.document.text.split() == ["widget"] * 142_857


def test_huge_unpunctuated_docx_is_refused_with_a_reason(tmp_path: Path,
                                                        worker: DocumentWorker) -> None:
    path = unpunctuated_docx(tmp_path / "big.docx")
    with pytest.raises(DocumentError, match="too much text"):
        worker.prepare(path)


def test_owner_password_only_pdfs_are_read(tmp_path: Path, worker: DocumentWorker) -> None:
    for alg in ("AES-256", "AES-128", "RC4-128"):
        path = aes_pdf(tmp_path / f"{alg}.pdf", user_password="", algorithm=alg)
        assert "readable text" in extract(path).text
        assert "readable text" in worker.prepare(path).document.text


def test_password_pdfs_and_bombs_are_clean_refusals(tmp_path: Path,
                                                    worker: DocumentWorker) -> None:
    locked = aes_pdf(tmp_path / "locked.pdf", user_password="u")
    with pytest.raises(DocumentError, match="password-protected") as e:
        worker.prepare(locked)
    assert e.value.hint
    bomb = flate_bomb_pdf(tmp_path / "bomb.pdf")
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(DocumentError, match="decompression bomb"):
        worker.prepare(bomb)
    with pytest.raises(DocumentError, match="decompression bomb"):
        extract(bomb)  # in process too: pypdf's limit error is mapped, not raised
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n")
    with pytest.raises(DocumentError, match=r"broken\.pdf"):
        worker.prepare(broken)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_cpu_and_memory_are_bounded_and_released(tmp_path: Path,
                                                 worker: DocumentWorker) -> None:
    heavy = huge_content_pdf(tmp_path / "heavy.pdf", megabytes=20)
    before = _rss()
    with pytest.raises(DocumentError, match="s of CPU"):
        worker.prepare(heavy, Limits(cpu_seconds=1))
    with pytest.raises(DocumentError, match="memory"):
        worker.prepare(heavy, Limits(memory_bytes=32 * 1024 * 1024))
    # the work happened in children that are gone: this process did not grow with it
    assert _rss() - before < 40 * 1024 * 1024
    assert worker.prepare(simple_pdf(tmp_path / "ok.pdf")).document.text


def test_docs_add_goes_on_after_failing_files(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    aes_pdf(folder / "a_locked.pdf", user_password="u")
    flate_bomb_pdf(folder / "b_bomb.pdf", inflated=100 * 1024 * 1024)
    aes_pdf(folder / "c_owner_only.pdf", user_password="")
    (folder / "d_notes.md").write_text("# Notes\n\nQwen runs locally.\n")
    lib = Library(open_db(tmp_path / "db.sqlite"))
    got = {o.path.name: o for o in lib.ingest([folder])}
    assert got["a_locked.pdf"].status == "failed" and "password" in got["a_locked.pdf"].reason
    assert got["b_bomb.pdf"].status == "failed" and "bomb" in got["b_bomb.pdf"].reason
    assert got["c_owner_only.pdf"].status == "added"
    assert got["d_notes.md"].status == "added"
    assert lib.search("readable")[0].title
