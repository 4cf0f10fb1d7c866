"""``qwenapp slides --revise / --versions / --diff / --restore / --export`` through the real
console script, and the revised deck opened by LibreOffice."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pptx import Presentation

from conftest import qwenapp_cmd
from qwenapp.slides.export import export_pdf, export_pngs, find_pdftoppm, find_soffice
from qwenapp.slides.scripted import cli_script

TOPIC = "Why Qwen models lead open-source AI adoption"


def qwenapp(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def has_chart(path: Path, n: int) -> bool:
    return any(shape.has_chart for shape in Presentation(str(path)).slides[n - 1].shapes)


def test_revise_list_compare_restore_export(cli_env: dict[str, str], tmp_path: Path) -> None:
    script = "scripted:" + str(cli_script(tmp_path / "script.json", TOPIC, 8))
    out = tmp_path / "deck.pptx"
    made = qwenapp(cli_env, tmp_path, "slides", TOPIC, "-o", str(out), "--model", script,
                   "--json")
    assert made.returncode == 0, made.stderr
    first = json.loads(made.stdout)
    m = re.search(r"deck id (\w+)", made.stderr)
    assert m is not None, made.stderr
    deck_id = m.group(1)

    themed = qwenapp(cli_env, tmp_path, "slides", "--revise", deck_id[:10],
                     "use the dark theme")  # no --model: a theme change loads none
    assert themed.returncode == 0, themed.stderr
    assert themed.stdout.strip() == str(out)
    assert "version 2" in themed.stderr and "0 model call(s)" in themed.stderr

    charted = qwenapp(cli_env, tmp_path, "slides", "--revise", deck_id,
                      "make slide 3 a chart: 2022 10, 2023 14, 2024 19", "--model", script,
                      "--json")
    assert charted.returncode == 0, charted.stderr
    now = json.loads(charted.stdout)
    assert now["slides"][2]["kind"] == "chart"
    for n in (0, 1, 3, 4, 5, 6, 7):
        assert json.dumps(now["slides"][n]) == json.dumps(first["slides"][n])
    assert has_chart(out, 3)
    before = out.read_bytes()

    asked = qwenapp(cli_env, tmp_path, "slides", "--revise", deck_id, "make slide 12 a chart")
    assert asked.returncode == 3
    assert "no slide 12" in asked.stdout and "Traceback" not in asked.stderr
    assert out.read_bytes() == before  # a question changes nothing

    listed = qwenapp(cli_env, tmp_path, "slides", "--versions", deck_id)
    assert listed.returncode == 0, listed.stderr
    lines = [ln for ln in listed.stdout.splitlines() if ln.startswith("v")]
    assert [ln.split()[0] for ln in lines] == ["v1", "v2", "v3"]
    assert "theme dark" in lines[1] and "changed: 3" in lines[2]

    diff = qwenapp(cli_env, tmp_path, "slides", "--diff", deck_id, "1", "3")
    assert diff.returncode == 0, diff.stderr
    assert "theme: light -> dark" in diff.stdout
    assert "slide 3: changed" in diff.stdout
    assert sum("same" in ln for ln in diff.stdout.splitlines()) == 7

    v3 = tmp_path / "v3.pptx"
    exported = qwenapp(cli_env, tmp_path, "slides", "--export", deck_id, "3", "-o", str(v3))
    assert exported.returncode == 0, exported.stderr
    assert has_chart(v3, 3)

    restored = qwenapp(cli_env, tmp_path, "slides", "--restore", deck_id, "1")
    assert restored.returncode == 0, restored.stderr
    assert "version 4" in restored.stderr
    assert not has_chart(out, 3)
    listed = qwenapp(cli_env, tmp_path, "slides", "--versions", deck_id, "--json")
    versions = json.loads(listed.stdout)
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert versions[-1]["theme"] == "light" and versions[-1]["request"] == "restore version 1"

    if find_soffice() is not None and find_pdftoppm() is not None:
        # the revised file opens in LibreOffice: a page per slide
        pngs = export_pngs(export_pdf(v3, tmp_path / "v3.pdf"), tmp_path / "v3", dpi=30)
        assert len(pngs) == 8


@pytest.mark.parametrize("args,message", [
    (["--revise", "NOSUCHDECK", "use the dark theme"], "no deck NOSUCHDECK"),
    (["--revise", "X"], "say what to change"),
    (["--versions", "X", "--revise", "Y", "z"], "give one of"),
])
def test_bad_revisions_are_one_line_errors(cli_env: dict[str, str], tmp_path: Path,
                                           args: list[str], message: str) -> None:
    r = qwenapp(cli_env, tmp_path, "slides", *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
