"""Uploaded files: size-limited, typed by their bytes, stored under names the server picks.

The client's filename is kept for display only. The type comes from the
content: PDF by its header; DOCX, PPTX and XLSX by the parts inside the zip;
text kinds only when the bytes decode as text (the extension then only
chooses between Markdown, CSV and plain text); PNG, JPEG, WebP and TIFF by
their signature (they are read by OCR). Anything else (other pictures,
executables, legacy or encrypted Office files, other archives) is refused
with a 415 that says why. The stored file is ``<ULID><ext>`` in the uploads
folder, so no part of a client's filename ever becomes part of a path.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..documents.images import sniff_image
from ..store.connection import Connection
from .errors import HttpError

__all__ = ["Sniffed", "clean_filename", "remove_orphans", "sniff"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_SAMPLE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: str  # the documents package's kind
    ext: str  # the extension the stored file gets (extraction dispatches on it)
    media_type: str


_OOXML = {
    "word/document.xml": Sniffed(
        "docx", ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "ppt/presentation.xml": Sniffed(
        "pptx", ".pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "xl/workbook.xml": Sniffed(
        "xlsx", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _unsupported(message: str, hint: str = "") -> HttpError:
    return HttpError(415, message, code="unsupported_file_type", hint=hint or
                     "upload PDF, DOCX, PPTX, XLSX, CSV, Markdown, HTML, plain text, or a "
                     "scan or picture of text (PNG, JPEG, WebP, TIFF)")


def clean_filename(name: str | None) -> str:
    """A display name: the last path component, no control characters, at most 200 chars."""
    raw = name or ""
    base = PureWindowsPath(PurePosixPath(raw).name).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    base = base.lstrip(".") or "document"
    return base[:200]


def _is_text(sample: bytes) -> bool:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            sample.decode("utf-16")
        except UnicodeDecodeError:
            return len(sample) >= _TEXT_SAMPLE  # cut mid-character at the sample's end
        return True
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        # A sample may end inside a multi-byte character; anything earlier is binary.
        return e.start >= len(sample) - 4 and len(sample) >= _TEXT_SAMPLE
    return True


def sniff(path: Path, filename: str) -> Sniffed:
    """What the file at ``path`` really is; raises a 415 :class:`HttpError` otherwise."""
    with path.open("rb") as f:
        head = f.read(_TEXT_SAMPLE)
    if not head:
        raise HttpError(400, "the file is empty", code="empty_file")
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", ".pdf", "application/pdf")
    picture = sniff_image(head)
    if picture is not None:
        return Sniffed("image", *picture)
    if head.startswith(OLE_MAGIC):
        raise _unsupported("legacy Office files (.doc, .xls, .ppt) and password-protected "
                           "Office files are not supported",
                           "save it as .docx, .xlsx or .pptx without a password")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise _unsupported("the file looks like a zip archive but cannot be read") from None
        for part, kind in _OOXML.items():
            if part in names:
                return kind
        raise _unsupported("zip archives are not supported")
    if not _is_text(head):
        raise _unsupported("the file is neither a supported document nor text")
    start = head.lstrip(codecs.BOM_UTF8).lstrip()[:200].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return Sniffed("html", ".html", "text/html")
    ext = Path(filename).suffix.lower()
    if ext in (".md", ".markdown"):
        return Sniffed("markdown", ".md", "text/markdown")
    if ext in (".csv", ".tsv"):
        return Sniffed("csv", ext, "text/csv")
    if ext in (".html", ".htm", ".xhtml"):
        return Sniffed("html", ".html", "text/html")
    return Sniffed("text", ".txt", "text/plain")


_STORED = re.compile(r"^\.?[0-9A-HJKMNP-TV-Z]{26}(?:\.[a-z]{2,5}|\.part)$")


def remove_orphans(uploads_dir: Path, conn: Connection) -> tuple[int, int]:
    """At start: delete upload files no document row names, and rows whose file is gone.

    A server killed mid-upload leaves a ``.ULID.part`` staging file, or a stored
    file whose document was never claimed (the kill came between reading and
    claiming), or a library row for it with no owner. Only names this module
    gives (``<ULID>.<ext>``) are touched. Returns (files, rows) removed.
    """
    if not uploads_dir.is_dir():
        return 0, 0
    claimed = {r[0] for r in conn.execute("SELECT stored_name FROM document_owners "
                                          "WHERE stored_name IS NOT NULL")}
    files = 0
    for f in uploads_dir.iterdir():
        if f.is_file() and _STORED.match(f.name) and f.name not in claimed:
            with contextlib.suppress(OSError):
                f.unlink()
                files += 1
    prefix = str(uploads_dir.resolve()) + "/"
    rows = [r[0] for r in conn.execute(
        "SELECT d.id FROM library_documents d LEFT JOIN document_owners o "
        "ON o.document_id = d.id WHERE o.document_id IS NULL AND substr(d.path, 1, ?) = ?",
        (len(prefix), prefix))]
    if rows:
        from ..store import transaction

        with transaction(conn) as c:
            for doc_id in rows:
                c.execute("DELETE FROM library_chunks WHERE document_id = ?", (doc_id,))
                c.execute("DELETE FROM library_documents WHERE id = ?", (doc_id,))
    return files, len(rows)
