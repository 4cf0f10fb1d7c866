"""PDF and PNG previews through LibreOffice and pdftoppm, and what happens without them."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from qwenapp.slides import THEMES, Deck, ExportError, Slide, render_pptx
from qwenapp.slides.export import export_pdf, export_pngs, find_pdftoppm, find_soffice

needs_lo = pytest.mark.skipif(find_soffice() is None or find_pdftoppm() is None,
                              reason="LibreOffice or poppler-utils is not installed; "
                                     ".ci/run installs both")


def small_deck(tmp_path: Path) -> Path:
    deck = Deck(title="千问 and Qwen", language="zh", slides=[
        Slide(kind="title", title="千问模型为何领先", subtitle="开发者概览"),
        Slide(kind="bullets", title="开源许可", bullets=["大部分模型采用 Apache 2.0 许可证"],
              notes="说明许可证。"),
        Slide(kind="closing", title="谢谢"),
    ])
    path = tmp_path / "small.pptx"
    path.write_bytes(render_pptx(deck, THEMES["light"]))
    return path


@needs_lo
def test_pdf_then_one_png_per_slide(tmp_path: Path) -> None:
    pptx = small_deck(tmp_path)
    pdf = export_pdf(pptx, tmp_path / "small.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    pngs = export_pngs(pdf, tmp_path / "small", dpi=30)
    assert [p.name for p in pngs] == ["small-1.png", "small-2.png", "small-3.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@needs_lo
def test_chinese_glyphs_reach_the_pdf(tmp_path: Path) -> None:
    import subprocess

    pdf = export_pdf(small_deck(tmp_path), tmp_path / "small.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "千问模型为何领先" in text and "开源许可" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    assert "CJK" in fonts  # drawn in an East Asian font, not as empty boxes


def test_missing_tools_are_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExportError, match="LibreOffice is not installed") as e:
        export_pdf(tmp_path / "x.pptx", tmp_path / "x.pdf")
    assert "apt install libreoffice-impress" in e.value.hint
    with pytest.raises(ExportError, match="pdftoppm is not installed"):
        export_pngs(tmp_path / "x.pdf", tmp_path / "x")


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a fake soffice")
def test_a_hanging_libreoffice_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "soffice"
    marker = tmp_path / "child-alive"
    sleep, touch = shutil.which("sleep"), shutil.which("touch")
    fake.write_text(f"#!/bin/sh\n({sleep} 30; {touch} {marker}) &\n{sleep} 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(ExportError, match="took longer than 1 s"):
        export_pdf(tmp_path / "x.pptx", tmp_path / "x.pdf", timeout=1)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "x.pdf").exists()
