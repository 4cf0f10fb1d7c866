"""``extract(path) -> Document``: the one entry point, dispatching on the extension.

Pictures (PNG, JPEG, WebP, TIFF) and the pages of a PDF that have no text
layer are read by OCR (:mod:`.ocr`), within the page and time budget of
:class:`Limits`.

Limits are checked before any parser runs (size first, then the zip
directory for OOXML) and the extracted text after. Every failure, including
a parser's unexpected exception, is a :class:`DocumentError` that names the
file and the reason, so callers can report it and carry on. CPU time and
memory are bounded by running this in :mod:`qwenapp.library.worker`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from .html import html_sections, html_title
from .limits import DEFAULT_LIMITS, Limits, check_file, check_text, check_zip
from .model import Document, DocumentError, DocumentKind, Section
from .ocr import Progress
from .text import decode, markdown_sections, split_csv, table_text, text_sections
from .text import title_from_markdown as md_title

__all__ = ["EXTENSIONS", "extract", "extract_html", "kind_of"]

EXTENSIONS: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".csv": "csv",
    ".tsv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".log": "text",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".webp": "image",
    ".tif": "image",
    ".tiff": "image",
}


def kind_of(path: Path) -> DocumentKind | None:
    return EXTENSIONS.get(path.suffix.lower())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def extract(path: Path, limits: Limits = DEFAULT_LIMITS,
            progress: Progress | None = None) -> Document:
    """Read one file into located sections, or raise :class:`DocumentError`.

    Pictures and PDF pages without a text layer are read by OCR (:mod:`.ocr`);
    ``progress(done, total)`` is called as those pages are recognised.
    """
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        known = ", ".join(sorted({k.lstrip(".") for k in EXTENSIONS}))
        raise DocumentError(f"{path.name}: unsupported file type {path.suffix or '(none)'!r}",
                            f"supported: {known}")
    check_file(path, limits)
    if kind in ("docx", "pptx", "xlsx"):
        check_zip(path, limits, kind.upper())
    sha = _sha256(path)
    try:
        title, sections, notes = _parse(path, kind, limits, progress)
    except DocumentError:
        raise
    except MemoryError:
        raise DocumentError(f"{path.name}: too large to read in memory; refused") from None
    except RecursionError:
        raise DocumentError(f"{path.name}: the file is nested too deeply to read") from None
    except Exception as e:  # a parser's own error on a damaged file: a reason, not a crash
        raise DocumentError(f"{path.name}: cannot be read as {kind} "
                            f"({type(e).__name__}: {str(e)[:200]})") from None
    if not sections:
        raise DocumentError(f"{path.name}: no text found in the {kind} file")
    check_text(path.name, sum(len(s.text) for s in sections), limits)
    return Document(path=path, title=title or path.stem, kind=kind, sha256=sha, sections=sections,
                    notes=notes)


def _parse(path: Path, kind: DocumentKind, limits: Limits,
           progress: Progress | None) -> tuple[str | None, list[Section], tuple[str, ...]]:
    if kind == "pdf":
        from .pdf import pdf_sections

        return pdf_sections(path, limits, progress)
    return (*_parse_whole(path, kind, limits, progress), ())


def _parse_whole(path: Path, kind: DocumentKind, limits: Limits,
                 progress: Progress | None) -> tuple[str | None, list[Section]]:
    if kind == "image":
        from .images import image_sections

        return image_sections(path, limits, progress)
    if kind in ("docx", "pptx", "xlsx"):
        return _office(path, kind, limits)
    text = decode(path.read_bytes(), path.name)
    if kind == "markdown":
        return md_title(text), markdown_sections(text)
    if kind == "html":
        return html_title(text), html_sections(text)
    if kind == "csv":
        rows, cut = split_csv(text, path.name, limits.max_table_rows)
        loc = f"table {path.stem}" + (f", first {len(rows)} rows" if cut else "")
        return None, [Section(table_text(rows), loc, table=rows)] if rows else []
    return None, text_sections(text)


def _office(path: Path, kind: DocumentKind, limits: Limits) -> tuple[str | None, list[Section]]:
    from zipfile import BadZipFile

    from .office import docx_sections, pptx_sections, xlsx_sections

    parsers: dict[str, Callable[[], tuple[str | None, list[Section]]]] = {
        "docx": lambda: docx_sections(path),
        "pptx": lambda: pptx_sections(path),
        "xlsx": lambda: xlsx_sections(path, limits)[:2],
    }
    try:
        return parsers[kind]()
    except DocumentError:
        raise
    except (BadZipFile, KeyError, ValueError, TypeError, AttributeError, IndexError,
            OSError, SyntaxError) as e:
        # lxml's XMLSyntaxError is a SyntaxError; missing parts are KeyErrors
        raise DocumentError(f"{path.name}: corrupt {kind.upper()} file ({e})") from None


def extract_html(data: bytes, source: str, sha256: str | None = None) -> Document:
    """A fetched web page as a :class:`Document` whose ``path`` is the URL."""
    text = decode(data, source)
    sections = html_sections(text)
    if not sections:
        raise DocumentError(f"{source}: the page has no readable text")
    return Document(
        path=Path(source), title=html_title(text) or source, kind="html",
        sha256=sha256 or hashlib.sha256(data).hexdigest(), sections=sections,
    )
