"""Text measurement with pinned font metrics: the same deck measures the same everywhere.

Why pinned: layout decides font sizes, wraps and splits by measuring text,
so a measurement that depends on the fonts a host happens to have would make
the same Deck give a different .pptx on another machine. The advance widths
of the faces the themes use are committed in :mod:`.font_metrics` (a small
table made by ``python -m qwenapp.slides.fonts`` from the system's font
files), so no font file is read at run time and none is shipped.

The faces: Liberation Sans, Serif and Mono (metric-compatible with Arial,
Times New Roman and Courier New, which PowerPoint uses; SIL OFL 1.1),
DejaVu Sans (the wide stand-in for any family we have no table for:
estimates then err towards more room; Bitstream Vera licence), and Noto Sans
and Serif CJK (SIL OFL 1.1) for Chinese, Japanese and Korean text. Only
numbers derived from the fonts are committed (advance widths, ascent and
descent), not the fonts. Kerning is left out, which only ever makes a
measured line a little wider than the drawn one.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache

from . import font_metrics
from .language import is_cjk

__all__ = ["FontFace", "Measurer", "face_for"]

# family (lower case) → the pinned face that measures it (a metric-compatible one)
_LATIN = {
    "arial": "liberation sans", "liberation sans": "liberation sans", "arimo": "liberation sans",
    "helvetica": "liberation sans", "helvetica neue": "liberation sans",
    "times new roman": "liberation serif", "liberation serif": "liberation serif",
    "tinos": "liberation serif", "times": "liberation serif",
    "courier new": "liberation mono", "liberation mono": "liberation mono",
    "cousine": "liberation mono", "courier": "liberation mono",
    "dejavu sans": "dejavu sans",
}
_EAST_ASIAN = {
    "noto serif cjk sc": "noto serif cjk", "noto serif cjk tc": "noto serif cjk",
    "noto serif cjk jp": "noto serif cjk", "source han serif sc": "noto serif cjk",
    "simsun": "noto serif cjk", "songti sc": "noto serif cjk", "宋体": "noto serif cjk",
}
_FALLBACK_LATIN = "dejavu sans"  # wide: unknown families get room to spare
_FALLBACK_EA = "noto sans cjk"


def face_for(family: str, east_asian: bool = False) -> str:
    """The pinned face that measures ``family``."""
    key = family.strip().lower()
    if east_asian:
        return _EAST_ASIAN.get(key, _FALLBACK_EA)
    return _LATIN.get(key, _FALLBACK_LATIN)


@dataclass(frozen=True, slots=True)
class FontFace:
    """One pinned face: advance widths (thousandths of an em) by code point, line height."""

    name: str
    widths: dict[int, int]
    line: float  # ascent + descent, in ems
    default: int  # width of a code point the table does not list (CJK: 1000)

    def width(self, text: str) -> float:
        """Advance width of ``text`` in ems."""
        total = 0
        for ch in text:
            w = self.widths.get(ord(ch))
            total += w if w is not None else (self.default or _estimate(ch))
        return total / 1000


def _estimate(ch: str) -> int:
    """A deliberately wide width for a character no table lists."""
    if is_cjk(ch):
        return 1000
    if ch in "mwMW@%&":
        return 950
    if ch.isupper() or ch.isdigit():
        return 720
    return 600


@lru_cache(maxsize=16)
def _face(name: str, bold: bool) -> FontFace:
    entry = font_metrics.FACES[f"{name}{' bold' if bold else ''}"]
    ascent, descent, default, blob = entry
    raw = zlib.decompress(base64.b64decode(blob))
    widths: dict[int, int] = {}
    i = 0
    while i < len(raw):  # runs: start (3 bytes), count (2), then count widths (2 bytes each)
        start = int.from_bytes(raw[i:i + 3], "big")
        count = int.from_bytes(raw[i + 3:i + 5], "big")
        i += 5
        for k in range(count):
            widths[start + k] = int.from_bytes(raw[i:i + 2], "big")
            i += 2
    return FontFace(name, widths, (ascent + descent) / 1000, default)


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
        ems = _face(face_for(self.latin), bold).line
        if any(is_cjk(c) for c in text):
            ems = max(ems, _face(face_for(self.east_asian, True), bold).line)
        return max(1.2, ems) * size


_SPLIT = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+)")


@lru_cache(maxsize=65536)
def _width(latin: str, east_asian: str, bold: bool, text: str) -> float:
    lat = _face(face_for(latin), bold)
    ea = _face(face_for(east_asian, True), bold)
    return sum((ea if i % 2 else lat).width(part)
               for i, part in enumerate(_SPLIT.split(text)) if part)


# ---------------------------------------------------------------- the table's maker

_SOURCES = {  # face → (regular file, bold file, ttc index)
    "liberation sans": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", 0),
    "liberation serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf", 0),
    "liberation mono": ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf", 0),
    "dejavu sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", 0),
    "noto sans cjk": ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc", 2),  # the SC face
    "noto serif cjk": ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc", 2),
}
_LATIN_RANGES = [(0x20, 0x250), (0x370, 0x500), (0x2000, 0x2070), (0x20A0, 0x20C0),
                 (0x2100, 0x2160), (0x2190, 0x2200), (0x2200, 0x2300), (0x25A0, 0x2600)]
# CJK punctuation, kana, fullwidth forms, Hangul: listed where they differ from 1 em
_CJK_RANGES = [(0x2E80, 0x2FE0), (0x3000, 0x3100), (0x3100, 0x3400), (0xAC00, 0xD7B0),
               (0xFF00, 0xFFF0)]


def _generate() -> str:  # pragma: no cover - run by hand when a face is added
    import math
    import subprocess
    from pathlib import Path

    from PIL import ImageFont

    def find(name: str) -> Path:
        out = subprocess.run(["fc-list", "--format", "%{file}\n"], capture_output=True,
                             text=True, check=True).stdout.split()
        return next(Path(p) for p in out if Path(p).name == name)

    def charset(path: Path, index: int) -> set[int]:
        spec = subprocess.run(["fc-query", "-i", str(index), "--format", "%{charset}", str(path)],
                              capture_output=True, text=True, check=True).stdout.split()
        got: set[int] = set()
        for part in spec:
            a, _, b = part.partition("-")
            got.update(range(int(a, 16), int(b or a, 16) + 1))
        return got

    faces: dict[str, tuple[int, int, int, str]] = {}
    for name, (regular, bold, index) in _SOURCES.items():
        cjk = "cjk" in name
        for suffix, file in (("", regular), (" bold", bold)):
            path = find(file)
            font = ImageFont.truetype(str(path), 1000, index=index,
                                      layout_engine=ImageFont.Layout.BASIC)
            have = charset(path, index)
            ascent, descent = font.getmetrics()
            runs = bytearray()
            for lo, hi in _CJK_RANGES if cjk else _LATIN_RANGES:
                cps = [cp for cp in range(lo, hi) if cp in have]
                widths = {cp: math.ceil(font.getlength(chr(cp)) - 1e-6) for cp in cps}
                if cjk:
                    widths = {cp: w for cp, w in widths.items() if w != 1000}
                run: list[int] = []
                for cp in [*sorted(widths), -2]:
                    if run and cp != run[-1] + 1:
                        runs += run[0].to_bytes(3, "big") + len(run).to_bytes(2, "big")
                        runs += b"".join(widths[c].to_bytes(2, "big") for c in run)
                        run = []
                    if cp >= 0:
                        run.append(cp)
            if cjk:  # every ideograph is one em wide, as the table assumes
                assert all(font.getlength(chr(cp)) == 1000 for cp in range(0x4E00, 0xA000, 97))
            blob = base64.b64encode(zlib.compress(bytes(runs), 9)).decode()
            faces[name + suffix] = (ascent, descent, 1000 if cjk else 0, blob)
    lines = ['"""Pinned advance widths (generated by ``python -m qwenapp.slides.fonts``; '
             'do not edit).', "", "Derived from Liberation (SIL OFL 1.1), DejaVu (Bitstream Vera "
             "licence) and", 'Noto CJK (SIL OFL 1.1) fonts; see :mod:`.fonts`."""', "",
             "FACES: dict[str, tuple[int, int, int, str]] = {"]
    for key, (a, d, default, blob) in faces.items():
        lines.append(f'    "{key}": ({a}, {d}, {default}, (')
        for k in range(0, len(blob), 88):
            lines.append(f'        "{blob[k:k + 88]}"')
        lines.append("    )),")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(_generate(), end="")
