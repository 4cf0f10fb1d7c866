"""Tables in real documents become native charts by code (issue 15), and lists that only
look like tables do not.

Real files throughout: the Global Carbon Project's CO2 table and the 35-page Riis PDF of
``bench/corpus``, and DOCX, XLSX, HTML and PDF files written by their own libraries
(the PDF by LibreOffice, as a user's exported report would be).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from qwenapp.slides import Chart, load_sources
from qwenapp.slides.tables import MAX_POINTS, chart_or_table, tables_in_text

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"
ROWS = [("Quarter", "Qwen", "Llama"), ("Q1", "10", "12"), ("Q2", "14", "13"),
        ("Q3", "18", "15"), ("Q4", "25", "16")]


def _chart(path: Path) -> Chart:
    _, tables = load_sources([path])
    assert len(tables) == 1, tables
    shown = chart_or_table(tables[0])
    assert isinstance(shown, Chart), shown
    return shown


def test_real_co2_table_becomes_a_line_over_its_whole_span() -> None:
    """1750-2024 in 275 rows, later columns empty in early years: a line of the total
    from the first year to the last, its values the file's own cells."""
    path = CORPUS / "co2" / "global.csv"
    chart = _chart(path)
    assert chart.type == "line"
    assert len(chart.categories) <= MAX_POINTS
    assert chart.categories[0] == "1750" and chart.categories[-1] == "2024"
    with path.open(encoding="utf-8") as f:
        cells = {r["Year"]: r for r in csv.DictReader(f)}
    total = next(s for s in chart.series if s.name == "Total")
    assert total.values == [float(cells[y]["Total"]) for y in chart.categories]
    assert total.values[-1] == 10527.0


def test_a_list_of_illustrations_with_page_numbers_is_not_a_table() -> None:
    """The Riis PDF's list of illustrations ("THE BEND, 59") was turned into bar charts of
    page numbers."""
    _, tables = load_sources([CORPUS / "tenements" / "how_the_other_half_lives_riis_1890.pdf"])
    assert tables == []
    text = "HILL,   30\nUPSTAIRS IN BLINDMAN'S ALLEY,   34\nAN OLD REAR-TENEMENT,   45\n"
    assert tables_in_text(text) == []


def test_docx_xlsx_and_html_tables_become_charts(tmp_path: Path) -> None:
    import docx
    import openpyxl

    d = docx.Document()
    d.add_heading("Downloads", 1)
    t = d.add_table(rows=len(ROWS), cols=3)
    for i, row in enumerate(ROWS):
        for j, c in enumerate(row):
            t.cell(i, j).text = c
    d.save(tmp_path / "d.docx")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in ROWS:
        ws.append([row[0], *(int(c) if c.isdigit() else c for c in row[1:])])
    wb.save(tmp_path / "s.xlsx")
    cells = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in r)}</tr>" for r in ROWS)
    (tmp_path / "p.html").write_text(
        "<html><head><title>Downloads</title></head><body><h1>Model downloads</h1><p>The "
        "table below lists the downloads of each model family per quarter, as counted by "
        f"the hub in its quarterly statement.</p><table>{cells}</table><p>Growth was "
        "strongest in the fourth quarter.</p></body></html>", encoding="utf-8")
    for name in ("d.docx", "s.xlsx", "p.html"):
        chart = _chart(tmp_path / name)
        assert chart.type == "line", name
        assert chart.categories == ["Q1", "Q2", "Q3", "Q4"], name
        assert [s.name for s in chart.series] == ["Qwen", "Llama"], name
        assert chart.series[0].values == [10.0, 14.0, 18.0, 25.0], name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_a_pdf_table_single_spaced_by_extraction_becomes_a_chart(tmp_path: Path) -> None:
    """pdf text extraction gives "Q1 10 12": one space between columns."""
    import docx

    d = docx.Document()
    d.add_heading("Model downloads", 1)
    d.add_paragraph("The hub counted the downloads of each model per quarter, in millions.")
    t = d.add_table(rows=len(ROWS), cols=3)
    t.style = "Table Grid"
    for i, row in enumerate(ROWS):
        for j, c in enumerate(row):
            t.cell(i, j).text = c
    d.save(tmp_path / "t.docx")
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(tmp_path / "t.docx")],
                   check=True, capture_output=True, timeout=180)
    chart = _chart(tmp_path / "t.pdf")
    assert chart.categories == ["Q1", "Q2", "Q3", "Q4"]
    assert [s.values for s in chart.series] == [[10, 14, 18, 25], [12, 13, 15, 16]]


