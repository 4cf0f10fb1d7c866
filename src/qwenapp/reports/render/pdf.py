"""Report → PDF: the DOCX rendering converted by LibreOffice, headless.

A real layout engine (fonts, CJK, page breaks) rather than a hand-rolled
PDF writer. Each conversion uses a fresh LibreOffice profile in a temporary
folder, so concurrent conversions never fight over a lock.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ...output import find_soffice
from ..errors import RenderError
from ..model import Report
from .docx import to_docx

__all__ = ["require_soffice", "to_pdf"]

CONVERT_TIMEOUT = 180.0


def require_soffice() -> str:
    """LibreOffice's path, or the error a report's user sees when it is not installed."""
    soffice = find_soffice()
    if soffice is None:
        raise RenderError("PDF export needs LibreOffice, which is not installed",
                          "install libreoffice-writer (apt) or export .docx or .html")
    return soffice


def to_pdf(report: Report, timeout: float = CONVERT_TIMEOUT) -> bytes:
    soffice = require_soffice()
    with tempfile.TemporaryDirectory(prefix="qwenapp-pdf-") as tmp:
        folder = Path(tmp)
        src = folder / "report.docx"
        src.write_bytes(to_docx(report))
        cmd = [soffice, "--headless", "--norestore", "--nologo", "--nodefault",
               f"-env:UserInstallation={(folder / 'profile').as_uri()}",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(folder), str(src)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RenderError(f"LibreOffice did not finish the PDF in {timeout:g} s",
                              "export .docx or .html instead") from None
        out = folder / "report.pdf"
        if proc.returncode != 0 or not out.exists():
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
            raise RenderError(f"LibreOffice could not convert the report to PDF: "
                              f"{detail.splitlines()[-1] if detail else proc.returncode}")
        return out.read_bytes()
