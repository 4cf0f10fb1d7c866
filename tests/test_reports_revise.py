"""Revising a saved report by asking, with the scripted extractive model: only the sections
a request touches are written again (the others byte-identical), under the same
verification as a new report; a new section gathers new passages; questions, not guesses."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fixtures.scripts import extractive_model
from qwenapp.library import Library
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.reports import Finished, Report, ReportRequest, ReportStore, SourceTools, run_report
from qwenapp.reports.model import Plan, PlanSection
from qwenapp.reports.revise import (
    AddSection,
    Clarify,
    ExpandSection,
    RemoveSection,
    ReportRevision,
    Restate,
    parse_report_request,
    revise_report,
)
from qwenapp.reports.verify import support
from qwenapp.reports.versions import ReportVersions, compare_reports

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
QUESTION = "What drove Qwen's adoption among developers?"


def model() -> ScriptedModel:
    base = extractive_model()._responder  # the fixture's responder, wrapped
    assert base is not None

    def respond(messages: Sequence[Message], options: GenerateOptions) -> Any:
        if messages[0].content.startswith("You translate report headings"):
            n = int((options.json_schema or {})["properties"]["lines"]["minItems"])
            return {"lines": ["开发者为何采用千问", "许可", "本地运行", "社区"][:n]}
        return base(messages, options)

    return ScriptedModel(responder=respond)


@pytest.fixture
def made(conn: sqlite3.Connection, tmp_path: Path) -> tuple[Report, SourceTools]:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    tools = SourceTools(library=Library(conn))
    req = ReportRequest(question=QUESTION, docs=[str(docs)], depth="quick")

    async def main() -> Report:
        async for ev in run_report(conn, model(), req, tools):
            if isinstance(ev, Finished):
                return ev.report
        raise AssertionError("no report")

    rep = asyncio.run(main())
    assert [s.heading for s in rep.sections] == ["Licensing", "Running locally"]
    return rep, tools


def revise(conn: sqlite3.Connection, made: tuple[Report, SourceTools],
           request: str) -> tuple[ReportRevision, ScriptedModel]:
    m = model()
    r = asyncio.run(revise_report(conn, m, made[0].id, request, made[1]))
    assert isinstance(r, ReportRevision), r
    return r, m


def verified(rep: Report) -> None:
    """Every sentence cites retrieved passages that the verifier accepts it against."""
    by_id = {p.id: p for p in rep.passages}
    for sec in rep.sections:
        for x in sec.sentences:
            assert x.passage_ids and all(i in by_id for i in x.passage_ids)
            texts = [by_id[i].text for i in x.passage_ids]
            assert support(x.text.strip("“”\" "), texts, rep.question, rep.language).ok, x


def same(a: Any, b: Any) -> bool:
    return bool(a.model_dump_json() == b.model_dump_json())


PLAN = Plan(title="t", sections=[PlanSection(heading="Licensing", questions=["q"]),
                                 PlanSection(heading="Running locally", questions=["q"]),
                                 PlanSection(heading="Risks", questions=["q"])])


@pytest.mark.parametrize("text,edits", [
    ("expand the section on risks", [ExpandSection(3)]),
    ("expand section 2", [ExpandSection(2)]),
    ("shorten the licensing section", [ExpandSection(1, longer=False)]),
    ("add a section on community", [AddSection("Community", 3)]),
    ("add a section about pricing after section 1", [AddSection("Pricing", 1)]),
    ("remove the risks section", [RemoveSection(3)]),
    ("make it shorter", [Restate(length="short")]),
    ("make it longer", [Restate(length="long")]),
    ("write it for a non-technical audience", [Restate(audience="non-technical")]),
    ("translate into Chinese", [Restate(language="zh")]),
    ("翻译成中文", [Restate(language="zh")]),
])
def test_report_requests_are_read_by_rules(text: str, edits: list[object]) -> None:
    assert parse_report_request(text, PLAN, "medium") == edits


@pytest.mark.parametrize("text,asks", [
    ("expand section 7", "no section 7"),
    ("add a section", "What should the new section be about"),
    ("make it sparkle", "could not tell what to change"),
    ("translate it", "Into which language"),
    ("remove a section", "Which section should I remove"),
])
def test_unclear_report_requests_get_a_question(text: str, asks: str) -> None:
    got = parse_report_request(text, PLAN, "medium")
    assert isinstance(got, Clarify) and asks in got.question


def test_expand_one_section_leaves_the_other_as_it_was(conn: sqlite3.Connection,
                                                       made: tuple[Report, SourceTools]) -> None:
    old = made[0]
    r, _ = revise(conn, made, "expand the licensing section")
    new = r.report
    assert r.changed == [1] and new.id != old.id
    assert same(new.sections[1], old.sections[1])  # byte-identical
    assert len(new.sections[0].sentences) > len(old.sections[0].sentences)
    verified(new)
    store = ReportStore(conn)
    assert store.find(old.id).id == old.id  # the old version is still there
    assert store.find(new.id).status == "done"
    chain = ReportVersions(conn).history(new.id)
    assert [(v.version, v.report_id, v.changed) for v in chain] == [(1, old.id, []),
                                                                   (2, new.id, [1])]
    diff = compare_reports(old, new)
    assert [(d.section, d.status) for d in diff] == [(1, "changed"), (2, "same")]


def test_expanding_a_section_the_sources_say_no_more_on_is_said(
        conn: sqlite3.Connection, made: tuple[Report, SourceTools]) -> None:
    got = asyncio.run(revise_report(conn, model(), made[0].id,
                                    "expand the section on running locally", made[1]))
    assert isinstance(got, Clarify)
    assert "Nothing changed" in got.question and "nothing more to say" in got.question


def test_add_a_section_gathers_new_passages(conn: sqlite3.Connection,
                                           made: tuple[Report, SourceTools]) -> None:
    old = made[0]
    r, _ = revise(conn, made, "add a section on model sizes")
    new = r.report
    assert [s.heading for s in new.sections] == ["Licensing", "Running locally",
                                                 "Model sizes"]
    assert r.changed == [3]
    assert same(new.sections[0], old.sections[0]) and same(new.sections[1], old.sections[1])
    old_ids = {p.id for p in old.passages}
    assert {p.id: p.text for p in new.passages if p.id in old_ids} == {
        p.id: p.text for p in old.passages}  # old citations keep their passages
    assert new.sections[2].sentences, new.sections[2]
    cited = {i for x in new.sections[2].sentences for i in x.passage_ids}
    assert cited - old_ids, "the new section rests on newly gathered passages"
    verified(new)


def test_shorter_and_audience_rewrite_every_section(conn: sqlite3.Connection,
                                                   made: tuple[Report, SourceTools]) -> None:
    r, m = revise(conn, made, "write it for a non-technical audience")
    assert r.changed == [1, 2]
    assert any("non-technical" in c.messages[-1].content for c in m.calls)
    verified(r.report)
    short, _ = revise(conn, made, "make it shorter")
    assert ReportStore(conn).request(short.report.id).length == "short"
    assert all(len(s.sentences) <= 3 for s in short.report.sections)
    verified(short.report)


def test_translate_into_chinese(conn: sqlite3.Connection,
                                made: tuple[Report, SourceTools]) -> None:
    r, _ = revise(conn, made, "translate into Chinese")
    assert r.report.language == "zh"
    assert r.report.title == "开发者为何采用千问"
    assert [s.heading for s in r.report.sections] == ["许可", "本地运行"]
    verified(r.report)


def test_a_question_changes_nothing(conn: sqlite3.Connection,
                                    made: tuple[Report, SourceTools]) -> None:
    before = len(ReportStore(conn).recent())
    m = model()
    got = asyncio.run(revise_report(conn, m, made[0].id, "expand section 9", made[1]))
    assert isinstance(got, Clarify) and "no section 9" in got.question
    assert not m.calls and len(ReportStore(conn).recent()) == before


def test_report_revise_on_the_command_line(home: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qwenapp.cli.main import cli
    from qwenapp.server.testing import write_demo_script

    script = "scripted:" + str(write_demo_script(tmp_path / "script.json"))
    runner = CliRunner()
    made = runner.invoke(cli, ["report", "Why do developers adopt Qwen?", "--docs",
                               str(CORPUS / "qwen_adoption.md"), "--depth", "quick", "--model",
                               script], catch_exceptions=False)
    assert made.exit_code == 0, made.stderr
    first = made.stderr.split("saved as report ")[1].split()[0]
    out = tmp_path / "shorter.md"
    r = runner.invoke(cli, ["report", "--revise", first[:12], "add a section on model sizes",
                            "--model", script, "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    assert "revised as report" in r.stderr and "the old report is kept" in r.stderr
    assert out.read_text(encoding="utf-8").startswith("# Why developers adopt Qwen")
    asked = runner.invoke(cli, ["report", "--revise", first, "expand section 9", "--model",
                                script], catch_exceptions=False)
    assert asked.exit_code == 3 and "no section 9" in asked.stdout
    second = r.stderr.split("revised as report ")[1].split(":")[0]
    listed = runner.invoke(cli, ["report", "--versions", second], catch_exceptions=False)
    rows = [ln for ln in listed.stdout.splitlines() if ln.startswith("v")]
    assert [ln.split()[0] for ln in rows] == ["v1", "v2"], listed.stdout
    assert first in rows[0] and second in rows[1] and "model sizes" in rows[1]
    diff = runner.invoke(cli, ["report", "--diff", first, "1", "2"], catch_exceptions=False)
    assert diff.exit_code == 0, diff.stderr
    assert diff.stdout.splitlines() == ["section 1: same  Licensing",
                                        "section 2: same  Running locally",
                                        "section 3: added  Model sizes"], diff.stdout
