"""Report versions from the terminal, with the scripted demo model and a real SQLite file:
``qwenapp report --revise`` works on the newest version whichever version's id it is given,
``--restore ID N`` goes back (a new version, no model), ``--export ID N`` opens any version,
and a version that does not exist is a one-line error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

from qwenapp.cli.main import cli
from qwenapp.server.testing import write_demo_script

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


def _rows(report_id: str) -> list[list[str]]:
    listed = _run("--versions", report_id)
    assert listed.exit_code == 0, listed.stderr
    return [ln.split() for ln in listed.stdout.splitlines() if ln.startswith("v")]


def test_revise_restore_and_export_from_the_terminal(home: Path, tmp_path: Path) -> None:
    script = "scripted:" + str(write_demo_script(tmp_path / "script.json"))
    made = _run("Why do developers adopt Qwen?", "--docs", str(CORPUS / "qwen_adoption.md"),
                "--depth", "quick", "--model", script)
    assert made.exit_code == 0, made.stderr
    first = made.stderr.split("saved as report ")[1].split()[0]
    added = _run("--revise", first, "add a section on model sizes", "--model", script)
    assert added.exit_code == 0, added.stderr
    second = added.stderr.split("revised as report ")[1].split(":")[0]
    assert "## Model sizes" in added.stdout
    assert f"this is version 2, the old report is kept (--versions {second}" in added.stderr

    # v1's id names the chain: the request applies to v2 (which has a section 3), not v1.
    removed = _run("--revise", first, "remove section 3", "--model", script)
    assert removed.exit_code == 0, removed.stdout + removed.stderr
    assert f"revising version 2, the current one (report {second})" in removed.stderr
    third = removed.stderr.split("revised as report ")[1].split(":")[0]
    assert "## Model sizes" not in removed.stdout
    rows = _rows(first)
    assert [(r[0], r[3], r[4]) for r in rows] == [("v1", "report", first),
                                                  ("v2", "report", second),
                                                  ("v3", "report", third)], rows

    # Going back to v2: a new version holding v2's report; no model is named or needed.
    restored = _run("--restore", third, "2")
    assert restored.exit_code == 0, restored.stderr
    assert "## Model sizes" in restored.stdout
    assert "version 4: a copy of version 2" in restored.stderr
    assert "differ from the version it replaces: 3" in restored.stderr
    rows = _rows(first)
    assert rows[-1][:5] == ["v4", *rows[-1][1:3], "report", second]
    assert '"restore' in " ".join(rows[-1])
    # ...and the next revision starts from the restored version.
    again = _run("--revise", first, "remove section 3", "--model", script)
    assert again.exit_code == 0, again.stderr
    assert "revising version 4" in again.stderr and "this is version 5" in again.stderr
    fifth = again.stderr.split("revised as report ")[1].split(":")[0]
    # --list shows each revision by its chain (a restore adds no report of its own).
    listed = {ln.split()[0]: ln for ln in _run("--list").stdout.splitlines()}
    assert len(listed) == 4 and listed[first].endswith("[revised: 5 versions]")
    assert listed[second].endswith(f"[version 2 of report {first}]")
    assert listed[third].endswith(f"[version 3 of report {first}]")
    assert listed[fifth].endswith(f"[version 5 of report {first}]")

    # Any version opens as it was: v1 to a file in another format, v2 on stdout.
    out = tmp_path / "v1.html"
    v1 = _run("--export", first, "1", "-o", str(out))
    assert v1.exit_code == 0, v1.stderr
    page = out.read_text(encoding="utf-8")
    assert "Licensing</h2>" in page and "Model sizes</h2>" not in page
    assert "## Model sizes" in _run("--export", second, "2").stdout

    # Mistakes are one line and change nothing.
    before = _rows(first)
    missing = _run("--restore", first, "9")
    assert missing.exit_code != 0 and "has no version 9" in missing.stderr
    assert "it has versions 1 to 5" in missing.stderr and "Traceback" not in missing.stderr
    current = _run("--restore", first, "5")
    assert current.exit_code != 0 and "already the current one" in current.stderr
    far = _run("--diff", first, "1", "9")
    assert far.exit_code != 0 and "has no version 9" in far.stderr
    assert _run("--diff", fifth, "2", "4").stdout.splitlines() == [
        "section 1: same  Licensing", "section 2: same  Running locally",
        "section 3: same  Model sizes"]
    both = _run("--versions", first, "--export", first, "1")
    assert both.exit_code != 0 and "give one of" in both.stderr
    assert _rows(first) == before
    with sqlite3.connect(home / "qwenapp.db") as db:
        assert db.execute("SELECT count(*) FROM report_versions").fetchone()[0] == 5


def test_a_report_never_revised(home: Path, tmp_path: Path) -> None:
    script = "scripted:" + str(write_demo_script(tmp_path / "script.json"))
    made = _run("Why do developers adopt Qwen?", "--docs", str(CORPUS / "qwen_adoption.md"),
                "--depth", "quick", "--model", script)
    rid = made.stderr.split("saved as report ")[1].split()[0]
    assert "one version" in _run("--versions", rid).stdout
    assert _run("--list").stdout.rstrip().endswith("Why developers adopt Qwen")
    assert _run("--export", rid, "1").stdout == made.stdout
    same = _run("--restore", rid, "1")
    assert same.exit_code != 0 and "already the current one" in same.stderr
    assert _run("--export", rid, "2").exit_code != 0
    assert _run("--diff", rid, "1", "1").stdout.splitlines() == [
        "section 1: same  Licensing", "section 2: same  Running locally"]
