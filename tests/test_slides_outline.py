"""Validation and repair of the model's structured output, and the checks behind it."""

from __future__ import annotations

import json

import pytest

from qwenapp.models.scripted import minimal_instance
from qwenapp.slides.checks import (
    clean_line,
    extract_numbers,
    placeholder_reason,
    similar,
)
from qwenapp.slides.content import long_lines, parse_slide, quotable
from qwenapp.slides.language import LANGUAGES, cjk_ratio, in_language, resolve_language
from qwenapp.slides.outline import (
    Invalid,
    PlannedSlide,
    Rules,
    limits_for,
    outline_schema,
    parse_json,
    parse_outline,
    slide_budget,
    slide_schema,
)
from qwenapp.slides.prompts import Brief, instruction_text, outline_messages
from qwenapp.slides.sources import Passage

EN, ZH = LANGUAGES["en"], LANGUAGES["zh"]


def rules(lang: object = EN, numbers: frozenset[float] = frozenset()) -> Rules:
    return Rules(lang, limits_for(lang), instruction_text(lang), numbers)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "Presentation Title", "First bullet point", "Row 1, Col 1", "Click to add title",
    "Lorem ipsum dolor", "Your title here", "Bullet point 3", "Subtitle", "TBD", "...",
    "xxx", "Insert text here", "{title}", "[Your name]", "单击此处添加标题", "要点一", "标题",
    "Speaker notes here", "Category 2", "Heading 1",
])
def test_placeholder_text_is_detected(text: str) -> None:
    assert placeholder_reason(text) is not None


@pytest.mark.parametrize("text", [
    "Apache 2.0 licensing allows commercial use", "Qwen2.5 ships in sizes from 0.5B to 72B",
    "Step-by-step adoption in three teams", "安全第一的部署策略", "下载量超过四千万次",
    "Row-level security in the database",
])
def test_real_content_is_not_a_placeholder(text: str) -> None:
    assert placeholder_reason(text) is None


def test_clean_line_strips_markers_and_quotes() -> None:
    assert clean_line("  - Open   weights ") == "Open weights"
    assert clean_line("1. First real fact") == "First real fact"
    assert clean_line('"Quoted"') == "Quoted"
    assert clean_line("• 中文要点") == "中文要点"


def test_numbers_and_similarity() -> None:
    assert extract_numbers("40 million, 1,234.5 users, 45% and -3 in 2024") == {
        40.0, 1234.5, 45.0, -3.0, 2024.0}
    assert similar(["Open weights drive adoption"], ["Adoption is driven by open weights"], 0.4)
    assert not similar(["Open weights"], ["Chinese language quality"])


def test_language_resolution_and_script_checks() -> None:
    assert resolve_language(None, "为什么千问模型领先") is ZH
    assert resolve_language(None, "Why Qwen leads") is EN
    assert resolve_language("Chinese", "Why Qwen leads") is ZH
    assert resolve_language("zh-CN", "x") is ZH
    with pytest.raises(Exception, match="unsupported --language"):
        resolve_language("klingon", "x")
    assert cjk_ratio("Qwen 模型") > 0.4
    assert in_language("千问模型的下载量在开发者中领先", ZH)
    assert not in_language("Qwen models lead downloads among developers", ZH)
    assert in_language("Hugging Face 下载量", ZH, lenient=True)
    assert not in_language("千问模型的下载量领先", EN)


def outline_json(heads: list[str], kinds: list[str] | None = None, title: str = "Qwen adoption",
                 sub: str = "For developers") -> str:
    kinds = kinds or ["bullets"] * len(heads)
    return json.dumps({"title": title, "sub": sub, "slides": [
        {"head": h, "kind": k} for h, k in zip(heads, kinds, strict=True)]})


