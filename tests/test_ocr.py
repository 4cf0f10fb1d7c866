"""OCR of scans and pictures with the real engine (Tesseract): accuracy, page numbers, limits.

The pictures are drawn here (fixtures/ocr/pages.py) from known text, so what
is read back is compared word by word; one real 300-dpi scan comes from a
public OCR test set (fixtures/ocr/SOURCES.md). Refusals (a picture without
text, an image bomb, a corrupt file, OCR switched off, no engine, too many
pages, too long) are checked in this process and in the bounded reader
process that the library and the server use.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from fixtures.ocr.pages import (
    CHINESE,
    ENGLISH,
    ENGLISH_2,
    SALES,
    in_shadow,
    landscape,
    render,
    render_table,
    two_columns,
    word_recall,
    words,
    write_pdf,
)
from qwenapp.documents import DEFAULT_LIMITS, DocumentError, Limits, extract
from qwenapp.documents.ocr import engine_status
from qwenapp.errors import InputError
from qwenapp.library.worker import DocumentWorker
from qwenapp.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures" / "ocr"


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    status = engine_status(DEFAULT_LIMITS)
    assert not isinstance(status, str), (
        f"{status}: apt install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim")
    assert status[1] == "eng+chi_sim"


@pytest.fixture(scope="module")
def worker() -> DocumentWorker:
    return DocumentWorker()


def _err(path: Path, limits: Limits = DEFAULT_LIMITS) -> DocumentError:
    with pytest.raises(DocumentError) as e:
        extract(path, limits)
    return e.value


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text", "chinese", "noise"), [
    ("clean.png", ENGLISH, False, False),
    ("scanned.jpg", ENGLISH, False, True),
    ("notes.webp", ENGLISH_2, False, False),
    ("中文.png", CHINESE, True, False),
    ("中文扫描.jpg", CHINESE, True, True),
])
def test_pictures_of_english_and_chinese_read_back(tmp_path: Path, name: str, text: str,
                                                   chinese: bool, noise: bool) -> None:
    path = tmp_path / name
    render(text, chinese=chinese, noise=noise).save(path)
    doc = extract(path)
    assert doc.kind == "image" and [s.location for s in doc.sections] == ["image"]
    assert word_recall(text, doc.text) >= 0.95, doc.text
    if chinese:  # no spaces between characters: the library indexes CJK as bigrams
        assert "收入增长" in doc.text and "本 季" not in doc.text


def test_image_only_pdf_reads_back_with_page_numbers(tmp_path: Path) -> None:
    for flate in (False, True):  # a scanner's JPEG pages, and lossless grey pages
        path = write_pdf(tmp_path / f"scan-{flate}.pdf",
                         [render(ENGLISH), render(CHINESE, chinese=True)], flate=flate)
        doc = extract(path)
        assert doc.kind == "pdf"
        assert [s.location for s in doc.sections] == ["page 1", "page 2"]
        assert word_recall(ENGLISH, doc.sections[0].text) >= 0.95
        assert word_recall(CHINESE, doc.sections[1].text) >= 0.95


def test_mixed_pdf_recognises_only_pages_without_a_text_layer(tmp_path: Path) -> None:
    # typed page, scanned page, blank page, scanned page
    path = write_pdf(tmp_path / "mixed.pdf",
                     [ENGLISH_2, render(ENGLISH), "", render(CHINESE, chinese=True)])
    seen: list[tuple[int, int]] = []
    doc = extract(path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]  # two pages went to OCR, not four
    assert [s.location for s in doc.sections] == ["page 1", "page 2", "page 4"]
    assert doc.sections[0].text.startswith("Meeting notes")  # the text layer, as before
    assert word_recall(ENGLISH, doc.sections[1].text) >= 0.95
    assert word_recall(CHINESE, doc.sections[2].text) >= 0.95


def test_multi_page_tiff_keeps_its_pages(tmp_path: Path) -> None:
    path = tmp_path / "fax.tiff"
    first, *rest = [render(ENGLISH), render(ENGLISH_2).convert("1")]
    first.save(path, save_all=True, append_images=rest, compression="tiff_deflate")
    doc = extract(path)
    assert [s.location for s in doc.sections] == ["page 1", "page 2"]
    assert word_recall(ENGLISH, doc.sections[0].text) >= 0.95
    assert word_recall(ENGLISH_2, doc.sections[1].text) >= 0.95


def test_transparent_screenshot_and_photo_orientation(tmp_path: Path) -> None:
    # black text on a transparent background (a screenshot tool's PNG)
    text = render(ENGLISH_2)
    rgba = Image.new("RGBA", text.size, (0, 0, 0, 0))
    rgba.putalpha(text.point(lambda v: 255 - v))
    rgba.save(tmp_path / "shot.png")
    assert word_recall(ENGLISH_2, extract(tmp_path / "shot.png").text) >= 0.95
    # a phone photo stored sideways with an EXIF orientation tag
    sideways = render(ENGLISH_2).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show"
    sideways.save(tmp_path / "photo.jpg", exif=exif)
    assert word_recall(ENGLISH_2, extract(tmp_path / "photo.jpg").text) >= 0.95


def test_pages_fed_upside_down_or_sideways_are_turned_upright(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "upside-down.pdf", [render(ENGLISH).rotate(180)])
    assert word_recall(ENGLISH, extract(pdf).text) >= 0.95
    render(CHINESE, chinese=True).rotate(90, expand=True).save(tmp_path / "sideways.png")
    assert word_recall(CHINESE, extract(tmp_path / "sideways.png").text) >= 0.95


def test_photos_in_uneven_light_and_dark_mode_screenshots(tmp_path: Path) -> None:
    # one global threshold loses everything in the shadow (about a third of the words read)
    in_shadow(render(ENGLISH)).save(tmp_path / "desk.jpg", quality=92)  # a phone's JPEG
    assert word_recall(ENGLISH, extract(tmp_path / "desk.jpg").text) >= 0.9
    in_shadow(render(CHINESE, chinese=True)).save(tmp_path / "桌面.jpg", quality=92)
    assert word_recall(CHINESE, extract(tmp_path / "桌面.jpg").text) >= 0.9
    ImageOps.invert(render(ENGLISH_2)).save(tmp_path / "dark.png")  # white on black
    assert word_recall(ENGLISH_2, extract(tmp_path / "dark.png").text) >= 0.95


def test_a_real_scanned_page(tmp_path: Path) -> None:
    """A 300-dpi bi-level magazine page from the UNLV-ISRI test set, as a TIFF and in a PDF."""
    truth = (FIXTURES / "8087_054.3B.txt").read_text()
    doc = extract(FIXTURES / "8087_054.3B.tif")
    assert word_recall(truth, doc.text) >= 0.90  # measured 0.945: columns, a drop cap, italics
    assert "Dubrovnik" in doc.text and "Dalmatian" in doc.text
    with Image.open(FIXTURES / "8087_054.3B.tif") as scan:  # as a scanner writes a PDF:
        scan.save(tmp_path / "magazine.pdf", resolution=300)  # bi-level, CCITT G4
    assert b"/CCITTFaxDecode" in (tmp_path / "magazine.pdf").read_bytes()
    assert word_recall(truth, extract(tmp_path / "magazine.pdf").text) >= 0.90


def test_tables_in_scans_keep_their_rows_and_columns(tmp_path: Path) -> None:
    from qwenapp.slides.deck import Chart
    from qwenapp.slides.tables import chart_or_table, find_tables

    pdf = write_pdf(tmp_path / "sales.pdf", [ENGLISH_2, render_table(SALES)])
    doc = extract(pdf)
    assert [(s.location, s.table is not None) for s in doc.sections] == [
        ("page 1", False), ("page 2", False), ("page 2", True)]
    assert doc.sections[2].table == SALES  # not "Region North South ..." column by column
    assert "Sales grew in every region" in doc.sections[1].text
    assert "1,305" not in doc.sections[1].text  # the table's words are in the table only
    # the deck pipeline finds it and charts it
    [table] = find_tables([doc])
    assert table.header == tuple(SALES[0]) and table.location == "page 2"
    chart = chart_or_table(table)
    assert isinstance(chart, Chart) and chart.categories[:2] == ["North", "South"]


def test_prose_in_two_columns_is_not_a_table(tmp_path: Path) -> None:
    left = ENGLISH.replace(" by twelve percent", "").splitlines()
    right = ENGLISH_2.splitlines()
    page = two_columns("\n".join(line[:38] for line in left),
                       "\n".join(line[:38] for line in right))
    page.save(tmp_path / "magazine.png")
    doc = extract(tmp_path / "magazine.png")
    assert all(s.table is None for s in doc.sections)
    assert word_recall("\n".join(line[:38] for line in left + right), doc.text) >= 0.9


# --- refusals --------------------------------------------------------------------------


def test_a_picture_without_text_is_refused(tmp_path: Path) -> None:
    landscape().save(tmp_path / "holiday.jpg")
    e = _err(tmp_path / "holiday.jpg")
    assert e.message == "holiday.jpg: no text found in the image"
    # a scanned PDF of that photo is refused the same way, not indexed as empty
    write_pdf(tmp_path / "photo.pdf", [landscape()])
    assert "no text found in the 1 scanned page(s)" in _err(tmp_path / "photo.pdf").message


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_image_bombs_are_refused_before_decoding(tmp_path: Path,
                                                 worker: DocumentWorker) -> None:
    # 100,000 x 100,000 grey pixels claimed (10 GB decoded) in a 100-byte file
    giant = tmp_path / "giant.png"
    giant.write_bytes(_png(100_000, 100_000, zlib.compress(bytes(100_000), 9)))
    assert giant.stat().st_size < 1024
    # 9,000 x 9,000 (81 MP, over the 64 MP limit but under Pillow's own alarm): 80 kB of PNG
    big = tmp_path / "big.png"
    Image.new("L", (9000, 9000), 255).save(big, optimize=True)
    assert big.stat().st_size < 200_000
    # a PDF page whose picture claims 50,000 x 50,000
    bomb_pdf = tmp_path / "bomb.pdf"
    data = write_pdf(tmp_path / "tmp.pdf", [render(ENGLISH_2)], flate=True).read_bytes()
    w, h = render(ENGLISH_2).size
    bomb_pdf.write_bytes(data.replace(f"/Width {w} /Height {h}".encode(),
                                      b"/Width 50000 /Height 50000"))
    tight = Limits(memory_bytes=256 * 1024 * 1024)  # a decode would need far more than this
    before = _rss()
    for path, says in [(giant, "possible image bomb"), (big, "9,000 x 9,000 pixels"),
                       (bomb_pdf, "50,000 x 50,000 pixels")]:
        assert says in _err(path).message
        with pytest.raises(DocumentError) as e:
            worker.prepare(path, tight)
        assert "image" in e.value.message and "memory" not in e.value.message
    assert _rss() - before < 50 * 1024 * 1024


def test_corrupt_pictures_are_clean_refusals(tmp_path: Path, worker: DocumentWorker) -> None:
    good = io.BytesIO()
    render(ENGLISH_2).save(good, "PNG")
    cases = {
        "cut.png": good.getvalue()[: len(good.getvalue()) // 2],  # truncated mid-stream
        "noise.jpg": b"\xff\xd8\xff\xe0" + os.urandom(5000),
        "text.webp": b"this is not a picture at all\n" * 20,
        "empty-frame.tif": b"II*\x00" + struct.pack("<I", 8) + b"\x00\x00",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        message = _err(tmp_path / name).message
        assert message.startswith(name + ": ") and (
            "corrupt" in message or "not a readable image" in message), message
        with pytest.raises(DocumentError, match=name.replace(".", r"\.")):
            worker.prepare(tmp_path / name)


def _damage_picture(pdf: Path) -> Path:
    data = pdf.read_bytes()
    start = data.index(b"stream\n", data.index(b"/FlateDecode")) + 7
    pdf.write_bytes(data[:start + 10] + bytes(b ^ 0x5A for b in data[start + 10:start + 4000])
                    + data[start + 4000:])
    return pdf


def test_a_damaged_picture_in_a_pdf_costs_only_its_page(tmp_path: Path) -> None:
    mixed = _damage_picture(write_pdf(tmp_path / "mixed.pdf", [ENGLISH_2, render(ENGLISH)],
                                      flate=True))
    assert [s.location for s in extract(mixed).sections] == ["page 1"]
    alone = _damage_picture(write_pdf(tmp_path / "scan.pdf", [render(ENGLISH)], flate=True))
    assert "the picture on page 1 cannot be decoded" in _err(alone).message


def test_ocr_switched_off(tmp_path: Path) -> None:
    off = Limits(ocr=False)
    render(ENGLISH).save(tmp_path / "page.png")
    e = _err(tmp_path / "page.png", off)
    assert "OCR is switched off" in e.message and "ocr = true" in e.hint
    write_pdf(tmp_path / "scan.pdf", [render(ENGLISH)])
    e = _err(tmp_path / "scan.pdf", off)
    assert "no extractable text in 1 page(s)" in e.message and "switched off" in e.message
    # a mixed PDF still gives its typed pages
    write_pdf(tmp_path / "mixed.pdf", [ENGLISH_2, render(ENGLISH)])
    assert [s.location for s in extract(tmp_path / "mixed.pdf", off).sections] == ["page 1"]


def test_a_missing_engine_says_what_to_install(tmp_path: Path) -> None:
    missing = Limits(ocr_command="tesseract-not-installed-here")
    render(ENGLISH).save(tmp_path / "page.png")
    e = _err(tmp_path / "page.png", missing)
    assert "is not installed" in e.message
    assert "apt install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim" in e.hint
    write_pdf(tmp_path / "scan.pdf", [render(ENGLISH)])
    e = _err(tmp_path / "scan.pdf", missing)
    assert "a scanned PDF" in e.message and "apt install tesseract-ocr" in e.hint
    no_lang = _err(tmp_path / "page.png", Limits(ocr_languages="klingon"))
    assert "none of the languages klingon" in no_lang.message


def test_page_and_time_limits(tmp_path: Path, worker: DocumentWorker) -> None:
    scan = write_pdf(tmp_path / "long.pdf", [render(ENGLISH_2)] * 4)
    e = _err(scan, Limits(ocr_max_pages=3))
    assert e.message == "long.pdf: 4 pages need OCR, over the limit of 3"
    assert "ocr_max_pages" in e.hint
    # a budget that runs out at the first page: the message says how far it got
    with pytest.raises(DocumentError) as e2:
        worker.prepare(scan, Limits(ocr_seconds=0.01))
    assert "OCR stopped after" in e2.value.message and " of 4 (time limit" in e2.value.message
    assert "ocr_seconds" in e2.value.hint


def test_progress_comes_back_from_the_reader_process(tmp_path: Path,
                                                     worker: DocumentWorker) -> None:
    scan = write_pdf(tmp_path / "three.pdf", [render(ENGLISH_2)] * 3)
    seen: list[tuple[int, int]] = []
    prepared = worker.prepare(scan, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [c.location for c in prepared.chunks][:3] == ["page 1", "page 2", "page 3"]


def test_settings_switch_ocr_off(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert load_settings({"QWENAPP_HOME": str(home)}).documents.limits().ocr
    (home / "config.toml").write_text("[documents]\nocr = false\nocr_max_pages = 7\n"
                                      'ocr_languages = "chi_sim"\n')
    limits = load_settings({"QWENAPP_HOME": str(home)}).documents.limits()
    assert (limits.ocr, limits.ocr_max_pages, limits.ocr_languages) == (False, 7, "chi_sim")
    assert load_settings({"QWENAPP_HOME": str(home), "QWENAPP_OCR": "1"}).documents.ocr
    (home / "config.toml").write_text("[documents]\nocr = \"maybe\"\n")
    with pytest.raises(InputError, match=r"documents\.ocr must be true or false"):
        load_settings({"QWENAPP_HOME": str(home)})


def test_words_count_chinese_characters() -> None:
    assert words("Revenue grew, 收入增长!") == ["revenue", "grew", "收", "入", "增", "长"]
    assert word_recall("a b c d", "a b c") == 0.75
