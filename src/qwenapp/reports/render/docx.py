"""Report → DOCX through python-docx (pure: bytes out, no model, no network)."""

from __future__ import annotations

import io
import re

from ..language import label
from ..model import Report
from .markdown import reference_text

__all__ = ["to_docx"]

CJK_FONT = "Noto Sans CJK SC"


def _set_east_asian_font(style: object, font: str) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def _paragraphs(doc: object, text: str) -> None:
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(re.match(r"[-*•]\s+", ln) for ln in lines):
            for ln in lines:
                doc.add_paragraph(re.sub(r"^[-*•]\s+", "", ln),  # type: ignore[attr-defined]
                                  style="List Bullet")
        else:
            doc.add_paragraph(" ".join(lines))  # type: ignore[attr-defined]


def to_docx(report: Report) -> bytes:
    import docx
    from docx.shared import Pt

    lang = report.language
    doc = docx.Document()
    doc.core_properties.title = report.title
    doc.core_properties.subject = report.question
    doc.core_properties.language = lang
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        _set_east_asian_font(doc.styles[name], CJK_FONT)
    doc.add_heading(report.title, level=0)
    q = doc.add_paragraph()
    q.add_run(f"{label(lang, 'question')}: {report.question}").italic = True
    if not report.references:
        note = label(lang, "no_citations" if report.passages else "uncited")
        doc.add_paragraph(note).runs[0].italic = True
    if report.summary:
        doc.add_heading(label(lang, "summary"), level=1)
        _paragraphs(doc, report.summary)
    for s in report.sections:
        doc.add_heading(s.heading, level=1)
        _paragraphs(doc, s.text)
        if not s.supported:
            doc.add_paragraph("⚠ " + label(lang, "unsupported")).runs[0].italic = True
    if report.conclusion:
        doc.add_heading(label(lang, "conclusion"), level=1)
        _paragraphs(doc, report.conclusion)
    if report.references:
        doc.add_heading(label(lang, "references"), level=1)
        for r in report.references:
            p = doc.add_paragraph(f"[{r.number}] {reference_text(r)}")
            p.paragraph_format.space_after = Pt(2)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