def test_outline_is_clamped_to_the_count_and_deduplicated() -> None:
    heads = ["Licensing", "Model sizes", "Licensing", "licensing!", "Coding models",
             "Multilingual strength", "Community"] + ["Licensing"] * 35  # a looping model
    out = parse_outline(outline_json(heads), 4, ["bullets", "compare", "table"], rules())
    assert [s.heading for s in out.slides] == ["Licensing", "Model sizes", "Coding models",
                                               "Multilingual strength"]


def test_outline_with_too_few_distinct_slides_is_invalid() -> None:
    with pytest.raises(Invalid, match="only 2 distinct"):
        parse_outline(outline_json(["Licensing", "Sizes", "Licensing", "licensing"]), 6,
                      ["bullets"], rules())
    # at least half: the pipeline asks for the missing headings one by one
    out = parse_outline(outline_json(["Licensing", "Sizes", "Licensing"]), 3, ["bullets"], rules())
    assert [s.heading for s in out.slides] == ["Licensing", "Sizes"]


def test_outline_copied_from_a_template_is_invalid() -> None:
    with pytest.raises(Invalid, match="placeholder"):
        parse_outline(outline_json(["Slide Title", "Second point"], title="Presentation Title"),
                      2, ["bullets"], rules())


def test_outline_in_the_wrong_language_is_invalid() -> None:
    with pytest.raises(Invalid, match="not written in"):
        parse_outline(outline_json(["Open licensing for everyone", "Many model sizes"],
                                   title="Why Qwen leads"), 2, ["bullets"], rules(ZH))


def test_outline_kinds_are_sanitised_and_balanced() -> None:
    heads = ["Licensing", "Sizes", "Coding", "Languages", "Community", "Costs"]
    out = parse_outline(outline_json(heads, ["table"] * 5 + ["chart"]), 6,
                        ["bullets", "compare", "table"], rules())
    kinds = [s.kind for s in out.slides]
    assert kinds.count("table") == 1 and "chart" not in kinds  # variety: one of each kind


def test_schema_bounds_keep_answers_short() -> None:
    lim = limits_for(EN)
    schema = outline_schema(5, ["bullets", "kpi"], lim)
    assert schema["properties"]["slides"]["minItems"] == schema["properties"]["slides"]["maxItems"]
    bullets = slide_schema("bullets", lim, ["S1", "S2"])
    assert bullets["properties"]["points"]["maxItems"] == 4
    assert bullets["properties"]["src"]["items"]["enum"] == ["S1", "S2"]
    for lang in (EN, ZH):
        for kind in ("bullets", "compare", "table", "kpi", "quote", "process", "timeline"):
            assert 100 <= slide_budget(kind, limits_for(lang), True) <= 512


def test_the_minimal_schema_instance_is_rejected() -> None:
    """What a model that only satisfies the grammar would send: not content."""
    lim = limits_for(EN)
    for kind in ("bullets", "compare", "table", "kpi", "quote", "process", "timeline"):
        reply = json.dumps(minimal_instance(slide_schema(kind, lim)))  # type: ignore[arg-type]
        with pytest.raises(Invalid):
            parse_slide(reply, PlannedSlide(kind, "Licensing"), rules())  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        parse_outline(json.dumps(minimal_instance(outline_schema(3, ["bullets"], lim))), 3,
                      ["bullets"], rules())


def test_bullets_are_cleaned_deduplicated_and_noted() -> None:
    reply = json.dumps({"points": ["- Apache 2.0 allows commercial use",
                                   "Apache 2.0 allows commercial use",
                                   "Sizes run from 0.5B to 72B"], "notes": ""})
    slide = parse_slide(reply, PlannedSlide("bullets", "Licensing"), rules()).slide
    assert slide.bullets == ["Apache 2.0 allows commercial use", "Sizes run from 0.5B to 72B"]
    assert slide.notes  # empty notes are repaired from the slide's own words


