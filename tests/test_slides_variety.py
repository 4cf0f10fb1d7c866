"""Layouts chosen by code from what the slides hold (the model writes bullets only).

The 1.5B plans every slide as bullets, so its 8-slide decks had one or two layout
kinds. :func:`qwenapp.slides.variety.restyle` reads the written points: figures
become a KPI row, dated points a timeline, ordered steps a process, the two sides
a heading names a comparison, a sourced slide a quote. The words stay the model's.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides import THEMES, DeckRequest, Passage, generate_deck, render_pptx
from qwenapp.slides.deck import Slide, SourceRef
from qwenapp.slides.export import find_soffice
from qwenapp.slides.layout import overflow
from qwenapp.slides.variety import restyle


def _b(title: str, *points: str, sources: Sequence[SourceRef] = ()) -> Slide:
    return Slide(kind="bullets", title=title, bullets=list(points), notes="n",
                 sources=list(sources))


def test_points_that_lead_with_figures_become_a_kpi_row() -> None:
    (s,) = restyle([_b("Adoption in numbers", "40% of developers use open models",
                       "Downloads reached 25 million in Q4", "Costs fell 3x in a year")])
    assert s.kind == "kpi"
    assert [st.value for st in s.stats] == ["40%", "25 million", "3x"]
    assert s.stats[0].label == "of developers use open models"  # the rest of the point
    assert s.stats[1].label == "Downloads reached 25 million in Q4"  # whole, never cut


def test_dated_points_become_a_timeline_in_date_order() -> None:
    (s,) = restyle([_b("A short history", "2023: Llama 2 allowed commercial use",
                       "In 2019, GPT-2 weights were released",
                       "Qwen2.5 arrived in 2024 with many sizes")])
    assert s.kind == "timeline"
    assert [st.label for st in s.steps] == ["2019", "2023", "2024"]
    assert s.steps[0].text == "GPT-2 weights were released"


def test_ordered_points_become_a_process_and_chinese_steps_too() -> None:
    (s,) = restyle([_b("Getting started", "First, pick a size that fits your hardware",
                       "Then quantise it to four bits", "Finally, serve it behind an API")])
    assert s.kind == "process" and [st.label for st in s.steps] == ["Step 1", "Step 2",
                                                                    "Step 3"]
    (z,) = restyle([_b("如何开始使用", "首先，选择适合硬件的尺寸", "然后，把模型量化到四位",
                       "最后，通过接口提供服务")], step_word="第 {n} 步")
    assert z.kind == "process" and z.steps[0].label == "第 1 步"
    assert z.steps[0].text == "首先，选择适合硬件的尺寸"


def test_points_on_the_two_sides_a_heading_names_become_a_comparison() -> None:
    (s,) = restyle([_b("Open models vs closed APIs", "Open models run on your hardware",
                       "Closed APIs charge per token", "Open models can be fine-tuned",
                       "Closed APIs need no setup")], subject="open-weight models")
    assert s.kind == "compare" and s.left is not None and s.right is not None
    assert s.left.heading == "Open models" and len(s.right.bullets) == 2
    (z,) = restyle([_b("开源模型与闭源接口", "开源模型可以本地运行", "闭源接口按调用收费",
                       "开源模型支持微调", "闭源接口无需部署")])
    assert z.kind == "compare"


def test_a_sourced_slide_gets_a_verbatim_quote() -> None:
    p = Passage("S1", "survey.pdf", "page 3", "Teams were asked why they switched. "
                "Open models turned our assistant from a service we rent into a tool we own, "
                "said one engineering lead. Costs were the second reason.")
    (s,) = restyle([_b("Why teams switch to open models", "Teams want to own their tools",
                       "Renting a service ties a product to one vendor",
                       sources=[p.ref()])], passages=[p])
    assert s.kind == "quote" and s.quote is not None
    assert s.quote.text in p.text and s.quote.attribution == "survey.pdf"


def test_plain_points_stay_bullets_and_each_kind_is_rationed() -> None:
    plain = _b("Why developers care", "They can read the weights", "They can run them anywhere",
               "They can change them")
    assert restyle([plain]) == [plain]
    figures = [_b(f"Numbers {i}", "40% use them", "25 million downloads") for i in range(4)]
    kinds = [s.kind for s in restyle(figures)]
    assert kinds.count("kpi") == 1  # one per four content slides


def test_a_restyled_slide_that_would_not_fit_stays_bullets() -> None:
    long = "of developers " + "say that open models are what they reach for first " * 14
    s = _b("Adoption", f"40% {long}", "25 million downloads a quarter")
    (kept,) = restyle([s], fit=lambda x: overflow(x, THEMES["light"]))
    assert kept.kind == "bullets"


SOURCE = ("Open-weight models were downloaded 40 million times a month in 2024. "
          "About 45% of surveyed developers ran one locally. "
          "Developers told the survey: \"We moved from renting a model to owning one, and "
          "our costs fell by half.\" In 2019 GPT-2 weights were released. In 2023 Llama 2 "
          "allowed commercial use. In 2024 Qwen2.5 shipped sizes from 0.5B to 72B.")
POINTS = {
    "Adoption in numbers": ["40 million downloads a month in 2024",
                            "45% of surveyed developers run one locally",
                            "Costs fell by half for teams that switched"],
    "Releases that opened the field": ["In 2019, GPT-2 weights were released",
                                       "In 2023, Llama 2 allowed commercial use",
                                       "In 2024, Qwen2.5 shipped many sizes"],
    "How teams adopt open weights": ["First, pick a model that fits the hardware",
                                     "Then, fine-tune it on company documents",
                                     "Finally, serve it behind an internal API"],
    "Renting or owning a model": ["Renting ties a product to one vendor's prices",
                                  "Owning keeps prompts and data inside the company",
                                  "Teams report lower costs after moving"],
    "What developers value most": ["Weights they can inspect and audit",
                                   "Freedom to run the model offline",
                                   "A community that ships tools weekly"],
}


def test_an_eight_slide_deck_of_bullets_gets_five_layout_kinds(tmp_path: Path) -> None:
    """The model plans bullets and writes bullets; code picks the layouts. Eight slides
    asked, eight made, at least five kinds (title, agenda and closing included, as the
    benchmark counts them), three or more kinds of content slide."""
    outline = {"title": "Open weights at work", "sub": "For developers",
               "slides": [{"head": h, "kind": "bullets"} for h in POINTS]}

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            return outline
        m = re.search(r'content of slide \d+: "(.+?)"', messages[-1].content)
        head = m.group(1) if m else ""
        if "points" in props and head in POINTS:
            return {"src": ["S1"], "points": POINTS[head], "notes": "The speaker adds this."}
        return {"heads": ["Licensing terms for open weights"], "head": "x", "take": "",
                "lines": []}

    passages = [Passage("S1", "survey.md", "section 1", SOURCE)]

    async def go() -> list[Any]:
        return [ev async for ev in generate_deck(ScriptedModel(responder=respond),
                                                 DeckRequest("Open-weight models at work",
                                                             slides=8, parallel=1),
                                                 passages)]

    deck = asyncio.run(go())[-1].deck
    assert len(deck.slides) == 8
    kinds = {s.kind for s in deck.slides}
    content = kinds - {"title", "agenda", "closing"}
    assert len(kinds) >= 5 and len(content) >= 3, kinds
    kpi = next(s for s in deck.slides if s.kind == "kpi")
    assert [st.value for st in kpi.stats][:2] == ["40 million", "45%"]
    if find_soffice() is not None:
        path = tmp_path / "variety.pptx"
        path.write_bytes(render_pptx(deck, THEMES["light"]))
        subprocess.run([str(find_soffice()),
                        f"-env:UserInstallation={(tmp_path / 'p').as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                       check=True, capture_output=True, timeout=240)
        assert (tmp_path / "variety.pdf").stat().st_size > 5000


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_restyled_kinds_fit_their_layouts(lang: str) -> None:
    zh = lang == "zh"
    slides = restyle([
        _b("采用数据" if zh else "Adoption in numbers",
           *(["40% 的开发者在本地运行", "下载量达到 2500 万次"] if zh else
             ["40% of developers run one locally", "Downloads reached 25 million"])),
        _b("发展历程" if zh else "Releases",
           *(["2019年：GPT-2 权重发布", "2023年：Llama 2 允许商用", "2024年：Qwen2.5 发布"] if zh
             else ["2019: GPT-2 weights released", "2023: Llama 2 allowed commercial use",
                   "2024: Qwen2.5 shipped"])),
    ])
    assert [s.kind for s in slides] == ["kpi", "timeline"]
    for s in slides:
        assert overflow(s, THEMES["qwen"]) == []


def test_scan_scaffolding_is_never_offered_as_a_quotation() -> None:
    """The Riis PDF (bench/deck_quality.py, riis-pdf) offered a line cut from the middle
    of a word, with the scan's credits and an illustration caption, as a quotation."""
    from qwenapp.slides.content import quotable

    p = Passage("S1", "riis.pdf", "page 1",
                "net (This file was produced from images generously made available by The "
                "Internet Archive) HOW THE OTHER HALF LIVES [Illustration: GOTHAM COURT. "
                "The tenements held three in four of the city's people, packed into rooms "
                "without light or air.")
    got = quotable([p])
    assert got == ["The tenements held three in four of the city's people, packed into rooms "
                   "without light or air."]


def test_a_heading_about_deploying_is_planned_as_a_process() -> None:
    """The 1.5B plans every slide as bullets; a heading that names a procedure
    ("Deploying …", "部署…") is given the process kind, so the model writes steps."""
    import json

    from qwenapp.slides.language import LANGUAGES
    from qwenapp.slides.outline import Rules, limits_for, parse_outline
    from qwenapp.slides.prompts import instruction_text

    for lang, heads in (("en", ["Why teams pick open weights", "Deploying them on premises",
                                "Costs compared with APIs", "Licences to check"]),
                        ("zh", ["团队为何选择开源权重", "在本地部署开源模型", "与接口相比的成本",
                                "需要核对的开源许可"])):
        language = LANGUAGES[lang]
        rules = Rules(language, limits_for(language), instruction_text(language),
                      subject="开源模型" if lang == "zh" else "open-weight models")
        text = json.dumps({"title": "开源模型" if lang == "zh" else "Open weights", "sub": "",
                           "slides": [{"head": h, "kind": "bullets"} for h in heads]})
        outline = parse_outline(text, 4, ["bullets", "compare", "process"], rules)
        assert outline.slides[1].kind == "process", (lang, outline.slides)
