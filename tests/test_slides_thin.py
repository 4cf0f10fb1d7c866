"""What the 1.5B's topic deck of 2026-12-04 showed a presenter, replayed.

"Why open-weight language models are gaining adoption among developers", 8 slides, no
sources: the title slide said its title twice (subtitle "Why Open-Weight Models Are
Gaining Adoption Among Developers"), a card slide read "They are more flexible." / "They
are less flexible.", and the comparison's points began with their column's name
("Open-Weight Models: No Training Data"). The Chinese deck's subtitle was its title.
"""

from __future__ import annotations

import json

import pytest

from qwenapp.slides.checks import thin
from qwenapp.slides.content import parse_slide
from qwenapp.slides.language import LANGUAGES
from qwenapp.slides.outline import (
    Invalid,
    PlannedSlide,
    Rules,
    echo_subtitle,
    limits_for,
    parse_outline,
)
from qwenapp.slides.prompts import instruction_text

EN, ZH = LANGUAGES["en"], LANGUAGES["zh"]
TOPIC = "Why open-weight language models are gaining adoption among developers"
ZH_TOPIC = "开源大模型为何受到开发者欢迎"


def rules(lang: object = EN, subject: str = TOPIC) -> Rules:
    return Rules(lang, limits_for(lang), instruction_text(lang), frozenset(),  # type: ignore[arg-type]
                 subject=subject)


def test_points_that_say_too_little_are_thin() -> None:
    for line in ("They are more flexible.", "They are less flexible.", "医疗健康"):
        assert thin(line), line
    for line in ("Developers gain more flexibility in their models.",
                 "Case studies demonstrate the flexibility of open-weight models.",
                 "Lower costs for startups",
                 "开源大模型的优势包括较低的训练成本和模型性能快速提升。"):
        assert not thin(line), line


def test_a_slide_of_thin_points_is_asked_again_and_told_why() -> None:
    reply = json.dumps({"points": ["They are more flexible.", "They are less flexible."]})
    planned = PlannedSlide("bullets", "Why Open-Weight Models are More Efficient")
    with pytest.raises(Invalid, match="say too little"):
        parse_slide(reply, planned, rules())
    # one thin point among enough good ones just goes
    reply = json.dumps({"points": ["They are more flexible.",
                                   "Teams run the weights on their own servers.",
                                   "Fine-tuning adapts a model to a company's own data."]})
    slide = parse_slide(reply, planned, rules()).slide
    assert slide.bullets == ["Teams run the weights on their own servers.",
                             "Fine-tuning adapts a model to a company's own data."]


def test_comparison_points_lose_their_column_s_name() -> None:
    reply = json.dumps({
        "left": {"head": "Open-Weight Models",
                 "points": ["Open-Weight Models: No licence fees per call", "Run on own servers"]},
        "right": {"head": "Closed-Weight Models",
                  "points": ["Closed-Weight Models: Billed per token", "Hosted by the vendor"]}})
    slide = parse_slide(reply, PlannedSlide("compare", "Open-Weight vs. Closed-Weight Models"),
                        rules()).slide
    assert slide.left is not None and slide.right is not None
    assert slide.left.bullets[0] == "No licence fees per call"
    assert slide.right.bullets[0] == "Billed per token"


@pytest.mark.parametrize(("sub", "title", "topic", "echo"), [
    ("Why Open-Weight Models Are Gaining Adoption Among Developers", TOPIC, TOPIC, True),
    (ZH_TOPIC, ZH_TOPIC, ZH_TOPIC, True),
    ("Lower costs, open licences and local control", TOPIC, TOPIC, False),
    ("成本、许可与本地部署", ZH_TOPIC, ZH_TOPIC, False),
])
def test_a_subtitle_that_says_the_title_again_is_an_echo(sub: str, title: str, topic: str,
                                                         echo: bool) -> None:
    assert echo_subtitle(sub, title, topic) is echo


def test_the_outline_leaves_an_echoed_subtitle_out() -> None:
    heads = ["Lower cost of deployment", "Control over private data", "Fine-tuning for a domain"]
    text = json.dumps({"sub": "Why Open-Weight Models Are Gaining Adoption Among Developers",
                       "slides": [{"head": h, "kind": "bullets"} for h in heads]})
    out = parse_outline(text, 3, ["bullets"], rules())
    assert out.title == TOPIC and out.subtitle == ""
    text = json.dumps({"sub": "What teams gain, and what it costs them",
                       "slides": [{"head": h, "kind": "bullets"} for h in heads]})
    assert parse_outline(text, 3, ["bullets"], rules()).subtitle == \
        "What teams gain, and what it costs them"


