"""Content fills the slide: every layout kind, short and long text, English and Chinese.

The issue's complaint was slides whose lower third stood empty: bullet cards two
thirds of the body tall, and five short points set as plain rows (22 % of the
content area in English, 15 % in Chinese). Each case here is rendered in every
theme and measured on the written .pptx with content_fill, checked for overlaps
with plan_problems, and searched for cut text; one deck per language is opened in
LibreOffice.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qwenapp.slides import THEMES, Deck, Slide, render_pptx
from qwenapp.slides.checks import truncated
from qwenapp.slides.deck import CONTENT_KINDS, Column, Quote, Stat, Step, Table
from qwenapp.slides.export import find_soffice
from qwenapp.slides.layout import default_geometry, plan_deck, plan_problems
from qwenapp.slides.measure import content_fill

TEXT = {
    "en": {
        "short": ["Runs on a laptop", "Fine-tunes on one GPU", "Ships under Apache 2.0",
                  "Audit every weight", "Tools every week", "No per-token fees"],
        "long": ["Open-weight models can run on a company's own servers, so no data leaves.",
                 "Developers fine-tune them for one domain with an ordinary graphics card.",
                 "Licences such as Apache 2.0 allow commercial products without fees.",
                 "A large community ships tools, adapters and evaluations every week.",
                 "Quantised builds run on laptops at speeds that are useful for work.",
                 "Teams choose among many sizes to trade quality against running cost."],
    },
    "zh": {
        "short": ["笔记本可运行", "单卡可微调", "允许商用", "权重可审计", "工具每周更新",
                  "无按量计费"],
        "long": ["开源模型可以在企业自己的服务器上运行，数据不出公司",
                 "开发者用一块普通显卡就能针对特定领域进行微调",
                 "Apache 2.0 等许可证允许商业产品，无需额外费用",
                 "活跃的社区每周发布新的工具、适配器和评测结果",
                 "量化后的模型在笔记本电脑上也能以实用的速度运行",
                 "多种尺寸让团队在质量与运行成本之间自由取舍"],
    },
}


def _deck(lang: str, length: str) -> Deck:
    t = TEXT[lang][length]
    slides = [Slide(kind="title", title="开源模型" if lang == "zh" else "Open models")]
    for n in range(1, 7):
        slides.append(Slide(kind="bullets", title=f"{n} {length}", bullets=t[:n], notes="n"))
    slides.append(Slide(kind="agenda", title="Agenda", bullets=t[:3]))
    slides.append(Slide(kind="compare", title="Compare", notes="n",
                        left=Column(heading="Open", bullets=t[:2]),
                        right=Column(heading="Closed", bullets=t[2:4])))
    slides.append(Slide(kind="kpi", title="Numbers", notes="n",
                        stats=[Stat(value="40%", label=t[0]), Stat(value="25 M", label=t[1])]))
    slides.append(Slide(kind="process", title="Steps", notes="n",
                        steps=[Step(label=f"Step {i}", text=x) for i, x in enumerate(t[:3], 1)]))
    slides.append(Slide(kind="timeline", title="Years", notes="n",
                        steps=[Step(label=str(2021 + i), text=x) for i, x in enumerate(t[:4])]))
    slides.append(Slide(kind="quote", title="Quote", notes="n", bullets=t[:2],
                        quote=Quote(text=t[3], attribution="survey.pdf")))
    slides.append(Slide(kind="table", title="Table", notes="n", table=Table(
        header=["Model", "Sizes", "Best for"],
        rows=[[x[:12], "0.5B-72B", x[-10:]] for x in t[:3]])))
    slides.append(Slide(kind="closing", title="Thanks"))
    return Deck(title="Open models", language=lang, slides=slides)


CASES = [(lang, length) for lang in TEXT for length in ("short", "long")]


@pytest.mark.parametrize(("lang", "length"), CASES)
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_no_content_slide_fills_less_than_35_percent(tmp_path: Path, lang: str, length: str,
                                                     theme: str) -> None:
    deck = _deck(lang, length)
    path = tmp_path / "fill.pptx"
    path.write_bytes(render_pptx(deck, THEMES[theme]))
    fills = content_fill(path)
    assert len(fills) == len(deck.slides)  # nothing split
    thin = [(s.kind, s.title, round(f, 2)) for s, f in zip(deck.slides, fills, strict=True)
            if (s.kind in CONTENT_KINDS or s.kind == "agenda") and f < 0.35]
    assert not thin, thin


@pytest.mark.parametrize(("lang", "length"), CASES)
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_filled_layouts_neither_overlap_nor_cut(lang: str, length: str, theme: str) -> None:
    t = THEMES[theme]
    deck = _deck(lang, length)
    for plan in plan_deck(deck, t, default_geometry(960, 540, t)):
        assert plan_problems(plan, 960, 540) == [], plan.kind
        for item in plan.items:
            for para in getattr(item, "paragraphs", ()):
                assert not truncated(para) or para in TEXT[lang][length], para


def test_bullets_are_drawn_on_panels_as_tall_as_the_body() -> None:
    """Banded rows (five or six points) reach the foot of the body; at two thirds of its
    height the lower third stood empty. Cards (two to four) are as tall as their text
    needs, at least 60 % of the body, centred in it: body-high cards stood half empty
    below their text in the 1.5B's Chinese deck (2026-12-03)."""
    from qwenapp.slides.layout import Shape, TextBox
    from qwenapp.slides.measure import INSET_X, INSET_Y, Measurer, text_height

    t = THEMES["light"]
    geo = default_geometry(960, 540, t)
    m = Measurer(t.body_font, t.ea_font)
    for lang in ("en", "zh"):
        for length in ("short", "long"):
            for n in (2, 3, 4, 5):
                deck = Deck(title="x", slides=[Slide(kind="bullets", title="x", notes="n",
                                                     bullets=TEXT[lang][length][:n])])
                (plan,) = plan_deck(deck, t, geo)
                panels = [it for it in plan.items if isinstance(it, Shape) and it.behind]
                assert panels
                top = min(p.frame.y for p in panels)
                bottom = max(p.frame.bottom for p in panels)
                if n == 5 or len(panels) != n:  # rows, not cards
                    assert bottom == pytest.approx(geo.body.bottom, abs=1)
                    continue
                assert top - geo.body.y == pytest.approx(geo.body.bottom - bottom, abs=1)
                assert bottom - top >= 0.6 * geo.body.h - 1
                body = [b for b in plan.items if isinstance(b, TextBox) and b.role == "body"]
                for box, card in zip(body, panels, strict=True):
                    need = text_height(box.paragraphs, box.frame.w - 2 * INSET_X, box.size,
                                       m) + 2 * INSET_Y
                    empty = card.frame.bottom - (box.frame.y + need)
                    assert empty <= 0.45 * card.frame.h, (lang, length, n)


