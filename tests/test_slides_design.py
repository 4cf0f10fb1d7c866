"""Designed layouts: every kind fills its slide, nothing overlaps, nothing is cut.

Every layout kind is planned and rendered with short and long text, in
English and Chinese, in every theme; the written .pptx is measured with
content_fill (the share of the content area its content covers), checked for
overlaps, searched for ellipses, and converted by LibreOffice. overflow()
is checked on its own advice: cutting a text to the length it names makes
the slide fit.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation

from qwenapp.slides import THEMES, Chart, Column, Deck, Series, Slide, render_pptx
from qwenapp.slides.deck import CONTENT_KINDS, Quote, Stat, Step
from qwenapp.slides.export import find_soffice
from qwenapp.slides.layout import default_geometry, overflow, plan_deck, plan_problems
from qwenapp.slides.measure import content_fill
from test_slides_design_decks import every_kind
from test_slides_render import assert_text_in_boxes

VARIANTS = [(lang, long) for lang in ("en", "zh") for long in (1, 2)]


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("design")
    files = {}
    for theme in THEMES:
        for lang, long in VARIANTS:
            key = f"{lang}-{long}-{theme}"
            files[key] = out / f"{key}.pptx"
            files[key].write_bytes(render_pptx(every_kind(lang, long), THEMES[theme]))
    return files


def _kinds(deck: Deck, path: Path) -> list[str]:
    """The kind of each written slide (a split slide repeats its kind)."""
    titles = [s.shapes.title.text for s in Presentation(str(path)).slides]
    by_title = {s.title: s.kind for s in deck.slides}
    return [by_title.get(t, by_title.get(re.sub(r"\s*(\(cont\.\)|（续）)$", "", t), "?"))
            for t in titles]


@pytest.mark.parametrize(("lang", "long"), VARIANTS)
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_content_slide_fills_at_least_35_percent(decks: dict[str, Path], lang: str,
                                                       long: int, theme: str) -> None:
    path = decks[f"{lang}-{long}-{theme}"]
    fills = content_fill(path)
    kinds = _kinds(every_kind(lang, long), path)
    assert len(fills) == len(kinds)
    content = [(k, f) for k, f in zip(kinds, fills, strict=True) if k in CONTENT_KINDS]
    assert {k for k, _ in content} == set(CONTENT_KINDS)  # every content kind was drawn
    thin = [(k, round(f, 2)) for k, f in content if f < 0.35]
    assert not thin, f"content slides under 35 % of the content area: {thin}"


@pytest.mark.parametrize(("lang", "long"), [*VARIANTS, ("en", 4), ("zh", 4)])
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_no_overlap_and_nothing_leaves_the_slide(lang: str, long: int, theme: str) -> None:
    t = THEMES[theme]
    for plan in plan_deck(every_kind(lang, long), t, default_geometry(960, 540, t)):
        assert plan_problems(plan, 960, 540) == [], plan.kind


def _texts(path: Path) -> list[str]:
    prs = Presentation(str(path))
    out = []
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out += [p.text for p in shape.text_frame.paragraphs if p.text]
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return out


def test_no_text_is_cut_with_an_ellipsis(decks: dict[str, Path]) -> None:
    for key, path in decks.items():
        lang, long, _ = key.split("-")
        source = every_kind(lang, int(long)).model_dump_json()
        texts = _texts(path)
        assert texts
        assert not [t for t in texts if t.rstrip().endswith(("…", "..."))], key
        # every sentence of the deck is on a slide, whole
        for s in every_kind(lang, int(long)).slides:
            for b in s.bullets:
                assert b in texts, f"{key}: {b[:30]!r} is not on any slide whole"
        assert "…" not in source


def test_a_long_title_and_deck_title_are_never_cut() -> None:
    long_title = "An unusually long deck title that goes on " * 6
    deck = every_kind("en", 1).model_copy(update={"title": long_title})
    path_texts = _texts_of(render_pptx(deck, THEMES["light"]))
    assert not [t for t in path_texts if t.endswith("…")]
    # the footer leaves the deck title out rather than cut it
    assert not [t for t in path_texts if t != long_title and t.startswith("An unusually")]


def _texts_of(data: bytes) -> list[str]:
    prs = Presentation(io.BytesIO(data))
    return [p.text for s in prs.slides for sh in s.shapes if sh.has_text_frame
            for p in sh.text_frame.paragraphs if p.text]


def test_two_short_bullets_become_cards_not_a_half_empty_list(tmp_path: Path) -> None:
    deck = Deck(title="t", slides=[Slide(kind="bullets", title="Why teams switch",
                                         bullets=["Lower cost", "Data stays inside"],
                                         notes="n")])
    path = tmp_path / "two.pptx"
    path.write_bytes(render_pptx(deck, THEMES["light"]))
    assert content_fill(path)[0] > 0.5
    shapes = list(Presentation(str(path)).slides[0].shapes)
    assert len([s for s in shapes if s.name.startswith("Panel")]) == 2  # two cards
    sizes = [r.font.size.pt for s in shapes if s.has_text_frame
             for p in s.text_frame.paragraphs for r in p.runs if p.text == "Lower cost"]
    assert sizes and sizes[0] >= 28  # large type, not a list at body size


# ---------------------------------------------------------------- overflow()


def test_overflow_is_empty_for_text_that_fits() -> None:
    for s in every_kind("en", 1).slides + every_kind("zh", 1).slides:
        assert overflow(s, THEMES["light"]) == [], s.kind


def test_overflow_names_the_long_bullet_and_its_advice_makes_it_fit() -> None:
    long = ("Open weights let a team run the model on its own hardware and keep its data "
            "inside, which matters most to banks, hospitals and public agencies ") * 20
    slide = Slide(kind="bullets", title="Open weights keep data inside",
                  bullets=["Short point", long, "Another short point"], notes="n")
    problems = overflow(slide, THEMES["light"])
    assert len(problems) == 1 and problems[0].startswith("bullet 2 is too long")
    k = int(re.search(r"about (\d+)", problems[0]).group(1))  # type: ignore[union-attr]
    assert 40 < k < len(long)
    fixed = slide.model_copy(update={"bullets": ["Short point", long[:k], "Another short point"]})
    assert overflow(fixed, THEMES["light"]) == []


def test_overflow_of_a_title_and_of_too_many_bullets() -> None:
    title = "A heading that keeps going and going far past what fits in the title band " * 3
    slide = Slide(kind="bullets", title=title, bullets=["One", "Two"], notes="n")
    problems = overflow(slide, THEMES["paper"])
    assert problems and problems[0].startswith("the title is too long")
    many = Slide(kind="bullets", title="Many", notes="n",
                 bullets=[f"Point {i} says something fairly long about open models and their "
                          f"licences, sizes and tooling for teams" for i in range(24)])
    problems = overflow(many, THEMES["light"])
    assert len(problems) == 1 and problems[0].startswith("too many bullets (24): keep at most")


@pytest.mark.parametrize("kind", ["kpi", "quote", "process", "timeline", "compare", "chart",
                                  "table"])
def test_overflow_covers_every_kind_in_chinese(kind: str) -> None:
    long = "开放权重让团队在自己的硬件上运行模型，数据不出公司，这对银行和医院最为重要。" * 20
    slide = _one_kind(kind, long)
    problems = overflow(slide, THEMES["dark"])
    assert problems, kind
    assert all(re.search(r"too long|too many|too large|does not fit", p) for p in problems)
    assert overflow(_one_kind(kind, "数据留在内部"), THEMES["dark"]) == []


def _one_kind(kind: str, text: str) -> Slide:
    base = {"kind": kind, "title": "开放权重", "notes": "备注"}
    if kind == "kpi":
        return Slide(**base, stats=[Stat(value="40%", label=text), Stat(value="3", label="规模")])
    if kind == "quote":
        return Slide(**base, quote=Quote(text=text, attribution="调查"))
    if kind in ("process", "timeline"):
        return Slide(**base, steps=[Step(label="一", text=text), Step(label="二", text="上线")])
    if kind == "compare":
        return Slide(**base, left=Column(heading="托管", bullets=[text, "按词元付费"]),
                     right=Column(heading="开放", bullets=["本地运行"]))
    if kind == "chart":
        return Slide(**base, takeaway=text, chart=Chart(type="bar", categories=["甲", "乙"],
                                                        series=[Series(name="量",
                                                                       values=[1, 2])]))
    from qwenapp.slides import Table

    return Slide(**base, table=Table(header=["模型", "说明"],
                                     rows=[["千问", text]] * (1 if len(text) < 20 else 12)))


def test_overflow_is_fast() -> None:
    import time

    slides = every_kind("zh", 3).slides
    start = time.perf_counter()
    for s in slides:
        overflow(s, THEMES["light"])
    per_slide = (time.perf_counter() - start) / len(slides)
    assert per_slide < 1.0  # a generous bound: it is milliseconds, but machines are shared


# ---------------------------------------------------------------- content_fill()


def test_content_fill_measures_text_not_boxes(tmp_path: Path) -> None:
    from pptx.util import Pt

    prs = Presentation()
    prs.slide_width, prs.slide_height = Pt(960), Pt(540)
    layout = prs.slide_layouts[5]  # title only
    word = prs.slides.add_slide(layout)
    word.shapes.title.text = "One word"
    box = word.shapes.add_textbox(Pt(48), Pt(150), Pt(864), Pt(330))  # a huge box...
    box.text_frame.text = "Word"  # ...holding one word
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(18)
    chart = prs.slides.add_slide(layout)
    chart.shapes.title.text = "Chart"
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    data = CategoryChartData()
    data.categories = ["a", "b"]
    data.add_series("s", [1, 2])
    chart.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Pt(48), Pt(150), Pt(432), Pt(300),
                           data)
    empty = prs.slides.add_slide(layout)
    empty.shapes.title.text = "Nothing else"
    path = tmp_path / "fill.pptx"
    prs.save(str(path))
    word_fill, chart_fill, empty_fill = content_fill(path)
    assert 0 < word_fill < 0.02  # the word's extent, not the box's
    assert 0.3 < chart_fill < 0.6  # half the width, most of the height
    assert empty_fill == 0


def test_content_fill_of_rendered_decks_matches_the_design(decks: dict[str, Path]) -> None:
    fills = content_fill(decks["en-1-light"])
    kinds = _kinds(every_kind("en", 1), decks["en-1-light"])
    by_kind = dict(zip(kinds, fills, strict=True))
    assert by_kind["chart"] > 0.8 and by_kind["kpi"] > 0.6
    assert all(0 <= f <= 1 for f in fills)


# ---------------------------------------------------------------- the same everywhere


def _structure_hash(data: bytes) -> str:
    """A hash of every slide and chart part's XML (the zip's timestamps left out)."""
    h = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in sorted(zf.namelist()):
            if re.match(r"ppt/(slides/slide|charts/chart)\d+\.xml$", name):
                h.update(name.encode() + zf.read(name))
    return h.hexdigest()


# Pinned: the layout measures with committed font metrics (fonts.py), never the host's
# fonts, so this fixed deck gives this XML on every machine. A deliberate change to a
# layout changes it: print _structure_hash(...) and update it with the change.
PINNED = {
    "en-light": "f463876e9776f63b1e24fde6cdd02562da9d5e11f1f6b7b53a7f0b894c23de14",
    "zh-paper": "ace7de55c157bc147be506a4747f1f9028c9fae9890e5cf251c16dc94497e559",
}


@pytest.mark.parametrize("key", sorted(PINNED))
def test_the_same_deck_gives_the_same_slides_everywhere(key: str) -> None:
    lang, theme = key.split("-")
    data = render_pptx(every_kind(lang, 2), THEMES[theme])
    again = render_pptx(every_kind(lang, 2), THEMES[theme])
    assert _structure_hash(data) == _structure_hash(again)
    assert _structure_hash(data) == PINNED[key]


def test_no_font_file_is_read_when_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measurement must not depend on the host's fonts: opening one would be a bug."""
    import PIL.ImageFont

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a font file was opened while rendering")

    monkeypatch.setattr(PIL.ImageFont, "truetype", refuse)
    assert render_pptx(every_kind("zh", 1), THEMES["paper"])


# ---------------------------------------------------------------- LibreOffice


def test_every_design_deck_opens_in_libreoffice(decks: dict[str, Path],
                                               tmp_path: Path) -> None:
    soffice = find_soffice()
    if soffice is None or shutil.which("pdftotext") is None:
        pytest.skip("LibreOffice or poppler-utils is not installed; .ci/run installs both")
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                    str(tmp_path), *map(str, decks.values())],
                   check=True, capture_output=True, timeout=900)
    for key, path in decks.items():
        assert_text_in_boxes(path, tmp_path / f"{path.stem}.pdf", key)
