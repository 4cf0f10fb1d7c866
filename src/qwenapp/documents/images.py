"""Pictures as documents: PNG, JPEG, WebP and TIFF (every page of a multi-page TIFF).

Pillow reads only the header when a file is opened, so the dimensions of
every frame are checked against ``Limits.max_image_pixels`` before a pixel
is decoded: a 100 kB PNG claiming 100,000 x 100,000 pixels (an image bomb,
40 GB once decoded) is refused at a cost of a few bytes read. Phone photos
are turned upright by their EXIF orientation first. The text is read by
:mod:`.ocr`; a single picture is located as "image", a TIFF's frames as
"page N", so citations can say which page of a multi-page scan.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .limits import Limits
from .model import DocumentError, Section
from .ocr import PageSource, Progress, read_pages

__all__ = ["IMAGE_FORMATS", "check_pixels", "image_sections", "sniff_image"]

# Pillow's format name -> what the file is (what an upload is stored as)
IMAGE_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "MPO": ".jpg", "WEBP": ".webp", "TIFF": ".tif"}
_MAGIC = ((b"\x89PNG\r\n\x1a\n", ".png", "image/png"), (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
          (b"II*\x00", ".tif", "image/tiff"), (b"MM\x00*", ".tif", "image/tiff"))


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """``(extension, media type)`` when ``head`` starts a picture this reader takes."""
    for magic, ext, media in _MAGIC:
        if head.startswith(magic):
            return ext, media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    return None


def check_pixels(name: str, width: int, height: int, limits: Limits) -> None:
    """Refuse a picture over ``limits.max_image_pixels`` (before it is decoded)."""
    if width <= 0 or height <= 0:
        raise DocumentError(f"{name}: the image has no pixels ({width} x {height})")
    if width * height > limits.max_image_pixels:
        raise DocumentError(
            f"{name}: the image is too large ({width:,} x {height:,} pixels, limit "
            f"{limits.max_image_pixels / 1e6:.0f} megapixels); refusing a possible image bomb",
            "scale it down (300 dpi is enough to read text) and add it again")


def _open(path: Path, limits: Limits) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the size is checked below; EXIF oddities: ours not
            im = Image.open(path)
    except Image.DecompressionBombError:
        raise DocumentError(f"{path.name}: the image claims an implausible size; refusing a "
                            "possible image bomb") from None
    except UnidentifiedImageError:
        raise DocumentError(f"{path.name}: not a readable image (corrupt, or not PNG, JPEG, "
                            "WebP or TIFF)") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise DocumentError(f"{path.name}: corrupt image ({e})") from None
    if im.format not in IMAGE_FORMATS:
        im.close()
        raise DocumentError(f"{path.name}: {im.format} images are not supported",
                            "convert it to PNG, JPEG, WebP or TIFF")
    check_pixels(path.name, im.width, im.height, limits)
    return im


def _frames(path: Path, im: Image.Image, n: int, limits: Limits) -> Iterator[PageSource]:
    for i in range(n):
        def load(i: int = i) -> Image.Image:
            try:
                im.seek(i)
                check_pixels(path.name, im.width, im.height, limits)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # EXIF oddities are not our concern
                    frame = ImageOps.exif_transpose(im) if n == 1 else im.copy()
                frame.load()
            except DocumentError:
                raise
            except (OSError, ValueError, SyntaxError, EOFError) as e:
                where = f" (page {i + 1})" if n > 1 else ""
                raise DocumentError(f"{path.name}: corrupt image{where} ({e})") from None
            return frame

        dpi = im.info.get("dpi")
        res = int(dpi[0]) if isinstance(dpi, tuple) and dpi and dpi[0] else None
        yield ("image" if n == 1 else f"page {i + 1}"), load, res


def image_sections(path: Path, limits: Limits,
                   progress: Progress | None = None) -> tuple[str | None, list[Section]]:
    """One section per picture (per TIFF page) that holds text."""
    im = _open(path, limits)
    try:
        try:
            n = int(getattr(im, "n_frames", 1) or 1)
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            raise DocumentError(f"{path.name}: corrupt image ({e})") from None
        pages = read_pages(path.name, _frames(path, im, n, limits), n, limits, progress)
    finally:
        im.close()
    sections = [s for loc, p in pages for s in p.sections(loc)]
    if not sections:
        raise DocumentError(f"{path.name}: no text found in the image"
                            + (f" ({n} pages)" if n > 1 else ""),
                            "only pictures of text (scans, photos of pages, screenshots) "
                            "can be added")
    return None, sections
