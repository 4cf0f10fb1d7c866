"""What a section is given to say: passages and facts, replayed on the 1.5B's bench reports.

Read sentence by sentence, the default model's reports of 2026-12-03 failed in ways
no checker saw, because every sentence was true to its source:

* over Riis's 35-page book beside one off-topic chapter, every section had three
  passages of the book (the per-document cap) and two of the title page and table of
  contents; a 35-page book could not fill a section;
* "Disrupting Conferences" said the sources do not cover it while a padded
  "Background" section quoted the manual's conference tactics;
* a "finding" was a rhetorical question ("What sort of an answer, think you, would
  come from these tenements ...?"), another "They cannot be sabotaged easily ..." (about
  machines, a paragraph earlier), which the summary turned into "It cannot be easily
  sabotaged without risk of injury.";
* asked how emissions changed between 1950 and 2024, the sections got README lines and
  no 2024 row; asked which fuels contributed most in 2024, the report gave the row and
  never said which.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from qwenapp.library import Library
from qwenapp.reports import ReportRequest, SourceTools
from qwenapp.reports.compose import Point, extract_sentences, rank_row, row_dump
from qwenapp.reports.facts import Fact, candidate_sentences, plan_facts, points_back, select_facts
from qwenapp.reports.gather import gather
from qwenapp.reports.model import Gathered, Passage, Plan, PlanSection, SourceRef

MANUAL = Path(__file__).parent / "fixtures" / "sabotage"
SABOTAGE = ("What does the Simple Sabotage Field Manual advise for disrupting organizations "
            "and conferences?")


def _p(i: int, text: str, title: str = "notes", location: str = "page 1") -> Passage:
    return Passage(id=i, text=text, source=SourceRef(title=title, locator=f"/{title}",
                                                     location=location))


def test_a_question_states_nothing_and_a_sentence_that_points_back_weighs_less() -> None:
    text = ("What sort of an answer, think you, would come from these tenements to the "
            "question \"Is life worth living?\" were they heard at all in the discussion? "
            "The tenements to-day are New York, harboring three-fourths of its population.")
    said = [s for _, s in candidate_sentences(_p(1, text))]
    assert said == ["The tenements to-day are New York, harboring three-fourths of its "
                    "population."]
    assert points_back("They cannot be sabotaged easily or without risk of injury.")
    assert points_back("These figures speak for themselves.")
    assert not points_back("There are many ways to waste time at a conference.")
    assert not points_back("Machines cannot be sabotaged easily or without risk of injury.")
    # the same point twice, once pointing back: the one that names its subject is kept
    machines = _p(1, "Machines in a factory are hard to damage. These cannot be sabotaged "
                  "easily by the saboteur without risk of injury.")
    tools = _p(2, "Machines in a factory are hard to damage. Machines cannot be sabotaged "
               "easily by the saboteur without risk of injury.")
    q = "What risks of injury should the saboteur avoid?"
    facts = select_facts(["Risks of sabotage", q], q, [machines, tools], 1)
    assert [f.passage_id for f in facts] == [2]  # the one that says what it is about


def test_a_heading_made_of_the_questions_words_is_what_its_section_is_about() -> None:
    """The 1.5B's plan: "Disrupting Conferences", asked "What are some common ways
    conferences can be disrupted?"; none of the manual's conference items says "common
    ways" or "key techniques", and the section got nothing."""
    items = _p(1, "(a) Organizations and Conferences\n\n(1) Insist on doing everything "
               "through \u201cchannels.\u201d Never permit short-cuts to be taken.\n\n"
               "(2) Bring up irrelevant issues as frequently as possible.\n\n(3) Haggle over "
               "precise wordings of communications, minutes, resolutions.",
               "simple_sabotage_field_manual", "lines 1100-1158")
    general = _p(2, "Simple sabotage does not require specially prepared tools or "
                 "equipment; it is executed by an ordinary citizen.",
                 "simple_sabotage_field_manual", "lines 61-120")
    pool = [items, general]
    facts = select_facts(["Disrupting Conferences",
                          "What are some common ways conferences can be disrupted?",
                          "What are the key techniques described in the manual for "
                          "disrupting conferences?"], SABOTAGE, pool, 5, pool=pool,
                         specific={"conferenc", "organiz", "disrupt"})
    assert len(facts) >= 2 and {f.passage_id for f in facts} == {1}


