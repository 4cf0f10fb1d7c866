"""A deck job built from a user's uploads: read in the library's bounded child process
(as uploads are), their tables made into native charts by code, sources named by upload
name; a file that cannot be read fails the job with a one-line reason naming the upload,
and the server goes on serving."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, live_server, parse_sse, write_demo_script
from qwenapp.settings import load_settings

CO2 = Path(__file__).resolve().parent.parent / "bench" / "corpus" / "co2" / "global.csv"
LIMITS = ServerLimits(requests_per_minute=10_000, burst=10_000, jobs_per_user=2)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def api(home: Path) -> Iterator[httpx.Client]:
    script = write_demo_script(home / "script.json", deck_topic="Global CO2 emissions",
                               deck_slides=5)
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2"})
    config = ServerConfig(limits=LIMITS, report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url, \
            api_client(url, timeout=120) as c:
        yield c


def _upload(api: httpx.Client, name: str, data: bytes) -> str:
    r = api.post("/api/documents", files={"file": (name, data)})
    assert r.status_code == 201, r.text
    doc_id: str = r.json()["id"]
    return doc_id


def _run(api: httpx.Client, body: dict[str, object]) -> tuple[str, list[str]]:
    r = api.post("/api/jobs", json={"kind": "deck", **body})
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=120) as s:
        kinds = [e.event for e in parse_sse(s.iter_lines())]
    return job_id, kinds


def test_deck_from_an_uploaded_real_data_table_has_its_chart(api: httpx.Client) -> None:
    doc = _upload(api, "emissions.csv", CO2.read_bytes())
    job_id, kinds = _run(api, {"topic": "Global CO2 emissions", "slides": 5,
                               "document_ids": [doc]})
    assert kinds[-1] == "done", kinds
    deck = json.loads(api.get(f"/api/jobs/{job_id}/artifacts/deck.json").content)
    charts = [s for s in deck["slides"] if s["kind"] == "chart"]
    assert len(charts) == 1
    chart = charts[0]["chart"]
    assert chart["type"] == "line"
    assert chart["categories"][0] == "1750" and chart["categories"][-1] == "2024"
    assert chart["series"][0]["values"][-1] == 10527.0  # the file's own cell
    cited = {src["title"] for s in deck["slides"] for src in s["sources"]}
    assert cited == {"emissions.csv"}  # the upload name, never the server's file name
    from pptx import Presentation

    pptx = Presentation(io.BytesIO(api.get(f"/api/jobs/{job_id}/artifacts/deck.pptx").content))
    assert sum(1 for sl in pptx.slides for sh in sl.shapes if sh.has_chart) == 1


def test_an_upload_that_cannot_be_read_fails_the_job_with_its_name(api: httpx.Client,
                                                                   home: Path) -> None:
    import docx

    buf = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("Emissions rose in every decade of the twentieth century.")
    d.save(buf)
    before = set(home.rglob("*.docx"))
    doc = _upload(api, "my notes.docx", buf.getvalue())
    (stored,) = set(home.rglob("*.docx")) - before
    stored.write_bytes(b"PK\x03\x04 this is no longer a zip archive")  # damaged on disk
    job_id, kinds = _run(api, {"topic": "Emissions", "slides": 5, "document_ids": [doc]})
    assert kinds[-1] == "failed", kinds
    error = api.get(f"/api/jobs/{job_id}").json()["error"]
    assert "my notes.docx" in error and stored.name not in error
    assert "\n" not in error and "Traceback" not in error
    _, kinds = _run(api, {"topic": "Global CO2 emissions", "slides": 5})
    assert kinds[-1] == "done"  # the server goes on
