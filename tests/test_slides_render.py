"""Render tests on fixed decks: open every file with python-pptx and check it.

Every slide: shapes inside the slide, no two shapes overlapping, no empty
placeholder, notes on content slides, native charts and tables, slide
numbers. Then LibreOffice converts every rendered deck to PDF, and the
words it drew are checked to lie inside the boxes they belong to (text that
overflowed its box would land outside it or inside another one).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.opc.constants import CONTENT_TYPE as CT
from pptx.util import Emu

from qwenapp.slides import (
    THEMES,
    Chart,
    Column,
    Deck,
    Series,
    Slide,
    SourceRef,
    Table,
    load_template,
    render_pptx,
)
from qwenapp.slides.errors import DeckError
from qwenapp.slides.export import find_soffice

EMU_PT = 12700
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def english_deck() -> Deck:
    src = [SourceRef(id="S1", title="notes.md", location="Licensing")]
    return Deck(title="Why Qwen models lead open-source AI adoption",
                subtitle="A briefing for engineering leads", language="en", slides=[
        Slide(kind="title", title="Why Qwen models lead open-source AI adoption",
              subtitle="A briefing for engineering leads"),
        Slide(kind="agenda", title="Agenda", bullets=["Licensing", "Sizes", "Downloads",
                                                      "Comparison", "Shares", "Trend", "Family"],
              notes="What we cover."),
        Slide(kind="bullets", title="Open licensing lowers the barrier", bullets=[
            "Most weights ship under Apache 2.0, which allows commercial use",
            "Sizes from 0.5B to 72B parameters fit laptops through clusters",
            "Quantised builds run on a CPU with llama.cpp"],
              notes="Licensing comes first.", sources=src),
        Slide(kind="compare", title="Qwen versus other open models",
              left=Column(heading="Qwen", bullets=["Strong multilingual results", "Many sizes"]),
              right=Column(heading="Others", bullets=["English-first", "Fewer small sizes"]),
              notes="Side by side."),
        Slide(kind="chart", title="Monthly downloads (millions)", chart=Chart(
            type="bar", categories=["Qwen", "Llama", "Mistral"],
            series=[Series(name="Downloads", values=[40, 35, 12])]),
              bullets=["Qwen leads", "Llama is close"], notes="Numbers from the request."),
        Slide(kind="chart", title="Share of new fine-tunes", chart=Chart(
            type="pie", categories=["Qwen", "Llama", "Other"],
            series=[Series(name="Share", values=[45, 30, 25])]), notes="Shares."),
        Slide(kind="chart", title="Downloads over time", chart=Chart(
            type="line", categories=["2022", "2023", "2024"],
            series=[Series(name="Qwen", values=[1, 10, 40])]), notes="Trend."),
        Slide(kind="table", title="The Qwen family", table=Table(
            header=["Model", "Sizes", "Best for"],
            rows=[["Qwen2.5", "0.5B-72B", "General chat"], ["Qwen2.5-Coder", "0.5B-32B",
                                                             "Code generation"]]),
              notes="The family."),
        Slide(kind="closing", title="Thank you", subtitle="Questions?"),
    ])


def chinese_deck() -> Deck:
    return Deck(title="通义千问开源模型为何领先", subtitle="面向开发者的概览", language="zh",
                slides=[
        Slide(kind="title", title="通义千问开源模型为何领先", subtitle="面向开发者的概览"),
        Slide(kind="bullets", title="开源策略", bullets=[
            "采用 Apache 2.0 许可证发布大部分模型权重", "覆盖从 0.5B 到 72B 的多种参数规模"],
              notes="千问的开源策略降低了使用门槛。",
              sources=[SourceRef(id="S1", title="报告.pdf", location="page 3")]),
        Slide(kind="compare", title="千问与其他模型",
              left=Column(heading="千问", bullets=["多语言能力强", "中文表现突出"]),
              right=Column(heading="其他模型", bullets=["英文为主", "中文能力有限"]),
              notes="对比两类模型。"),
        Slide(kind="chart", title="下载量对比", chart=Chart(
            type="bar", categories=["千问", "Llama"],
            series=[Series(name="下载量", values=[40, 35])]), notes="数字来自资料。"),
        Slide(kind="table", title="模型家族", table=Table(
            header=["模型", "用途"], rows=[["Qwen2.5", "通用对话"], ["Qwen2.5-Coder", "代码生成"]]),
              notes="模型家族一览。"),
        Slide(kind="closing", title="谢谢", subtitle="欢迎提问"),
    ])


def crowded_deck() -> Deck:
    """Far more text than fits: the renderer must shrink and split, never overflow."""
    long = ("This bullet is deliberately long so that the layout has to wrap it over several "
            "lines and then shrink the font, and when even that is not enough, split the slide")
    return Deck(title="A " + "very " * 30 + "long title", language="en", slides=[
        Slide(kind="title", title="A " + "very " * 30 + "long title", subtitle="sub " * 40),
        Slide(kind="bullets", title="Crowded " * 12, bullets=[f"{i}. {long}" for i in range(12)],
              notes="n"),
        Slide(kind="compare", title="Crowded comparison",
              left=Column(heading="Left " * 8, bullets=[long] * 6),
              right=Column(heading="Right", bullets=[long] * 6), notes="n"),
        Slide(kind="table", title="Crowded table", table=Table(
            header=["A", "B", "C", "D"], rows=[[long[:60], "x", "y " * 20, "z"]] * 14),
              notes="n"),
        Slide(kind="closing", title="Thank you"),
    ])


def template_file(path: Path) -> Path:
    """A user template: 4:3, its own theme name, a sample slide in a section: none may survive."""
    from lxml import etree

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "SAMPLE SLIDE FROM THE TEMPLATE"
    prs.part._element.append(etree.fromstring(
        '<p:extLst xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
        '<p:ext uri="{521415D9-36F7-43E2-AB2F-B90AF26B5E84}"><p14:sectionLst xmlns:p14='
        '"http://schemas.microsoft.com/office/powerpoint/2010/main"><p14:section name="Samples" '
        'id="{0F0F0F0F-0000-0000-0000-000000000001}"><p14:sldIdLst><p14:sldId id="256"/>'
        "</p14:sldIdLst></p14:section></p14:sectionLst></p:ext></p:extLst>"))
    prs.save(str(path))
    return path


DECKS = {
    **{f"en-{name}": (english_deck, name) for name in THEMES},
    "zh-light": (chinese_deck, "light"),
    "zh-dark": (chinese_deck, "dark"),
    "crowded": (crowded_deck, "light"),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("decks")
    files = {}
    for key, (make, theme) in DECKS.items():
        files[key] = out / f"{key}.pptx"
        files[key].write_bytes(render_pptx(make(), THEMES[theme]))
    template = load_template(template_file(out / "user-template.pptx"))
    files["template"] = out / "template.pptx"
    files["template"].write_bytes(render_pptx(english_deck(), template))
    files["template-zh"] = out / "template-zh.pptx"
    files["template-zh"].write_bytes(render_pptx(chinese_deck(), template))
    return files


def frames(slide: object, prs: object) -> list[tuple[str, float, float, float, float]]:
    return [(s.name, s.left / EMU_PT, s.top / EMU_PT, s.width / EMU_PT, s.height / EMU_PT)
            for s in slide.shapes]  # type: ignore[attr-defined]


ALL = [*DECKS, "template", "template-zh"]


def _decor(name: str) -> str:
    """"Panel" (a card text may sit on), "Accent" (a bar, dot or line) or "" (content)."""
    first = name.split(" ")[0]
    return first if first in ("Panel", "Accent") else ""


@pytest.mark.parametrize("key", ALL)
def test_every_shape_inside_the_slide_and_none_overlap(rendered: dict[str, Path],
                                                       key: str) -> None:
    """Content shapes (text, charts, tables) never overlap each other or an accent shape;
    one on a panel lies wholly inside it."""
    prs = Presentation(str(rendered[key]))
    w, h = prs.slide_width / EMU_PT, prs.slide_height / EMU_PT
    for n, slide in enumerate(prs.slides, 1):
        boxes = frames(slide, prs)
        for name, x, y, bw, bh in boxes:
            assert x >= 0 and y >= 0 and x + bw <= w + 0.01 and y + bh <= h + 0.01, \
                f"slide {n}: {name} leaves the slide"

        def overlap(a: tuple[str, float, float, float, float],
                    b: tuple[str, float, float, float, float]) -> bool:
            return (a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
                    and a[2] < b[2] + b[4] and b[2] < a[2] + a[4])

        def inside(a: tuple[str, float, float, float, float],
                   b: tuple[str, float, float, float, float]) -> bool:
            return (a[1] >= b[1] - 0.01 and a[2] >= b[2] - 0.01
                    and a[1] + a[3] <= b[1] + b[3] + 0.01 and a[2] + a[4] <= b[2] + b[4] + 0.01)

        content = [b for b in boxes if not _decor(b[0])]
        for i, a in enumerate(content):
            for b in content[i + 1:]:
                assert not overlap(a, b), f"slide {n}: {a[0]} overlaps {b[0]}"
            for b in boxes:
                if _decor(b[0]) == "Accent":
                    assert not overlap(a, b), f"slide {n}: {a[0]} overlaps {b[0]}"
                if _decor(b[0]) == "Panel":
                    assert not overlap(a, b) or inside(a, b), \
                        f"slide {n}: {a[0]} is partly on {b[0]}"


@pytest.mark.parametrize("key", ALL)
def test_no_empty_placeholders_notes_and_numbers(rendered: dict[str, Path], key: str) -> None:
    prs = Presentation(str(rendered[key]))
    slides = list(prs.slides)
    for n, slide in enumerate(slides, 1):
        for ph in slide.placeholders:
            assert ph.text_frame.text.strip(), f"slide {n}: empty placeholder {ph.name}"
        xml = slide._element.xml
        assert "Click to add" not in xml and "SAMPLE SLIDE" not in xml
        if 1 < n < len(slides):  # every slide between the title and the closing
            assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip(), \
                f"slide {n} has no speaker notes"
            assert 'type="slidenum"' in xml, f"slide {n} has no slide number"
        assert slide.shapes.title is not None and slide.shapes.title.text.strip()


def test_the_deck_structure_is_native(rendered: dict[str, Path]) -> None:
    prs = Presentation(str(rendered["en-light"]))
    slides = list(prs.slides)
    assert len(slides) == len(english_deck().slides)
    charts = [s for sl in slides for s in sl.shapes if s.has_chart]
    assert [c.chart.chart_type for c in charts] == [51, 5, 65]  # column, pie, line-markers
    for c in charts:
        assert c.chart.part.content_type == CT.DML_CHART  # a chart part, not a picture
        assert c.chart.plots[0].categories
    assert not [s for sl in slides for s in sl.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    tables = [s for sl in slides for s in sl.shapes if s.has_table]
    assert len(tables) == 1
    assert tables[0].table.cell(0, 0).text == "Model"
    assert tables[0].table.cell(2, 2).text == "Code generation"
    notes = slides[2].notes_slide.notes_text_frame.text
    assert "Licensing comes first." in notes and "Sources: notes.md, Licensing" in notes
    assert prs.slide_width == Emu(12192000) and prs.slide_height == Emu(6858000)


def test_chinese_sets_an_east_asian_font_on_every_run(rendered: dict[str, Path]) -> None:
    for key in ("zh-light", "template-zh"):
        prs = Presentation(str(rendered[key]))
        runs = 0
        for slide in prs.slides:
            for rpr in slide._element.iter(f"{A}rPr"):
                runs += 1
                ea = rpr.find(f"{A}ea")
                assert ea is not None and ea.get("typeface") == "Noto Sans CJK SC"
                assert rpr.get("lang") == "zh-CN"
        assert runs > 20
    theme = Presentation(str(rendered["zh-light"])).slide_master.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme").blob
    assert b'<a:ea typeface="Noto Sans CJK SC"/>' in theme


def test_themes_differ(rendered: dict[str, Path]) -> None:
    seen = set()
    for name in THEMES:
        prs = Presentation(str(rendered[f"en-{name}"]))
        bg = prs.slide_master.background.fill.fore_color.rgb
        theme = prs.slide_master.part.part_related_by(
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme").blob
        accent = re.search(rb"<a:accent1><a:srgbClr val=\"(\w+)\"", theme)
        assert accent is not None
        seen.add((str(bg), accent.group(1)))
    assert len(seen) == len(THEMES) >= 3


def test_template_layouts_and_theme_are_reused(rendered: dict[str, Path], tmp_path: Path) -> None:
    prs = Presentation(str(rendered["template"]))
    source = Presentation(str(template_file(tmp_path / "t.pptx")))
    assert (prs.slide_width, prs.slide_height) == (source.slide_width, source.slide_height)
    assert [lo.name for lo in prs.slide_layouts] == [lo.name for lo in source.slide_layouts]
    used = {s.slide_layout.name for s in prs.slides}
    assert used <= {lo.name for lo in source.slide_layouts}
    assert "Title Slide" in used
    theme = prs.slide_master.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme").blob
    assert b'name="Office Theme"' in theme  # the template's theme, untouched
    assert len(prs.slides) == len(english_deck().slides)  # its sample slide is gone
    assert b"sectionLst" not in prs.part.blob  # and no section still lists it


def test_crowded_text_is_split_not_overflowed(rendered: dict[str, Path]) -> None:
    prs = Presentation(str(rendered["crowded"]))
    titles = [s.shapes.title.text for s in prs.slides]
    assert len(titles) > len(crowded_deck().slides)
    assert any(t.endswith("(cont.)") for t in titles)
    bullets = [p.text for s in prs.slides for sh in s.shapes if sh.has_text_frame
               for p in sh.text_frame.paragraphs if "deliberately long" in p.text]
    assert len(bullets) == 12 + 12 + 0  # every bullet kept, none lost in the split


def test_a_broken_deck_is_refused() -> None:
    deck = english_deck()
    deck.slides[2].notes = ""
    with pytest.raises(DeckError, match="no speaker notes"):
        render_pptx(deck, THEMES["light"])


def test_control_characters_from_a_model_cannot_break_the_xml() -> None:
    deck = english_deck()
    deck.slides[2].bullets[0] = "Apache\x01 2.0\x0b licensing\x1f"
    prs = Presentation(io.BytesIO(render_pptx(deck, THEMES["light"])))
    texts = [sh.text_frame.text for sh in prs.slides[2].shapes if sh.has_text_frame]
    assert any(t.startswith("Apache 2.0 licensing") for t in texts)


def test_rendering_is_pure_and_repeatable() -> None:
    a = render_pptx(english_deck(), THEMES["dark"])
    b = render_pptx(english_deck(), THEMES["dark"])
    texts = [[sh.text_frame.text for sh in s.shapes if sh.has_text_frame]
             for s in Presentation(io.BytesIO(a)).slides]
    assert texts == [[sh.text_frame.text for sh in s.shapes if sh.has_text_frame]
                     for s in Presentation(io.BytesIO(b)).slides]


# ---------------------------------------------------------------- LibreOffice


@pytest.fixture(scope="module")
def pdfs(rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    soffice = find_soffice()
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; .ci/run installs it")
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) is not installed; .ci/run installs it")
    out = tmp_path_factory.mktemp("pdf")
    profile = (out / "profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(out), *map(str, rendered.values())],
                   check=True, capture_output=True, timeout=600)
    return {k: out / f"{p.stem}.pdf" for k, p in rendered.items()}


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")


def _pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True).stdout
    pages = xml.split("<page ")[1:]
    return [[(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(p)]
            for p in pages]


def _chars(text: str) -> int:
    text = unicodedata.normalize("NFKC", text).replace("&amp;", "&")
    return sum(1 for ch in text if not ch.isspace() and ch != "•")


@pytest.mark.parametrize("key", ALL)
def test_libreoffice_converts_and_text_stays_in_its_box(pdfs: dict[str, Path],
                                                         rendered: dict[str, Path],
                                                         key: str) -> None:
    assert_text_in_boxes(rendered[key], pdfs[key], key)


def assert_text_in_boxes(pptx: Path, pdf: Path, key: str) -> None:
    """Every word LibreOffice drew lies inside the innermost box it belongs to, and every box
    shows all of its characters (text that overflowed would land outside or elsewhere)."""
    assert pdf.exists() and pdf.stat().st_size > 1000, "LibreOffice made no PDF"
    prs = Presentation(str(pptx))
    pages = _pdf_words(pdf)
    assert len(pages) == len(prs.slides)
    for n, (slide, words) in enumerate(zip(prs.slides, pages, strict=True), 1):
        shapes = [s for s in slide.shapes if (s.has_text_frame or s.has_table or s.has_chart)
                  and not _decor(s.name)]
        found = {s.shape_id: 0 for s in shapes}
        for x0, y0, x1, y1, word in words:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            home = [s for s in shapes
                    if s.left / EMU_PT <= cx <= (s.left + s.width) / EMU_PT
                    and s.top / EMU_PT <= cy <= (s.top + s.height) / EMU_PT]
            assert home, f"{key} slide {n}: {word!r} is outside every box"
            s = min(home, key=lambda s: s.width * s.height)  # the innermost box
            tol = 4.0 + 0.1 * (y1 - y0)  # pdftotext boxes are font bboxes (~1.3 em)
            assert (x0 >= s.left / EMU_PT - tol and x1 <= (s.left + s.width) / EMU_PT + tol
                    and y0 >= s.top / EMU_PT - tol
                    and y1 <= (s.top + s.height) / EMU_PT + tol), \
                f"{key} slide {n}: {word!r} sticks out of {s.name}"
            found[s.shape_id] += _chars(word)
        for s in shapes:
            if s.has_chart:
                continue
            text = (" ".join(c.text for row in s.table.rows for c in row.cells) if s.has_table
                    else s.text_frame.text)
            assert found[s.shape_id] == _chars(text), \
                f"{key} slide {n}: {s.name} shows {found[s.shape_id]} of {_chars(text)} characters"
