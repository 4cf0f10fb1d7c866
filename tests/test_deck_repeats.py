"""Repeats a presenter would not accept, replayed from the 1.5B's Chinese deck.

``docs/decks/1.5b-zh-topic.png`` (2026-12-02): slide 5's four cards all opened
"开源大模型的透明度让…/使…" (each pair passed the overlap measures, as what
followed differed), and slide 3 restated two of slide 2's points with a 的 more
or a clause less. The scripted model replays those outputs; the deck must not
show them, and no shown line may be a cut version of what the model wrote.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides import DeckRequest, generate_deck
from qwenapp.slides.checks import near_duplicate, opening_repeat
from qwenapp.slides.content import slide_texts
from qwenapp.slides.scripted import deck_responder

TOPIC = "开源大模型为何受到开发者欢迎"
CARDS = ["开源大模型的透明度让科研人员可以更深入地理解模型的工作原理，推动科学进步。",
         "开源大模型的透明度使企业可以更高效地利用模型进行生产，提高生产效率和质量。",
         "开源大模型的透明度使政府可以更有效地提供公共服务，提高人民生活满意度。",
         "开源大模型的透明度让公众可以更方便地获取信息，提高生活便利度。"]
SECOND = ["论文与代码同时公开，科研人员可以复现实验。",
          "企业能审计训练数据的来源，降低合规风险。",
          "社区提交的问题报告让缺陷更早被发现。"]
SLIDE2 = ["开源大模型打破了传统模型的封闭性，允许开发者自由探索和创新。",
          "开源大模型的开放性还促进了模型的跨领域合作和交流，推动了人工智能领域的创新。",
          "开源大模型创新性提升性能与质量，满足高性能高质量需求。"]
RESTATED = ["开源大模型的创新性提升性能与质量。", "开源大模型的开放性促进模型的跨领域合作和交流。"]


def _heading(messages: Sequence[Message], options: GenerateOptions) -> str | None:
    m = re.search(r"第 \d+ 张幻灯片的内容：[\"“](.+?)[\"”]", messages[-1].content)
    return m.group(1) if m and options.json_schema else None


def _deck(respond: Any, slides: int = 7) -> tuple[Any, list[Any]]:
    async def go() -> list[Any]:
        model = ScriptedModel(responder=respond)
        return [ev async for ev in generate_deck(model, DeckRequest(TOPIC, slides=slides,
                                                                       parallel=1))]

    events = asyncio.run(go())
    return events[-1].deck, events


def test_the_opening_phrase_shared_by_cards_is_caught_cjk_and_latin() -> None:
    for a in CARDS:
        for b in CARDS:
            if a != b:
                assert (opening_repeat(a, b, TOPIC) or "").startswith("开源大模型的透明度")
    # the topic's own words as the opening are not a repeat ("开源大模型打破…/的开放性…")
    assert opening_repeat(SLIDE2[0], SLIDE2[1], TOPIC) is None
    en = "Why open-weight language models are gaining adoption among developers"
    assert opening_repeat("Local inference keeps customer data on premises",
                          "Local inference keeps latency low on laptops", en)
    assert opening_repeat("Licences allow commercial use", "Costs fall with quantisation",
                          en) is None
    # across slides the opening must be most of the line: a shared pattern is not a repeat
    assert opening_repeat("They work by analyzing text", "They work by analyzing text data",
                          en, within=False)
    assert opening_repeat("Customer interviews keep returning to latency during procurement",
                          "Customer interviews keep returning to budgets in public tenders",
                          en, within=False) is None


def test_a_point_restated_with_a_particle_more_is_a_near_duplicate() -> None:
    assert near_duplicate(RESTATED[0], SLIDE2[2], subject=TOPIC)
    assert near_duplicate(RESTATED[1], SLIDE2[1], subject=TOPIC)
    assert not near_duplicate(SECOND[0], SECOND[1], subject=TOPIC)


def _respond(calls: dict[str, int]) -> Any:
    inner = deck_responder()
    heads = ["开源大模型的创新性", "开源大模型的未来发展趋势", "开源大模型的主要受益者",
             "开源大模型的透明度", "本地部署节省成本"]

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            return {"title": TOPIC, "sub": "从技术、经济、社会等多个角度分析",
                    "slides": [{"head": h, "kind": "bullets"} for h in heads]}
        head = _heading(messages, options)
        if head is not None:
            calls[head] = calls.get(head, 0) + 1
        if head == "开源大模型的创新性":
            return {"points": SLIDE2, "notes": "创新性。"}
        if head == "开源大模型的未来发展趋势":
            return {"points": RESTATED, "notes": "趋势。"}
        if head == "开源大模型的透明度":
            return {"points": CARDS if calls[head] == 1 else SECOND, "notes": "透明度。"}
        return inner(messages, options)

    return respond


def test_cards_opening_alike_are_written_again_and_restated_points_never_shown() -> None:
    calls: dict[str, int] = {}
    deck, _ = _deck(_respond(calls))
    content = deck.slides[2:-1]
    shown = [t for s in content for t in slide_texts(s)]
    # the card slide was asked for again (told why), and its second answer is shown whole
    assert calls["开源大模型的透明度"] >= 2
    card = next(s for s in content if s.title == "开源大模型的透明度")
    assert card.bullets == SECOND
    for s in content:
        assert not any(opening_repeat(a, b, TOPIC) for i, a in enumerate(s.bullets)
                       for b in s.bullets[i + 1:]), s.title
    assert not set(CARDS) & set(shown)
    # slide 3 restated slide 2: its points are not shown; the deck still has its slides
    assert not set(RESTATED) & set(shown)
    assert len(deck.slides) == 7
    # nothing is cut: every point shown is a whole line some reply held
    written = set(SLIDE2 + SECOND + CARDS + RESTATED)
    for s in content:
        for b in s.bullets:
            assert b in written or not any(w.startswith(b) and w != b for w in written)


def test_the_retry_says_which_words_the_points_share() -> None:
    seen: list[str] = []
    respond = _respond({})

    def spy(messages: Sequence[Message], options: GenerateOptions) -> Any:
        seen.append(messages[-1].content)
        return respond(messages, options)

    _deck(spy)
    assert any("开源大模型的透明度" in m and "same words" in m for m in seen) or any(
        "开源大模型的透明度" in m and "相同" in m for m in seen)
