"""The deck has the slides asked for (issue 15): the bench's 12-slide request gave 6,
an 8-slide one 6, as slides left out after their replacements repeated too were never
made up for. Now they are, at the end, on headings the deck does not cover yet; when
that too fails, the run says how many are missing and why."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.slides import DeckRequest, Note, SlideChanged, generate_deck
from qwenapp.slides.checks import near_duplicate
from qwenapp.slides.scripted import deck_responder

TOPIC = "Why open-weight language models are gaining adoption among developers"
HEADS = ["Licences that allow commercial use", "Running models on a laptop",
         "Fine-tuning for a company's jargon", "Community quantised builds",
         "Keeping customer data in house"]
SPARE = ["Hardware budgets", "Security reviews", "Evaluation suites", "Support contracts",
         "Hiring plans", "Release cadence"]
REPEAT = {"points": ["They work by analyzing large amounts of text data",
                     "They are trained on large datasets of public text"],
          "notes": "How they work."}


def _heading(messages: Sequence[Message], options: GenerateOptions) -> str | None:
    m = re.search(r"content of slide \d+: [\"“](.+?)[\"”]", messages[-1].content)
    return m.group(1) if m and options.json_schema else None


def _respond(repeats: int | None) -> Any:
    """The outline's first slide is fine; its second and third repeat the first on every
    try; headings not in the outline repeat it on their first ``repeats`` slide requests
    (None: always)."""
    inner = deck_responder()
    state = {"new": 0}

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        props = (options.json_schema or {}).get("properties", {})
        if "slides" in props:
            return {"title": "Open weights at work", "sub": "For developers",
                    "slides": [{"head": h, "kind": "bullets"} for h in HEADS]}
        if "heads" in props:  # alternative headings, fresh ones each call
            n = int(props["heads"].get("minItems", 3))
            k = state["asks"] = state.get("asks", 0) + 1
            return {"heads": [f"{w} for teams, part {k}" for w in SPARE[:n]]}
        head = _heading(messages, options)
        if head == HEADS[0]:
            return REPEAT
        if head in HEADS[1:3]:
            return REPEAT
        if head is not None and head not in HEADS:
            state["new"] += 1
            if repeats is None or state["new"] <= repeats:
                return REPEAT
        return inner(messages, options)

    return respond


def _run(respond: Any, slides: int = 8) -> list[Any]:
    async def go() -> list[Any]:
        model = ScriptedModel(responder=respond)
        return [ev async for ev in generate_deck(model, DeckRequest(TOPIC, slides=slides,
                                                                       parallel=1))]

    return asyncio.run(go())


def test_slides_left_out_are_made_up_for_on_new_headings() -> None:
    events = _run(_respond(repeats=2))
    deck, stats = events[-1].deck, events[-1].stats
    dropped = [e for e in events if isinstance(e, SlideChanged) and e.action == "dropped"]
    assert dropped  # the replacements repeated too: slides were left out in place...
    assert stats.added == len(dropped)  # ...and made up for at the end
    assert len(deck.slides) == 8
    added = [e.text for e in events if isinstance(e, Note) and "was added" in e.text]
    assert len(added) == len(dropped)
    content = deck.slides[2:-1]
    assert len({s.title for s in content}) == 5
    assert deck.slides[1].bullets == [s.title for s in content]  # the agenda follows
    bullets = [b for s in content for b in s.bullets]
    assert not any(near_duplicate(a, b, subject=TOPIC)
                   for i, a in enumerate(bullets) for b in bullets[i + 1:])


def test_a_deck_still_short_says_how_many_and_why() -> None:
    events = _run(_respond(repeats=None))
    deck = events[-1].deck
    notes = [e.text for e in events if isinstance(e, Note)]
    short = [n for n in notes if "content slides asked for" in n]
    content = len(deck.slides) - 3 if len(deck.slides) >= 6 else len(deck.slides) - 2
    assert len(short) == 1 and "of the 5 content slides" in short[0]
    assert "repeated earlier points" in short[0] or "no heading" in short[0]
    assert content < 5


def test_slides_written_again_are_bounded_per_deck() -> None:
    """The 1.5B's 8-slide topic deck of 2026-12-04 wrote 18 slides for 5 (184 s) and
    still left 2 out; bounded, the same deck took 87 s and had the same 6 slides. Every
    new heading's slide repeats here: the deck writes at most one slide again per content
    slide (:func:`~qwenapp.slides.write.repair_budget`), and says why it is short."""
    from qwenapp.slides.write import repair_budget

    asked: list[str] = []
    inner = _respond(repeats=None)

    def counting(messages: Sequence[Message], options: GenerateOptions) -> Any:
        head = _heading(messages, options)
        if head is not None and head not in HEADS:
            asked.append(head)
        return inner(messages, options)

    events = _run(counting)
    assert 0 < len(asked) <= repair_budget(len(HEADS)) == 5
    notes = [e.text for e in events if isinstance(e, Note) and "content slides asked" in e.text]
    assert len(notes) == 1 and ("ran out" in notes[0] or "repeated" in notes[0])
