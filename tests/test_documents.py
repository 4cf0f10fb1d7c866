"""Extraction of every supported format, and every way a file can be unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.samples import (
    write_csv,
    write_docx,
    write_pdf,
    write_pptx,
    write_xlsx,
    write_zip_bomb,
)
from qwenapp.documents import Document, DocumentError, Limits, Section, extract
from qwenapp.errors import InputError


def test_pdf_pages_and_title(tmp_path: Path) -> None:
    p = write_pdf(tmp_path / "r.pdf", ["Qwen adoption grew (fast).\nline two", "", "Last page"],
                  title="Adoption study")
    doc = extract(p)
    assert isinstance(doc, Document)
    assert doc.kind == "pdf" and doc.title == "Adoption study"
    assert [s.location for s in doc.sections] == ["page 1", "page 3"]  # blank page 2 skipped
    assert "Qwen adoption grew (fast)." in doc.sections[0].text
    assert len(doc.sha256) == 64


def test_docx_heading_paths_and_tables(tmp_path: Path) -> None:
    p = write_docx(tmp_path / "d.docx", "Field notes",
                   [("Intro", ["Alpha paragraph."]), ("Results", ["Beta.", "模型的采用率很高。"])],
                   table=[["Model", "Stars"], ["Qwen", "9000"]])
    doc = extract(p)
    assert doc.title == "Field notes" and doc.kind == "docx"
    locs = [s.location for s in doc.sections]
    assert locs[:2] == ["Intro", "Results"]
    assert "模型的采用率很高" in doc.sections[1].text
    table = next(s for s in doc.sections if s.table)
    assert table.table == [["Model", "Stars"], ["Qwen", "9000"]]


def test_pptx_slides_notes_tables(tmp_path: Path) -> None:
    p = write_pptx(tmp_path / "s.pptx", [("Why Qwen", ["open weights", "Apache"]), ("Next", ["x"])],
                   table=[["a", "b"], ["1", "2"]])
    doc = extract(p)
    assert doc.title == "Why Qwen"
    assert doc.sections[0] == Section("Why Qwen\nopen weights\nApache", "slide 1")
    assert any(s.table == [["a", "b"], ["1", "2"]] and s.location == "slide 3"
               for s in doc.sections)


def test_xlsx_sheets(tmp_path: Path) -> None:
    sheets: dict[str, list[list[object]]] = {
        "Sales": [["Region", "Q1"], ["North", 12.0], ["南方", 3.5]], "Empty": []}
    p = write_xlsx(tmp_path / "x.xlsx", sheets)
    doc = extract(p)
    assert [s.location for s in doc.sections] == ["sheet Sales"]
    assert doc.sections[0].table == [["Region", "Q1"], ["North", "12"], ["南方", "3.5"]]


def test_xlsx_row_limit(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "x.xlsx", {"S": [[i] for i in range(50)]})
    doc = extract(p, Limits(max_table_rows=10))
    assert len(doc.sections[0].table or []) == 10


def test_csv_semicolons(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("name;score\nqwen;9\nllama;7\n", encoding="utf-8")
    doc = extract(p)
    assert doc.sections[0].table == [["name", "score"], ["qwen", "9"], ["llama", "7"]]
    p2 = write_csv(tmp_path / "u.csv", [["a", "b"], ["c", "d"]])
    assert extract(p2).sections[0].location == "table u"


def test_markdown_heading_paths(tmp_path: Path) -> None:
    p = tmp_path / "n.md"
    p.write_text("---\ntitle: x\n---\n# Guide\nintro\n## Setup\nsteps\n```\n# not a heading\n```\n"
                 "## Use\nrun it\n", encoding="utf-8")
    doc = extract(p)
    assert doc.title == "Guide"
    assert [s.location for s in doc.sections] == ["Guide", "Guide > Setup", "Guide > Use"]
    assert "# not a heading" in doc.sections[1].text


def test_html_main_content(tmp_path: Path) -> None:
    p = tmp_path / "p.html"
    body = "<p>Qwen models are downloaded often by developers who value open weights.</p>" * 3
    p.write_text(f"<html><head><title>Qwen &amp; devs</title><script>var x=1;</script></head>"
                 f"<body><nav>Home | About</nav><h1>Adoption</h1>{body}</body></html>",
                 encoding="utf-8")
    doc = extract(p)
    assert doc.title == "Qwen & devs" and doc.kind == "html"
    assert "open weights" in doc.text and "var x" not in doc.text


def test_text_encodings_and_line_locations(tmp_path: Path) -> None:
    p = tmp_path / "gbk.txt"
    p.write_bytes("通义千问是阿里巴巴的开源模型系列。\n\n第二段。\n".encode("gb18030"))
    doc = extract(p)
    assert "通义千问" in doc.text
    assert doc.sections[0].location.startswith("lines 1-")
    p16 = tmp_path / "u16.txt"
    p16.write_bytes("hello utf16".encode("utf-16"))
    assert extract(p16).text == "hello utf16"


# --- every unreadable file is a DocumentError with a reason -------------------------------


def _err(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(DocumentError) as ei:
        extract(path, limits) if limits else extract(path)
    assert isinstance(ei.value, InputError)
    msg = str(ei.value)
    assert "\n" not in msg and path.name in msg
    return msg


def test_unknown_extension(tmp_path: Path) -> None:
    p = tmp_path / "a.xyz"
    p.write_text("x")
    assert "unsupported file type '.xyz'" in _err(p)


def test_missing_and_empty(tmp_path: Path) -> None:
    assert "no such file" in _err(tmp_path / "gone.pdf")
    (tmp_path / "e.txt").write_bytes(b"")
    assert "empty" in _err(tmp_path / "e.txt")


def test_too_large(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("x" * 5000)
    assert "too large" in _err(p, Limits(max_file_bytes=1000))


def test_corrupt_pdf(tmp_path: Path) -> None:
    p = tmp_path / "bad.pdf"
    p.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ngarbage")
    assert "bad.pdf" in _err(p)
    q = tmp_path / "notpdf.pdf"
    q.write_bytes(b"hello, not a pdf")
    assert "not a PDF" in _err(q)


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    src = write_pdf(tmp_path / "plain.pdf", ["secret text"])
    w = PdfWriter(clone_from=PdfReader(str(src)))
    w.encrypt(user_password="pw", owner_password="owner", algorithm="RC4-128")
    p = tmp_path / "locked.pdf"
    with p.open("wb") as f:
        w.write(f)
    assert "password-protected" in _err(p)


def test_owner_only_encrypted_pdf_opens(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    src = write_pdf(tmp_path / "plain.pdf", ["readable text"])
    w = PdfWriter(clone_from=PdfReader(str(src)))
    w.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    p = tmp_path / "restricted.pdf"
    with p.open("wb") as f:
        w.write(f)
    assert "readable text" in extract(p).text


def test_scanned_pdf_without_text(tmp_path: Path) -> None:
    p = write_pdf(tmp_path / "scan.pdf", ["", ""])
    assert "no extractable text" in _err(p)


def test_encrypted_ooxml(tmp_path: Path) -> None:
    for ext in ("docx", "pptx", "xlsx"):
        p = tmp_path / f"locked.{ext}"
        p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
        assert "password-protected" in _err(p)


def test_corrupt_ooxml(tmp_path: Path) -> None:
    p = tmp_path / "trunc.docx"
    good = write_docx(tmp_path / "good.docx", "T", [("H", ["p"])]).read_bytes()
    p.write_bytes(good[: len(good) // 2])
    assert "corrupt DOCX" in _err(p)
    q = tmp_path / "text.pptx"
    q.write_text("just text")
    assert "not a valid PPTX" in _err(q)


def test_zip_bomb_refused_before_parsing(tmp_path: Path) -> None:
    p = write_zip_bomb(tmp_path / "bomb.docx", 8)
    assert "zip bomb" in _err(p)  # ratio ~1000:1
    assert "expands to" in _err(p, Limits(max_uncompressed_bytes=1024 * 1024))
    assert "too many parts" in _err(p, Limits(max_zip_entries=1))


def test_binary_named_txt(tmp_path: Path) -> None:
    p = tmp_path / "bin.txt"
    p.write_bytes(b"\x00\x01\x02" * 100)
    assert "binary" in _err(p)
