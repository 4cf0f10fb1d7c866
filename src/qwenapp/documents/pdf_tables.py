"""Tables on a PDF page that has a text layer, kept as tables.

pypdf's plain text gives a table as lines of cells run together ("Q1 2025
1,200 980 410"): the numbers are there, the columns are not, so nothing
downstream could chart it. pypdf's layout mode places each piece of text
at its column on a fixed-width grid, which puts a table's columns back. The
grid's words (a line is one unit high, a character one unit wide) go to the
same table finder OCR uses (:mod:`.ocr_tables`): cells split at gaps of two
or more spaces, rows that line up, a column of numbers. Found tables become
table sections, and their rows leave the page's running text, as on a
scanned page.

Layout mode costs several times the plain extraction, so it runs only on a
page whose plain text has at least two lines holding two numbers or more (a
table's body); a page it cannot lay out keeps its plain text and no table.
"""

from __future__ import annotations

import re
from typing import Any

from .model import Section
from .ocr_tables import Word, find_tables
from .text import table_text

__all__ = ["page_sections"]

_NUMBER = re.compile(r"(?<![\w.])[(\-−+]?[$€£¥]?\d[\d,.]*%?(?![\w])")
_TOKEN = re.compile(r"\S+")
_MIN_NUMERIC_LINES = 2


def _may_hold_table(text: str) -> bool:
    lines = sum(len(_NUMBER.findall(line)) >= 2 for line in text.splitlines())
    return lines >= _MIN_NUMERIC_LINES


def _grid_words(layout: str) -> list[Word]:
    return [Word(m.group(), m.start(), top, len(m.group()), 1)
            for top, line in enumerate(layout.splitlines())
            for m in _TOKEN.finditer(line)]


def _squash(line: str) -> str:
    return " ".join(line.split())


def page_sections(page: Any, text: str, location: str) -> list[Section]:
    """The page as sections: its text, then each table found on it as a table section."""
    plain = [Section(text, location)]
    if not _may_hold_table(text):
        return plain
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # any failure of this optional pass keeps the plain text
        return plain
    tables, _ = find_tables(_grid_words(layout))
    if not tables:
        return plain
    rows = {_squash(" ".join(r)) for t in tables for r in t}
    rest = "\n".join(ln for ln in text.splitlines() if _squash(ln) not in rows).strip()
    out = [Section(rest, location)] if rest else []
    return out + [Section(table_text(t), location, table=t) for t in tables]
