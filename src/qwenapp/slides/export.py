"""PDF and PNG previews: LibreOffice headless, then poppler's ``pdftoppm``.

Each conversion gets its own throw-away LibreOffice profile
(``-env:UserInstallation``), so parallel runs never fight over one profile
lock, and a bounded timeout after which the whole process group is killed
(``soffice`` starts a child ``soffice.bin`` that would otherwise linger).
The tools write into a temporary folder; each file they make reaches its
place through the one atomic writer (:func:`qwenapp.output.write_atomic`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..output import find_soffice, write_atomic
from .errors import ExportError

__all__ = ["export_pdf", "export_pngs", "find_pdftoppm", "find_soffice", "require_tools"]

def find_pdftoppm() -> str | None:
    return shutil.which("pdftoppm")


def require_tools(pdf: bool, png: bool) -> None:
    """Fail before any work when a requested preview cannot be made."""
    if pdf and find_soffice() is None:
        raise ExportError(
            "LibreOffice is not installed, so no PDF or PNG preview can be made",
            "install it (apt install libreoffice-impress, brew install --cask libreoffice) "
            "or leave out --pdf/--png",
        )
    if png and find_pdftoppm() is None:
        raise ExportError("pdftoppm is not installed, so no PNG preview can be made",
                          "install poppler (apt install poppler-utils) or leave out --png")


def _run(cmd: list[str], timeout: float, what: str) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise ExportError(f"{what} took longer than {timeout:.0f} s and was stopped") from None
    if proc.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()
        raise ExportError(f"{what} failed: {detail[-1] if detail else f'exit {proc.returncode}'}")


def export_pdf(pptx: Path, pdf: Path, *, timeout: float = 180.0) -> Path:
    """Convert ``pptx`` to ``pdf`` (written atomically) with LibreOffice headless."""
    require_tools(True, False)
    soffice = find_soffice() or "soffice"
    with tempfile.TemporaryDirectory(prefix="qwenapp-lo-") as tmp:
        profile = Path(tmp) / "profile"
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        _run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
              "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(out_dir),
              str(pptx)], timeout, "LibreOffice's PDF conversion")
        made = out_dir / (pptx.stem + ".pdf")
        if not made.exists():
            raise ExportError(f"LibreOffice did not produce a PDF for {pptx.name}")
        write_atomic(pdf, made.read_bytes(), error=ExportError)
    return pdf


def export_pngs(pdf: Path, prefix: Path, *, dpi: int = 60, timeout: float = 120.0) -> list[Path]:
    """One PNG per page of ``pdf``: ``PREFIX-1.png``, ``PREFIX-2.png``..."""
    require_tools(False, True)
    exe = find_pdftoppm() or "pdftoppm"
    with tempfile.TemporaryDirectory(prefix="qwenapp-png-") as tmp:
        _run([exe, "-png", "-r", str(dpi), str(pdf), str(Path(tmp) / "p")], timeout,
             "pdftoppm")
        pages = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        out: list[Path] = []
        for i, page in enumerate(pages, 1):
            target = prefix.with_name(f"{prefix.name}-{i}.png")
            write_atomic(target, page.read_bytes(), error=ExportError)
            out.append(target)
    return out
