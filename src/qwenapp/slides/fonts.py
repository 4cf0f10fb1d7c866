"""Text measurement with real font metrics.

Why: text that overflows its box is the most visible fault of generated
decks, and only real glyph widths can prevent it. Each family a theme names
is mapped to a font file on this system (a metric-compatible one where the
name is a Windows font: Arial is measured with Liberation Sans, which has
the same advance widths), loaded with Pillow, and measured at 1000 units
per em. East Asian characters are measured with the East Asian font.
When no file is found, a deliberately wide estimate is used instead, so
text still fits (with room to spare).
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from .language import is_cjk

__all__ = ["FontFace", "Measurer", "find_font_file"]

_EM = 1000  # load every font at 1000 px per em: widths in thousandths of an em

# family (lower case) → file names to look for, best first (regular, bold).
_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "arial": (("LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "Arimo-Regular.ttf"),
              ("LiberationSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf", "Arimo-Bold.ttf")),
    "liberation sans": (("LiberationSans-Regular.ttf",), ("LiberationSans-Bold.ttf",)),
    "times new roman": (("LiberationSerif-Regular.ttf", "Times New Roman.ttf", "times.ttf",
                         "Tinos-Regular.ttf"),
                        ("LiberationSerif-Bold.ttf", "Times New Roman Bold.ttf", "timesbd.ttf",
                         "Tinos-Bold.ttf")),
    "liberation serif": (("LiberationSerif-Regular.ttf",), ("LiberationSerif-Bold.ttf",)),
    "courier new": (("LiberationMono-Regular.ttf", "cour.ttf"),
                    ("LiberationMono-Bold.ttf", "courbd.ttf")),
    "dejavu sans": (("DejaVuSans.ttf",), ("DejaVuSans-Bold.ttf",)),
    "calibri": (("Carlito-Regular.ttf", "calibri.ttf"), ("Carlito-Bold.ttf", "calibrib.ttf")),
    "noto sans cjk sc": (("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf",
                          "NotoSansSC-Regular.otf", "NotoSansSC-Regular.ttf", "msyh.ttc",
                          "wqy-microhei.ttc", "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf"),
                         ("NotoSansCJK-Bold.ttc", "NotoSansCJKsc-Bold.otf", "NotoSansSC-Bold.otf",
                          "msyhbd.ttc", "NotoSansCJK-Regular.ttc", "wqy-microhei.ttc")),
}
# Used for any family we cannot find: wide, so estimates err on the safe side.
_FALLBACK_LATIN = "dejavu sans"
_FALLBACK_EA = "noto sans cjk sc"


def _font_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
            home / ".local/share/fonts", home / ".fonts"]
    if sys.platform == "darwin":
        dirs += [Path("/Library/Fonts"), Path("/System/Library/Fonts"), home / "Library/Fonts"]
    if sys.platform == "win32":
        dirs.append(Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts")
    return dirs


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    """File name (lower case) → path, for every font file under the usual folders."""
    found: dict[str, Path] = {}
    for root in _font_dirs():
        if not root.is_dir():
            continue
        for dirpath, _, files in os.walk(root):
            for name in files:
                if name.lower().endswith((".ttf", ".otf", ".ttc")):
                    found.setdefault(name.lower(), Path(dirpath) / name)
    return found


def find_font_file(family: str, bold: bool = False) -> Path | None:
    """A font file on this system for ``family`` (or a metric-compatible one), or None."""
    names = _FILES.get(family.strip().lower())
    if names is None:
        return None
    for name in names[1 if bold else 0]:
        path = _index().get(name.lower())
        if path is not None:
            return path
    return None


@dataclass(frozen=True, slots=True)
class FontFace:
    """One face used for measuring: a file (or None for the estimate) and its line height."""

    path: Path | None
    line: float  # ascent + descent, in ems

    def width(self, text: str) -> float:
        """Advance width of ``text`` in ems."""
        if self.path is None:
            return sum(_estimate(c) for c in text)
        return _pil(self.path).getlength(text) / _EM


def _estimate(ch: str) -> float:
    if is_cjk(ch):
        return 1.0
    if ch in "mwMW@%&":
        return 0.95
    if ch.isupper() or ch.isdigit():
        return 0.72
    return 0.6


@lru_cache(maxsize=32)
def _pil(path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), _EM)


@lru_cache(maxsize=64)
def _face(family: str, bold: bool, east_asian: bool) -> FontFace:
    path = find_font_file(family, bold)
    if path is None:
        path = find_font_file(_FALLBACK_EA if east_asian else _FALLBACK_LATIN, bold)
    if path is None:
        return FontFace(None, 1.45 if east_asian else 1.25)
    ascent, descent = _pil(path).getmetrics()
    return FontFace(path, (ascent + descent) / _EM)


_SPLIT = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+)")


@dataclass(frozen=True, slots=True)
class Measurer:
    """Measures text set in a Latin family with an East Asian family for CJK characters."""

    latin: str
    east_asian: str = "Noto Sans CJK SC"

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Width in points of ``text`` at ``size`` points."""
        return _width(self.latin, self.east_asian, bold, text) * size

    def line_height(self, text: str, size: float, bold: bool = False) -> float:
        """Height in points of one line of ``text``: the taller face it uses, at least 1.2 em."""
        ems = _face(self.latin, bold, False).line
        if any(is_cjk(c) for c in text):
            ems = max(ems, _face(self.east_asian, bold, True).line)
        return max(1.2, ems) * size


@lru_cache(maxsize=65536)
def _width(latin: str, east_asian: str, bold: bool, text: str) -> float:
    total = 0.0
    for i, part in enumerate(_SPLIT.split(text)):
        if part:
            total += _face(east_asian if i % 2 else latin, bold, bool(i % 2)).width(part)
    return total
