"""OCR figures: word accuracy and pages per second on the test fixtures, and ``docs add``.

    python bench/ocr.py                 # Tesseract as qwenapp runs it, and a 20-page docs add
    python bench/ocr.py --pages 50      # a longer scan for the docs add figure
    python bench/ocr.py --rapidocr      # the same pages through RapidOCR too, when installed
                                        # (pip install rapidocr onnxruntime): the comparison
                                        # that chose the engine (docs/ocr.md)

Pages are drawn from known text (tests/fixtures/ocr/pages.py: English and
Chinese, clean and with a scanner's blur and speckles, one turned upside
down, two photographed in uneven light) plus one real 300-dpi scan with its
ground truth (UNLV-ISRI, see tests/fixtures/ocr/SOURCES.md). Accuracy is
word recall: the share of the reference's words (Chinese: characters) found
in what was read. ``docs add`` is the real CLI in a fresh QWENAPP_HOME,
reading an image-only PDF of N pages in its bounded reader process: pages
per second end to end, and CPU seconds a page.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the page builders live with the tests

from PIL import Image  # noqa: E402

from fixtures.ocr.pages import (  # noqa: E402
    CHINESE,
    ENGLISH,
    ENGLISH_2,
    in_shadow,
    render,
    word_recall,
    write_pdf,
)
from qwenapp.documents import DEFAULT_LIMITS, extract  # noqa: E402

SCAN = ROOT / "tests" / "fixtures" / "ocr" / "8087_054.3B.tif"


def fixtures(out: Path) -> list[tuple[str, Path, str]]:
    """(name, picture, reference text) for every page measured."""
    pages = [("english", render(ENGLISH), ENGLISH),
             ("english, scanned look", render(ENGLISH, noise=True, rotate=1.5), ENGLISH),
             ("english, upside down", render(ENGLISH_2).rotate(180), ENGLISH_2),
             ("english, photo in shadow", in_shadow(render(ENGLISH)), ENGLISH),
             ("chinese, photo in shadow", in_shadow(render(CHINESE, chinese=True)), CHINESE),
             ("chinese", render(CHINESE, chinese=True), CHINESE),
             ("chinese, scanned look", render(CHINESE, chinese=True, noise=True), CHINESE)]
    found = []
    for i, (name, im, text) in enumerate(pages):
        path = out / f"page{i}.png"
        im.save(path)
        found.append((name, path, text))
    found.append(("real scan (UNLV 8087_054)", SCAN,
                  SCAN.with_suffix(".txt").read_text(encoding="utf-8")))
    return found


def measure(name: str, read: Callable[[Path], str],
            pages: list[tuple[str, Path, str]]) -> None:
    print(f"\n{name}")
    print(f"  {'page':28} {'words':>6} {'seconds':>8}")
    total_t = 0.0
    recalls = []
    for label, path, text in pages:
        t = time.perf_counter()
        got = read(path)
        dt = time.perf_counter() - t
        total_t += dt
        recalls.append(word_recall(text, got))
        print(f"  {label:28} {recalls[-1]:6.1%} {dt:8.2f}")
    print(f"  {'all':28} {sum(recalls) / len(recalls):6.1%} {total_t:8.2f}"
          f"   ({len(pages) / total_t:.2f} pages/s)")


def tesseract(path: Path) -> str:
    return extract(path, DEFAULT_LIMITS).text


def rapidocr() -> Callable[[Path], str] | None:
    try:
        from rapidocr import RapidOCR  # type: ignore[import-not-found]
    except ImportError:
        return None
    engine = RapidOCR(params={"Global.log_level": "error",
                              "EngineConfig.onnxruntime.intra_op_num_threads": 2,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1})

    def read(path: Path) -> str:
        with Image.open(path) as im:
            result = engine(im.convert("RGB"))
        return "\n".join(result.txts or ())

    return read


def docs_add(n: int, out: Path) -> None:
    pdf = write_pdf(out / f"scan-{n}.pdf",
                    [render(ENGLISH if i % 2 else ENGLISH_2, noise=True) for i in range(n)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env["QWENAPP_HOME"] = str(out / "home")
    exe = Path(sys.executable).with_name("qwenapp")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "qwenapp"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([*cmd, "docs", "add", str(pdf)], env=env, capture_output=True,
                       text=True, check=False)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    print(f"\nqwenapp docs add, image-only PDF of {n} pages: {dt:.1f} s, "
          f"{n / dt:.2f} pages/s, {cpu / n:.2f} CPU s a page (the CLI, its reader and "
          f"engine processes; steadier than the wall clock on a shared machine)\n  {last}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=20, help="pages of the docs add scan")
    ap.add_argument("--rapidocr", action="store_true", help="also measure RapidOCR")
    args = ap.parse_args()
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True,
                             check=False).stdout.splitlines()[:1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}; "
          f"{version[0] if version else 'tesseract not found'}, "
          f"languages {DEFAULT_LIMITS.ocr_languages}")
    with tempfile.TemporaryDirectory(prefix="qwenapp-ocr-bench-") as tmp:
        out = Path(tmp)
        pages = fixtures(out)
        measure("Tesseract (qwenapp's reader: extract(), one thread a page)", tesseract, pages)
        if args.rapidocr:
            read = rapidocr()
            if read is None:
                print("\nRapidOCR: not installed (pip install rapidocr onnxruntime)")
            else:
                read(pages[0][1])  # load the models before timing
                measure("RapidOCR (PP-OCRv6 on ONNX Runtime, 2 threads)", read, pages)
        docs_add(args.pages, out)


if __name__ == "__main__":
    main()
