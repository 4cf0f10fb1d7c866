"""The deck pipeline driven by the scripted model: stages, retries, failures, concurrency."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from qwenapp.errors import InputError
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides import (
    DeckBuilt,
    DeckError,
    DeckGenerated,
    DeckRequest,
    OutlineReady,
    OutlineRetry,
    Passage,
    Rendered,
    SlideChanged,
    SlideRetry,
    SlideWritten,
    build_deck,
    deck_from_passages,
    generate_deck,
    make_deck,
)
from qwenapp.slides.scripted import deck_responder


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def events_of(model: ScriptedModel, request: DeckRequest,
                    passages: Sequence[Passage] = ()) -> list[Any]:
    return [ev async for ev in generate_deck(model, request, passages)]


def deck_of(events: list[Any]) -> Any:
    assert isinstance(events[-1], DeckGenerated)
    return events[-1].deck


def test_a_topic_becomes_a_deck_of_exactly_n_slides() -> None:
    model = ScriptedModel(responder=deck_responder())
    events = run(events_of(model, DeckRequest("Why Qwen models lead open-source AI adoption")))
    deck = deck_of(events)
    assert len(deck.slides) == 8
    kinds = [s.kind for s in deck.slides]
    assert kinds[0] == "title" and kinds[1] == "agenda" and kinds[-1] == "closing"
    assert {"bullets", "compare", "table"} <= set(kinds)
    assert "chart" not in kinds  # the topic holds no numbers to chart
    assert deck.slides[1].bullets == [s.title for s in deck.slides[2:-1]]
    assert all(s.notes for s in deck.slides[2:-1])
    assert sum(isinstance(e, SlideWritten) for e in events) == 5
    assert isinstance(events[1], OutlineReady)
    stats = events[-1].stats
    assert stats.calls == 6 and stats.retries == 0
    assert len(stats.slide_tokens) == 5 and all(t > 0 for t in stats.slide_tokens)


@pytest.mark.parametrize("n,content,agenda", [(3, 1, False), (4, 2, False), (6, 4, False),
                                              (7, 4, True), (12, 9, True)])
def test_slide_count_is_what_was_asked(n: int, content: int, agenda: bool) -> None:
    model = ScriptedModel(responder=deck_responder())
    deck = deck_of(run(events_of(model, DeckRequest("Qwen adoption", slides=n))))
    assert len(deck.slides) == n
    assert (deck.slides[1].kind == "agenda") is agenda
    outline_call = model.calls[0].options.json_schema
    assert outline_call is not None
    # spares: one, two from five content slides (a heading that frames the deck or
    # repeats the title is left out, and asking for another later is a call of its own)
    spares = 2 if content >= 5 else 1
    assert outline_call["properties"]["slides"]["maxItems"] == content + spares


def test_every_call_is_bounded_and_constrained() -> None:
    model = ScriptedModel(responder=deck_responder())
    run(events_of(model, DeckRequest("Qwen adoption")))
    for call in model.calls:
        assert call.options.json_schema is not None
        assert call.options.max_tokens is not None and call.options.max_tokens <= 512
        assert call.options.think is False


def test_a_series_in_the_request_becomes_a_native_chart_by_code() -> None:
    model = ScriptedModel(responder=deck_responder())
    deck = deck_of(run(events_of(model, DeckRequest(
        "Qwen downloads by quarter: Q1 10, Q2 14, Q3 18, Q4 25"))))
    charts = [s for s in deck.slides if s.kind == "chart"]
    assert len(charts) == 1
    chart = charts[0].chart
    assert chart.type == "line" and chart.categories == ["Q1", "Q2", "Q3", "Q4"]
    assert chart.series[0].values == [10.0, 14.0, 18.0, 25.0]  # the request's, not the model's
    assert charts[0].takeaway  # the model wrote only the heading and the takeaway


def test_chinese_request_gives_a_chinese_deck() -> None:
    model = ScriptedModel(responder=deck_responder())
    deck = deck_of(run(events_of(model, DeckRequest("为什么通义千问模型引领开源人工智能的普及",
                                                    slides=6))))
    assert deck.language == "zh"
    assert deck.slides[-1].title == "谢谢"
    assert "简体中文" in model.calls[0].messages[0].content


def _outline(heads: list[str], kinds: list[str] | None = None) -> dict[str, Any]:
    kinds = kinds or ["bullets"] * len(heads)
    return {"title": "Qwen adoption among developers", "sub": "Why it happened",
            "slides": [{"head": h, "kind": k} for h, k in zip(heads, kinds, strict=True)]}


def _bullets(*points: str) -> dict[str, Any]:
    return {"points": list(points), "notes": "The speaker explains the point with care."}


def test_invalid_output_is_retried_with_the_reason() -> None:
    model = ScriptedModel([
        _outline(["Presentation Title", "First bullet point"]),  # copied template
        _outline(["Open licensing", "Many model sizes"]),
        _bullets("First bullet point", "Second bullet point", "Third bullet point"),
        _bullets("Apache 2.0 allows commercial use", "No separate agreement is needed"),
        _bullets("Sizes from 0.5B to 72B parameters", "Small ones run on a laptop CPU"),
    ], )
    model_parallel_1 = DeckRequest("Qwen adoption", slides=4, parallel=1)
    events = run(events_of(model, model_parallel_1))
    retries = [e for e in events if isinstance(e, OutlineRetry | SlideRetry)]
    assert len(retries) == 2
    assert "headings" in retries[0].reason  # both headings were template text
    assert "placeholder" in retries[1].reason
    assert any("placeholder" in c.messages[-1].content for c in model.calls[3:])  # says why
    deck = deck_of(events)
    assert {s.bullets[0] for s in deck.slides[1:3]} == {"Apache 2.0 allows commercial use",
                                                        "Sizes from 0.5B to 72B parameters"}


def test_an_outline_still_invalid_after_retries_is_an_early_error() -> None:
    model = ScriptedModel()  # answers every schema with its minimal instance: "xx..."
    with pytest.raises(DeckError, match="outline is still invalid after 3 attempts"):
        run(events_of(model, DeckRequest("Qwen adoption", slides=4)))
    assert len(model.calls) == 3  # it fails at the first stage, not after minutes of slides


def test_a_chinese_request_answered_in_english_fails_rather_than_passes() -> None:
    english = _outline(["Open licensing", "Many model sizes"])
    model = ScriptedModel([english, english, english])
    with pytest.raises(DeckError, match="简体中文"):
        run(events_of(model, DeckRequest("千问模型为何领先", slides=4)))


def test_a_looping_model_cannot_make_more_slides_than_asked() -> None:
    """42 identical slides: cut off by the token bound (or deduplicated), retried, clamped."""
    looping = _outline(["Open licensing"] * 42)
    fine = _outline(["Open licensing", "Many model sizes", "Coding models", "Languages"])

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        if options.json_schema and "slides" in options.json_schema["properties"]:
            return fine if "rejected" in messages[-1].content else looping
        return deck_responder()(messages, options)

    model = ScriptedModel(responder=respond)
    events = run(events_of(model, DeckRequest("Qwen adoption", slides=6)))
    assert any(isinstance(e, OutlineRetry) for e in events)
    assert model.calls[0].options.max_tokens is not None
    assert model.calls[0].options.max_tokens < 42 * 10
    assert len(deck_of(events).slides) == 6


def test_bullets_repeated_from_an_earlier_slide_are_removed() -> None:
    model = ScriptedModel([
        _outline(["Open licensing", "Model sizes"]),
        _bullets("Apache 2.0 allows commercial use", "No separate agreement is needed"),
        _bullets("Apache 2.0 allows commercial use", "Sizes run from 0.5B to 72B",
                 "Small sizes run on a laptop"),
    ])
    deck = deck_of(run(events_of(model, DeckRequest("Qwen adoption", slides=4, parallel=1))))
    assert deck.slides[2].bullets == ["Sizes run from 0.5B to 72B", "Small sizes run on a laptop"]


def test_a_heading_that_repeats_the_title_gives_way_to_the_spare() -> None:
    outline = {"title": "Why Qwen leads", "sub": "", "slides": [
        {"head": "Why Qwen leads", "kind": "bullets"},
        {"head": "Open licensing", "kind": "bullets"},
        {"head": "Model sizes", "kind": "bullets"}]}
    model = ScriptedModel([outline], responder=deck_responder())
    deck = deck_of(run(events_of(model, DeckRequest("Why Qwen leads", slides=4))))
    assert [s.title for s in deck.slides[1:3]] == ["Open licensing", "Model sizes"]


def test_a_duplicate_slide_is_rewritten_then_replaced_on_a_new_heading() -> None:
    same = _bullets("Apache 2.0 allows commercial use", "No separate agreement is needed")
    model = ScriptedModel([_outline(["Open licensing", "Licensing terms"]), same, same, same],
                          responder=deck_responder())
    events = run(events_of(model, DeckRequest("Qwen adoption", slides=4, parallel=1)))
    changed = [e for e in events if isinstance(e, SlideChanged)]
    assert [c.action for c in changed] == ["replaced"] and "repeated" in changed[0].reason
    deck = deck_of(events)
    assert [s.kind for s in deck.slides] == ["title", "bullets", "bullets", "closing"]
    assert deck.slides[2].title not in ("Open licensing", "Licensing terms")


def test_made_up_figures_never_reach_a_slide() -> None:
    model = ScriptedModel([
        _outline(["Downloads by model", "Why it matters"]),
        _bullets("Qwen passed 77 million downloads", "Llama reached 35 million",
                 "Qwen leads on downloads"),
        _bullets("Developers try what others use", "Downloads feed fine-tunes"),
    ])
    events = run(events_of(model, DeckRequest("Qwen has 40 million downloads, Llama 35",
                                              slides=4, parallel=1)))
    bullets = [b for s in deck_of(events).slides for b in s.bullets]
    assert "Llama reached 35 million" in bullets
    assert not any("77" in b for b in bullets)


def test_slides_are_written_concurrently_within_the_slot_limit() -> None:
    active = 0
    peak = 0
    inner = deck_responder()

    class Probe(ScriptedModel):
        async def stream(self, messages: Sequence[Message], options: GenerateOptions) -> Any:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                async for ev in super().stream(messages, options):
                    yield ev
            finally:
                active -= 1

    for parallel, expected in ((1, 1), (3, 3)):
        active = peak = 0
        model = Probe(responder=inner, delay=0.001)
        run(events_of(model, DeckRequest("Qwen adoption", slides=10, parallel=parallel)))
        assert peak == expected


@pytest.mark.parametrize("request_,message", [
    (DeckRequest(""), "the topic is empty"),
    (DeckRequest("   "), "the topic is empty"),
    (DeckRequest("x" * 2001), "the limit is 2000"),
    (DeckRequest("Qwen", slides=2), "between 3 and 30"),
    (DeckRequest("Qwen", slides=31), "between 3 and 30"),
    (DeckRequest("Qwen", language="tlh"), "unsupported --language"),
])
def test_bad_requests_are_input_errors(request_: DeckRequest, message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(events_of(ScriptedModel(responder=deck_responder()), request_))


def test_build_writes_the_file_and_returns_the_structure(tmp_path: Path) -> None:
    model = ScriptedModel(responder=deck_responder())
    out = tmp_path / "deck.pptx"
    events: list[Any] = []
    result = run(make_deck(model, DeckRequest("Qwen adoption", slides=5), out,
                           on_progress=events.append))
    assert result.path == out and out.stat().st_size > 10_000
    assert len(result.deck.slides) == 5
    assert isinstance(events[-1], DeckBuilt)
    assert any(isinstance(e, Rendered) for e in events)
    assert result.stats.render_seconds < 5
    assert json.loads(result.deck.model_dump_json())["slides"][0]["kind"] == "title"
    assert [p.name for p in tmp_path.iterdir()] == ["deck.pptx"]  # no temp file left


def test_a_failed_build_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "deck.pptx"
    out.write_bytes(b"the user's previous deck")
    with pytest.raises(DeckError):
        run(make_deck(ScriptedModel(), DeckRequest("Qwen adoption", slides=4), out))
    assert out.read_bytes() == b"the user's previous deck"
    assert [p.name for p in tmp_path.iterdir()] == ["deck.pptx"]


def test_output_path_is_checked_before_the_model_runs(tmp_path: Path) -> None:
    model = ScriptedModel(responder=deck_responder())

    async def go(out: Path) -> None:
        async for _ in build_deck(model, DeckRequest("Qwen"), out):
            pass

    for out, msg in ((tmp_path / "missing" / "deck.pptx", "does not exist"),
                     (tmp_path / "deck.txt", "does not end in .pptx"),
                     (tmp_path, "does not end in .pptx")):
        with pytest.raises(InputError, match=msg):
            run(go(out))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=r"cannot write|does not exist"):
        run(go(blocker / "deck.pptx"))
    assert model.calls == []


def test_a_deck_from_report_passages_cites_them(tmp_path: Path) -> None:
    passages = [
        ("1", "Qwen adoption notes", "Licensing",
         "Most Qwen 2.5 models are released under the Apache 2.0 license."),
        ("2", "Developer survey", "sheet Results", "62 of 100 developers tried Qwen first."),
    ]
    model = ScriptedModel(responder=deck_responder())
    result = run(deck_from_passages(model, passages, "Why developers pick Qwen",
                                    tmp_path / "r.pptx", slides=4))
    content = result.deck.slides[1:-1]
    assert all(s.sources for s in content)
    assert {s.sources[0].id for s in content} <= {"1", "2"}
    assert "Qwen adoption notes" in content[0].notes_text() or \
        "Developer survey" in content[0].notes_text()
    prompt = model.calls[1].messages[-1].content
    assert "[1] Qwen adoption notes, Licensing:" in prompt or "[2] Developer survey" in prompt


def test_notes_reach_the_outline_and_slide_prompts() -> None:
    notes = "- What should the deck focus on?: licensing"
    model = ScriptedModel(responder=deck_responder())
    deck_of(run(events_of(model, DeckRequest("Qwen adoption", slides=4, audience="CTOs",
                                             notes=notes))))
    assert len(model.calls) == 3
    for call in model.calls:
        user = call.messages[-1].content
        assert "Audience: CTOs\nThe user's notes (answers to clarifying questions):\n" + notes \
            in user


def test_chinese_notes_label() -> None:
    model = ScriptedModel(responder=deck_responder())
    deck_of(run(events_of(model, DeckRequest("为什么通义千问模型引领开源人工智能的普及",
                                             slides=3, notes="- 重点：开源许可"))))
    user = model.calls[0].messages[-1].content
    assert "用户的补充说明（对澄清问题的回答）：\n- 重点：开源许可" in user


def test_a_series_in_the_notes_is_charted() -> None:
    notes = "Downloads in millions: Qwen 40, Llama 35, Mistral 12"
    model = ScriptedModel(responder=deck_responder())
    deck = deck_of(run(events_of(model, DeckRequest("Open model downloads", notes=notes))))
    charts = [s for s in deck.slides if s.kind == "chart"]
    assert len(charts) == 1
    assert charts[0].chart.series[0].values == [40.0, 35.0, 12.0]
    assert charts[0].chart.type in ("bar", "pie") and charts[0].chart.categories[0] == "Qwen"


def test_over_long_notes_are_an_input_error() -> None:
    with pytest.raises(InputError, match="--notes is longer than 1500"):
        run(events_of(ScriptedModel(responder=deck_responder()),
                      DeckRequest("Qwen", notes="x" * 1501)))
