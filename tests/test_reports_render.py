"""Rendering is pure: Markdown snapshot, escaped HTML, DOCX read back, PDF via LibreOffice."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from qwenapp.reports import RenderError, Report, check_output, render, write_report
from qwenapp.reports.model import (
    Passage,
    Plan,
    PlanSection,
    Reference,
    ReportSection,
    SourceRef,
)
from qwenapp.reports.render import find_soffice, to_html, to_markdown

SNAPSHOT = Path(__file__).parent / "fixtures" / "report_snapshot.md"


def sample(lang: str = "en") -> Report:
    zh = lang == "zh"
    passages = [
        Passage(id=1, text="Most Qwen 2.5 models use the Apache 2.0 license.",
                source=SourceRef(title="Adoption notes", locator="/docs/qwen.md",
                                 location="Adoption notes > Licensing", kind="markdown")),
        Passage(id=2, text="A 1.5B model runs on two CPU cores.",
                source=SourceRef(title="Local models go mainstream",
                                 locator="https://example.org/local", location="Local models",
                                 kind="html", origin="web")),
    ]
    return Report(
        id="01TESTREPORT", question="千问为什么受欢迎？" if zh else "Why do developers pick Qwen?",
        title="千问的采用" if zh else "Qwen adoption",
        language=lang,
        summary="千问采用宽松许可[1]。" if zh else "Licensing and local use drive adoption [1][2].",
        sections=[
            ReportSection(heading="许可" if zh else "Licensing",
                          text="千问 2.5 的大多数模型采用 Apache 2.0 许可[1]。" if zh else
                          "Most models use Apache 2.0 [1].\n\n- permissive\n- commercial use"),
            ReportSection(heading="Local use", text="Runs on <b>two</b> cores [2]."),
            ReportSection(heading="Speculation", text="Models will rule the world.",
                          supported=False),
        ],
        conclusion="结论[2]。" if zh else "Both factors matter [1][2].",
        references=[Reference(number=1, passage_id=1, title="Adoption notes",
                              locator="/docs/qwen.md", location="Adoption notes > Licensing"),
                    Reference(number=2, passage_id=2, title="Local models go mainstream",
                              locator="https://example.org/local", location="Local models")],
        passages=passages,
        plan=Plan(title="Qwen adoption", sections=[PlanSection(heading="Licensing",
                                                               questions=["Which license?"])]),
    )


def test_markdown_snapshot() -> None:
    md = to_markdown(sample())
    if not SNAPSHOT.exists():  # first run writes the snapshot; review it, then commit it
        SNAPSHOT.write_text(md, encoding="utf-8")
    assert md == SNAPSHOT.read_text(encoding="utf-8")


def test_markdown_chinese_labels() -> None:
    md = to_markdown(sample("zh"))
    assert "## 摘要" in md and "## 结论" in md and "## 参考文献" in md and "*问题：" not in md


def test_html_escapes_model_text_and_links_citations() -> None:
    page = to_html(sample())
    assert "<b>two</b>" not in page and "&lt;b&gt;two&lt;/b&gt;" in page
    assert '<a class="cite" href="#ref-2">[2]</a>' in page and 'id="ref-2"' in page
    assert '<a href="https://example.org/local">' in page
    assert "<ul><li>permissive</li><li>commercial use</li></ul>" in page
    assert page.count('class="note"') == 1  # the unsupported section


def test_docx_reads_back() -> None:
    import docx

    d = docx.Document(io.BytesIO(render(sample(), ".docx")))
    texts = [p.text for p in d.paragraphs]
    styles = {p.text: p.style.name for p in d.paragraphs if p.style is not None}
    assert texts[0] == "Qwen adoption" and styles["Qwen adoption"] == "Title"
    assert styles["Licensing"] == "Heading 1" and styles["References"] == "Heading 1"
    assert "[1] Adoption notes — /docs/qwen.md, Licensing" in texts
    assert "Most models use Apache 2.0 [1]." in texts
    assert d.core_properties.title == "Qwen adoption"


def test_docx_chinese_font() -> None:
    import docx
    from docx.oxml.ns import qn

    d = docx.Document(io.BytesIO(render(sample("zh"), ".docx")))
    fonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Noto Sans CJK SC"
    assert any("千问 2.5" in p.text for p in d.paragraphs)


needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice not installed")


@needs_soffice
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_through_libreoffice(tmp_path: Path, lang: str) -> None:
    from pypdf import PdfReader

    out = write_report(sample(lang), tmp_path / "r.pdf")
    reader = PdfReader(str(out))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert len(reader.pages) >= 1
    if lang == "en":
        assert "Qwen adoption" in text and "References" in text and "[1]" in text
        assert "https://example.org/local" in text
    else:
        assert "参考文献" in text and "千问" in text


def test_check_output(tmp_path: Path) -> None:
    for bad in ("r.txt", "r", "r.pptx"):
        with pytest.raises(RenderError, match="unknown output extension"):
            check_output(tmp_path / bad)
    with pytest.raises(RenderError, match="does not exist"):
        check_output(tmp_path / "missing" / "r.md")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RenderError, match="is not a folder"):
        check_output(tmp_path / "file" / "r.md")
    (tmp_path / "d.md").mkdir()
    with pytest.raises(RenderError, match="is a folder"):
        check_output(tmp_path / "d.md")
    with pytest.raises(RenderError, match="cannot write"):
        check_output(Path("/proc/qwenapp-report.md"))
    assert check_output(tmp_path / "ok.md") == tmp_path / "ok.md"
    assert not list(tmp_path.glob(".qwenapp-probe-*"))


def test_write_is_atomic_and_by_extension(tmp_path: Path) -> None:
    for ext in (".md", ".html", ".docx"):
        p = write_report(sample(), tmp_path / f"r{ext}")
        assert p.stat().st_size > 100
    assert (tmp_path / "r.md").read_text().startswith("# Qwen adoption")
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".qwenapp-*"))
