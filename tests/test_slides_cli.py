"""``qwenapp slides`` end to end with the scripted model, and every bad input.

Each bad input must give a one-line error, a non-zero exit, and leave
nothing at the output path.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pptx import Presentation

from conftest import qwenapp_cmd
from fixtures.samples import write_csv, write_docx, write_pdf, write_zip_bomb
from qwenapp.cli.main import cli
from qwenapp.slides.export import find_soffice
from qwenapp.slides.scripted import cli_script

TOPIC = "Why Qwen models lead open-source AI adoption"
CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def slides(home: Path, *args: str) -> Result:
    del home  # QWENAPP_HOME is set by the fixture
    return CliRunner().invoke(cli, ["slides", *args], catch_exceptions=False)


def script(tmp_path: Path, topic: str = TOPIC, n: int = 8, **kw: bool) -> str:
    return "scripted:" + str(cli_script(tmp_path / "script.json", topic, n, **kw))


def one_line_error(result: Result, code: int | None = None) -> str:
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [i for i, ln in enumerate(lines) if ln.startswith("error: ")]
    assert len(errors) == 1, result.stderr  # after any progress lines, one error line
    assert "Traceback" not in result.output + result.stderr
    assert len(lines) - errors[0] <= 2  # the message, then at most one hint line
    return lines[errors[0]]


def test_topic_to_deck(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck.pptx"
    r = slides(home, TOPIC, "-o", str(out), "--model", script(tmp_path))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == str(out)
    assert len(Presentation(str(out)).slides) == 8
    for progress in ("outline", "slide 1/5", "rendering 8 slides", "wrote"):
        assert progress in r.stderr
    # nothing but the deck beside it (home is QWENAPP_HOME: the database records the deck)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == [
        "deck.pptx", "script.json"]


def test_json_structure_chinese_and_a_theme(home: Path, tmp_path: Path) -> None:
    topic = "为什么通义千问模型引领开源人工智能的普及"
    out = tmp_path / "zh.pptx"
    r = slides(home, topic, "-n", "6", "--theme", "dark", "--json", "-o", str(out),
               "--model", script(tmp_path, topic, 6, zh=True))
    assert r.exit_code == 0, r.stderr
    deck = json.loads(r.stdout)
    assert deck["language"] == "zh" and len(deck["slides"]) == 6
    assert deck["slides"][-1]["title"] == "谢谢"


def test_template_is_used(home: Path, tmp_path: Path) -> None:
    template = tmp_path / "brand.pptx"
    Presentation().save(str(template))
    out = tmp_path / "t.pptx"
    r = slides(home, TOPIC, "-n", "4", "--template", str(template), "-o", str(out),
               "--model", script(tmp_path, n=4))
    assert r.exit_code == 0, r.stderr
    prs = Presentation(str(out))
    assert prs.slide_width == Presentation(str(template)).slide_width  # 4:3 kept


def test_from_documents_cites_them(home: Path, tmp_path: Path) -> None:
    md = CORPUS / "qwen_adoption.md"
    csv = write_csv(tmp_path / "survey.csv", [["model", "developers"], ["Qwen", "62"],
                                               ["Llama", "48"]])
    out = tmp_path / "docs.pptx"
    r = slides(home, TOPIC, "--from", str(md), str(csv), "-n", "4", "-o", str(out), "--json",
               "--model", script(tmp_path, n=4, charts=True))
    assert r.exit_code == 0, r.stderr
    assert "read" in r.stderr and "1 table(s) from 2 file(s)" in r.stderr
    deck = json.loads(r.stdout)
    chart = next(s["chart"] for s in deck["slides"] if s["kind"] == "chart")  # the CSV's
    assert chart["categories"] == ["Qwen", "Llama"] and chart["series"][0]["values"] == [62, 48]
    cited = {s["title"] for slide in deck["slides"] for s in slide["sources"]}
    assert cited and cited <= {"qwen_adoption.md", "survey.csv"}
    notes = Presentation(str(out)).slides[1].notes_slide.notes_text_frame.text
    assert "Sources: " in notes


@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed")
def test_pdf_and_png_previews(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.pptx"
    r = slides(home, TOPIC, "-n", "3", "--pdf", "--png", "-o", str(out),
               "--model", script(tmp_path, n=3))
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "p.pdf").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.glob("p-*.png")) == ["p-1.png", "p-2.png", "p-3.png"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,message", [
    (["", "-o", "{out}"], "the topic is empty"),
    (["   "], "the topic is empty"),
    (["x" * 5000, "-o", "{out}"], "the limit is 2000"),
    ([TOPIC, "-n", "2", "-o", "{out}"], "--slides must be between 3 and 30"),
    ([TOPIC, "-n", "99", "-o", "{out}"], "--slides must be between 3 and 30"),
    ([TOPIC, "--language", "xx", "-o", "{out}"], "unsupported --language"),
    ([TOPIC, "-o", "{tmp}/no/such/dir/deck.pptx"], "does not exist"),
    ([TOPIC, "-o", "{tmp}"], "does not end in .pptx"),
    ([TOPIC, "-o", "{tmp}/deck.docx"], "does not end in .pptx"),
    ([TOPIC, "-o", "{tmp}/blocker/deck.pptx"], "does not exist"),
    ([TOPIC, "--notes", "x" * 1501, "-o", "{out}"], "--notes is longer than 1500"),
])
def test_bad_arguments(home: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    out = tmp_path / "out.pptx"
    args = [a.format(out=out, tmp=tmp_path) for a in args]
    r = slides(home, *args, "--model", "scripted")
    assert message in one_line_error(r, 2)
    assert not out.exists() and not list(tmp_path.glob("*.pptx"))


def test_notes_reach_the_model(home: Path, tmp_path: Path) -> None:
    notes = "- What should the deck focus on?: licensing"
    path = cli_script(tmp_path / "script.json", TOPIC, 4)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["rules"][-1]["contains"] == "Plan a slide deck"
    data["rules"][-1]["contains"] = "The user's notes (answers to clarifying questions):\n" + notes
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "deck.pptx"
    r = slides(home, TOPIC, "-n", "4", "-o", str(out), "--model", f"scripted:{path}",
               "--notes", f"  {notes} ")
    assert r.exit_code == 0, r.stderr  # the outline is only answered when the notes are there
    assert len(Presentation(str(out)).slides) == 4
    r = slides(home, TOPIC, "-n", "4", "-o", str(out), "--model", f"scripted:{path}")
    assert r.exit_code != 0  # without them the outline gets no usable answer


def test_template_that_is_not_a_pptx(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pptx"
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    fake = tmp_path / "fake.pptx"
    fake.write_text("not a zip at all")
    doc = write_docx(tmp_path / "doc.docx", "Title", [("Intro", ["text"])])
    renamed = tmp_path / "renamed.pptx"
    renamed.write_bytes(doc.read_bytes())
    for template, message in ((text, "is not a .pptx file"), (fake, "not a valid .pptx"),
                              (doc, "is not a .pptx file"),
                              (renamed, "not a PowerPoint presentation"),
                              (tmp_path / "missing.pptx", "does not exist")):
        r = slides(home, TOPIC, "--template", str(template), "-o", str(out), "--model",
                   "scripted")
        assert message in one_line_error(r, 2), template
        assert not out.exists()


def test_bad_source_documents(home: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    out = tmp_path / "out.pptx"
    corrupt = tmp_path / "corrupt.pdf"
    corrupt.write_bytes(b"%PDF-1.4\n garbage with no objects")
    plain = write_pdf(tmp_path / "plain.pdf", ["secret text"])
    writer = PdfWriter(clone_from=PdfReader(str(plain)))
    writer.encrypt(user_password="pw", owner_password="owner", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as f:
        writer.write(f)
    bomb = write_zip_bomb(tmp_path / "bomb.docx", 300)
    not_pdf = tmp_path / "fake.pdf"
    not_pdf.write_text("plain text pretending")
    for source, message in ((corrupt, "corrupt.pdf"), (locked, "password-protected"),
                            (bomb, "bomb.docx"), (not_pdf, "not a PDF"),
                            (tmp_path / "missing.pdf", "no such file")):
        r = slides(home, TOPIC, "--from", str(source), "-o", str(out), "--model", "scripted")
        assert message in one_line_error(r), source
        assert not out.exists()


def test_model_output_that_stays_invalid(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.pptx"
    out.write_bytes(b"previous deck")
    r = slides(home, TOPIC, "-o", str(out), "--model", "scripted")  # minimal JSON: "xx"
    assert "still invalid after 3 attempts" in one_line_error(r, 1)
    assert out.read_bytes() == b"previous deck"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pptx"]


def test_missing_libreoffice_fails_before_generating(home: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    out = tmp_path / "out.pptx"
    r = slides(home, TOPIC, "--pdf", "-o", str(out), "--model", script(tmp_path))
    assert "LibreOffice is not installed" in one_line_error(r, 1)
    assert not out.exists()


def test_the_installed_console_script(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "deck.pptx"
    p = subprocess.run([*qwenapp_cmd(), "slides", TOPIC, "-n", "4", "-o", str(out), "--model",
                        script(tmp_path, n=4)], env=cli_env, capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == str(out) and out.exists()
    p = subprocess.run([*qwenapp_cmd(), "slides", "", "-o", str(tmp_path / "x.pptx")],
                       env=cli_env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and p.stderr.startswith("error: the topic is empty")