def test_prose_ending_in_numbers_is_not_a_table() -> None:
    text = ("The city grew quickly in those years\nand by the census of 1880 it had 1206299\n"
            "people in 1890 and 1515301\nin 1900, a rise of 25 per cent.\n")
    assert tables_in_text(text) == []


def test_a_long_line_labels_only_its_last_points(tmp_path: Path) -> None:
    """24 labelled points of a line ran into each other (the CO2 chart): a long line
    labels only the last value of each series; a short one keeps every label."""
    from pptx import Presentation

    from qwenapp.slides import Deck, Slide, get_theme, save_deck

    _, tables = load_sources([CORPUS / "co2" / "global.csv"])
    long = chart_or_table(tables[0])
    assert isinstance(long, Chart)
    short = long.model_copy(update={"categories": long.categories[-4:], "series": [
        s.model_copy(update={"values": s.values[-4:]}) for s in long.series[:1]]})
    c = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    for chart, every in ((long, False), (short, True)):
        deck = Deck(title="CO2", slides=[Slide(kind="title", title="CO2"), Slide(
            kind="chart", title="Fossil CO2 emissions", chart=chart, notes="n",
            takeaway="Emissions rose.")])
        save_deck(deck, get_theme("light"), tmp_path / "d.pptx")
        shape = next(sh for sh in Presentation(str(tmp_path / "d.pptx")).slides[1].shapes
                     if sh.has_chart)
        plot = shape.chart._chartSpace.find(f".//{c}lineChart")
        shown = plot.find(f"{c}dLbls/{c}showVal").get("val")
        points = plot.findall(f"{c}ser/{c}dLbls/{c}dLbl")
        if every:
            assert shown == "1" and points == []
        else:
            assert shown == "0"
            assert [int(d.find(f"{c}idx").get("val")) for d in points] == \
                [len(chart.categories) - 1] * len(chart.series)
            assert all(d.find(f"{c}showVal").get("val") == "1" for d in points)


def test_request_series_with_units_and_periods_after_the_number() -> None:
    """"Q1 10 million, Q2 14 million…" and "$2.1 billion in 2021 to $3.4 billion in 2022…"
    were not found, so those decks had no chart."""
    from qwenapp.slides.tables import series_in_request

    got = series_in_request("Qwen model downloads by quarter: Q1 10 million, Q2 14 million, "
                            "Q3 18 million, Q4 25 million. What drove the growth?")
    assert got is not None and got.header == ("", "value (million)")
    assert got.rows == (("Q1", "10"), ("Q2", "14"), ("Q3", "18"), ("Q4", "25"))
    got = series_in_request("Revenue grew from $2.1 billion in 2021 to $3.4 billion in 2022 "
                            "and $5.0 billion in 2023")
    assert got is not None and got.rows == (("2021", "2.1"), ("2022", "3.4"), ("2023", "5.0"))
    shown = chart_or_table(got)
    assert isinstance(shown, Chart) and shown.type == "line"
    for plain in ("Why open-weight language models are gaining adoption among developers",
                  "Go from step 1 to step 2 to step 3"):
        assert series_in_request(plain) is None, plain


def test_the_outline_is_planned_from_prose_not_from_table_rows() -> None:
    """With the CO2 CSV and its README, the 1.5B headed slides "1750: 3 Units" and
    "1778: 4 Units": the planner was shown the table's rows."""
    from qwenapp.slides.sources import digest

    passages, _ = load_sources([CORPUS / "co2" / "global.csv", CORPUS / "co2" / "README.md"])
    shown = digest(passages, 1800)
    assert "1750 |" not in shown and "README.md" in shown
    only_rows, _ = load_sources([CORPUS / "co2" / "global.csv"])
    assert "1750" in digest(only_rows, 1800)  # nothing else to plan from: rows it is
