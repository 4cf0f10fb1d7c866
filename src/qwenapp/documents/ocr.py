"""Reading text out of pictures (OCR) with Tesseract, offline.

Why Tesseract, run as a program: measured against RapidOCR (PP-OCRv6 on ONNX
Runtime) on the same pages (docs/ocr.md), it read every generated English
and Chinese page completely (RapidOCR lost a line of a clean page and could
not read one upside down), was within a few points on real 300-dpi scans,
and was three to five times faster on this project's 2-core machines; its
models come from Debian (``tesseract-ocr-eng``, ``tesseract-ocr-chi-sim``),
so nothing is downloaded at run time and no 100 MB of wheels join the
install. Running the ``tesseract`` program rather than a binding gives each
page a process of its own: a page that hangs is killed at the time budget,
and its memory goes with it.

Each page image goes to ``tesseract stdin stdout tsv`` as PNM (no encoding
cost); the TSV's words, lines and confidences come back. Low-confidence
specks are dropped, and Chinese comes back without the spaces Tesseract
puts between characters (they would break the library's CJK bigrams). A
page whose confident words hold almost no letters has no text: a photo of a
landscape is refused as such rather than indexed as empty.

:func:`read_pages` runs pages two at a time (a process each) under the
document's page and time budget (:class:`~qwenapp.documents.Limits`
``ocr_*``), calling ``progress`` after each one. Tables in a page are
rebuilt from the words' positions (:mod:`.ocr_tables`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFilter

from .limits import Limits
from .model import DocumentError, Section
from .ocr_tables import Word, find_tables
from .text import table_text

__all__ = [
    "INSTALL_HINT",
    "OcrPage",
    "Progress",
    "engine_status",
    "read_pages",
    "recognise",
]

Progress = Callable[[int, int], None]
"""Called as ``progress(pages_done, pages_total)`` while a document is recognised."""

INSTALL_HINT = ("install Tesseract with its English and Chinese models: "
                "apt install tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim "
                "(or switch OCR off: ocr = false under [documents] in config.toml)")
_MIN_CONF = 30.0  # words below this are specks and smudges, not text
_TEXT_CONF = 60.0  # a page has text when its words this sure hold enough letters
_MIN_LETTERS = 3
_JOBS = max(1, min(2, os.cpu_count() or 1))  # pages recognised at once, a process each
_UPRIGHT_CONF = 75.0  # below this mean confidence, check whether the page is upside down
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


@dataclass(frozen=True, slots=True)
class OcrPage:
    """What was read off one picture: lines of text and how sure the engine was."""

    text: str
    words: int
    confidence: float  # mean word confidence, 0..100 (0 when no words)
    tables: list[list[list[str]]] = field(default_factory=list)  # rows of cells (ocr_tables)

    @property
    def empty(self) -> bool:
        return not self.text and not self.tables

    def sections(self, location: str) -> list[Section]:
        """The page's text, then each table as a table section, all at ``location``."""
        out = [Section(self.text, location)] if self.text else []
        return out + [Section(table_text(t), location, table=t) for t in self.tables]


@functools.cache
def _installed(command: str) -> tuple[str, frozenset[str]] | None:
    """(full path, installed languages) of the engine, or None when it is not installed."""
    exe = shutil.which(command)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30,
                             env=_env(), check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    langs = {ln.strip() for ln in out.stdout.splitlines()[1:] if ln.strip()}
    return exe, frozenset(langs)


def _env() -> dict[str, str]:
    # one thread per page: pages and documents are already run side by side
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "TESSDATA_PREFIX", "HOME")}
    return {**keep, "OMP_THREAD_LIMIT": "1", "LC_ALL": "C"}


def engine_status(limits: Limits) -> tuple[str, str] | str:
    """``(executable, "eng+chi_sim")`` to run, or the reason OCR cannot run (a sentence)."""
    if not limits.ocr:
        return "OCR is switched off in the settings ([documents] ocr = false)"
    found = _installed(limits.ocr_command)
    if found is None:
        return f"the OCR engine ({limits.ocr_command}) is not installed"
    exe, have = found
    wanted = [lang for lang in limits.ocr_languages.split("+") if lang]
    usable = [lang for lang in wanted if lang in have]
    if not usable:
        need = " ".join(f"tesseract-ocr-{lang.replace('_', '-')}" for lang in wanted)
        return f"the OCR engine has none of the languages {'+'.join(wanted)} ({need})"
    return exe, "+".join(usable)