def test_kpi_figures_must_come_from_the_sources() -> None:
    r = rules(numbers=frozenset({40.0, 35.0, 12.0}))
    ok = json.dumps({"stats": [{"v": "40 M", "l": "Qwen downloads"},
                               {"v": "35 M", "l": "Llama downloads"}], "notes": "Downloads."})
    slide = parse_slide(ok, PlannedSlide("kpi", "Downloads at a glance"), r).slide
    assert [s.value for s in slide.stats] == ["40 M", "35 M"]
    made_up = json.dumps({"stats": [{"v": "40 M", "l": "Qwen downloads"},
                                    {"v": "99%", "l": "satisfaction"}], "notes": "x"})
    with pytest.raises(Invalid) as e:
        parse_slide(made_up, PlannedSlide("kpi", "Downloads"), r)
    assert e.value.numbers and "99" in e.value.reason


def test_a_quote_must_be_verbatim_from_a_source() -> None:
    text = ("The licence lets any company ship products on the weights, said the lead "
            "maintainer, and that changed how teams plan.")
    offered = [Passage("S1", "interview.md", "page 2", f"Intro. {text} More text follows.")]
    assert quotable(offered) == [text]
    reply = json.dumps({"q": text, "by": "the lead maintainer", "notes": "A quote."})
    slide = parse_slide(reply, PlannedSlide("quote", "In their words"), rules(), offered).slide
    assert slide.quote is not None and slide.quote.attribution == "the lead maintainer"
    assert [s.id for s in slide.sources] == ["S1"]
    invented = json.dumps({"q": "Open models will replace every closed model by next year.",
                           "by": "Someone", "notes": "A quote."})
    with pytest.raises(Invalid, match="word for word"):
        parse_slide(invented, PlannedSlide("quote", "In their words"), rules(), offered)


def test_process_and_timeline_steps() -> None:
    steps = {"steps": [{"l": "Assess", "t": "List the tasks a model could take over"},
                       {"l": "Pilot", "t": "Run one task on a small model for a month"},
                       {"l": "Scale", "t": "Move the tasks that worked onto shared servers"}],
             "notes": "Three steps."}
    slide = parse_slide(json.dumps(steps), PlannedSlide("process", "Adoption path"),
                        rules()).slide
    assert [s.label for s in slide.steps] == ["Assess", "Pilot", "Scale"]
    with pytest.raises(Invalid, match="date or period"):  # a timeline needs dates
        parse_slide(json.dumps(steps), PlannedSlide("timeline", "Milestones"), rules())
    dated = {"steps": [{"l": "2023", "t": "First open release"},
                       {"l": "2024", "t": "Coder models ship"},
                       {"l": "2025", "t": "Adoption spreads to enterprises"}], "notes": "x"}
    slide = parse_slide(json.dumps(dated), PlannedSlide("timeline", "Milestones"),
                        rules(numbers=frozenset({2023.0, 2024.0, 2025.0}))).slide
    assert [s.label for s in slide.steps] == ["2023", "2024", "2025"]


def test_bullets_that_restate_the_heading_are_dropped() -> None:
    """The data.md case: three bullets that were the heading with a quarter in front."""
    reply = json.dumps({"points": ["Q1: Qwen downloads by quarter", "Q2: Qwen downloads by quarter",
                                   "Q3: Qwen downloads by quarter"], "notes": ""})
    with pytest.raises(Invalid, match="restate the heading"):
        parse_slide(reply, PlannedSlide("bullets", "Qwen downloads by quarter"), rules())


def test_table_rows_are_repaired_to_the_header_width() -> None:
    reply = json.dumps({"cols": ["Model", "Sizes", "Use"], "rows": [
        ["Qwen2.5", "0.5B-72B"], ["Coder", "0.5B-32B", "Code", "extra"], ["Coder", "0.5B-32B",
                                                                          "Code", "extra"]],
        "notes": "The family."})
    slide = parse_slide(reply, PlannedSlide("table", "Family"), rules()).slide
    assert slide.table is not None
    assert slide.table.rows == [["Qwen2.5", "0.5B-72B", ""], ["Coder", "0.5B-32B", "Code"]]
    bad = json.dumps({"cols": ["Area", "Owner"], "rows": [["Row 1, Col 1", "x1"], ["y", "z"]],
                      "notes": "n n n n n n"})
    with pytest.raises(Invalid, match="table cell"):
        parse_slide(bad, PlannedSlide("table", "Family"), rules())


