"""Layouts chosen by content in topic decks (issue 15: five kinds in an 8-slide deck).

The 1.5B labelled every slide of a topic deck "bullets" when asked for kinds, so a deck
with no figures, quotes or dates in its material now asks for headings only, and the
headings decide: one that sets two options side by side ("… vs …") is a comparison
whose columns are the two sides it names (code's, not the model's: its own column
names copied other slides' headings), one that gives steps ("How to …") a process.
A process whose step names are the other slides' headings (the 0.5B's) is not shown
with those names.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import pytest

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides import DeckRequest, generate_deck
from qwenapp.slides.content import parse_slide
from qwenapp.slides.language import resolve_language
from qwenapp.slides.outline import Invalid, PlannedSlide, Rules, limits_for, parse_outline
from qwenapp.slides.prompts import instruction_text
from qwenapp.slides.scripted import deck_responder

TOPIC = "Why open-weight language models are gaining adoption among developers"
HEADS = ["Lower costs than hosted APIs", "Open-weight models vs closed APIs",
         "Keeping customer data in house", "Fine-tuning for a company's jargon",
         "How to get started with open-weight models", "Community tooling and support"]


def _rules(topic: str = TOPIC) -> Rules:
    lang = resolve_language("", topic)
    return Rules(lang, limits_for(lang), instruction_text(lang), subject=topic)


def _heading(messages: Sequence[Message]) -> str:
    m = re.search(r"content of slide \d+: [\"“](.+?)[\"”]", messages[-1].content)
    return m.group(1) if m else ""


def _deck(respond: Any) -> tuple[Any, list[Any]]:
    async def go() -> list[Any]:
        model = ScriptedModel(responder=respond)
        return [ev async for ev in generate_deck(model, DeckRequest(TOPIC, slides=8,
                                                                       parallel=1))]
    events = asyncio.run(go())
    return events[-1].deck, events


def test_a_topic_outline_is_headings_only_and_the_headings_choose_the_kinds() -> None:
    schemas: list[dict[str, Any]] = []
    inner = deck_responder()

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        schema = options.json_schema or {}
        props = schema.get("properties", {})
        schemas.append(schema)
        if "slides" in props:
            assert props["slides"]["items"] == {"type": "string"}  # no kind asked for
            return {"title": "Open weights at work", "sub": "For developers",
                    "slides": HEADS}
        if "left" in props:
            # the heading names the sides: the columns are not asked for their names
            assert "head" not in props["left"]["properties"]
            assert "closed APIs" in messages[-1].content
            return {"left": {"points": ["Weights you can download and inspect",
                                        "Run on your own hardware"]},
                    "right": {"points": ["Billed per token by the provider",
                                         "Changes when the vendor decides"]}}
        return inner(messages, options)

    deck, _ = _deck(respond)
    kinds = {s.title: s.kind for s in deck.slides}
    assert kinds["Open-weight models vs closed APIs"] == "compare"
    assert kinds["How to get started with open-weight models"] == "process"
    compare = next(s for s in deck.slides if s.kind == "compare")
    assert compare.left is not None and compare.right is not None
    assert (compare.left.heading, compare.right.heading) == ("Open-weight models",
                                                              "Closed APIs")
    assert len({s.kind for s in deck.slides}) >= 5  # title, agenda, bullets, compare, process


def test_an_outline_with_kinds_is_still_read() -> None:
    import json
    text = json.dumps({"title": "Open weights", "sub": "",
                       "slides": [{"head": HEADS[0], "kind": "compare"}, HEADS[2], HEADS[3]]})
    o = parse_outline(text, 3, ["bullets", "compare", "process", "table"], _rules())
    assert [s.heading for s in o.slides] == [HEADS[0], HEADS[2], HEADS[3]]
    assert o.slides[0].kind == "compare"


OTHERS = ["Lower costs than hosted APIs", "Keeping customer data in house",
          "Fine-tuning for a company's jargon", "Community tooling and support"]


def _process(steps: list[dict[str, str]]) -> str:
    import json
    return json.dumps({"steps": steps})


def test_process_steps_named_after_other_slides_are_numbered() -> None:
    text = _process([
        {"l": "Lower costs than hosted APIs", "t": "Pick one internal use case to pilot"},
        {"l": "Keeping customer data in house", "t": "Run a quantised model on a laptop"},
        {"l": "Fine-tuning for a company's jargon", "t": "Measure answers against a test set"},
    ])
    planned = PlannedSlide("process", "How to get started with open-weight models")
    s = parse_slide(text, planned, _rules(), others=OTHERS).slide
    assert [st.label for st in s.steps] == ["Step 1", "Step 2", "Step 3"]
    assert s.steps[0].text == "Pick one internal use case to pilot"


def test_process_that_is_only_the_other_headings_is_refused() -> None:
    text = _process([{"l": h, "t": h} for h in OTHERS[:3]])
    planned = PlannedSlide("process", "How to get started with open-weight models")
    with pytest.raises(Invalid, match="headings are not steps"):
        parse_slide(text, planned, _rules(), others=OTHERS)


def test_process_with_its_own_step_names_keeps_them() -> None:
    text = _process([{"l": "Pilot", "t": "Pick one internal use case"},
                     {"l": "Measure", "t": "Score answers against a test set"},
                     {"l": "Scale", "t": "Serve the model to every team"}])
    planned = PlannedSlide("process", "How to get started with open-weight models")
    s = parse_slide(text, planned, _rules(), others=OTHERS).slide
    assert [st.label for st in s.steps] == ["Pilot", "Measure", "Scale"]


# The 1.5B's outline for TOPIC (bench/deck_quality.py en-topic, 2026-12-03, before this
# change): an introduction that the next slide restated (replaced twice), a heading that
# names only the topic, and a conclusion under a label.
REAL = ["Introduction: Overview of Open-Weight Models", "Advantages of Open-Weight Models",
        "Comparing Open-Weight vs. Fine-Tuned Models", "How to Choose Open-Weight Models",
        "Conclusion: Open-Weight Models: The Future of Natural Language Processing",
        "Why Open-Weight Models are Not Cost-Effective"]


def test_the_real_outline_loses_its_framing_and_its_bare_heading_goes_to_the_spares() -> None:
    import json
    text = json.dumps({"title": "Open-Weight Models for Developers", "sub": "", "slides": REAL})
    o = parse_outline(text, 4, ["bullets", "compare", "process", "table"], _rules())
    heads = [s.heading for s in o.slides]
    assert "Introduction: Overview of Open-Weight Models" not in heads  # framing: dropped
    assert heads == ["Comparing Open-Weight vs. Fine-Tuned Models",
                     "How to Choose Open-Weight Models",
                     "Open-Weight Models: The Future of Natural Language Processing",  # unlabelled
                     "Why Open-Weight Models are Not Cost-Effective"]
    assert "Advantages of Open-Weight Models" not in heads  # names only the topic: a spare
    kinds = {s.heading: s.kind for s in o.slides}
    assert kinds["Comparing Open-Weight vs. Fine-Tuned Models"] == "compare"
    assert kinds["How to Choose Open-Weight Models"] == "process"
    from qwenapp.slides.headings import sides_of
    assert sides_of("Comparing Open-Weight vs. Fine-Tuned Models") == ("Open-Weight Models",
                                                                       "Fine-Tuned Models")


def test_replacement_headings_that_name_only_the_topic_are_not_used() -> None:
    from qwenapp.slides.headings import bare
    # the alternatives the 1.5B wrote for its repeated slides (same run)
    for h in ("What is the significance of open-weight models?",
              "What are some advantages of using open-weight models?"):
        assert bare(h, TOPIC)
    for h in ("Who gains most from open-weight language models", "Lower costs than hosted APIs",
              "How to Choose Open-Weight Models"):
        assert not bare(h, TOPIC)


def test_a_process_step_that_repeats_an_earlier_point_is_left_out() -> None:
    """The 1.5B's en-topic deck (2026-12-03): its process's first step was slide 3's last
    bullet with "They" made "Open-Weight models"."""
    inner = deck_responder()
    said = "They are also more robust and can handle more complex tasks than smaller models."

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            return {"title": "Open weights at work", "sub": "", "slides": HEADS}
        head = _heading(messages)
        if head == HEADS[0]:
            return {"points": ["Open-Weight models are trained on a vast amount of text.",
                               "They cost nothing per token once they run in house.", said]}
        if "steps" in props:
            return {"steps": [
                {"l": "Understand the trade-offs", "t": "Open-Weight models are more robust "
                 "and can handle more complex tasks than smaller models."},
                {"l": "Pick a size", "t": "Match the model to the hardware you have."},
                {"l": "Quantise", "t": "Shrink it to four bits with little loss."},
                {"l": "Ship", "t": "Serve it behind an OpenAI-compatible API."}]}
        return inner(messages, options)

    deck, _ = _deck(respond)
    process = next(s for s in deck.slides if s.kind == "process")
    assert [st.label for st in process.steps] == ["Pick a size", "Quantise", "Ship"]


def test_a_replacement_heading_that_names_steps_or_sides_gets_that_kind() -> None:
    from qwenapp.slides.outline import heading_kind
    assert heading_kind("First steps with open-weight language models") == "process"
    assert heading_kind("开源大模型的入门步骤") == "process"
    assert heading_kind("Open-weight models vs closed APIs") == "compare"
    assert heading_kind("Open-weight models vs closed APIs", ["compare"]) == "bullets"
    assert heading_kind("Who gains most from open-weight language models") == "bullets"


def test_a_short_topic_is_the_title_and_no_title_is_asked_for() -> None:
    asked: list[dict[str, Any]] = []
    inner = deck_responder()

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            asked.append(props)
            return {"sub": "For developers", "slides": HEADS}
        return inner(messages, options)

    deck, _ = _deck(respond)
    assert "title" not in asked[0]
    assert deck.title == TOPIC and deck.slides[0].title == TOPIC


def test_headings_whose_words_lie_within_another_are_one_slide() -> None:
    """Constructed on the pattern of the 1.5B's Chinese headings (开源大模型的透明度 /
    开源大模型的创新性 …), not replayed: "…的透明度" beside "…的开放性与透明度" measured
    0.7 by character pairs, under the 0.75 bar, though the second slide covers the first."""
    from qwenapp.slides.headings import alike
    zh = "开源大模型为何受到开发者欢迎"
    assert alike("开源大模型的透明度", "开源大模型的开放性与透明度", zh)
    assert alike("社区支持", "社区的支持", zh) and alike("降低成本", "成本的降低", zh)
    assert not alike("开源大模型的创新性", "开源大模型的开放性", zh)
    assert not alike("开源大模型的成本优势", "开源大模型的性能优势", zh)
    assert not alike("在本地部署开源模型", "开源模型")  # a heading holding the deck's title
    assert alike("Cost savings", "Cost savings for startups", TOPIC)
    assert not alike("Why teams pick open weights", "Open weights", TOPIC)


def test_the_same_failure_twice_is_not_tried_a_third_time() -> None:
    """Issue 15's 对比分析 slide: its columns copied other slides' headings on every try
    (144 s, then no deck). Now a second identical failure ends the tries and the slide
    is written as bullets: the third try never paid."""
    inner = deck_responder()
    tries: list[str] = []

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            return {"sub": "", "slides": [HEADS[0], HEADS[2], HEADS[3], HEADS[5],
                                          "Cost and control compared"]}
        if "left" in props:
            tries.append(_heading(messages))
            return {"left": {"head": HEADS[0], "points": ["Weights you can inspect"]},
                    "right": {"head": HEADS[2], "points": ["Billed per token"]}}
        return inner(messages, options)

    _, events = _deck(respond)
    assert tries == ["Cost and control compared"] * 2
    from qwenapp.slides import SlideChanged
    assert any(isinstance(e, SlideChanged) and e.action == "simplified"
               and e.heading == "Cost and control compared" for e in events)
