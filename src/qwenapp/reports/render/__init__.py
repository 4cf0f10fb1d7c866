"""Rendering a :class:`~qwenapp.reports.model.Report`: Markdown, HTML, DOCX, PDF.

No model call happens here. The output format follows the file extension;
:func:`check_output` validates the path *before* a run starts, so nobody
waits minutes for a report that cannot be written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...output import check_writable, find_soffice, write_atomic
from ..errors import RenderError
from ..model import Report
from .docx import to_docx
from .html import to_html
from .markdown import reference_text, to_markdown
from .pdf import require_soffice, to_pdf

__all__ = [
    "FORMATS",
    "check_output",
    "find_soffice",
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
    if ext == ".pdf":
        require_soffice()
    return check_writable(path, error=RenderError, hint="choose another -o path")


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
    write_atomic(path, data, error=RenderError)
    return path
