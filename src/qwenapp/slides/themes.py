"""Built-in themes (colours, fonts, decoration) and user templates.

A theme is data. The built-in ones name fonts that every office suite has
or substitutes with identical metrics (Arial ↔ Liberation Sans, Times New
Roman ↔ Liberation Serif), so the widths measured here are the widths shown
there. A user's template becomes a theme with no palette: its own masters,
layouts, colours and fonts are kept; only font sizes are set, as measured.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InputError
from .errors import TemplateError

__all__ = ["THEMES", "Palette", "Theme", "get_theme", "load_template"]

MAX_TEMPLATE_BYTES = 50 * 1024 * 1024
MAX_TEMPLATE_ENTRIES = 2000
MAX_TEMPLATE_EXPANDED = 400 * 1024 * 1024
MAX_TEMPLATE_RATIO = 200


@dataclass(frozen=True, slots=True)
class Palette:
    """Hex RGB colours (no ``#``)."""

    background: str
    title: str
    text: str
    muted: str
    accent: str
    surface: str  # light band behind table rows, cards
    on_accent: str  # text on an accent fill
    accents: tuple[str, str, str, str, str, str]  # chart series, theme accent1..6


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    description: str
    heading_font: str
    body_font: str
    ea_font: str = "Noto Sans CJK SC"
    palette: Palette | None = None  # None: a template's own colours
    template: bytes | None = field(default=None, repr=False)
    title_align: Literal["left", "center"] = "left"
    rule: Literal["bar", "underline", "none"] = "bar"  # decoration beside or under titles
    heading_ea: str = ""  # East Asian face of headings ("" = ea_font)
    card: Literal["rect", "round"] = "rect"  # the shape of cards and panels
    marker: Literal["circle", "square"] = "circle"  # numbered markers of lists and steps
    cover: Literal["band", "orbit", "rules", "panel"] = "band"  # the title slide's accent
    heading_bold: bool = True

    @property
    def heading_ea_font(self) -> str:
        return self.heading_ea or self.ea_font

    @property
    def is_template(self) -> bool:
        return self.template is not None


THEMES: dict[str, Theme] = {
    t.name: t
    for t in (
        Theme(
            "light", "white, navy titles, blue accents, square markers, a side band",
            heading_font="Arial", body_font="Arial",
            palette=Palette("FFFFFF", "1F2A44", "2E3440", "6B7280", "2563EB", "EEF2FF", "FFFFFF",
                            ("2563EB", "F59E0B", "10B981", "EF4444", "8B5CF6", "14B8A6")),
            rule="bar", cover="band", card="rect", marker="square",
        ),
        Theme(
            "dark", "deep navy background, light text, sky-blue accents, rounded cards, circles",
            heading_font="Arial", body_font="Arial",
            palette=Palette("0F172A", "F8FAFC", "E2E8F0", "94A3B8", "38BDF8", "1E293B", "0F172A",
                            ("38BDF8", "FBBF24", "34D399", "F87171", "A78BFA", "2DD4BF")),
            rule="underline", cover="orbit", card="round", marker="circle",
        ),
        Theme(
            "paper", "warm paper, serif headings, amber and teal accents, thin rules",
            heading_font="Times New Roman", body_font="Arial",
            palette=Palette("FBF7F0", "3B2F2F", "3F3A36", "7C6F64", "B45309", "F3E8D8", "FFFFFF",
                            ("B45309", "0F766E", "7C3AED", "BE123C", "4D7C0F", "1D4ED8")),
            title_align="center", rule="underline", cover="rules", card="rect", marker="circle",
            heading_ea="Noto Serif CJK SC", heading_bold=False,
        ),
        Theme(
            "qwen", "white, Qwen purple and teal accents, centred titles, a split cover",
            heading_font="Arial", body_font="Arial",
            palette=Palette("FFFFFF", "2B2154", "33334D", "6E6E8A", "615CED", "EFEEFE", "FFFFFF",
                            ("615CED", "00B3A4", "F5A524", "E5484D", "8E4EC6", "3E63DD")),
            title_align="center", rule="bar", cover="panel", card="round", marker="circle",
        ),
    )
}


def get_theme(name: str) -> Theme:
    key = name.strip().lower()
    if key not in THEMES:
        raise InputError(f"unknown theme {name!r}", "choose one of: " + ", ".join(THEMES))
    return THEMES[key]


_FONT = re.compile(rb"<a:(major|minor)Font>\s*<a:latin typeface=\"([^\"]*)\"")


def load_template(path: Path) -> Theme:
    """A theme from a user's .pptx: checked (type, size, zip limits), then read for its fonts."""
    if path.suffix.lower() != ".pptx":
        raise TemplateError(f"the template {path.name} is not a .pptx file",
                            "give a PowerPoint .pptx file (save a .potx or .ppt as .pptx first)")
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"the template {path.name} is larger than 50 MB")
        data = path.read_bytes()
    except FileNotFoundError:
        raise TemplateError(f"the template {path} does not exist") from None
    except IsADirectoryError:
        raise TemplateError(f"the template {path} is a folder, not a .pptx file") from None
    except OSError as e:
        raise TemplateError(f"cannot read the template {path}: {e.strerror}") from None
    theme_xml = _check_zip(data, path.name)
    try:
        from pptx import Presentation

        prs = Presentation(io.BytesIO(data))
        if not len(prs.slide_layouts):
            raise TemplateError(f"the template {path.name} has no slide layouts")
    except TemplateError:
        raise
    except Exception as e:  # python-pptx raises many kinds on a malformed package
        raise TemplateError(f"the template {path.name} is not a valid .pptx file ({e})",
                            "open and re-save it in PowerPoint or LibreOffice Impress") from None
    fonts = {kind.decode(): face.decode() for kind, face in _FONT.findall(theme_xml)}
    return Theme(
        name=f"template:{path.name}",
        description=f"the layouts and theme of {path.name}",
        heading_font=fonts.get("major") or "DejaVu Sans",
        body_font=fonts.get("minor") or "DejaVu Sans",
        palette=None,
        template=data,
        rule="none",
    )


def _check_zip(data: bytes, name: str) -> bytes:
    """Zip-bomb limits, then the first theme part's XML (for its fonts)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_TEMPLATE_ENTRIES:
                raise TemplateError(f"the template {name} has too many parts ({len(infos)})")
            expanded = sum(i.file_size for i in infos)
            ratio_limit = MAX_TEMPLATE_RATIO * max(1, len(data))
            if expanded > MAX_TEMPLATE_EXPANDED or expanded > ratio_limit:
                raise TemplateError(f"the template {name} expands to too much data",
                                    "it may be a zip bomb; use a normal .pptx file")
            names = {i.filename for i in infos}
            if "ppt/presentation.xml" not in names:
                raise TemplateError(f"the template {name} is not a PowerPoint presentation",
                                    "give a .pptx saved by PowerPoint or LibreOffice Impress")
            themes = sorted(n for n in names if re.fullmatch(r"ppt/theme/theme\d+\.xml", n))
            return zf.read(themes[0]) if themes else b""
    except zipfile.BadZipFile:
        raise TemplateError(f"the template {name} is not a valid .pptx file (not a zip package)",
                            "give a PowerPoint .pptx file") from None
