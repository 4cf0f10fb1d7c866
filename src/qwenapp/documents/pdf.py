"""PDF through pypdf: one section per page, located as "page N".

Pages without a text layer (a scanner's pages: one picture each) are read by
OCR (:mod:`.ocr`), and only those: in a mixed PDF the typed pages are read as
text, the scanned ones recognised, and every section keeps its page number.
A table on a typed page is kept as a table section (:mod:`.pdf_tables`).
The page's pictures are taken out of the PDF as they are (no renderer is
needed), each checked against ``max_image_pixels`` from its dictionary before
it is decoded. Text drawn as vector outlines, with no picture and no text
layer, cannot be read.

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
from typing import Any

from PIL import Image

from .images import check_pixels
from .limits import Limits
from .model import DocumentError, Section
from .ocr import INSTALL_HINT, PageSource, Progress, engine_status, read_pages
from .pdf_tables import page_sections

__all__ = ["pdf_sections"]

_SCANNED_CHARS = 16  # a page with less text than this and a picture is a scan (a stamp,
#                      a page number or a scanner app's watermark is all its text layer holds)
_MIN_SIDE = 32  # smaller pictures are icons and rules, not text


def _pictures(page: Any) -> list[tuple[Any, int, int]]:
    """(key in ``page.images``, width, height) of the page's pictures, from their dictionaries."""
    out: list[tuple[Any, int, int]] = []
    for key in page.images.keys():  # noqa: SIM118 (iterating decodes every image)
        ids = key if isinstance(key, list) else [key]
        if ids[0].startswith("~"):  # an inline image: small by nature; size it when decoded
            out.append((key, 0, 0))
            continue
        obj = page
        try:
            for k in ids:
                obj = obj["/Resources"].get_object()["/XObject"].get_object()[k].get_object()
            w, h = int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if w >= _MIN_SIDE and h >= _MIN_SIDE:
            out.append((key, w, h))
    return out


def _page_picture(name: str, page: Any, number: int, pictures: list[tuple[Any, int, int]],
                  limits: Limits, broken: list[str]) -> Image.Image | None:
    """The page's pictures as one image (stacked top to bottom when there are several).

    A picture that cannot be decoded is left out and said in ``broken``: one damaged
    page does not cost the rest of the document.
    """
    for _, w, h in pictures:
        check_pixels(f"{name}, page {number}", w, h, limits)
    check_pixels(f"{name}, page {number}", max([w for _, w, _ in pictures] or [1]),
                 sum(h for _, _, h in pictures) or 1, limits)
    images: list[Image.Image] = []
    for key, _, _ in pictures:
        try:
            img = page.images[key].image
        except Exception as e:  # pypdf's decoders raise many kinds on a damaged stream
            why = ("JBIG2 needs the jbig2dec program: apt install jbig2dec"
                   if "jbig2" in str(e).lower() else f"{type(e).__name__}: {str(e)[:160]}")
            broken.append(f"the picture on page {number} cannot be decoded ({why})")
            continue
        if img is not None and min(img.size) >= _MIN_SIDE:
            check_pixels(f"{name}, page {number}", img.width, img.height, limits)
            images.append(img)
    if len(images) <= 1:
        return images[0] if images else None
    width = max(i.width for i in images)
    canvas = Image.new("L", (width, sum(i.height for i in images) + 20 * len(images)), 255)
    y = 0
    for img in images:
        canvas.paste(img.convert("L"), (0, y))
        y += img.height + 20
        img.close()
    return canvas


def _dpi(page: Any, pictures: list[tuple[Any, int, int]]) -> int | None:
    if len(pictures) != 1 or not pictures[0][1]:
        return None
    try:
        inches = float(page.mediabox.width) / 72
    except (TypeError, ValueError, AttributeError):
        return None
    return round(pictures[0][1] / inches) if inches > 0.5 else None


def pdf_sections(path: Path, limits: Limits, progress: Progress | None = None
                 ) -> tuple[str | None, list[Section], tuple[str, ...]]:
    """``(title, sections, notes)``: notes say which scanned pages stayed unread, and why."""
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
        found: dict[int, list[Section]] = {}
        scanned: list[tuple[int, Any, list[tuple[Any, int, int]]]] = []
        for i, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if len("".join(text.split())) >= _SCANNED_CHARS:
                found[i] = page_sections(page, text, f"page {i}")
                continue
            pictures = _pictures(page)
            if pictures:
                scanned.append((i, page, pictures))
            if text:  # kept unless OCR reads more
                found[i] = [Section(text=text, location=f"page {i}")]
        unread = _recognise(path.name, scanned, found, limits, progress)
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
    if not found and n_pages:
        raise DocumentError(f"{path.name}: no extractable text in {n_pages} page(s)"
                            + (f" ({unread})" if unread else ""),
                            _hint(unread))
    # with typed pages found, ``unread`` is set only when OCR could not run at all
    notes = (f"{len(scanned)} scanned page(s) not read: {unread}",) if unread else ()
    return title, [s for i in sorted(found) for s in found[i]], notes


def _hint(unread: str) -> str:
    if "switched off" in unread:
        return "switch OCR on: ocr = true under [documents] in config.toml"
    if "OCR engine" in unread:
        return INSTALL_HINT
    return "add a PDF with a text layer, or a scan of text"


def _recognise(name: str, scanned: list[tuple[int, Any, list[tuple[Any, int, int]]]],
               found: dict[int, list[Section]], limits: Limits,
               progress: Progress | None) -> str:
    """OCR the scanned pages into ``found``; returns why pages stayed unread ("" if none)."""
    if not scanned:
        return ""
    status = engine_status(limits)
    if isinstance(status, str):
        if found:
            return status  # the typed pages are still worth having
        return f"a scanned PDF: {status}"

    broken: list[str] = []

    def source(i: int, page: Any, pictures: list[tuple[Any, int, int]]) -> PageSource:
        return (f"page {i}", lambda: _page_picture(name, page, i, pictures, limits, broken),
                _dpi(page, pictures))

    pages = read_pages(name, (source(*s) for s in scanned), len(scanned), limits, progress)
    empty = 0
    for (i, _, _), (location, page) in zip(scanned, pages, strict=True):
        read = page.sections(location)
        if read and sum(len(s.text) for s in read) > sum(len(s.text) for s in found.get(i, [])):
            found[i] = read
        elif page.empty:
            empty += 1
    if found:
        return ""
    if broken:
        return broken[0] + (f", and {len(broken) - 1} more" if len(broken) > 1 else "")
    return f"no text found in the {empty} scanned page(s)" if empty else ""
