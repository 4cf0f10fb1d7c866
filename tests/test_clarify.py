"""Clarifying questions before a report or a deck: the model's, cleaned, or fixed fallbacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from qwenapp.clarify import (
    MAX_NOTES,
    Clarification,
    Question,
    clarifying_questions,
    notes_from_answers,
    parse_questions,
)
from qwenapp.errors import BackendError
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides.pipeline import MAX_NOTES as DECK_MAX_NOTES

EN = "Write a report on open-weight language models for small companies"
ZH = "写一份关于开源大语言模型在中小企业中应用的报告"


def ask(model: ScriptedModel, kind: Any = "report", text: str = EN, **kw: Any
        ) -> Clarification:
    return asyncio.run(clarifying_questions(model, kind, text, **kw))


def reply(*questions: tuple[Any, Any]) -> dict[str, Any]:
    return {"questions": [{"question": q, "options": o} for q, o in questions]}


def test_model_questions_are_kept_and_cleaned() -> None:
    model = ScriptedModel([reply(
        ("  1. Which   kind of models\nmatters most? ", ["- Chat models ", "Code models",
                                                         "Code models", ""]),
        ("Should costs be compared?", ["Yes", "No"]),
    )])
    got = ask(model)
    assert got.source == "model" and got.language == "en"
    assert got.questions == (
        Question("Which kind of models matters most?", ("Chat models", "Code models")),
        Question("Should costs be compared?", ("Yes", "No")),
    )
    call = model.calls[0]
    assert call.options.json_schema is None  # plain lines: no grammar (2x faster on CPU)
    assert call.options.think is False
    assert call.options.max_tokens is not None and call.options.max_tokens <= 160
    assert [m.role for m in call.messages] == ["system", "user"]
    assert EN in call.messages[1].content
    assert "a research report" in call.messages[0].content


def test_deck_prompt_names_a_deck() -> None:
    model = ScriptedModel([reply(("Which use case should the deck cover?", ["Support"]))])
    got = ask(model, "deck")
    assert got.source == "model"
    assert "a slide deck" in model.calls[0].messages[0].content


def test_bounds_duplicates_and_max_questions() -> None:
    long_q = "Why " + "very " * 50 + "long?"
    model = ScriptedModel([reply(
        (long_q, ["a", "b"]),
        ("", ["a", "b"]),
        (42, ["a", "b"]),
        ("Which sector?", ["Retail", "x" * 81, "Finance", "Health", "Energy", "Travel"]),
        ("which sector", ["Retail"]),
        ("Which region?", "not a list"),
        ("Which year?", ["2024"]),
    )], chunk_size=64)  # the scripted model counts a chunk as a token: let it all fit
    got = ask(model, max_questions=2)
    assert [q.text for q in got.questions] == ["Which sector?", "Which region?"]
    assert got.questions[0].options == ("Retail", "Finance", "Health", "Energy")
    assert got.questions[1].options == ()
    assert all(len(q.text) <= 200 for q in got.questions)
    assert all(len(o) <= 80 for q in got.questions for o in q.options)


def test_max_questions_one() -> None:
    model = ScriptedModel([reply(("Which sector?", ["A", "B"]), ("Which region?", ["C", "D"]))])
    got = ask(model, max_questions=1)
    assert [q.text for q in got.questions] == ["Which sector?"]
    with pytest.raises(ValueError):
        ask(ScriptedModel(), max_questions=0)


def test_json_in_a_code_fence_is_accepted() -> None:
    text = "```json\n" + json.dumps(reply(("Which sector?", ["A", "B"]))) + "\n```"
    got = ask(ScriptedModel([text]))
    assert got.source == "model" and got.questions[0].text == "Which sector?"


@pytest.mark.parametrize("answer", [
    "not json at all",
    '{"questions": [{"question": "Which sector',  # cut off
    '["a list"]',
    '{"questions": "none"}',
    '{"questions": []}',
    BackendError("the engine crashed"),
    RuntimeError("unexpected"),
])
def test_model_failures_give_the_fallback(answer: Any) -> None:
    got = ask(ScriptedModel([answer]))
    assert got.source == "default" and got.language == "en"
    assert got.questions == (Question("What should the report focus on?",
                                      ("An overview", "Recent developments", "Pros and cons",
                                       "Practical recommendations")),)


def test_the_minimal_schema_answer_is_not_a_question() -> None:
    got = ask(ScriptedModel())  # answers the schema's minimal instance: empty strings
    assert got.source == "default"


def test_a_slow_model_times_out_into_the_fallback() -> None:
    model = ScriptedModel([reply(("Which sector?", ["A", "B"]))], delay=0.05, chunk_size=1)
    got = ask(model, "deck", timeout=0.01)
    assert got.source == "default"
    assert got.questions[0].text == "What should the deck focus on?"


def test_cancellation_propagates() -> None:
    model = ScriptedModel([reply(("Which sector?", ["A", "B"]))], delay=0.05, chunk_size=1)

    async def main() -> None:
        task = asyncio.create_task(clarifying_questions(model, "report", EN))
        await asyncio.sleep(0.02)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


def test_chinese_request_gets_chinese_questions() -> None:
    model = ScriptedModel([reply(
        ("Which industry matters most?", ["Retail", "Finance"]),  # wrong language: dropped
        ("报告应侧重哪个行业？", ["零售", "金融", "制造业"]),
        ("是否需要比较部署成本？", ["需要", "不需要"]),
    )])
    got = ask(model, "report", ZH)
    assert got.source == "model" and got.language == "zh"
    assert [q.text for q in got.questions] == ["报告应侧重哪个行业？", "是否需要比较部署成本？"]
    assert "简体中文" in model.calls[0].messages[0].content
    assert ZH in model.calls[0].messages[1].content


def test_english_request_drops_chinese_questions() -> None:
    model = ScriptedModel([reply(("报告应侧重哪个行业？", ["零售"]), ("Which sector?", ["A"]))])
    assert [q.text for q in ask(model).questions] == ["Which sector?"]


@pytest.mark.parametrize("kind,text", [("report", "报告应重点关注哪些方面？"),
                                       ("deck", "演示文稿应重点介绍哪些内容？")])
def test_chinese_fallback(kind: Any, text: str) -> None:
    got = ask(ScriptedModel([reply(("Which sector?", ["A", "B"]))]), kind, ZH)
    assert got.source == "default" and got.language == "zh"
    assert got.questions[0].text == text
    assert 2 <= len(got.questions[0].options) <= 4


LINES = """Q: Which kind of models matters most?
- Chat models
- Code models
Q: Should costs be compared?
- Yes
- No
"""


def test_the_line_format_is_parsed() -> None:
    got = ask(ScriptedModel([LINES]))
    assert got.source == "model"
    assert got.questions == (
        Question("Which kind of models matters most?", ("Chat models", "Code models")),
        Question("Should costs be compared?", ("Yes", "No")),
    )


def test_line_format_variants() -> None:
    zh = "问：报告应侧重哪个行业？\n- 制造业\n- 金融业\n问题2：需要比较成本吗？\n* 需要\n* 不需要\n"
    assert [q.text for q in parse_questions(zh, "zh")] == ["报告应侧重哪个行业？",
                                                          "需要比较成本吗？"]
    assert parse_questions(zh, "zh")[1].options == ("需要", "不需要")
    numbered = "1. Which sector matters most?\na) Retail\nb) Banking\n2. Which region?\n- EU\n"
    got = parse_questions(numbered, "en")
    assert [q.text for q in got] == ["Which sector matters most?", "Which region?"]
    assert got[0].options == ("Retail", "Banking")
    assert parse_questions("- an option before any question\n", "en") == ()


def test_a_question_that_repeats_the_request_is_dropped() -> None:
    echo = "Q: Why do developers adopt Qwen?\n- Because\nQ: Which users matter most?\n- Startups\n"
    got = parse_questions(echo, "en", request="why do developers adopt Qwen")
    assert [q.text for q in got] == ["Which users matter most?"]


def test_json_cut_short_keeps_its_whole_questions() -> None:
    cut = '{"questions": [{"question": "Which sector?", "options": ["A", "B"]}, {"question": "Wh'
    assert [q.text for q in parse_questions(cut, "en")] == ["Which sector?"]


def test_the_answer_stops_once_enough_questions_are_written() -> None:
    """Small models go on asking; the stream is closed after the wanted questions."""
    tail = "".join(f"Q: Extra question {i}?\n- a\n- b\n" for i in range(50))
    model = ScriptedModel([LINES + tail], chunk_size=8)
    seen = 0

    class Counting:
        name, context_length, supports_thinking = "counting", 8192, False

        async def stream(self, messages: Sequence[Message], options: GenerateOptions) -> Any:
            nonlocal seen
            async for ev in model.stream(messages, options):
                seen += 1
                yield ev

        async def aclose(self) -> None:
            pass

    got = asyncio.run(clarifying_questions(Counting(), "report", EN))  # type: ignore[arg-type]
    assert [q.text for q in got.questions] == ["Which kind of models matters most?",
                                               "Should costs be compared?"]
    assert seen < len(LINES) // 8 + 10  # far fewer chunks than the whole answer


def test_request_text_in_the_prompt_is_bounded() -> None:
    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        return reply(("Which sector?", ["A", "B"]))

    model = ScriptedModel(responder=respond)
    ask(model, text="word " * 2000)
    assert len(model.calls[0].messages[1].content) < 2300


def test_notes_from_answers() -> None:
    assert notes_from_answers([]) == ""
    assert notes_from_answers([("Focus?", "  "), ("Region?", "")]) == ""
    assert notes_from_answers([(" Focus? ", " Costs\n and risks "), ("Region?", ""),
                               ("", "Keep it short")]) == "- Focus?: Costs and risks\n" \
                                                          "- Keep it short"


def test_notes_are_bounded() -> None:
    pairs = [(f"Question {i}?", "an answer " * 10) for i in range(100)]
    notes = notes_from_answers(pairs)
    assert len(notes) <= MAX_NOTES == 1500 == DECK_MAX_NOTES
    assert notes.startswith("- Question 0?: an answer")
    short = notes_from_answers(pairs, limit=200)
    assert len(short) <= 200 and short.endswith("…")
    assert notes_from_answers(pairs, limit=0) == ""
    exact = notes_from_answers([("Q", "A")], limit=6)
    assert exact == "- Q: A"