@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("lang", sorted(TEXT))
def test_the_filled_decks_open_in_libreoffice(tmp_path: Path, lang: str) -> None:
    path = tmp_path / f"{lang}.pptx"
    path.write_bytes(render_pptx(_deck(lang, "long"), THEMES["qwen"]))
    subprocess.run([str(find_soffice()), f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=240)
    assert (tmp_path / f"{lang}.pdf").stat().st_size > 5000


def test_a_deck_of_two_content_slides_has_no_agenda_and_bands_stay_a_third() -> None:
    """The 1.5B's en-12 and en-topic decks (2026-12-02) came out short, and their agendas
    listed one item on a panel the body's height: an agenda needs three items, and no
    row's panel is taller than a third of the body."""
    from qwenapp.slides.language import LANGUAGES
    from qwenapp.slides.layout import Shape
    from qwenapp.slides.outline import Outline, PlannedSlide
    from qwenapp.slides.pipeline import assemble

    two = [Slide(kind="bullets", title=h, bullets=["a point", "another point"], notes="n")
           for h in ("One", "Two")]
    outline = Outline("Deck", "", tuple(PlannedSlide("bullets", s.title) for s in two))
    deck = assemble(outline, two, LANGUAGES["en"], agenda=True)
    assert [s.kind for s in deck.slides] == ["title", "bullets", "bullets", "closing"]
    t = THEMES["light"]
    geo = default_geometry(960, 540, t)
    (plan,) = plan_deck(Deck(title="x", slides=[Slide(kind="agenda", title="Agenda",
                                                      bullets=["Only item"])]), t, geo)
    panels = [it for it in plan.items if isinstance(it, Shape) and it.behind]
    assert panels and all(p.frame.h <= geo.body.h / 3 + 1 for p in panels)


def test_no_cover_draws_an_empty_disc_where_a_picture_would_go() -> None:
    """The qwen cover's panel held an empty circle (the 1.5B's Chinese deck preview,
    2026-12-03): it read as a missing picture. A disc on a cover is either part of the
    dark theme's orbit motif (a disc inside a disc) or not drawn."""
    from qwenapp.slides.layout import Shape

    for name, t in THEMES.items():
        geo = default_geometry(960, 540, t)
        title, sub = "开源大模型为何受到开发者欢迎", "从技术、经济、社会等多个角度分析"
        deck = Deck(title=title, subtitle=sub,
                    slides=[Slide(kind="title", title=title, subtitle=sub)])
        (plan,) = plan_deck(deck, t, geo)
        discs = [it.frame for it in plan.items if isinstance(it, Shape)
                 and it.kind == "ellipse"]
        if t.cover == "orbit":
            assert len(discs) == 2, name  # concentric: the motif, not a frame for a picture
            continue
        assert not discs, name
