"""Tables on PDF pages that have a text layer are kept as tables (issue 14).

The PDFs are written by LibreOffice from a DOCX (as a user's exported report
would be) or by hand with the cells placed at their columns; the table of
contents is the real ``libtasn1`` manual's when Debian ships it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures.samples import write_pdf
from qwenapp.documents import Limits, extract
from qwenapp.slides import Chart, load_sources
from qwenapp.slides.tables import chart_or_table

ROWS = [["Quarter", "Qwen", "Llama", "Mistral"], ["Q1 2025", "1,200", "980", "410"],
        ["Q2 2025", "1,850", "1,020", "455"], ["Q3 2025", "2,400", "1,100", "470"],
        ["Q4 2025", "3,100", "1,150", "500"]]
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")


def _libreoffice_pdf(tmp_path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("Model downloads", 1)
    d.add_paragraph("The hub counted the downloads of each model family per quarter, in "
                    "thousands, and published them in its yearly statement.")
    t = d.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    for i, row in enumerate(ROWS):
        for j, c in enumerate(row):
            t.cell(i, j).text = c
    d.add_paragraph("Growth was strongest for the first family in the fourth quarter.")
    d.save(tmp_path / "downloads.docx")
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "downloads.docx")],
                   check=True, capture_output=True, timeout=180)
    return tmp_path / "downloads.pdf"


@needs_soffice
def test_a_borderless_table_in_a_libreoffice_pdf_is_a_table_section(tmp_path: Path) -> None:
    doc = extract(_libreoffice_pdf(tmp_path), Limits())
    [table] = [s for s in doc.sections if s.table is not None]
    assert table.table == ROWS and table.location == "page 1"
    [prose] = [s for s in doc.sections if s.table is None]
    assert "published them in its yearly statement" in prose.text
    assert "strongest for the first family" in prose.text
    assert "1,850" not in prose.text  # the rows left the running text
    # and the deck pipeline charts it, multi-word categories intact
    _, tables = load_sources([tmp_path / "downloads.pdf"])
    chart = chart_or_table(tables[0])
    assert isinstance(chart, Chart) and chart.type == "line"
    assert chart.categories == ["Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025"]
    assert chart.series[0].name == "Qwen"
    assert chart.series[0].values == [1200.0, 1850.0, 2400.0, 3100.0]


def test_cells_placed_at_their_columns_are_a_table(tmp_path: Path) -> None:
    lines = ["Energy use by sector, 2024", "",
             "Sector          Coal      Gas       Oil",
             "Industry        410       220       95",
             "Transport       3         18        640",
             "Homes           60        300       40"]
    doc = extract(write_pdf(tmp_path / "energy.pdf", ["\n".join(lines)]), Limits())
    [table] = [s.table for s in doc.sections if s.table is not None]
    assert table == [["Sector", "Coal", "Gas", "Oil"], ["Industry", "410", "220", "95"],
                     ["Transport", "3", "18", "640"], ["Homes", "60", "300", "40"]]
    assert doc.sections[0].text == "Energy use by sector, 2024"


def test_prose_with_numbers_and_a_contents_page_are_not_tables(tmp_path: Path) -> None:
    prose = ("In 2023 the city counted 15 new buildings and 20 repairs.\n"
             "By 2024 there were 31 buildings and 12 repairs, and 4 were closed.\n"
             "The report of 1890 lists 37,316 tenements and 1,093,701 people.")
    contents = ("Contents\n"
                "1 Introduction  . . . . . . . . . . . . . .   3\n"
                "2 The tenements  . . . . . . . . . . . . . .  15\n"
                "3 The remedy   . . . . . . . . . . . . . . .  42\n"
                "4 Appendix    . . . . . . . . . . . . . . . .  61")
    doc = extract(write_pdf(tmp_path / "prose.pdf", [prose, contents]), Limits())
    assert all(s.table is None for s in doc.sections)
    assert [s.location for s in doc.sections] == ["page 1", "page 2"]
    manual = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")  # a real table of contents
    if manual.exists():
        assert all(s.table is None for s in extract(manual, Limits()).sections)
