"""Scans and pictures end to end: the real ``qwenapp`` CLI and the real web upload endpoint.

``docs add`` of a scanned PDF and a photo (progress on stderr, search finds the
words with their page), ``chat -a photo.png`` answering from the picture's
text, the refusals a user sees (no text, OCR off, no engine), and uploads of
the same files through ``POST /api/documents``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import qwenapp_cmd
from fixtures.ocr.pages import CHINESE, ENGLISH, ENGLISH_2, landscape, render, write_pdf
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server
from qwenapp.settings import load_settings


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env={**env, "COLUMNS": "500"}, text=True,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    d = tmp_path / "scans"
    d.mkdir()
    write_pdf(d / "minutes.pdf", [ENGLISH_2, render(ENGLISH), render(CHINESE, chinese=True)])
    render(ENGLISH_2, noise=True).save(d / "whiteboard.jpg")
    landscape().save(d / "holiday.png")
    return d


def test_docs_add_reads_scans_and_photos(cli_env: dict[str, str], scans: Path) -> None:
    p = run(cli_env, "docs", "add", str(scans))
    assert p.returncode == 2 and "Traceback" not in p.stderr  # the landscape is refused
    assert "minutes.pdf: OCR page 2 of 2" in p.stderr  # progress: 2 scanned pages of 3
    assert "added     " in p.stderr and "minutes.pdf (3 sections" in p.stderr
    assert "whiteboard.jpg (1 sections" in p.stderr
    assert "holiday.png: no text found in the image" in p.stderr
    assert "error: 1 of 3 file(s) could not be added" in p.stderr
    hit = run(cli_env, "docs", "search", "subscription service launched")
    assert hit.returncode == 0 and "minutes — page 2" in hit.stdout
    zh = run(cli_env, "docs", "search", "订阅服务")
    assert "minutes — page 3" in zh.stdout and "新订阅服务" in zh.stdout
    assert "whiteboard — image" in run(cli_env, "docs", "search", "billing system").stdout
    listed = run(cli_env, "docs", "list").stdout
    assert "image" in listed and "whiteboard" in listed


def test_docs_add_refusals_a_user_sees(cli_env: dict[str, str], scans: Path,
                                       tmp_path: Path) -> None:
    off = run({**cli_env, "QWENAPP_OCR": "0"}, "docs", "add", str(scans / "whiteboard.jpg"))
    assert off.returncode == 2 and "OCR is switched off" in off.stderr
    home = Path(cli_env["QWENAPP_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("[documents]\nocr = false\n")
    pdf = run(cli_env, "docs", "add", str(scans / "minutes.pdf"))
    assert pdf.returncode == 0 and "minutes.pdf (1 sections" in pdf.stderr  # typed page only
    (home / "config.toml").write_text("[documents]\nocr_max_pages = 1\n")
    write_pdf(tmp_path / "two.pdf", [render(ENGLISH), render(ENGLISH_2)])
    big = run(cli_env, "docs", "add", str(tmp_path / "two.pdf"))
    assert "two.pdf: 2 pages need OCR, over the limit of 1" in big.stderr
    # no engine on the PATH: a refusal that says what to install, not a crash
    (home / "config.toml").unlink()
    bare = {**cli_env, "PATH": str(Path(sys.executable).parent)}
    missing = run(bare, "docs", "add", str(scans / "whiteboard.jpg"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "the OCR engine (tesseract) is not installed" in missing.stderr


def test_chat_answers_from_a_photo(cli_env: dict[str, str], scans: Path,
                                   tmp_path: Path) -> None:
    script = tmp_path / "grounded.json"  # answers only when the picture's words reached it
    script.write_text(json.dumps({"rules": [{"contains": "billing system",
                                              "reply": "Two more weeks of training [1]."}]}))
    p = run(cli_env, "chat", "what does this say?", "--model", f"scripted:{script}",
            "-a", str(scans / "whiteboard.jpg"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Two more weeks of training [1]."
    assert "[1] whiteboard.jpg — image" in p.stderr
    assert "whiteboard.jpg: OCR page 1 of 1" in p.stderr  # progress, as docs add shows it
    bad = run(cli_env, "chat", "hi", "--model", "scripted", "-a", str(scans / "holiday.png"))
    assert bad.returncode == 2 and "no text found in the image" in bad.stderr


# --- the web upload endpoint -------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(upload_bytes=5_000_000,
                                              requests_per_minute=10_000, burst=10_000))
    with live_server(create_app(settings, [ScriptedModel()], config)) as url, \
            api_client(url) as client:
        yield client


def _upload(api: httpx.Client, path: Path, name: str | None = None) -> httpx.Response:
    return api.post("/api/documents", files={"file": (name or path.name, path.read_bytes(),
                                                      "application/octet-stream")},
                    timeout=300)


def test_web_upload_of_scans_and_pictures(api: httpx.Client, scans: Path,
                                          tmp_path: Path) -> None:
    r = _upload(api, scans / "minutes.pdf")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "pdf" and r.json()["sections"] == 3
    for ext in ("png", "webp", "tiff"):
        render(ENGLISH, noise=True).save(tmp_path / f"page.{ext}")
        r = _upload(api, tmp_path / f"page.{ext}", f"Scan of page.{ext}")
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "image" and r.json()["filename"] == f"Scan of page.{ext}"
    # the type comes from the bytes: a JPEG called notes.txt is a picture
    r = _upload(api, scans / "whiteboard.jpg", "notes.txt")
    assert r.status_code == 201 and r.json()["kind"] == "image"
    r = _upload(api, scans / "holiday.png")
    assert r.status_code == 400 and r.json()["error"]["message"] == \
        "holiday.png: no text found in the image"
    (tmp_path / "cut.png").write_bytes((scans / "holiday.png").read_bytes()[:3000])
    r = _upload(api, tmp_path / "cut.png")
    assert r.status_code == 400 and "cut.png" in r.json()["error"]["message"]
    gif = tmp_path / "anim.gif"
    landscape().save(gif)
    assert _upload(api, gif).status_code == 415  # not a kind the reader takes


def test_web_upload_progress_of_a_long_scan(api: httpx.Client, tmp_path: Path) -> None:
    """While a scan is read, GET /api/documents/reading/TOKEN says how many pages are done."""
    scan = write_pdf(tmp_path / "long-scan.pdf", [render(ENGLISH_2)] * 4)
    token = "t0ken-for-this-upload"
    assert api.get(f"/api/documents/reading/{token}").status_code == 404
    result: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: result.append(api.post(
        f"/api/documents?progress={token}", timeout=300,
        files={"file": ("long-scan.pdf", scan.read_bytes(), "application/pdf")})))
    seen: set[tuple[int, int]] = set()
    with httpx.Client(base_url=str(api.base_url), cookies=api.cookies,
                      headers=dict(api.headers)) as poller:
        sender.start()
        while sender.is_alive():
            r = poller.get(f"/api/documents/reading/{token}")
            if r.status_code == 200:
                seen.add((r.json()["done"], r.json()["total"]))
            time.sleep(0.05)
        sender.join()
        assert result[0].status_code == 201 and result[0].json()["sections"] == 4
        assert poller.get(f"/api/documents/reading/{token}").status_code == 404  # done
    assert {total for _, total in seen} <= {0, 4} and any(t == 4 for _, t in seen), seen
    # a malformed token is not followed, and the upload goes on
    r = api.post("/api/documents?progress=../x", files={"file": ("a.txt", b"plain words\n")})
    assert r.status_code == 201


def test_deck_from_a_scan_and_report_docs_read_it(cli_env: dict[str, str], scans: Path,
                                                  tmp_path: Path) -> None:
    from qwenapp.slides.scripted import cli_script

    topic = "What the planning meeting decided"
    model = "scripted:" + str(cli_script(tmp_path / "deck.json", topic, 4))
    out = tmp_path / "minutes.pptx"
    p = run(cli_env, "slides", topic, "--from", str(scans / "minutes.pdf"),
            str(scans / "whiteboard.jpg"), "-n", "4", "-o", str(out), "--json", "--model", model)
    assert p.returncode == 0, p.stderr
    cited = {(s["title"], s["location"]) for slide in json.loads(p.stdout)["slides"]
             for s in slide["sources"]}
    assert cited and {t for t, _ in cited} <= {"minutes.pdf", "whiteboard.jpg"}
    assert {loc for _, loc in cited} <= {"page 1", "page 2", "page 3", "image"}
    bad = run(cli_env, "slides", topic, "--from", str(scans / "holiday.png"), "-o",
              str(tmp_path / "x.pptx"), "--model", model)
    assert bad.returncode != 0 and "holiday.png: no text found in the image" in bad.stderr
    off = run({**cli_env, "QWENAPP_OCR": "0"}, "slides", topic, "--from",
              str(scans / "whiteboard.jpg"), "-o", str(tmp_path / "y.pptx"), "--model", model)
    assert off.returncode != 0 and "OCR is switched off" in off.stderr  # the settings apply
    # a report's --docs reads the scan and the photo into the library
    r = run(cli_env, "report", topic, "--docs", str(scans / "whiteboard.jpg"), "--docs",
            str(scans / "minutes.pdf"), "--model", "scripted")
    assert "read    whiteboard (1 section(s)" in r.stderr
    assert "read    minutes (3 section(s)" in r.stderr
