"""Measured layout: wrapping with real font metrics, fitting, splitting, geometry."""

from __future__ import annotations

import random

import pytest

from qwenapp.slides import THEMES, Chart, Column, Deck, Series, Slide, Table
from qwenapp.slides.deck import Quote, Stat, Step
from qwenapp.slides.fonts import FontFace, Measurer, face_for
from qwenapp.slides.layout import (
    ChartBox,
    Frame,
    TableBox,
    TextBox,
    default_geometry,
    fit,
    plan_deck,
    plan_problems,
    text_height,
    wrap,
)

ARIAL = Measurer("Arial")


def test_widths_come_from_pinned_font_metrics() -> None:
    assert ARIAL.width("iiii", 20) < ARIAL.width("WWWW", 20) / 2  # proportional, not a guess
    assert ARIAL.width("Hello", 40) == pytest.approx(2 * ARIAL.width("Hello", 20))
    assert ARIAL.width("千问", 20) == pytest.approx(40, rel=0.02)  # CJK glyphs are 1 em
    assert ARIAL.line_height("千问", 20) > ARIAL.line_height("Qwen", 20)
    # Arial is measured as Liberation Sans (same advance widths): 722+556+222+222+556
    assert ARIAL.width("Hello", 1) == pytest.approx(2.278, abs=0.002)
    assert Measurer("Times New Roman").width("Hello", 1) < ARIAL.width("Hello", 1)
    assert ARIAL.width("Hello", 20, bold=True) > ARIAL.width("Hello", 20)


def test_unknown_families_measure_wide_and_the_same_everywhere() -> None:
    """A family with no pinned table is measured as DejaVu Sans (wider than Arial), never
    with whatever font the host has."""
    assert face_for("Some Brand Font") == "dejavu sans"
    assert Measurer("Some Brand Font").width("Hello world", 20) > ARIAL.width("Hello world", 20)
    assert face_for("Noto Serif CJK SC", east_asian=True) == "noto serif cjk"
    face = FontFace("x", {}, 1.2, 0)
    assert face.width("abc") == pytest.approx(1.8)  # characters no table lists: wide
    assert face.width("千") == 1.0


def test_wrap_breaks_words_and_cjk() -> None:
    text = "Open weights under Apache 2.0 let any team ship a product without asking"
    lines = wrap(text, 300, 24, ARIAL)
    assert len(lines) > 1 and " ".join(lines) == text
    assert all(ARIAL.width(ln, 24) <= 300 for ln in lines)
    zh = "千问模型覆盖从零点五到七百二十亿参数的多种规模，适合不同的硬件。"
    zl = wrap(zh, 200, 20, ARIAL)
    assert "".join(zl) == zh and len(zl) >= 3
    assert not any(ln.startswith(("，", "。")) for ln in zl)  # no line starts with punctuation
    long_word = "x" * 200
    assert all(ARIAL.width(ln, 20) <= 300 for ln in wrap(long_word, 300, 20, ARIAL))


def test_fit_picks_the_largest_size_that_fits() -> None:
    frame = Frame(0, 0, 400, 200)
    short = fit(["One short line"], frame, ARIAL, [32.0, 24.0, 16.0])
    assert short == 32.0
    long = ["A much longer paragraph that needs to wrap onto several lines of text"] * 4
    size = fit(long, frame, ARIAL, [32.0, 28.0, 24.0, 20.0, 16.0, 12.0], bullets=True)
    assert size is not None and size < 24
    assert text_height(long, 400 - 14.4 - size * 0.9, size, ARIAL) <= 200 - 7.2
    assert fit(long * 10, frame, ARIAL, [14.0, 12.0]) is None


def random_deck(seed: int) -> Deck:
    rng = random.Random(seed)
    words = ["model", "weights", "licence", "adoption", "developers", "Chinese", "English",
             "sizes", "laptop", "GPU", "benchmark", "coder", "multilingual", "community",
             "fine-tune", "千问", "模型", "开源", "生态"]

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))

    slides = [Slide(kind="title", title=text(2, 14), subtitle=text(0, 12))]
    for _ in range(8):
        kind = rng.choice(["bullets", "compare", "chart", "table", "agenda", "kpi", "quote",
                           "process", "timeline", "section"])
        notes = text(3, 8)
        if kind in ("bullets", "agenda"):
            slides.append(Slide(kind=kind, title=text(1, 12),
                                bullets=[text(2, 24) for _ in range(rng.randint(1, 9))],
                                notes=notes))
        elif kind == "section":
            slides.append(Slide(kind="section", title=text(1, 8), subtitle=text(0, 10)))
        elif kind == "compare":
            slides.append(Slide(kind="compare", title=text(1, 10), notes=notes,
                                left=Column(heading=text(1, 5), bullets=[text(2, 16)] * 3),
                                right=Column(heading=text(1, 5), bullets=[text(2, 16)] * 4)))
        elif kind == "kpi":
            slides.append(Slide(kind="kpi", title=text(1, 8), notes=notes,
                                bullets=[text(2, 10) for _ in range(rng.randint(0, 2))],
                                stats=[Stat(value=f"{rng.randint(1, 999)} {rng.choice('%MkB')}",
                                            label=text(1, 8))
                                       for _ in range(rng.randint(1, 4))]))
        elif kind == "quote":
            slides.append(Slide(kind="quote", title=text(1, 6), notes=notes,
                                quote=Quote(text=text(4, 40), attribution=text(0, 5))))
        elif kind in ("process", "timeline"):
            slides.append(Slide(kind=kind, title=text(1, 8), notes=notes, steps=[
                Step(label=text(1, 3), text=text(0, 14)) for _ in range(rng.randint(2, 7))]))
        elif kind == "chart":
            n = rng.randint(2, 8)
            slides.append(Slide(kind="chart", title=text(1, 8), notes=notes,
                                takeaway=text(0, 12),
                                bullets=[text(2, 10) for _ in range(rng.randint(0, 3))],
                                chart=Chart(type=rng.choice(["bar", "line", "pie"]),
                                            categories=[f"c{i}" for i in range(n)],
                                            series=[Series(name="s", values=[
                                                rng.randint(1, 99) for _ in range(n)])])))
        else:
            cols = rng.randint(2, 5)
            slides.append(Slide(kind="table", title=text(1, 8), notes=notes,
                                takeaway=text(0, 10), table=Table(
                header=[text(1, 2) for _ in range(cols)],
                rows=[[text(1, 6) for _ in range(cols)] for _ in range(rng.randint(1, 12))])))
    slides.append(Slide(kind="closing", title="Thank you"))
    return Deck(title=text(2, 10), slides=slides)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_random_decks_never_overlap_overflow_or_leave_the_slide(seed: int, theme: str) -> None:
    t = THEMES[theme]
    geo = default_geometry(960, 540, t)
    for plan in plan_deck(random_deck(seed), t, geo):
        assert plan_problems(plan, 960, 540) == []
        for item in plan.items:
            if isinstance(item, TextBox) and not item.nowrap:
                head = item.role in ("title", "heading", "quote", "value")
                m = Measurer(t.heading_font if head else t.body_font,
                             t.heading_ea_font if head else t.ea_font)
                need = text_height(item.paragraphs, item.frame.w - 14.4 - item.indent,
                                   item.size, m, item.bold)
                assert need <= item.frame.h - 7.2 + 0.01 or item.size <= 7, item
            if isinstance(item, TableBox):
                assert sum(item.row_heights) == pytest.approx(item.frame.h)
                assert sum(item.col_widths) == pytest.approx(item.frame.w)
            if isinstance(item, ChartBox):
                assert item.frame.w > 300 and item.frame.h > 200
