"""DOCX, PPTX and XLSX through python-docx, python-pptx and openpyxl.

Callers have already run :func:`~qwenapp.documents.limits.check_zip`, so
these parsers only ever see archives of a sane size.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .limits import Limits
from .model import Section
from .text import table_text

__all__ = ["docx_sections", "pptx_sections", "xlsx_sections"]

_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(table: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    for row in table.rows:
        cells = [c.text.strip() for c in row.cells]
        if any(cells):
            rows.append(cells)
    return rows


def docx_sections(path: Path) -> tuple[str | None, list[Section]]:
    """Sections split at headings (location: the heading path); tables kept as tables."""
    import docx
    from docx.table import Table

    doc = docx.Document(str(path))
    title = (doc.core_properties.title or "").strip() or None
    heads: list[tuple[int, str]] = []
    sections: list[Section] = []
    buf: list[str] = []

    def loc() -> str:
        return " > ".join(h for _, h in heads) if heads else "beginning"

    def flush() -> None:
        body = "\n".join(buf).strip()
        buf.clear()
        if body and (not heads or body != heads[-1][1]):
            sections.append(Section(text=body, location=loc()))

    for block in doc.iter_inner_content():
        if isinstance(block, Table):
            rows = _rows(block)
            if rows:
                flush()
                if heads:
                    buf.append(heads[-1][1])
                sections.append(Section(text=table_text(rows), location=loc(), table=rows))
            continue
        text = block.text.strip()
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        if style == "Title":
            title = title or text
            continue
        m = _HEADING_STYLE.match(style)
        if m:
            flush()
            level = int(m.group(1))
            while heads and heads[-1][0] >= level:
                heads.pop()
            heads.append((level, text))
        buf.append(text)
    flush()
    return title, sections


def _shape_text(shape: Any) -> list[str]:
    out: list[str] = []
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        t = shape.text_frame.text.strip()
        if t:
            out.append(t)
    if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
        for sub in shape.shapes:
            out.extend(_shape_text(sub))
    return out


def pptx_sections(path: Path) -> tuple[str | None, list[Section]]:
    """One section per slide (title, body, notes); each table is its own section."""
    from pptx import Presentation

    prs = Presentation(str(path))
    title = (prs.core_properties.title or "").strip() or None
    sections: list[Section] = []
    for n, slide in enumerate(prs.slides, start=1):
        parts: list[str] = []
        tables: list[Section] = []
        slide_title = slide.shapes.title.text.strip() if slide.shapes.title is not None else ""
        if slide_title:
            parts.append(slide_title)
            if title is None:
                title = slide_title
        for shape in slide.shapes:
            if shape == slide.shapes.title:
                continue
            if getattr(shape, "has_table", False) and shape.has_table:
                rows = _rows(shape.table)
                if rows:
                    tables.append(Section(table_text(rows), f"slide {n}", table=rows))
                continue
            parts.extend(_shape_text(shape))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append("Notes: " + notes.text.strip())
        if parts:
            sections.append(Section("\n".join(parts), f"slide {n}"))
        sections.extend(tables)
    return title, sections


def xlsx_sections(path: Path, limits: Limits) -> tuple[str | None, list[Section], list[str]]:
    """One section per non-empty sheet. Returns notes on rows cut at the limit."""
    import openpyxl

    wb = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    notes: list[str] = []
    sections: list[Section] = []
    try:
        title = (wb.properties.title or "").strip() or None
        for ws in wb.worksheets:
            rows: list[list[str]] = []
            for values in ws.iter_rows(values_only=True):
                if len(rows) >= limits.max_table_rows:
                    notes.append(f"sheet {ws.title}: only the first {len(rows)} rows were read")
                    break
                cells = [_cell(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    rows.append(cells)
            if rows:
                sections.append(Section(table_text(rows), f"sheet {ws.title}", table=rows))
    finally:
        wb.close()
    return title, sections, notes