def _ready(name: str, limits: Limits) -> tuple[str, str]:
    status = engine_status(limits)
    if isinstance(status, str):
        hint = ("switch it on with ocr = true under [documents] in config.toml"
                if not limits.ocr else INSTALL_HINT)
        raise DocumentError(f"{name}: needs OCR to read, but {status}", hint)
    return status


def _flatten(image: Image.Image) -> Image.Image:
    """Grey, with the page's lighting divided out: a photo's shadow or gradient made white.

    The background is the page's brightest level around each point (a max filter on a
    1/8 copy, wider than a letter, then smoothed); dividing by it leaves ink on white.
    """
    grey = image.convert("L")
    small = grey.resize((max(1, grey.width // 8), max(1, grey.height // 8)))
    light = small.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(2))
    back = np.maximum(np.asarray(light.resize(grey.size), dtype=np.float32), 1.0)
    page = np.asarray(grey, dtype=np.float32) / back * 255.0
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))


def _on_white(image: Image.Image) -> Image.Image:
    """A transparent picture (a screenshot tool's PNG) put on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and
                                               "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba)
    return image


def _pnm(image: Image.Image) -> bytes:
    image = _on_white(image)
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    buf = io.BytesIO()
    image.save(buf, "PPM")
    return buf.getvalue()


def _parse_tsv(tsv: str) -> OcrPage:
    words: list[tuple[tuple[str, str, str], Word]] = []  # (block, paragraph, line), word
    confs: list[float] = []
    letters = 0
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        try:
            conf = float(cols[10])
            box = [int(v) for v in cols[6:10]]
        except ValueError:
            continue
        if not text or conf < _MIN_CONF:
            continue
        words.append(((cols[2], cols[3], cols[4]), Word(text, *box)))
        confs.append(conf)
        if conf >= _TEXT_CONF:
            letters += sum(ch.isalnum() for ch in text)
    if letters < _MIN_LETTERS:
        return OcrPage("", 0, 0.0)
    tables, in_tables = find_tables([w for _, w in words])
    lines: dict[tuple[str, str, str], list[str]] = {}
    for key, w in words:
        if id(w) not in in_tables:
            lines.setdefault(key, []).append(w.text)
    out: list[str] = []
    last: tuple[str, str] | None = None
    for key, ws in lines.items():  # TSV order is reading order
        if last and key[:2] != last:
            out.append("")  # a blank line between paragraphs
        last = key[:2]
        out.append(_CJK_GAP.sub("", " ".join(ws)))
    tables = [[[_CJK_GAP.sub("", c) for c in r] for r in t] for t in tables]
    return OcrPage("\n".join(out).strip(), len(confs), sum(confs) / len(confs), tables)


def _run(cmd: list[str], data: bytes, name: str, timeout: float | None) -> str:
    try:
        out = subprocess.run(cmd, input=data, capture_output=True, env=_env(),
                             timeout=timeout if timeout is None else max(1.0, timeout),
                             check=False)
    except subprocess.TimeoutExpired:
        raise _TimeUp from None
    except OSError as e:
        raise DocumentError(f"{name}: the OCR engine could not be started ({e})",
                            INSTALL_HINT) from None
    if out.returncode != 0:
        err = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DocumentError(f"{name}: the OCR engine failed (exit {out.returncode}"
                            f"{': ' + err[-1][:200] if err else ''})")
    return out.stdout.decode("utf-8", "replace")


def _turn(exe: str, data: bytes, name: str, timeout: float | None) -> int:
    """Degrees clockwise that would stand the page upright (Tesseract's OSD), 0 if unsure."""
    try:
        osd = _run([exe, "stdin", "stdout", "--psm", "0"], data, name, timeout)
    except DocumentError:  # no orientation model (tesseract-ocr-osd), or too little text
        return 0
    found = dict(line.split(":", 1) for line in osd.splitlines() if ":" in line)
    try:
        turn, sure = int(found.get("Rotate", "0")), float(found.get("Orientation confidence", 0))
    except ValueError:
        return 0
    return turn if turn in (90, 180, 270) and sure >= 2.0 else 0


def recognise(image: Image.Image, limits: Limits, *, name: str = "image",
              timeout: float | None = None, dpi: int | None = None) -> OcrPage:
    """One picture through the engine; raises :class:`DocumentError` when it cannot run.

    A page read with low confidence is asked for its orientation, and read again
    turned upright when it is sideways or upside down (a scan fed the wrong way).
    """
    exe, langs = _ready(name, limits)
    cmd = [exe, "stdin", "stdout", "-l", langs, "--psm", "3"]
    if dpi:
        cmd += ["--dpi", str(max(70, min(dpi, 1200)))]
    if image.mode != "1":
        # A grey or colour picture may be a photo of a page, lit unevenly: flattened, and
        # binarised by Sauvola's local threshold rather than one global (Otsu) cut, words in
        # a shadow survive (measured on photos in uneven light: English 25-36 % -> 99-100 % of
        # the words, Chinese none -> 99 %; clean pages and scans read the same, ~17 % slower).
        image = _flatten(_on_white(image))
        cmd += ["-c", "thresholding_method=2"]
    cmd.append("tsv")
    data = _pnm(image)
    page = _parse_tsv(_run(cmd, data, name, timeout))
    if page.confidence < _UPRIGHT_CONF:  # an empty page too: Chinese upside down reads as none
        turn = _turn(exe, data, name, timeout)
        if turn:
            upright = _parse_tsv(_run(cmd, _pnm(image.rotate(-turn, expand=True)), name,
                                      timeout))
            if upright.confidence > page.confidence:
                return upright
    return page


class _TimeUp(Exception):
    """The document's OCR time budget ran out during a page."""


_NOTHING = OcrPage("", 0, 0.0)


PageSource = tuple[str, Callable[[], Image.Image | None], int | None]
"""(location, a function that loads the page's picture (None: nothing to read), dpi)."""


def _read(image: Image.Image, limits: Limits, name: str, timeout: float,
          dpi: int | None) -> OcrPage:
    with contextlib.closing(image):
        return recognise(image, limits, name=name, timeout=timeout, dpi=dpi)


def read_pages(name: str, pages: Iterable[PageSource], total: int, limits: Limits,
               progress: Progress | None = None) -> list[tuple[str, OcrPage]]:
    """Recognise ``total`` pages under the page and time budget; results in page order.

    Pages are loaded one at a time on this thread (a PDF reader is not
    thread-safe) and recognised ``_JOBS`` at a time, each by its own engine
    process, so at most that many decoded pages are held at once. Raises
    :class:`DocumentError` when the engine cannot run, when there are more
    pages than ``limits.ocr_max_pages``, or when ``limits.ocr_seconds`` runs
    out (the message says how far it got).
    """
    _ready(name, limits)
    if total > limits.ocr_max_pages:
        raise DocumentError(
            f"{name}: {total} pages need OCR, over the limit of {limits.ocr_max_pages}",
            "split the scan into smaller files, or raise ocr_max_pages under [documents] "
            "in config.toml")
    start = time.monotonic()
    deadline = start + limits.ocr_seconds
    locations: list[str] = []
    results: dict[int, OcrPage] = {}
    if progress is not None:
        progress(0, total)

    def finished(running: dict[Future[OcrPage], int], wait_for: str) -> None:
        done, _ = wait(running, return_when=wait_for)
        for f in done:
            results[running.pop(f)] = f.result()  # re-raises the page's error
            if progress is not None:
                progress(len(results), total)

    pool = ThreadPoolExecutor(max_workers=_JOBS, thread_name_prefix="qwenapp-ocr")
    running: dict[Future[OcrPage], int] = {}
    try:
        for i, (location, load, dpi) in enumerate(pages):
            locations.append(location)
            while len(running) >= _JOBS:
                finished(running, FIRST_COMPLETED)
            left = deadline - time.monotonic()
            if left <= 0:
                raise _TimeUp
            image = load()
            if image is None:
                results[i] = _NOTHING
                if progress is not None:
                    progress(len(results), total)
                continue
            running[pool.submit(_read, image, limits, name, left, dpi)] = i
        while running:
            finished(running, ALL_COMPLETED)
    except _TimeUp:
        raise DocumentError(
            f"{name}: OCR stopped after {time.monotonic() - start:.0f} s at page "
            f"{len(results) + 1} of {total} (time limit {limits.ocr_seconds:g} s)",
            "split the scan into smaller files, or raise ocr_seconds under [documents] "
            "in config.toml") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # running pages end by their timeout
    return [(loc, results[i]) for i, loc in enumerate(locations)]
