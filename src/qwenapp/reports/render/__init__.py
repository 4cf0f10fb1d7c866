"""Rendering a :class:`~qwenapp.reports.model.Report`: Markdown, HTML, DOCX, PDF.

No model call happens here. The output format follows the file extension;
:func:`check_output` validates the path *before* a run starts, so nobody
waits minutes for a report that cannot be written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import RenderError
from ..model import Report
from .docx import to_docx
from .html import to_html
from .markdown import reference_text, to_markdown
from .pdf import find_soffice, to_pdf

__all__ = [
    "FORMATS",
    "check_output",
    "reference_text",
    "render",
    "to_docx",
    "to_html",
    "to_markdown",
    "to_pdf",
    "write_report",
]


def _text(fn: Callable[[Report], str]) -> Callable[[Report], bytes]:
    return lambda r: fn(r).encode("utf-8")


FORMATS: dict[str, Callable[[Report], bytes]] = {
    ".md": _text(to_markdown),
    ".markdown": _text(to_markdown),
    ".html": _text(to_html),
    ".htm": _text(to_html),
    ".docx": to_docx,
    ".pdf": to_pdf,
}


def check_output(path: Path) -> Path:
    """Refuse an unknown extension or an unwritable place, before any work is done."""
    path = Path(path).expanduser()
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise RenderError(f"unknown output extension {ext or '(none)'!r} for {path.name}",
                          "use .md, .html, .pdf or .docx")
    if ext == ".pdf" and find_soffice() is None:
        raise RenderError("PDF export needs LibreOffice, which is not installed",
                          "install libreoffice-writer (apt) or export .docx or .html")
    if path.is_dir():
        raise RenderError(f"cannot write {path}: it is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise RenderError(f"cannot write {path}: {parent} is not a folder")
    if not parent.is_dir():
        raise RenderError(f"cannot write {path}: the folder {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise RenderError(f"cannot write {path}: permission denied")
    try:  # the only reliable test (root, read-only mounts, ACLs): create a file there
        with tempfile.NamedTemporaryFile(prefix=".qwenapp-probe-", dir=parent):
            pass
    except OSError as e:
        raise RenderError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def render(report: Report, fmt: str) -> bytes:
    """The report as ``fmt`` (an extension: ".md", ".html", ".docx", ".pdf")."""
    try:
        return FORMATS[fmt.lower()](report)
    except KeyError:
        raise RenderError(f"unknown output format {fmt!r}", "use .md, .html, .pdf or .docx"
                          ) from None


def write_report(report: Report, path: Path) -> Path:
    """Render by extension and write atomically (a half-written file never appears)."""
    path = check_output(path)
    data = render(report, path.suffix)
    fd, tmp = tempfile.mkstemp(prefix=".qwenapp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise RenderError(f"cannot write {path}: {e.strerror or e}") from None
    return path
