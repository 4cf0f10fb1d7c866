"""The citation validator and assembly: pure functions, no model."""

from __future__ import annotations

import pytest

from qwenapp.reports import assemble, check_citations, citation_support, overlap
from qwenapp.reports.cite import attribute_uncited, renumber, sentences_with_citations
from qwenapp.reports.model import Gathered, Passage, Plan, PlanSection, SectionDraft, SourceRef
from qwenapp.reports.write import clean_model_text


@pytest.mark.parametrize(("text", "expected"), [
    ("A [1].", "A [1]."),
    ("A【2】.", "A[2]."),
    ("A ［1］ and B.", "A [1] and B."),
    ("A [1, 2].", "A [1][2]."),
    ("A [1，2、3].", "A [1][2][3]."),
    ("A [Source 2].", "A [2]."),
    ("A [passage 1; passage 3].", "A [1][3]."),
    ("A [^3].", "A [3]."),
    ("A [1-3].", "A [1][2][3]."),
    ("A [来源 2]。", "A [2]。"),
    ("A [2] [2].", "A [2]."),
])
def test_repairs(text: str, expected: str) -> None:
    assert check_citations(text, {1, 2, 3}).text == expected


def test_unknown_ids_removed() -> None:
    c = check_citations("Claim [1][7]. Other claim [9]. Mixed [2, 8].", {1, 2})
    assert c.text == "Claim [1]. Other claim. Mixed [2]."
    assert c.cited == [1, 2] and sorted(c.removed) == [7, 8, 9]
    assert c.supported


def test_no_citations_is_unsupported() -> None:
    c = check_citations("Nothing cited here [5].", {1})
    assert not c.supported and c.text == "Nothing cited here."


def test_years_and_plain_brackets_untouched() -> None:
    text = "In 2024 the array a[i] grew (see figure 2)."
    assert check_citations(text, {1}).text == text


def test_renumber() -> None:
    assert renumber("x [3] y [5][3]", {3: 1, 5: 2}) == "x [1] y [2][1]"
    assert renumber("x [4]", {}) == "x "


def test_sentences_with_citations() -> None:
    s = sentences_with_citations("First claim [1]. Second one. [2] Third [3][1]!\n\n千问很好[2]。")
    assert [(x.text, x.ids) for x in s] == [
        ("First claim.", [1]), ("Second one.", [2]), ("Third!", [3, 1]), ("千问很好。", [2])]


def test_overlap() -> None:
    p = "Qwen 2.5 models are released under the Apache 2.0 license."
    assert overlap("Qwen models use the Apache 2.0 license", p) > 0.7
    assert overlap("Tomatoes need water", p) == 0.0
    assert overlap("千问采用 Apache 许可", "千问 2.5 的大多数模型采用 Apache 2.0 许可") > 0.7


def _passage(i: int, text: str) -> Passage:
    return Passage(id=i, text=text, source=SourceRef(title=f"doc{i}", locator=f"/d/{i}.md",
                                                      location=f"page {i}"))


def test_assemble_numbers_by_first_use_and_guards_summary() -> None:
    passages = [_passage(i, t) for i, t in [(1, "alpha beta gamma"), (2, "delta epsilon"),
                                              (3, "zeta eta theta"), (4, "never cited")]]
    plan = Plan(title="T", sections=[PlanSection(heading="A", questions=["q"]),
                                     PlanSection(heading="B", questions=["q"])])
    drafts = [SectionDraft(heading="A", text="Delta epsilon [2]. Alpha beta [1].",
                           passage_ids=[1, 2]),
              SectionDraft(heading="B", text="Zeta theta [3] and smuggled [4].",
                           passage_ids=[3])]
    rep = assemble(report_id="R", question="q", language="en", plan=plan,
                   gathered=Gathered(passages=passages, by_section=[[1, 2], [3]]),
                   drafts=drafts, summary="Delta [2] and [4].", conclusion="Alpha [1].")
    assert rep.sections[0].text == "Delta epsilon [1]. Alpha beta [2]."
    assert rep.sections[1].text == "Zeta theta [3] and smuggled."
    assert rep.summary == "Delta [1] and."
    assert [(r.number, r.passage_id) for r in rep.references] == [(1, 2), (2, 1), (3, 3)]
    assert rep.passage(1) is not None and rep.passage(1).text == "delta epsilon"  # type: ignore[union-attr]
    assert any("removed 1 citation" in w for w in rep.warnings)
    assert len(rep.passages) == 4  # all retrieved passages are kept for slides
    supported, total = citation_support(rep)
    assert total == 5 and supported == 5


def test_unsupported_section_flagged() -> None:
    plan = Plan(title="T", sections=[PlanSection(heading="A", questions=["q"])])
    rep = assemble(report_id="R", question="q", language="en", plan=plan,
                   gathered=Gathered(passages=[_passage(1, "x y z")], by_section=[[1]]),
                   drafts=[SectionDraft(heading="A", text="Invented claim [5].",
                                        passage_ids=[1])],
                   summary="", conclusion="")
    assert not rep.sections[0].supported and rep.references == []
    assert any("cites no source" in w for w in rep.warnings)


def test_weak_support_counted() -> None:
    plan = Plan(title="T", sections=[PlanSection(heading="A", questions=["q"])])
    rep = assemble(report_id="R", question="q", language="en", plan=plan,
                   gathered=Gathered(passages=[_passage(1, "Qwen uses the Apache license")],
                                     by_section=[[1]]),
                   drafts=[SectionDraft(heading="A", text="Qwen uses the Apache license [1]. "
                                        "Pirates sail the seven seas [1].", passage_ids=[1])],
                   summary="", conclusion="")
    assert rep.sections[0].weak_sentences == 1
    assert citation_support(rep) == (1, 2)


@pytest.mark.parametrize(("raw", "expected"), [
    ("<think>secret plan</think>Answer [1].", "Answer [1]."),
    ("<think>never closed", ""),
    ("## Licensing\nBody text.", "Body text."),
    ("Licensing:\nBody text.", "Body text."),
])
def test_clean_model_text(raw: str, expected: str) -> None:
    assert clean_model_text(raw, "Licensing") == expected


def test_clean_truncated_drops_half_sentence() -> None:
    assert clean_model_text("Full sentence [1]. Half a sen", truncated=True) == \
        "Full sentence [1]."
    assert clean_model_text("完整的句子[1]。半句", truncated=True) == "完整的句子[1]。"


def test_attribution_of_copied_sentences() -> None:
    passages = {1: "Most Qwen 2.5 models are released under the Apache 2.0 license, which "
                   "allows commercial use.",
                2: "A 1.5B model runs on two CPU cores at ten tokens per second."}
    text, added = attribute_uncited(
        "Qwen 2.5 models use the Apache 2.0 license allowing commercial use. Pirates are fun "
        "and sail the seas. It runs on two CPU cores at ten tokens per second [2].", passages)
    assert added == 1
    assert text == ("Qwen 2.5 models use the Apache 2.0 license allowing commercial use [1]. "
                    "Pirates are fun and sail the seas. It runs on two CPU cores at ten tokens "
                    "per second [2].")
    source = {4: "千问 2.5 的大多数模型采用 Apache 2.0 许可，允许商业使用"}
    zh, n = attribute_uncited("千问的大多数模型采用 Apache 2.0 许可。", source)
    assert n == 1 and zh == "千问的大多数模型采用 Apache 2.0 许可[4]。"
    assert attribute_uncited("Short one.", passages) == ("Short one.", 0)
