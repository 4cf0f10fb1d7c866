"""The citation dialog in the real page (headless Chromium) opens the supporting passage of
the clicked sentence, from sentence provenance in report.json.

The report is made by the real pipeline (scripted model) over the fixture corpus, dumped
as the server dumps report.json, and rendered by the page's own modules
(``markdown.js`` with ``citations.js``), so the test clicks what a user clicks.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CHROMIUM, open_app
from fixtures.scripts import extractive_model
from qwenapp.library import Library
from qwenapp.models.scripted import load_script
from qwenapp.reports import Finished, Report, ReportRequest, RunConfig, SourceTools, run_report
from qwenapp.reports.render import to_markdown
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server, write_demo_script
from qwenapp.settings import load_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
CORPUS = Path(__file__).parent / "fixtures" / "corpus"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    script = write_demo_script(home / "script.json")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=10_000, burst=10_000),
                          report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url:
        yield url


def _report(conn: sqlite3.Connection, tmp: Path) -> Report:
    docs = tmp / "docs"
    shutil.copytree(CORPUS, docs)
    req = ReportRequest(question="What drove Qwen's adoption among developers?",
                        docs=[str(docs)], depth="quick")

    async def main() -> Report:
        last = None
        async for ev in run_report(conn, extractive_model(), req,
                                   SourceTools(library=Library(conn)),
                                   config=RunConfig(parallel=1)):
            last = ev
        assert isinstance(last, Finished)
        return last.report

    return asyncio.run(main())


def test_a_citation_opens_the_passage_of_its_sentence(server: str, conn: sqlite3.Connection,
                                                      tmp_path: Path) -> None:
    report = _report(conn, tmp_path)
    # two sentences citing the same passage: each click must show its own support
    section = next(s for s in report.sections
                   if len({tuple(x.refs) for x in s.sentences}) < len(s.sentences))
    first, second = [x for x in section.sentences if x.refs == section.sentences[0].refs][:2]
    with open_app(server) as page:
        page.evaluate("""async ([md, report]) => {
            const { renderInto } = await import("/static/markdown.js");
            const { reportSources, showSource } = await import("/static/citations.js");
            const box = document.createElement("div");
            box.id = "under-test";
            document.body.prepend(box);
            renderInto(box, md, { sources: reportSources(report), onCite: showSource,
                                  copyLabel: "copy" });
        }""", [to_markdown(report), report.model_dump(mode="json")])
        for sentence in (second, first):
            # click the chip right after this sentence, as a reader would
            page.evaluate("""(probe) => {
                const chips = [...document.querySelectorAll("#under-test button.cite")];
                const chip = chips.find((c) => {
                    const before = c.previousSibling;
                    return before && before.textContent.trim().endsWith(probe);
                });
                chip.click();
            }""", sentence.text.rstrip(".")[-30:])
            dialog = page.locator("dialog.source")
            dialog.wait_for()
            assert dialog.locator(".cited-sentence").inner_text() == sentence.text
            marked = " ".join(dialog.locator("blockquote mark").inner_text().split())
            assert marked and marked in sentence.fact  # the supporting sentence
            assert "support" in dialog.locator(".provenance").inner_text()
            passage = report.passage(sentence.refs[0])
            assert passage is not None
            assert dialog.locator("blockquote").inner_text().strip() == \
                passage.text.strip()
            dialog.locator("button").click()
            dialog.wait_for(state="detached")