def test_a_thin_section_takes_facts_from_one_that_has_more_than_it_needs() -> None:
    """The padded "Background" (the whole question) outscored "Disrupting Conferences"
    on every conference item and took all five."""
    items = [f"({i}) {t}" for i, t in enumerate((
        "Make speeches and talk as frequently as possible at conferences.",
        "Bring up irrelevant issues at conferences as frequently as possible.",
        "Haggle over precise wordings of conference minutes and resolutions.",
        "Refer all matters of the conference to committees for further study.",
        "Advocate caution and urge fellow conferees to avoid haste at conferences."),
        start=1)]
    listing = _p(1, "Organizations and Conferences\n\n" + "\n\n".join(items),
                 "simple_sabotage_field_manual")
    background = ([SABOTAGE, f"{SABOTAGE} (Background)"], [listing])
    conferences = (["Disrupting conferences", "How can conferences be disrupted?"], [listing])
    planned = plan_facts([background, conferences], SABOTAGE, 5, [listing])
    assert len(planned[1]) >= 2 and len(planned[0]) >= 3
    assert not {f.text for f in planned[0]} & {f.text for f in planned[1]}


TABLE = ("Year | Total | Gas Fuel | Liquid Fuel | Solid Fuel | Cement | Per Capita\n"
         "{0} | {1} | {2} | {3} | {4} | {5} | {6}")


def test_the_rows_of_the_years_asked_for_are_the_sections_facts() -> None:
    readme = _p(1, "Global CO2 emissions from fossil fuels annually since 1750 through "
                "2024. Data comes from the Global Carbon Project (GCP) annual Global Carbon "
                "Budget release.", "README", "beginning")
    early = _p(2, TABLE.format(1950, 1617, 96, 423, 1058, 18, 0.65), "global", "table global")
    late = _p(3, TABLE.format(2024, 10527, 2184, 3401, 4311, 402, 1.29), "global",
              "table global")
    q = "How did global CO2 emissions from fossil fuels change between 1950 and 2024?"
    pool = [readme, early, late]
    facts = select_facts(["Results", "What are the main findings of the study?"], q, pool, 5,
                         pool=pool, specific={"co2", "emission", "fossil", "1950", "2024"})
    rows = {f.passage_id for f in facts if f.row}
    assert rows == {2, 3}, facts


def test_which_part_is_largest_is_said_by_code_and_a_summary_never_restates_rows() -> None:
    row = ("The global table gives, for Year 2024: Total 10527, Gas Fuel 2184, Liquid Fuel "
           "3401, Solid Fuel 4311, Cement 402, Gas Flaring 113 and Per Capita 1.29.")
    rows = extract_sentences([Point(row, (5,), (TABLE.format(2024, 10527, 2184, 3401, 4311,
                                                             402, 1.29),), table=True)], "en")
    q = ("Which fuels contributed most to global fossil CO2 emissions in 2024, and how much "
         "came from cement?")
    ranked = rank_row(rows, q, "en")
    assert ranked is not None and ranked.passage_ids == [5]
    assert ranked.text == ("In the global table for Year 2024, the largest parts are Solid "
                           "Fuel (4311), Liquid Fuel (3401) and Gas Fuel (2184); Cement is 402.")
    assert rank_row(rows, "How did emissions change over time?", "en") is None
    assert rank_row(rows, "Which fuels contributed most in 1990?", "en") is None
    assert row_dump(rows[0].text) and not row_dump(ranked.text)


