"""Tables in a scanned page, rebuilt from the positions of the words OCR found.

Tesseract reads a table's columns as separate blocks ("Region North South",
then "Q1 120 98"), which is neither the table nor readable text. So the
words are put back into rows by their height on the page, each row is cut
into cells at wide gaps, and a run of at least three rows with the same
number of cells, whose cells line up column by column, and with a column
of numbers, is a table: its rows and columns go into the document as a
table (``Section.table``), so the deck pipeline can chart it. The numbers
column is what tells a table from a page set in two columns of prose; dot
leaders tell a table of contents (which lines up just as well) from a table.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

__all__ = ["Word", "find_tables"]

_NUMBER = re.compile(r"^[(\-−+]?[$€£¥]?\d[\d,.\s]*(%|[kKmMbB]|bn|万|亿)?\)?$")
_LEADERS = re.compile(r"(?:\.\s?){4,}|…{2,}")  # ". . . . 24": a table of contents
_MIN_ROWS = 3  # a header and two rows
_NUMERIC_SHARE = 0.6  # of a column's cells below the header


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


Cell = list[Word]


def _rows(words: list[Word], size: float) -> list[list[Word]]:
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.middle):
        if rows and abs(w.middle - statistics.fmean(x.middle for x in rows[-1])) <= size / 2:
            rows[-1].append(w)
        else:
            rows.append([w])
    return [sorted(r, key=lambda w: w.left) for r in rows]


def _cells(row: list[Word], size: float) -> list[Cell]:
    cells: list[Cell] = [[row[0]]]
    for w in row[1:]:
        if w.left - cells[-1][-1].right > 1.5 * size:
            cells.append([w])
        else:
            cells[-1].append(w)
    return cells


def _span(cell: Cell) -> tuple[int, int]:
    return cell[0].left, cell[-1].right


def _aligned(a: list[Cell], b: list[Cell], size: float) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        (l1, r1), (l2, r2) = _span(x), _span(y)
        if l1 > r2 + size or l2 > r1 + size:  # the columns do not overlap
            return False
    return True


def _text(cell: Cell) -> str:
    return " ".join(w.text for w in cell)


def _numeric(table: list[list[Cell]]) -> bool:
    body = table[1:]
    for j in range(1, len(table[0])):
        numbers = sum(bool(_NUMBER.match(_text(r[j]))) for r in body)
        if numbers >= _NUMERIC_SHARE * len(body):
            return True
    return False


def _contents(table: list[list[Cell]]) -> bool:
    """A table of contents: titles, dot leaders and page numbers line up too."""
    return any(_LEADERS.search(_text(c)) for r in table for c in r)


def find_tables(words: list[Word]) -> tuple[list[list[list[str]]], set[int]]:
    """The tables among ``words``, as rows of cell text, and the ids of the words they use."""
    if len(words) < 2 * _MIN_ROWS:
        return [], set()
    size = statistics.median(w.height for w in words)
    rows = [_cells(r, size) for r in _rows(words, size)]
    tables: list[list[list[Cell]]] = []
    run: list[list[Cell]] = []
    for row in [*rows, []]:  # the empty row ends the last run
        if (run and len(row) >= 2 and _aligned(run[-1], row, size)
                and row[0][0].top - run[-1][0][0].top < 3 * size):
            run.append(row)
            continue
        if len(run) >= _MIN_ROWS and _numeric(run) and not _contents(run):
            tables.append(run)
        run = [row] if len(row) >= 2 else []
    used = {id(w) for t in tables for r in t for c in r for w in c}
    return [[[_text(c) for c in r] for r in t] for t in tables], used
