"""Checks that run BEFORE a parser sees a file.

Parsers of zip-based formats (DOCX, PPTX, XLSX) inflate whatever the
archive claims; a 40 KB zip bomb can expand to gigabytes. The central
directory is read (cheap, nothing inflated) and refused when it has too many
entries, too much uncompressed data, or an implausible compression ratio.
Password-protected Office files are not zips at all but OLE containers, and
are named as such rather than reported as "corrupt". Pictures get the same
treatment: their dimensions are read from the header and an image bomb (a
tiny file claiming a gigapixel) is refused before a pixel is decoded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from .model import DocumentError

__all__ = ["DEFAULT_LIMITS", "Limits", "check_file", "check_text", "check_zip", "human_size"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_file_bytes: int = 100 * MB
    max_zip_entries: int = 10_000
    max_uncompressed_bytes: int = 500 * MB
    max_compression_ratio: float = 200.0  # whole archive; OOXML text is ~5-20x
    max_pdf_pages: int = 2_000
    max_table_rows: int = 20_000  # per sheet or CSV; more rows are cut, and the cut is said
    # What reading one document may cost (enforced by qwenapp.library.worker's child process):
    max_text_chars: int = 8_000_000  # extracted text (~2M tokens, a 3,000-page book)
    cpu_seconds: int = 60
    memory_bytes: int = 2048 * MB  # address space on top of the reader's own
    wall_seconds: float = 180.0
    # Pictures (images, PDF pages without a text layer): see qwenapp.documents.ocr.
    # OCR's options travel here because this is what reaches the reader's child process.
    max_image_pixels: int = 64_000_000  # per picture, checked before it is decoded
    ocr: bool = True
    ocr_languages: str = "eng+chi_sim"  # Tesseract's names; those not installed are left out
    ocr_max_pages: int = 100  # pages recognised per document
    ocr_seconds: float = 300.0  # OCR time per document, on top of cpu_/wall_seconds
    ocr_command: str = "tesseract"


DEFAULT_LIMITS = Limits()


def human_size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB"


def check_file(path: Path, limits: Limits) -> int:
    """Existence, kind and size. Returns the size in bytes."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except OSError as e:
        raise DocumentError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not path.is_file():
        raise DocumentError(f"{path}: not a regular file")
    if st.st_size > limits.max_file_bytes:
        raise DocumentError(
            f"{path.name}: too large ({human_size(st.st_size)}, "
            f"limit {human_size(limits.max_file_bytes)})"
        )
    if st.st_size == 0:
        raise DocumentError(f"{path.name}: the file is empty")
    return st.st_size


def check_zip(path: Path, limits: Limits, label: str) -> None:
    """Refuse encrypted OOXML, non-zips and zip bombs, reading only the directory."""
    with path.open("rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC:
        raise DocumentError(
            f"{path.name}: the {label} file is password-protected (encrypted)",
            "save an unprotected copy and add that",
        )
    if not head.startswith(b"PK"):
        raise DocumentError(f"{path.name}: not a valid {label} file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise DocumentError(f"{path.name}: corrupt {label} file ({e})") from None
    if len(infos) > limits.max_zip_entries:
        raise DocumentError(
            f"{path.name}: too many parts in the archive ({len(infos)}, "
            f"limit {limits.max_zip_entries})"
        )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        raise DocumentError(
            f"{path.name}: expands to {human_size(total)} "
            f"(limit {human_size(limits.max_uncompressed_bytes)}); refusing a possible zip bomb"
        )
    if packed and total > 1 * MB and total / packed > limits.max_compression_ratio:
        raise DocumentError(
            f"{path.name}: compression ratio {total / packed:.0f}:1 is implausible "
            f"(limit {limits.max_compression_ratio:.0f}:1); refusing a possible zip bomb"
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise DocumentError(f"{path.name}: the {label} archive is encrypted")


def check_text(name: str, chars: int, limits: Limits) -> None:
    """Refuse a document whose extracted text is over ``max_text_chars``."""
    if chars > limits.max_text_chars:
        raise DocumentError(
            f"{name}: holds too much text ({chars / 1e6:.1f} million characters, limit "
            f"{limits.max_text_chars / 1e6:.1f} million)", "split it into smaller files")
