"""Numeric tables and number series, found by code, turned into native charts and tables.

A small model asked to "make a chart" invents numbers, or writes the same
label three times. So the data on a deck's chart and table slides never goes
through the model: this module finds tables in the sources (structured rows
from DOCX, XLSX, PPTX and CSV readers; Markdown pipe tables; column-aligned
numeric lines as PDFs give them) and series written in the request ("Q1 10,
Q2 14, Q3 18"), and decides how each is shown: a line for a series over time,
a pie only for parts of a whole, bars for categories, a native table when
the data is not a series of numbers. The model writes only the heading and
the one-sentence takeaway of such a slide.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .deck import Chart, ChartType, Series, Table

if TYPE_CHECKING:
    from ..documents import Document
    from .sources import Passage

__all__ = [
    "DataTable",
    "chart_or_table",
    "cite_tables",
    "find_tables",
    "parse_number",
    "series_in_request",
    "table_numbers",
    "tables_in_text",
]

MAX_CATEGORIES = 12  # more bars than this is unreadable on a slide
MAX_POINTS = 24  # points of a line: a longer series is sampled evenly, first and last kept
MAX_SERIES = 3
MAX_TABLE_ROWS = 7
MAX_TABLE_COLS = 5


@dataclass(frozen=True, slots=True)
class DataTable:
    """A table found in a source (or in the request): header, rows, and where it is."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""  # the source's name ("data.md"), "" for the request
    location: str = ""  # "sheet Q3", "page 12", a heading path
    source_id: str = ""  # the passage id it was found in, for the speaker notes

    def as_text(self, max_rows: int = 14) -> str:
        """The table as pipe rows, for a prompt."""
        lines = [" | ".join(self.header)]
        lines += [" | ".join(r) for r in self.rows[:max_rows]]
        return "\n".join(lines)

    def key(self) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
        return self.header, self.rows


# ---------------------------------------------------------------- numbers

_NUM = re.compile(r"^[(\-−+]?\s*[$€£¥]?\s*(\d{1,3}(?:[,\s]\d{3})+|\d+)(\.\d+)?\s*"
                  r"(%|[kKmMbB]|bn|万|亿|千|百万)?\)?$")


def parse_number(cell: str) -> float | None:
    """The number a cell shows ("1,234" → 1234, "12.5%" → 12.5, "(3)" → -3), or None.

    Units and currency are dropped, not converted: the chart shows the
    number as written, so it can be checked against the source text.
    """
    text = cell.strip().replace("\u00a0", " ")
    if not text or len(text) > 24:
        return None
    m = _NUM.match(text)
    if m is None:
        return None
    value = float(m.group(1).replace(",", "").replace(" ", "") + (m.group(2) or ""))
    if text.startswith(("(", "-", "−")):
        value = -value
    return value


def table_numbers(table: DataTable) -> set[float]:
    """Every number in a table's cells (for checking the takeaway's numbers)."""
    out: set[float] = set()
    for row in (table.header, *table.rows):
        for cell in row:
            v = parse_number(cell)
            if v is not None:
                out.update((v, abs(v)))
    return out


# ---------------------------------------------------------------- finding tables

_YEAR = re.compile(r"^(?:1[5-9]|20)\d{2}$")
_SEP_ROW = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_ALIGNED = re.compile(r"\S(?:.*?\S)?(?=\s{2,}|\t|$)")


def _pipe_cells(line: str) -> list[str] | None:
    s = line.strip()
    if s.count("|") < 1:
        return None
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    cells = [c.strip() for c in s.split("|")]
    return cells if len(cells) >= 2 else None


def _aligned_cells(line: str) -> list[str] | None:
    """A PDF line of columns separated by two or more spaces (or tabs)."""
    if "  " not in line.strip() and "\t" not in line:
        return None
    cells = [c.strip() for c in re.split(r"\s{2,}|\t", line.strip()) if c.strip()]
    return cells if len(cells) >= 2 else None


