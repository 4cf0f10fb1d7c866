"""``qwenapp slides --from-report ID``: a saved report's sources become a deck."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from pptx import Presentation

from conftest import qwenapp_cmd
from qwenapp.reports import load_report
from qwenapp.slides.scripted import cli_script
from qwenapp.store import open_db

FIXTURES = Path(__file__).parent / "fixtures"


def test_deck_from_a_saved_report(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(cli_env, COLUMNS="500")
    report = subprocess.run(
        [*qwenapp_cmd(), "report", "What drove Qwen's adoption among developers?",
         "--docs", str(FIXTURES / "corpus"), "--model",
         f"scripted:{FIXTURES / 'scripted_report.json'}", "-o", str(tmp_path / "r.md")],
        env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert report.returncode == 0, report.stderr
    listed = subprocess.run([*qwenapp_cmd(), "report", "--list"], env=env,
                            capture_output=True, text=True, timeout=60)
    ids = re.findall(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", listed.stdout + listed.stderr)
    assert ids, listed.stdout + listed.stderr
    out = tmp_path / "deck.pptx"
    script = cli_script(tmp_path / "deck-script.json", "Qwen adoption", 4)
    deck = subprocess.run(
        [*qwenapp_cmd(), "slides", "--from-report", ids[0][:10], "-n", "4", "-o", str(out),
         "--model", f"scripted:{script}", "--json"],
        env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert deck.returncode == 0, deck.stderr
    assert "passage(s)" in deck.stderr
    assert json.loads(deck.stdout)
    pres = Presentation(str(out))
    assert len(pres.slides) == 4
    notes = " ".join(s.notes_slide.notes_text_frame.text for s in pres.slides
                     if s.has_notes_slide)
    report_obj = load_report(open_db(Path(env["QWENAPP_HOME"]) / "qwenapp.db"), ids[0])
    titles = {p.source.title for p in report_obj.passages}
    assert any(t in notes for t in titles), notes  # notes cite the report's own sources


def test_unknown_report_is_a_one_line_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = subprocess.run([*qwenapp_cmd(), "slides", "--from-report", "01ZZZZZZZZ", "-o",
                        str(tmp_path / "d.pptx"), "--model", "scripted"],
                       env=cli_env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    assert not (tmp_path / "d.pptx").exists()