def test_cited_sources_are_mapped_and_unknown_ids_dropped() -> None:
    offered = [Passage("S1", "notes.md", "Licensing", "Apache 2.0"),
               Passage("S2", "report.pdf", "page 3", "sizes")]
    reply = json.dumps({"src": ["S2", "S9"], "points": ["Apache 2.0 for most models",
                                                        "Sizes from 0.5B to 72B"],
                        "notes": "Licensing first."})
    slide = parse_slide(reply, PlannedSlide("bullets", "Licensing"), rules(), offered).slide
    assert [s.id for s in slide.sources] == ["S2"]
    assert "Sources: report.pdf, page 3" in slide.notes_text()


def test_json_is_found_in_fences_and_truncation_is_invalid() -> None:
    assert parse_json('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json('Here you go: {"a": 1} done') == {"a": 1}
    with pytest.raises(Invalid, match="cut off"):
        parse_json('{"points": ["one", "tw')


def test_prompts_hold_no_copyable_example_content() -> None:
    for lang in (EN, ZH):
        messages = outline_messages(Brief("Qwen adoption", lang), 5,
                                    ["bullets", "compare", "table", "kpi"], "")
        text = "\n".join(m.content for m in messages)
        assert "{" not in text.replace('"', "")  # no JSON sample to copy
        for sample in ("Presentation Title", "First bullet", "Row 1", "Example", "例如", "示例"):
            assert sample not in text
        if lang is ZH:
            assert "简体中文" in messages[0].content


def test_long_lines_are_never_cut_but_listed_for_shortening() -> None:
    text = ("Qwen ships open weights under Apache 2.0, which lets teams build products, "
            "and that matters more than any benchmark number they could quote")
    reply = json.dumps({"points": [text, "Sizes run from 0.5B to 72B"], "notes": ""})
    slide = parse_slide(reply, PlannedSlide("bullets", "Licensing"), rules()).slide
    assert slide.bullets[0] == text  # kept whole: the pipeline asks for a shorter version
    assert long_lines(slide, 64, 100) == [text]
    cut = json.dumps({"points": ["Developers like them due to their efficiency and…",
                                 "Sizes run from 0.5B to 72B", "Apache 2.0 covers most sizes"],
                      "notes": ""})
    slide = parse_slide(cut, PlannedSlide("bullets", "Licensing"), rules()).slide
    assert slide.bullets == ["Sizes run from 0.5B to 72B", "Apache 2.0 covers most sizes"]


def test_schemas_leave_string_lengths_to_validation() -> None:
    """maxLength makes llama.cpp grammars very slow; lengths are checked after decoding."""
    blob = json.dumps([slide_schema(k, limits_for(EN), ["S1"])  # type: ignore[arg-type]
                       for k in ("bullets", "compare", "table", "kpi", "process")])
    assert "maxLength" not in blob and "minLength" not in blob


def test_chinese_similarity_uses_character_pairs() -> None:
    a = "通义千问模型采用开源许可证发布"
    b = "通义千问模型在开发者中下载量领先"
    assert not similar([a], [b], 0.6)  # same topic, different statements
    assert similar([a], ["通义千问模型采用开源许可证发布。"], 0.9)


def test_a_point_restating_another_is_dropped() -> None:
    reply = json.dumps({"points": ["为开源人工智能的普及提供了有力的推动",
                                   "通义千问模型的普及，为开源人工智能的普及提供了有力的推动",
                                   "千问覆盖从零点五到七百二十亿参数的多种规模"],
                        "notes": "千问模型推动了开源人工智能的普及。"})
    slide = parse_slide(reply, PlannedSlide("bullets", "普及"), rules(ZH)).slide
    assert len(slide.bullets) == 2


def test_comparison_columns_must_not_copy_other_headings() -> None:
    reply = json.dumps({"left": {"head": "What is Qwen?", "points": ["A model family", "Open"]},
                        "right": {"head": "Why is it popular?", "points": ["Downloads", "Sizes"]},
                        "notes": "Two sides."})
    planned = PlannedSlide("compare", "Two ways to run Qwen")
    with pytest.raises(Invalid, match="copy other slides"):
        parse_slide(reply, planned, rules(), others=["What is Qwen?", "Why is it popular?"])
    assert parse_slide(reply, planned, rules(), others=["Licensing"]).slide.left is not None
    # a heading that names the two sides gives the columns their names (the 1.5B wrote
    # one name on both columns of "Open-Weight vs. Closed-Weight Models", three times)
    named = parse_slide(reply, PlannedSlide("compare", "Qwen against Llama"), rules(),
                        others=["What is Qwen?", "Why is it popular?"]).slide
    assert named.left is not None and named.right is not None
    assert (named.left.heading, named.right.heading) == ("Qwen", "Llama")


def test_an_outline_of_only_bullets_gets_the_kinds_its_headings_name() -> None:
    """The 0.5B planned every slide as bullets ("How do they work?" included): a deck of
    walls of text. Headings that name a process or a comparison now get that kind."""
    from qwenapp.slides.outline import PlannedSlide, _vary

    plain = [PlannedSlide("bullets", h) for h in (
        "What open weights mean for a team", "How a model goes from download to production",
        "Hosted APIs or open weights?", "Where the savings come from")]
    kinds = ["bullets", "compare", "process", "table"]
    got = _vary(plain, kinds)  # type: ignore[arg-type]
    assert [p.kind for p in got] == ["bullets", "process", "compare", "bullets"]
    assert [p.heading for p in got] == [p.heading for p in plain]
    assert _vary(plain, ["bullets"]) == plain  # only the kinds offered
    mixed = [PlannedSlide("kpi", "Adoption in numbers"), *plain[1:]]
    assert _vary(mixed, kinds) == mixed  # the model chose kinds: they stand  # type: ignore[arg-type]


def test_headings_that_could_top_any_deck_are_generic() -> None:
    """The 1.5B planned "Advantages" and "Challenges" for a deck on open-weight models."""
    from qwenapp.slides.outline import generic

    for h in ("Advantages", "Challenges", "Key benefits", "Future outlook", "优势", "挑战"):
        assert generic(h), h
    for h in ("Advantages of running models locally", "开源许可降低门槛",
              "Challenges in evaluating small models"):
        assert not generic(h), h


def test_a_point_that_only_says_another_slides_heading_is_no_point() -> None:
    """The 1.5B's Chinese deck (bench, 2026-12-03): its '开源大模型的隐私保护' slide listed
    two other slides' headings as its points, and the deck shipped it."""
    zh = LANGUAGES["zh"]
    others = ["开源大模型的应用场景", "开源大模型的定义与特点", "开源大模型的优势"]
    reply = json.dumps({"points": ["开源大模型的定义与特点", "开源大模型的优势"]},
                       ensure_ascii=False)
    with pytest.raises(Invalid, match="distinct points"):
        parse_slide(reply, PlannedSlide("bullets", "开源大模型的隐私保护"), rules(zh),
                    others=others)
    kept = json.dumps({"points": ["模型可以部署在本地，数据不离开企业网络", "开源大模型的优势",
                                  "代码公开，便于审查数据流向"]}, ensure_ascii=False)
    slide = parse_slide(kept, PlannedSlide("bullets", "开源大模型的隐私保护"), rules(zh),
                        others=others).slide
    assert slide.bullets == ["模型可以部署在本地，数据不离开企业网络", "代码公开，便于审查数据流向"]
