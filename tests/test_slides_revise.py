"""Revising a deck by asking, with the scripted model: each kind of request, the slides it
must leave byte-identical, and the questions asked instead of guesses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import Reply, ScriptedModel
from qwenapp.slides import Deck, DeckError, DeckGenerated, DeckRequest, generate_deck
from qwenapp.slides.edits import (
    Add,
    Clarify,
    Merge,
    Remove,
    Restyle,
    Rewrite,
    SetTheme,
    Shorten,
    ToChart,
    Translate,
    needs_model,
    parse_request,
)
from qwenapp.slides.language import LANGUAGES, in_language
from qwenapp.slides.revise import Revision, compare_decks, revise_text
from qwenapp.slides.scripted import deck_responder

TOPIC = "Why Qwen models lead open-source AI adoption"
_ZH_LINES = ["关于许可的要点", "面向团队的简报", "势头的来源", "模型家族的组织", "开发者的收获",
             "本地运行的花费", "值得管理的风险", "新增内容的说明", "图表的说明", "数据的含义"]
_REVISION_NOTES = ("This slide merges", "Rewrite this slide in a", "Translate this slide",
                   "Show this slide's content", "Write this slide again", "A new slide about")


def revision_responder(shift: int = 6) -> Any:
    """The deck responder, with other words for a slide being revised (as a model would
    write them: the scripted points move on with each "rejected" in the prompt; ``shift``
    6 gives words no other slide has) and Chinese lines for a translation request."""
    base = deck_responder()

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Reply:
        if messages[0].content.startswith("You translate slide text"):
            n = int((options.json_schema or {})["properties"]["lines"]["minItems"])
            return {"lines": [_ZH_LINES[i % len(_ZH_LINES)] + ("" if i < len(_ZH_LINES)
                                                                else "之二") for i in range(n)]}
        last = messages[-1].content
        if any(note in last for note in _REVISION_NOTES):
            messages = [*messages[:-1], Message("user", last + "\n(rejected)" * shift)]
        return base(messages, options)

    return respond


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def deck() -> Deck:
    async def make() -> Deck:
        model = ScriptedModel(responder=deck_responder())
        async for ev in generate_deck(model, DeckRequest(TOPIC, slides=8)):
            if isinstance(ev, DeckGenerated):
                return ev.deck
        raise AssertionError("no deck")

    d: Deck = run(make())
    # the structure the tests rely on: title, agenda, five content slides, closing
    assert [s.kind for s in d.slides] == ["title", "agenda", "bullets", "compare", "process",
                                          "table", "bullets", "closing"]
    return d


def revise(deck: Deck, request: str, theme: str = "light",
           model: ScriptedModel | None = None) -> tuple[Revision | Clarify, ScriptedModel]:
    m = model or ScriptedModel(responder=revision_responder())
    return run(revise_text(m, deck, theme, request)), m


def revised(deck: Deck, request: str, theme: str = "light") -> tuple[Revision, ScriptedModel]:
    r, m = revise(deck, request, theme)
    assert isinstance(r, Revision), r
    return r, m


def dumps(d: Deck) -> list[str]:
    return [s.model_dump_json() for s in d.slides]


def assert_untouched(old: Deck, new: Deck, pairs: dict[int, int]) -> None:
    """Slide ``new_n`` of the new deck is byte-identical to slide ``old_n`` of the old."""
    a, b = dumps(old), dumps(new)
    for new_n, old_n in pairs.items():
        assert b[new_n - 1] == a[old_n - 1], f"slide {new_n} should be old slide {old_n}"


# ---------------------------------------------------------------- reading the request


@pytest.mark.parametrize("text,edits", [
    ("make slide 3 a chart", [ToChart(3, "make slide 3 a chart")]),
    ("shorter bullets on slide 5", [Shorten((5,))]),
    ("add a slide about licensing after slide 4", [Add(4, "Licensing")]),
    ("remove the agenda", [Remove((2,))]),
    ("merge slides 6 and 7", [Merge(6, 7)]),
    ("translate the deck into Chinese", [Translate("zh")]),
    ("use the dark theme", [SetTheme("dark")]),
    ("more formal", [Restyle("formal")]),
    ("turn slide 4 into a timeline", [Rewrite(4, "timeline")]),
    ("delete slides 3 to 5", [Remove((3, 4, 5))]),
    ("remove slide 7; use the paper theme", [Remove((7,)), SetTheme("paper")]),
    ("add a slide on pricing before slide 3", [Add(2, "Pricing")]),
    ("删除目录", [Remove((2,))]),
    ("翻译成中文", [Translate("zh")]),
    ("把第3张改成图表", [ToChart(3, "把第3张改成图表")]),
    ("合并第6张和第7张", [Merge(6, 7)]),
])
def test_requests_are_read_into_typed_edits_by_rules(deck: Deck, text: str,
                                                     edits: list[object]) -> None:
    assert parse_request(text, deck) == edits


@pytest.mark.parametrize("text,asks", [
    ("make slide 12 a chart", "there is no slide 12"),
    ("remove slide 9", "there is no slide 9"),
    ("merge slides 6 and 70", "there is no slide 70"),
    ("make it pop", "could not tell what to change"),
    ("", "What should I change"),
    ("merge slide 6", "Which two slides"),
    ("add a slide after slide 4", "What should the new slide be about"),
    ("remove the title slide", "title slide cannot be removed"),
    ("make slide 2 a chart", "Slide 2 is the agenda"),
    ("make slide 4 nicer", "What should slide 4 become"),
    ("use the neon theme", "no neon theme"),
    ("translate it please", "Into which language"),
])
def test_a_request_that_cannot_be_mapped_gets_a_short_question(deck: Deck, text: str,
                                                               asks: str) -> None:
    got = parse_request(text, deck)
    assert isinstance(got, Clarify)
    assert asks in got.question
    assert len(got.question) < 400


def test_a_question_costs_no_model_call(deck: Deck) -> None:
    r, m = revise(deck, "make slide 12 a chart")
    assert isinstance(r, Clarify) and not m.calls


# ---------------------------------------------------------------- each kind of edit


def test_theme_change_needs_no_model_and_keeps_every_slide(deck: Deck) -> None:
    edits = parse_request("use the dark theme", deck)
    assert isinstance(edits, list) and not needs_model(edits)
    r = run(revise_text(None, deck, "light", "use the dark theme"))  # no model at all
    assert isinstance(r, Revision)
    assert r.theme == "dark" and r.changed == []
    assert r.deck.model_dump_json() == deck.model_dump_json()


def test_make_slide_a_chart_from_figures_in_the_request(deck: Deck) -> None:
    r, m = revised(deck, "make slide 3 a chart: 2022 10, 2023 14, 2024 19")
    s = r.deck.slides[2]
    assert s.kind == "chart" and s.chart is not None
    assert s.chart.categories == ["2022", "2023", "2024"]
    assert s.chart.series[0].values == [10, 14, 19]
    assert s.title == deck.slides[2].title  # the heading stays; the model wrote the takeaway
    assert r.changed == [3] and len(m.calls) == 1
    assert_untouched(deck, r.deck, {n: n for n in (1, 2, 4, 5, 6, 7, 8)})


def test_make_slide_a_chart_from_its_own_figures(deck: Deck) -> None:
    points = ["2022: 120 teams", "2023: 340 teams", "2024: 910 teams"]
    slides = list(deck.slides)
    slides[6] = slides[6].model_copy(update={"bullets": points})
    d = deck.model_copy(update={"slides": slides})
    r, _ = revised(d, "make slide 7 a chart")
    chart = r.deck.slides[6].chart
    assert chart is not None and chart.series[0].values == [120, 340, 910]
    assert r.changed == [7]
    assert_untouched(d, r.deck, {n: n for n in range(1, 7)} | {8: 8})


def test_a_chart_without_figures_is_a_question_not_made_up_numbers(deck: Deck) -> None:
    r, m = revise(deck, "make slide 3 a chart")
    assert isinstance(r, Clarify) and "no series of figures" in r.question
    assert not m.calls
    charted, _ = revised(deck, "make slide 3 a chart: 2022 10, 2023 14, 2024 19")
    again, m = revise(charted.deck, "make slide 3 a chart")
    assert isinstance(again, Clarify) and "already a chart" in again.question
    assert not m.calls


def test_shorter_bullets_on_one_slide(deck: Deck) -> None:
    r, m = revised(deck, "shorter bullets on slide 3")
    old, new = deck.slides[2], r.deck.slides[2]
    assert new.kind == "bullets" and len(new.bullets) == len(old.bullets)
    assert sum(map(len, new.bullets)) < sum(map(len, old.bullets))
    assert all(len(b) <= len(a) for a, b in zip(old.bullets, new.bullets, strict=True))
    assert r.changed == [3] and len(m.calls) == 1
    assert_untouched(deck, r.deck, {n: n for n in (1, 2, 4, 5, 6, 7, 8)})


def test_add_a_slide_after_slide_4(deck: Deck) -> None:
    r, m = revised(deck, "add a slide about licensing after slide 4")
    assert len(r.deck.slides) == 9
    new = r.deck.slides[4]
    assert new.title == "Licensing" and new.kind == "bullets" and len(new.bullets) >= 2
    assert r.deck.slides[1].bullets == [s.title for s in r.deck.slides[2:-1]]  # agenda
    assert r.changed == [2, 5]
    assert_untouched(deck, r.deck, {1: 1, 3: 3, 4: 4, 6: 5, 7: 6, 8: 7, 9: 8})
    assert any("Licensing" in c.messages[-1].content for c in m.calls)


def test_remove_the_agenda_is_code_only(deck: Deck) -> None:
    r = run(revise_text(None, deck, "light", "remove the agenda"))
    assert isinstance(r, Revision)
    assert [s.kind for s in r.deck.slides].count("agenda") == 0
    assert len(r.deck.slides) == 7 and r.changed == []
    assert_untouched(deck, r.deck, {1: 1, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8})


def test_merge_slides_6_and_7(deck: Deck) -> None:
    r, m = revised(deck, "merge slides 6 and 7")
    assert len(r.deck.slides) == 7
    merged = r.deck.slides[5]
    assert merged.title == deck.slides[5].title
    assert merged.model_dump_json() != deck.slides[5].model_dump_json()
    assert deck.slides[6].title not in [s.title for s in r.deck.slides]
    assert r.deck.slides[1].bullets == [s.title for s in r.deck.slides[2:-1]]
    assert r.changed == [2, 6]
    assert_untouched(deck, r.deck, {1: 1, 3: 3, 4: 4, 5: 5, 7: 8})
    prompt = m.calls[0].messages[-1].content
    assert deck.slides[6].bullets[0] in prompt  # the second slide's points are offered


def test_translate_the_deck_into_chinese(deck: Deck) -> None:
    r, _ = revised(deck, "translate the deck into Chinese")
    zh = LANGUAGES["zh"]
    assert r.deck.language == "zh"
    assert in_language(r.deck.title, zh)
    for s in r.deck.slides:
        if s.kind in ("bullets", "compare", "process"):
            text = " ".join([s.title, *s.bullets, *(st.text for st in s.steps)])
            assert in_language(text, zh, lenient=True), s
    assert r.deck.slides[1].title == "目录" and r.deck.slides[-1].title == "谢谢"
    assert r.deck.slides[1].bullets == [s.title for s in r.deck.slides[2:-1]]


def test_more_formal_rewrites_the_text_slides_only(deck: Deck) -> None:
    r, m = revised(deck, "more formal")
    assert r.changed == [3, 4, 5, 7]  # the table (data) keeps its cells
    assert_untouched(deck, r.deck, {1: 1, 2: 2, 6: 6, 8: 8})
    assert [s.title for s in r.deck.slides] == [s.title for s in deck.slides]
    assert all("formal" in c.messages[-1].content for c in m.calls)


def test_a_rewrite_that_repeats_another_slide_leaves_that_slide_as_it_was(deck: Deck) -> None:
    model = ScriptedModel(responder=revision_responder(shift=2))  # slide 7 repeats slide 3
    r, _ = revise(deck, "more formal", model=model)
    assert isinstance(r, Revision)
    assert r.changed == [3, 4, 5]
    assert_untouched(deck, r.deck, {1: 1, 2: 2, 6: 6, 7: 7, 8: 8})
    assert "slide 7 was kept as it was" in r.notes


def test_a_new_kind_that_will_not_validate_changes_nothing_and_says_why(deck: Deck) -> None:
    r, m = revise(deck, "turn slide 4 into a timeline")  # no dates in it for a timeline
    assert isinstance(r, Clarify)
    assert "Nothing changed" in r.question and "could not be made a timeline" in r.question
    assert "the label of step 1 must be a date" in r.question  # the pipeline's reason
    assert "became bullets" not in r.question  # the simpler slide was not kept
    assert len(m.calls) <= 4  # two tries as a timeline, the simpler slide it fell back to


def test_a_new_kind_with_another_edit_keeps_the_slide_and_notes_it(deck: Deck) -> None:
    r, _ = revised(deck, "turn slide 4 into a timeline; use the dark theme")
    assert r.theme == "dark" and r.deck.slides[3] == deck.slides[3]
    assert r.notes[0].startswith("slide 4 could not be made a timeline slide: ")
    assert "slide 4 was kept as it was" in r.notes


def test_a_bullet_slide_asked_to_be_a_process_becomes_one_by_code(deck: Deck) -> None:
    r, m = revised(deck, "turn slide 3 into a process")
    assert r.deck.slides[2].kind == "process" and r.changed == [3]
    assert r.deck.slides[2].title == deck.slides[2].title
    # its own points, in order, whole: no model call (the 1.5B took 29-49 s to write it again)
    assert [st.text for st in r.deck.slides[2].steps] == deck.slides[2].bullets
    assert [st.label for st in r.deck.slides[2].steps][:2] == ["Step 1", "Step 2"]
    assert not m.calls
    assert_untouched(deck, r.deck, {n: n for n in (1, 2, 4, 5, 6, 7, 8)})


def test_points_that_do_not_make_the_kind_go_to_the_model(deck: Deck) -> None:
    assert not any(ch.isdigit() for b in deck.slides[2].bullets for ch in b)  # no years
    r, m = revise(deck, "turn slide 3 into a timeline")
    assert m.calls  # the model was asked to write it (the script has no dates either)
    assert isinstance(r, Clarify) and "could not be made a timeline slide" in r.question


def test_two_edits_in_one_request_use_the_numbers_the_user_saw(deck: Deck) -> None:
    r = run(revise_text(None, deck, "light", "remove slide 3; remove slide 5; use the qwen "
                        "theme"))
    assert isinstance(r, Revision) and r.theme == "qwen"
    titles = [s.title for s in r.deck.slides]
    assert deck.slides[2].title not in titles and deck.slides[4].title not in titles
    assert deck.slides[3].title in titles


def test_a_model_that_writes_garbage_makes_no_revision(deck: Deck) -> None:
    bad = ScriptedModel(responder=lambda messages, options: "not json at all")
    with pytest.raises(DeckError):
        run(revise_text(bad, deck, "light", "add a slide about licensing after slide 4"))


def test_removing_every_content_slide_is_refused(deck: Deck) -> None:
    r = run(revise_text(None, deck, "light", "remove slides 3 to 7"))
    assert isinstance(r, Clarify) and "without content slides" in r.question


def test_nothing_changed_is_said(deck: Deck) -> None:
    r = run(revise_text(None, deck, "dark", "use the dark theme"))
    assert isinstance(r, Clarify) and "Nothing changed" in r.question


# ---------------------------------------------------------------- comparing versions


def test_compare_says_which_slides_changed(deck: Deck) -> None:
    r, _ = revised(deck, "add a slide about licensing after slide 4")
    diff = {d.slide: d for d in compare_decks(deck, r.deck)}
    assert diff[5].status == "added" and diff[5].title == "Licensing"
    assert diff[2].status == "changed"  # the agenda lists the new slide
    assert diff[6].status == "same" and diff[6].was == 5
    gone = run(revise_text(None, deck, "light", "remove slide 4"))
    assert isinstance(gone, Revision)
    removed = [d for d in compare_decks(deck, gone.deck) if d.status == "removed"]
    assert [d.was for d in removed] == [4]