def _block(rows: list[list[str]]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None:
    rows = [r for r in rows if not _SEP_ROW.match(" | ".join(r)) and any(c for c in r)]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    if len(rows) < 3:
        return None
    width = max(len(r) for r in rows)
    if width < 2:
        return None
    fixed = [tuple((r + [""] * width)[:width]) for r in rows]
    header, body = fixed[0], fixed[1:]
    if sum(1 for c in header if c) < 2:
        return None
    if sum(parse_number(c) is not None and not _YEAR.match(c.strip()) for c in header) * 2 \
            >= len(header):
        # a run of data rows without its header (a table cut by chunking), or a list of
        # contents ("THE BEND, 59": a name and a page number) that only looks like one
        return None
    return header, tuple(body)


_TOKEN_NUM = re.compile(r"^[(\-−+]?[$€£¥]?\d[\d,]*(?:\.\d+)?%?\)?$")


def _numbers_at_end(line: str) -> tuple[list[str], list[str]]:
    """A line's words split into its label and the run of numbers that ends it."""
    words = line.split()
    k = len(words)
    while k > 0 and _TOKEN_NUM.match(words[k - 1]):
        k -= 1
    return words[:k], words[k:]


def _spaced_table(lines: Sequence[str], i: int
                  ) -> tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], int] | None:
    """A table as PDF text extraction gives it: a header line of words, then rows of a
    short label and the same number of figures, columns separated by single spaces
    ("Quarter Qwen Llama" / "Q1 10 12" / "Q2 14 13"). Returns the block and the index
    after it. Prose does not pass: its lines do not end in the same count of figures
    under a header with one word per figure column."""
    head = lines[i].split()
    if not 2 <= len(head) <= MAX_TABLE_COLS + 3 or i + 3 > len(lines):
        return None
    label, nums = _numbers_at_end(lines[i + 1])
    k = len(nums)
    if k < 1 or k >= len(head) or not label or len(label) > 4:
        return None
    if any(_TOKEN_NUM.match(w) and not _YEAR.match(w) for w in head):
        return None
    body: list[tuple[str, ...]] = []
    j = i + 1
    while j < len(lines):
        label, nums = _numbers_at_end(lines[j])
        if len(nums) != k or not label or len(label) > 4:
            break
        body.append((" ".join(label), *nums))
        j += 1
    if len(body) < 2:
        return None
    header = (" ".join(head[: len(head) - k]), *head[len(head) - k:])
    return (header, tuple(body)), j


def tables_in_text(text: str) -> list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]:
    """Pipe tables (Markdown, or ``a | b`` rows) and column-aligned numeric blocks in text."""
    found: list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        cells = _pipe_cells(lines[i])
        if cells is not None:
            rows = []
            while i < len(lines) and (c := _pipe_cells(lines[i])) is not None:
                rows.append(c)
                i += 1
            block = _block(rows)
            if block is not None:
                found.append(block)
            continue
        cells = _aligned_cells(lines[i])
        if cells is not None:
            rows = []
            width = len(cells)
            while i < len(lines) and (c := _aligned_cells(lines[i])) is not None \
                    and len(c) == width:
                rows.append(c)
                i += 1
            block = _block(rows)
            # aligned text is only a table when most rows hold numbers
            if block is not None and _numeric_columns(block[0], block[1]):
                found.append(block)
            continue
        spaced = _spaced_table(lines, i)
        if spaced is not None:
            block, i = spaced
            found.append(block)
            continue
        i += 1
    return found


def find_tables(docs: Iterable[Document] = (), passages: Sequence[Passage] = ()) -> list[DataTable]:
    """Every usable table of the documents (structured rows first) and of passage texts.

    Tables with numeric columns come first (they become charts), then the
    others; duplicates (the same table reached twice) are kept once.
    """
    out: list[DataTable] = []
    for doc in docs:
        name = doc.path.name
        for section in doc.sections:
            if section.table:
                block = _block([list(r) for r in section.table])
                if block is not None:
                    out.append(DataTable(block[0], block[1], name, section.location))
            else:
                for header, rows in tables_in_text(section.text):
                    out.append(DataTable(header, rows, name, section.location))
    for p in passages:
        for header, rows in tables_in_text(p.text):
            out.append(DataTable(header, rows, p.title, p.location, p.id))
    seen: set[object] = set()
    unique: list[DataTable] = []
    for t in out:
        if t.key() not in seen and chart_or_table(t) is not None:
            seen.add(t.key())
            unique.append(t)
    return sorted(unique, key=lambda t: 0 if _numeric_columns(t.header, t.rows) else 1)