def test_a_long_document_fills_a_section_and_a_contents_page_takes_no_place(
        conn: sqlite3.Connection, tmp_path: Path) -> None:
    book = tmp_path / "book.md"
    parts = ["# CONTENTS\n\nTHE TENEMENTS OF NEW YORK, 1\n\nTHE TENEMENTS AGAIN, 9"]
    for i in range(12):
        parts.append(f"## Chapter {i}\n\n" + " ".join(
            f"The tenements of New York in ward {i} held family {j} in a dark room without "
            f"air, and the landlord of tenement {i}-{j} collected the rent each week."
            for j in range(12)))
    book.write_text("\n\n".join(parts), encoding="utf-8")
    other = tmp_path / "war.md"
    other.write_text("# Laying plans\n\nThe art of war is of vital importance to the State. "
                     "The conditions obtaining in the field must be weighed.",
                     encoding="utf-8")
    req = ReportRequest(question="What living conditions did Riis find in the tenements of "
                        "New York?", docs=[str(book), str(other)])
    plan = Plan(title="t", sections=[PlanSection(heading="Living conditions in the tenements",
                                                 questions=["What were the tenements like?"])])

    async def main() -> Gathered:
        async for item in gather(req, plan, SourceTools(library=Library(conn))):
            if isinstance(item, Gathered):
                return item
        raise AssertionError("nothing gathered")

    got = asyncio.run(main())
    mine = [p for p in got.passages if p.id in got.by_section[0]]
    assert sum(1 for p in mine if p.source.locator.endswith("book.md")) > 3
    assert not any("CONTENTS" in p.text for p in mine)
    assert all(isinstance(f, Fact) for f in select_facts(
        ["Living conditions"], req.question, mine, 5))


def test_the_reports_question_is_not_wedged_into_a_fact_under_a_section_of_other_words() -> None:
    """The 1.5B, section "个人信息的保护原则" of the report asking 处理敏感个人信息需要满足哪些
    条件: "处理敏感个人信息需要遵循合法、正当、必要和诚信原则。" over 第五条, which is about all
    personal information; the wedge check saw only the section's words."""
    from qwenapp.reports.compose import realise

    fact = ("第五条 处理个人信息应当遵循合法、正当、必要和诚信原则，"
            "不得通过误导、欺诈、胁迫等方式处理个人信息。")
    points = [Point(fact, (2,), (fact,))]
    out = realise("1. 处理敏感个人信息需要遵循合法、正当、必要和诚信原则。", points,
                  question="个人信息的保护原则 处理个人信息应遵循哪些原则？", lang="zh",
                  asked="处理敏感个人信息需要满足哪些条件？")
    assert [s.origin for s in out.sentences] == ["extract"]  # the fact itself, quoted
    assert "敏感" not in out.sentences[0].text


def test_a_tables_legend_and_a_sentence_cut_after_an_abbreviation_are_not_facts() -> None:
    """Two "findings" of the 1.5B's report on Riis's death rates."""
    text = ("Key A = Five years old and over. The wretched pile harbored no less than forty "
            "families, and the annual rate of deaths was officially stated to be 75 in 1,000. "
            "These figures speak for themselves, when it is shown that in the model tenement "
            "across the way at Nos.")
    said = [s for _, s in candidate_sentences(_p(1, text))]
    assert said == ["The wretched pile harbored no less than forty families, and the annual "
                    "rate of deaths was officially stated to be 75 in 1,000."]


def test_a_tables_change_stays_beside_its_rows_and_a_summary_may_not_pair_their_numbers(
        ) -> None:
    """The 1.5B's CO2 report: the change sentence was dropped as a repeat of the rows
    beside it (every word of it is theirs), and the summary then joined the dataset's
    "since 1750 through 2024" and the 1950 row into "emissions increased ... from 1750 to
    2024, with total emissions increasing from 1617 to 10527"."""
    from qwenapp.reports.assemble import _unrepeated
    from qwenapp.reports.compose import compare_rows, join_rows, realise
    from qwenapp.reports.model import SectionDraft

    late = "The global table gives, for Year 2024: Total 10527 and Gas Fuel 2184."
    early = "The global table gives, for Year 1950: Total 1617 and Gas Fuel 96."
    head = "Year | Total | Gas Fuel\n"
    rows = extract_sentences([Point(late, (5,), (head + "2024 | 10527 | 2184",), table=True),
                              Point(early, (4,), (head + "1950 | 1617 | 96",), table=True)],
                             "en")
    change = compare_rows(rows, "en")
    assert change is not None
    sentences = [*join_rows(rows), change]
    [kept] = _unrepeated([SectionDraft(heading="Background", text="", passage_ids=[4, 5],
                                       sentences=sentences)], "en", [])
    assert [s.text for s in kept.sentences] == [s.text for s in sentences]
    dataset = "Global CO2 emissions from fossil fuels annually since 1750 through 2024."
    points = [Point(early, (4,), (head + "1950 | 1617 | 96",), table=True),
              Point(dataset, (3,), (dataset,))]
    q = "How did global CO2 emissions from fossil fuels change between 1950 and 2024?"
    stitched = ("Global CO2 emissions from fossil fuels grew from 1750 to 2024, with Total "
                "1617 and Gas Fuel 96.")
    out = realise(stitched, points, question=q, lang="en", replace_failed=False,
                  combine=True, asked=q)
    assert all(len(s.passage_ids) < 2 for s in out.sentences), out.sentences


