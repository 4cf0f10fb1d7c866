"""A report must answer its question: the list a question is about is found and used.

Replayed on the real text where it went wrong (the OSS Simple Sabotage manual,
``fixtures/sabotage/``): asked what the manual advises for disrupting organizations
and conferences, a report cited general sabotage advice, its "Background" section
came out empty, and the list under "(a) Organizations and Conferences" (insist on
channels, make speeches, refer matters to committees, ...) was never used: the
chunker had put the list's title at the end of a passage about power lines and its
items, under no word of the title, in the next ones.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from fixtures.scripts import extractive_model
from qwenapp.documents import Section, extract
from qwenapp.library import Library, chunk_sections
from qwenapp.reports import Finished, Report, ReportRequest, RunConfig, SourceTools, run_report
from qwenapp.reports.coverage import (
    cover_sections,
    coverage,
    question_parts,
    specific_terms,
    subject_words,
)
from qwenapp.reports.facts import Fact
from qwenapp.reports.model import Passage, SourceRef
from qwenapp.reports.sentences import stem_terms

MANUAL = Path(__file__).parent / "fixtures" / "sabotage"
QUESTION = ("What does the Simple Sabotage Field Manual advise for disrupting organizations "
            "and conferences?")
# the plan the default model wrote for it, with its "Background" section
PLAN = {"title": "Sabotage of organizations and conferences", "sections": [
    {"heading": "Background", "questions": ["What is the Simple Sabotage Field Manual?"]},
    {"heading": "Disrupting organizations", "questions": ["How can organizations be disrupted?"]},
    {"heading": "Disrupting conferences",
     "questions": ["How can conferences and meetings be disrupted?"]},
]}
# the eight items of "(a) Organizations and Conferences", by a phrase each
ITEMS = ("channels", "speeches", "committees", "irrelevant issues", "Haggle",
         "Refer back", "caution", "propriety")


def _chunks() -> list[tuple[str, str]]:
    doc = extract(MANUAL / "manual_part_11.txt")
    return [(c.location, c.text) for c in chunk_sections(doc.sections, 200)]


def test_a_list_title_starts_a_passage_and_its_continuation_keeps_it() -> None:
    chunks = _chunks()
    titled = [(loc, text) for loc, text in chunks if "(a) Organizations and Conferences" in text]
    assert len(titled) == 1
    _, text = titled[0]
    assert text.startswith("(11) _General Interference")  # not after the power-line item
    assert "Linesmen" not in text
    # every passage holding one of the list's items is under its title, in its text or
    # (for the passage the list goes on in) its location, which search indexes
    for item in ("Refer back to matters", "Advocate “caution.”", "Haggle over"):
        (where, body), = [(lc, t) for lc, t in chunks if item in t]
        assert "Organizations and Conferences" in where, (item, where)
        assert "(b) Managers and Supervisors" not in body.split(item)[0]
    (where, _), = [(lc, t) for lc, t in chunks if "Demand written orders" in t]
    assert where.endswith("> Managers and Supervisors")  # the next list, its own title


def test_a_title_never_swallows_a_sentence() -> None:
    text = ("(1) Demand written orders.\n\n(b) Oil and lubrication systems are not only "
            "vulnerable to easy sabotage, but are critical.\n\nEverything else.")
    chunks = chunk_sections([Section(text, "lines 1-5")], 200)
    assert [c.location for c in chunks] == ["lines 1-5"]  # no title there
    assert chunk_sections([Section("HOW THE CASE STANDS\n\nIt stands badly.", "p 1")],
                          200)[0].location == "p 1 > HOW THE CASE STANDS"
    steps = "1. Download the model\n\n2. Run the server\n\n3. Open the page"
    assert [c.location for c in chunk_sections([Section(steps, "Install")], 200)] == ["Install"]


def _report(conn: sqlite3.Connection, docs: Path) -> Report:
    async def main() -> Report:
        req = ReportRequest(question=QUESTION, docs=[str(docs)])
        async for ev in run_report(conn, extractive_model(PLAN), req,
                                   SourceTools(library=Library(conn)),
                                   config=RunConfig(parallel=1)):
            if isinstance(ev, Finished):
                return ev.report
        raise AssertionError("no report")

    return asyncio.run(main())


def test_a_report_on_conferences_answers_from_the_manuals_list(
        conn: sqlite3.Connection, tmp_path: Path) -> None:
    docs = tmp_path / "manual"
    shutil.copytree(MANUAL, docs)
    (docs / "SOURCE.md").unlink()
    rep = _report(conn, docs)
    said = " ".join(s.text for sec in rep.sections for s in sec.sentences)
    used = [item for item in ITEMS if item.lower() in said.lower()]
    assert len(used) >= 6, (used, said)
    for sec in rep.sections:  # no section is empty or said not to be covered
        assert sec.sentences, sec.heading
    # and the figure the benchmark prints agrees: the passages that answer the question
    # best, ranked over the whole corpus, are in the report
    corpus = [(c.location, c.text) for f in sorted(docs.iterdir())
              for c in chunk_sections(extract(f).sections, 200)]
    figure = coverage(rep, corpus)
    assert figure.targets >= 2 and figure.covered == figure.targets, figure


def _p(i: int, text: str, title: str = "notes", location: str = "page 1") -> Passage:
    return Passage(id=i, text=text, source=SourceRef(title=title, locator=f"/{title}",
                                                     location=location))


def test_specific_terms_are_the_questions_subject_within_its_sources() -> None:
    pool = [_p(1, "Sabotage of machines with sand and emery dust.", "simple_sabotage_manual"),
            _p(2, "Sabotage at conferences: make speeches.", "simple_sabotage_manual"),
            _p(3, "Sabotage of organizations: insist on channels.", "simple_sabotage_manual")]
    spec = specific_terms(QUESTION, pool)
    assert spec == stem_terms("organizations conferences")  # not sabotage, manual, advise
    assert subject_words(QUESTION, spec) == ["organizations", "conferences"]


def test_question_parts() -> None:
    assert question_parts("How should the ordinary citizen saboteur be motivated, and what "
                          "risks should he avoid, according to the manual?") == [
        "How should the ordinary citizen saboteur be motivated",
        "what risks should he avoid, according to the manual"]
    zh = "处理敏感个人信息需要满足哪些条件"
    assert question_parts(f"{zh}？") == [zh]


def test_a_section_off_the_question_is_given_facts_on_it_or_flagged() -> None:
    background = _p(1, "The field manual was printed in 1944 for the training of agents.")
    lists = _p(2, "Make long speeches at conferences whenever possible. Refer all matters "
                  "to large committees at conferences.")
    pool = [background, lists]
    spec = specific_terms("How can conferences be disrupted?", pool)
    planned = [[Fact("The field manual was printed in 1944 for the training of agents.", 1,
                     1.0, 0)],
               [Fact("Make long speeches at conferences whenever possible.", 2, 1.0, 0)]]
    sections = [(["Background"], [background]), (["Conferences"], [lists])]
    facts, flagged = cover_sections(planned, sections, "How can conferences be disrupted?", 3,
                                    pool, spec)
    assert flagged == []
    assert [f.text for f in facts[0]] == [
        "Refer all matters to large committees at conferences.",
        "The field manual was printed in 1944 for the training of agents."]
    assert [f.text for f in facts[1]] == ["Make long speeches at conferences whenever "
                                          "possible."]  # not stated twice
    # nothing in the sources speaks to it: flagged, facts kept as they were
    facts, flagged = cover_sections(planned[:1], sections[:1], "How can conferences be "
                                    "disrupted?", 3, [background], spec)
    assert flagged == [0] and facts == planned[:1]


def test_asking_words_and_contents_pages_are_not_answers() -> None:
    """Read in the default model's tenements report: a table of contents line and a
    Waterloo anecdote from the off-topic Art of War ("find himself Commander-in-chief ...
    frame new plans"), matched only by the question's "find" and the "New" of New York."""
    from qwenapp.reports.facts import select_facts

    q = "What living conditions did Jacob Riis find in the tenements of New York?"
    riis = _p(1, "THE ITALIAN IN NEW YORK, 48 CHAPTER VI.\n\nCrazy old buildings, crowded "
                 "rear tenements in filthy yards, dark, damp basements and leaking garrets "
                 "were the living conditions of thousands.", "how_the_other_half_lives_riis")
    war = _p(2, "On the eve of the battle of Waterloo, Lord Uxbridge went to the Duke of "
                "Wellington, because he might suddenly find himself Commander-in-chief and "
                "unable to frame new plans in a critical moment.", "art_of_war")
    pool = [riis, war]
    spec = specific_terms(q, pool)
    assert "find" not in spec and "new" not in spec
    facts = select_facts(["The Tenements of New York", "Where did Riis conduct his research?"],
                         q, pool, 5, pool=pool, specific=spec)
    assert [f.passage_id for f in facts] == [1]
    assert not any("CHAPTER" in f.text for f in facts)
    # the 0.5B's "Main factors" section: the off-topic document shares one subject term
    factors = _p(3, "The art of war is governed by five constant factors, to be taken into "
                    "account when seeking to determine the conditions obtaining in the field.",
                 "art_of_war")
    pool = [riis, factors]
    facts = select_facts(["Main factors", "What living conditions did Riis find? (Main "
                          "factors)"], q, pool, 5, pool=pool, specific=specific_terms(q, pool))
    assert all(f.passage_id == 1 for f in facts)


def test_rows_of_one_table_are_planned_into_one_section() -> None:
    from qwenapp.reports.facts import _rows_together

    early = Fact("The global table gives, for Year 1950: Total 1617.", 1, 2.0, 0, row=True)
    late = Fact("The global table gives, for Year 2024: Total 10527.", 2, 2.0, 0, row=True)
    prose = Fact("The dataset covers fossil CO2 emissions since 1750.", 3, 1.0, 0)
    other = Fact("The global table gives, for Year 2000: Total 6765.", 2, 1.0, 1, row=True)
    planned = _rows_together([[prose, early], [late, other]],
                             {1: "/co2/global.csv", 2: "/co2/global.csv", 3: "/co2/README"})
    assert planned == [[prose], [early, late, other]]  # beside each other: the change is said