def test_a_point_that_says_the_deck_s_topic_again_goes() -> None:
    """The 1.5B's card slide read "Open-weight models are gaining popularity among
    developers" / "They are gaining adoption among developers" in a deck on this topic."""
    reply = json.dumps({"points": ["They are gaining adoption among developers",
                                   "Open-weight models are gaining popularity among developers",
                                   "Teams run the weights on their own servers.",
                                   "Fine-tuning adapts a model to a company's own data."]})
    slide = parse_slide(reply, PlannedSlide("bullets", "Where the savings come from"),
                        rules()).slide
    assert slide.bullets == ["Teams run the weights on their own servers.",
                             "Fine-tuning adapts a model to a company's own data."]


def test_a_short_topic_named_in_a_point_is_no_restatement() -> None:
    from qwenapp.slides.checks import restates_topic

    assert restates_topic("They are gaining adoption among developers", TOPIC)
    assert not restates_topic("Qwen ships models from 0.5B to 72B parameters", "Qwen")
    assert not restates_topic("Teams run the weights on their own servers", TOPIC)


def test_headings_that_share_a_long_opening_keep_what_follows() -> None:
    """The 0.5B's 12-slide street-safety outline: six headings "How to make streets safer
    by …", the same points under each, five of six slides left out as repeats."""
    from qwenapp.slides.outline import without_shared_opening

    heads = ["How to make streets safer by improving traffic lights",
             "How to make streets safer by installing pedestrian crossings",
             "How to make streets safer by promoting cycling infrastructure",
             "How to make streets safer by reducing traffic congestion",
             "How to make streets safer for cyclists"]
    assert without_shared_opening(heads) == [
        "Improving traffic lights", "Installing pedestrian crossings",
        "Promoting cycling infrastructure", "Reducing traffic congestion",
        "How to make streets safer for cyclists"]
    distinct = ["Open-Weight Models vs. Closed-Weight Models", "Steps to Adopt Open-Weight Models",
                "Why Open-Weight Models are Popular", "Benefits of Open-Weight Models"]
    assert without_shared_opening(distinct) == distinct
    zh = ["开源大模型的应用场景", "开源大模型的优势", "开源大模型的定义与特点"]
    assert without_shared_opening(zh) == zh
    text = json.dumps({"sub": "", "slides": [{"head": h, "kind": "bullets"} for h in heads]})
    out = parse_outline(text, 5, ["bullets"], rules(subject="How cities can make streets "
                                                            "safer for cyclists and pedestrians"))
    assert "Improving traffic lights" in [s.heading for s in out.slides]


def test_a_heading_with_a_figure_of_its_own_is_left_out() -> None:
    """The 1.5B's deck on "Qwen model downloads by quarter: Q1 10 million, Q2 14 million,
    Q3 18 million, Q4 25 million" headed three slides "Q1 2023", "Q2 2023", "Q3 2023"."""
    numbers = frozenset({1.0, 2.0, 3.0, 4.0, 10.0, 14.0, 18.0, 25.0})
    r = Rules(EN, limits_for(EN), instruction_text(EN), numbers, subject="Qwen downloads")
    heads = ["Q1 2023", "Q2 2023", "What drove the growth from 10 to 25 million",
             "New features in each release", "Adoption by businesses and researchers"]
    text = json.dumps({"sub": "", "slides": [{"head": h, "kind": "bullets"} for h in heads]})
    out = parse_outline(text, 3, ["bullets"], r)
    assert [s.heading for s in out.slides] == heads[2:]


def test_a_source_s_location_is_no_heading() -> None:
    """The 0.5B's deck from a report on the sabotage manual headed a slide "lines 61-120 >
    INTRODUCTION", the location of a passage it was shown."""
    from qwenapp.slides.checks import locator

    assert locator("lines 61-120 > INTRODUCTION") and locator("Page 7")
    assert not locator("Ten lines of defence") and not locator("Meetings that never end")
    heads = ["lines 61-120 > INTRODUCTION", "Meetings that never end",
             "Committees for every decision", "Haggling over wording"]
    text = json.dumps({"sub": "", "slides": [{"head": h, "kind": "bullets"} for h in heads]})
    out = parse_outline(text, 3, ["bullets"], rules(subject="Simple sabotage of meetings"))
    assert [s.heading for s in out.slides] == heads[1:]