def test_an_english_word_in_a_chinese_sentence_is_not_the_source() -> None:
    """The 1.5B: "个人信息处理者处理不满 fourteen周岁未成年人个人信息的，应当制定专门的个人信息
    处理规则。" over "不满十四周岁"; the fact is quoted instead."""
    from qwenapp.reports.compose import foreign_words, realise

    fact = "个人信息处理者处理不满十四周岁未成年人个人信息的，应当制定专门的个人信息处理规则。"
    p = Point(fact, (2,), (fact,))
    said = "个人信息处理者处理不满 fourteen周岁未成年人个人信息的，应当制定专门的个人信息处理规则。"
    assert foreign_words(said, p, "处理敏感个人信息需要满足哪些条件？", "zh") == ["fourteen"]
    out = realise(f"1. {said}", [p], question="未成年人", lang="zh",
                  asked="处理敏感个人信息需要满足哪些条件？")
    assert [s.origin for s in out.sentences] == ["extract"] and "fourteen" not in \
        out.sentences[0].text
    line = "GGUF 是 llama.cpp 使用的模型文件格式。"
    gguf = Point(line, (1,), (line,))
    assert foreign_words("llama.cpp 读取 GGUF 格式的模型文件。", gguf, "", "zh") == []
    assert foreign_words("It says fourteen.", p, "", "en") == []


def test_the_plan_grammar_holds_the_depths_counts() -> None:
    """The 0.5B wrote three questions a section when asked for two, and the 1.5B a plan
    of two sections for a standard report (code then padded it with "Background")."""
    from qwenapp.reports.plan import DEPTHS, _schema

    schema = _schema(DEPTHS["standard"])
    assert schema["properties"]["sections"]["minItems"] == 3
    assert schema["properties"]["sections"]["maxItems"] == 4
    assert schema["$defs"]["PlanSection"]["properties"]["questions"]["maxItems"] == 2


def test_a_clean_answer_that_fails_the_checks_is_not_asked_for_again() -> None:
    """The 0.5B joined a section's two facts into one sentence that borrowed the question's
    words, twice: the second, hotter try cost a call and said the same."""
    from qwenapp.models.events import GenerateOptions, Message
    from qwenapp.models.scripted import ScriptedModel
    from qwenapp.reports.write import write_section

    said = ("The Simple Sabotage Field Manual advises organizations and conferences to follow "
            "specific acts classified according to their types of target.")

    def respond(messages: list[Message], options: GenerateOptions) -> str:
        return said

    model = ScriptedModel(responder=respond)
    facts = _p(1, "A listing of specific acts follows, classified according to types of "
               "target. As new techniques are developed, or new fields explored, it will be "
               "elaborated and expanded.", "simple_sabotage_field_manual")
    req = ReportRequest(question=SABOTAGE, docs=[])
    chosen = [Fact("A listing of specific acts follows, classified according to types of "
                   "target.", 1, 1.0, 0),
              Fact("As new techniques are developed, or new fields explored, it will be "
                   "elaborated and expanded.", 1, 1.0, 1)]
    draft = asyncio.run(write_section(model, req, "en", PlanSection(
        heading="Disrupting organizations", questions=["How are organizations disrupted?"]),
        [facts], facts=chosen))
    assert len(model.calls) == 1 and draft.fallback
    assert all(s.origin == "extract" for s in draft.sentences)