def cite_tables(tables: Sequence[DataTable], passages: Sequence[Passage]) -> list[DataTable]:
    """Each table with the id of the passage it is in, so the notes cite the source."""
    out = []
    for t in tables:
        first = " | ".join(t.rows[0]) if t.rows else ""
        match = next((p for p in passages if p.title == t.title
                      and (first[:40] in p.text or p.location == t.location)), None)
        out.append(t if t.source_id or match is None else
                   DataTable(t.header, t.rows, t.title, t.location, match.id))
    return out


# A label then a number: "Q1 10", "2021: 4.5", "Jan 12%", "第一季度 10".
_UNIT = (r"(%|％|百万|万|亿|(?:million|billion|thousand|trillion|mn|bn|percent|per cent)\b|"
         r"[kKmMbB]\b)?")
_END = r"(?=\s*(?:[,;，；、]|and\b|to\b|then\b|和|$))"
_PAIR = re.compile(r"([A-Za-z\u4e00-\u9fff][\w\u4e00-\u9fff .'/-]{0,24}?|\d{4}年?)\s*[:：=]?\s*"
                   r"[$€£¥]?(-?\d+(?:[.,]\d+)?)\s*" + _UNIT + _END, re.IGNORECASE)
# A number then its period: "$2.1 billion in 2021", "12% in Q3".
_PAIR_AFTER = re.compile(r"[$€£¥]?(-?\d+(?:\.\d+)?)\s*" + _UNIT + r"\s+(?:in|for|by)\s+"
                         r"((?:1[5-9]|20)\d{2}|q[1-4](?: (?:19|20)\d{2})?|fy ?\d{2,4})" + _END,
                         re.IGNORECASE)


def series_in_request(text: str) -> DataTable | None:
    """A series of three or more "label number" pairs written in the request, or None."""
    best: list[tuple[str, str, str]] = []
    for chunk in re.split(r"[.!?](?!\d)|[。！？\n]", text):
        for found in ([(m.group(1).strip(), m.group(2).replace(",", ""), m.group(3) or "")
                       for m in _PAIR.finditer(chunk)],
                      [(m.group(3).strip(), m.group(1), m.group(2) or "")
                       for m in _PAIR_AFTER.finditer(chunk)]):
            pairs = [(re.sub(r"^(?:and|und|et|y|和|及)\s*", "", lab, flags=re.IGNORECASE), v, u)
                     for lab, v, u in found]
            labels = [lab for lab, _, _ in pairs]
            if len(pairs) >= 3 and len(set(labels)) == len(labels) and len(pairs) > len(best):
                best = pairs
    if not best:
        return None
    units = {u.lower() for _, _, u in best}
    name = f"value ({units.pop()})" if len(units) == 1 and "" not in units else "value"
    return DataTable(("", name), tuple((lab, v) for lab, v, _ in best), "", "the request")


# ---------------------------------------------------------------- how to show one

_TIME = re.compile(
    r"^(?:q[1-4]|h[12]|fy\s?\d{2,4}|(?:1[5-9]|20)\d{2}(?:[-/ ]?(?:q[1-4]|h[12]|\d{1,2}))?|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?: \d{2,4})?|"
    r"(?:week|wk|month|day|quarter|year) ?\d+|\d{1,2}[-/]\d{4}|"
    r"第?[一二三四1-4]季度|\d{1,2}月|(?:1[5-9]|20)\d{2}年.*|q[1-4] ?(?:19|20)?\d{2})$",
    re.IGNORECASE)
_SHARE = re.compile(r"share|percent|%|proportion|portion|breakdown|split|占比|份额|比例|构成",
                    re.IGNORECASE)


