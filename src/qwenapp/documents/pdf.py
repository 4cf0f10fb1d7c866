"""PDF through pypdf: one section per page, located as "page N".

Every pypdf failure becomes a :class:`DocumentError` naming the reason:
damaged files, passwords, AES without its crypto backend, and pypdf's own
resource limits (a FlateDecode stream that would inflate past its cap, a
huge array or dictionary). Time and memory are bounded by the caller's child
process (:mod:`qwenapp.library.worker`), not here.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from .limits import Limits
from .model import DocumentError, Section

__all__ = ["pdf_sections"]


def pdf_sections(path: Path, limits: Limits) -> tuple[str | None, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import (
        DependencyError,
        FileNotDecryptedError,
        LimitReachedError,
        PdfReadError,
        PyPdfError,
    )

    with path.open("rb") as f:
        if not f.read(1024).lstrip().startswith(b"%PDF-"):
            raise DocumentError(f"{path.name}: not a PDF file (no %PDF header)")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # it warns on every odd xref
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            ok = False
            # owner-password-only PDFs open with an empty user password
            with contextlib.suppress(FileNotDecryptedError, NotImplementedError, PdfReadError,
                                     DependencyError):
                ok = bool(reader.decrypt(""))
            if not ok:
                raise DocumentError(
                    f"{path.name}: the PDF is password-protected (encrypted)",
                    "save an unprotected copy and add that",
                )
        n_pages = len(reader.pages)
        if n_pages > limits.max_pdf_pages:
            raise DocumentError(
                f"{path.name}: too many pages ({n_pages}, limit {limits.max_pdf_pages})"
            )
        title: str | None = None
        meta = reader.metadata
        if meta is not None and meta.title and str(meta.title).strip():
            title = str(meta.title).strip()
        sections: list[Section] = []
        for i, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if text:
                sections.append(Section(text=text, location=f"page {i}"))
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError(f"{path.name}: the PDF is password-protected (encrypted)") from None
    except LimitReachedError:
        raise DocumentError(
            f"{path.name}: part of the PDF expands past the reader's limit (a possible "
            "decompression bomb); refused", "save a copy of the PDF again and add that",
        ) from None
    except DependencyError as e:
        raise DocumentError(f"{path.name}: the PDF needs a missing library to read ({e})",
                            "pip install cryptography") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, NotImplementedError) as e:
        # pypdf raises a wide range of errors on damaged files; each one is a reason to report
        raise DocumentError(f"{path.name}: corrupt PDF ({type(e).__name__}: {e})") from None
    if not sections and n_pages:
        raise DocumentError(
            f"{path.name}: no extractable text in {n_pages} page(s) (a scanned PDF?)",
            "OCR is not supported; add a PDF with a text layer",
        )
    return title, sections