def _numeric_columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[int]:
    cols = []
    for c in range(len(header)):
        values = [parse_number(r[c]) for r in rows if c < len(r) and r[c].strip()]
        if len(values) >= 2 and sum(v is not None for v in values) >= 0.8 * len(rows):
            cols.append(c)
    return cols


def _is_time(labels: Sequence[str]) -> bool:
    return len(labels) >= 3 and all(_TIME.match(x.strip()) for x in labels)


def chart_or_table(t: DataTable) -> Chart | Table | None:
    """How to show ``t``: a native chart for numeric columns, else a table; None if neither.

    The label column is the first one that is not numeric (years are labels
    when they are the first column). Line when the labels are periods in
    order; pie for one all-positive series that sums to about 100 or is
    headed as a share, with at most six parts; bars otherwise. Columns on a
    very different scale from the first are left out (they would flatten it).
    """
    rows: list[Sequence[str]] = [r for r in t.rows if any(c.strip() for c in r)]
    if len(rows) > MAX_POINTS and _is_time([r[0] for r in rows]):
        rows = _sample(rows, MAX_POINTS)  # a long series over time: its shape, end to end
        t = DataTable(t.header, tuple(tuple(r) for r in rows), t.title, t.location, t.source_id)
    numeric = _numeric_columns(t.header, rows)
    if numeric and len(rows) >= 2:
        label_col = next((c for c in range(len(t.header)) if c not in numeric), None)
        if 0 in numeric and len(numeric) >= 2 and _is_time([r[0] for r in rows]):
            label_col = 0  # years in the first column label the rows, even beside text
            numeric = [c for c in numeric if c != 0]
        heads = [t.header[c].strip() for c in numeric]
        if label_col is not None and len(numeric) >= 3 and _is_time(heads) \
                and len(rows) <= MAX_SERIES:  # periods across the top: one line per row
            body = tuple((h, *(r[c] for r in rows)) for h, c in zip(heads, numeric, strict=True))
            flipped = DataTable((t.header[label_col], *(r[label_col] for r in rows)), body,
                                t.title, t.location, t.source_id)
            return chart_or_table(flipped)
        if label_col is not None and numeric:
            return _chart(t, rows, label_col, numeric)
    if len(t.header) > MAX_TABLE_COLS or len(rows) < 2:
        return None
    return Table(header=list(t.header), rows=[list(r) for r in rows[:MAX_TABLE_ROWS]])


def _sample(rows: Sequence[Sequence[str]], most: int) -> list[Sequence[str]]:
    """At most ``most`` rows spread evenly over ``rows``, the first and the last kept."""
    step = (len(rows) - 1) / (most - 1)
    picked = sorted({round(k * step) for k in range(most)})
    return [rows[i] for i in picked]


def _chart(t: DataTable, rows: Sequence[Sequence[str]], label_col: int,
           numeric: Sequence[int]) -> Chart | None:
    labels = [r[label_col].strip() for r in rows]
    if len(set(labels)) < len(labels) or not all(labels):
        return None
    time = _is_time(labels)
    if time and len(rows) > MAX_POINTS:  # a series over time: sampled end to end
        rows = _sample(rows, MAX_POINTS)
    elif not time and len(rows) > MAX_CATEGORIES:  # the first categories
        rows = rows[:MAX_CATEGORIES]
    labels = [r[label_col].strip() for r in rows]
    series: list[Series] = []
    scale = 0.0
    for c in numeric[:MAX_SERIES]:
        values = [parse_number(r[c]) for r in rows]
        if any(v is None for v in values):
            continue
        vals = [float(v) for v in values if v is not None]
        top = max(abs(v) for v in vals) or 1.0
        if scale and not scale / 50 <= top <= scale * 50:
            continue
        scale = scale or top
        series.append(Series(name=t.header[c].strip() or "value", values=vals))
    if not series:
        return None
    kind: ChartType = "bar"
    if time:
        kind = "line"
    elif len(series) == 1 and len(labels) <= 6 and all(v > 0 for v in series[0].values):
        total = sum(series[0].values)
        if 97 <= total <= 103 or _SHARE.search(" ".join(t.header)):
            kind = "pie"
    return Chart(type=kind, categories=labels, series=series)
