"""Job files in one shared folder (``QWENAPP_ARTIFACTS_DIR``) for processes on different homes.

App processes A and B and a ``qwenapp worker`` W each have their own ``QWENAPP_HOME``
(as on three machines) and one PostgreSQL; all three name the same artifacts folder
(as one NFS mount). A deck created through A runs in W, with its PDF and slide
pictures (real LibreOffice), and a report with its DOCX; every file downloads, the
same bytes, from A and from B; nothing is written under any home's ``server/jobs``.
Deleting the job through B removes its folder from the shared one. Settings: the
folder must be absolute; unset, job files stay under the home as before.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from argon2 import PasswordHasher

from conftest import qwenapp_cmd
from qwenapp.errors import InputError
from qwenapp.output import find_soffice
from qwenapp.server.testing import (
    ServeProcess,
    api_client,
    login,
    parse_sse,
    serve_process,
    write_demo_script,
)
from qwenapp.server.users import UserStore
from qwenapp.settings import load_settings
from qwenapp.store import open_db

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass
class Site:
    shared: Path
    homes: dict[str, Path]
    a: ServeProcess
    b: ServeProcess
    worker: subprocess.Popen[str]


def _env(home: Path, url: str, shared: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWENAPP_")}
    env.update(QWENAPP_HOME=str(home), PYTHONUNBUFFERED="1", QWENAPP_PARALLEL="2",
               QWENAPP_DATABASE_URL=url, QWENAPP_ARTIFACTS_DIR=str(shared))
    return env


def _start_worker(home: Path, env: dict[str, str], script: Path) -> subprocess.Popen[str]:
    log_path = home / "worker.log"
    proc = subprocess.Popen([*qwenapp_cmd(), "worker", "-m", f"scripted:{script}",
                             "--log-level", "info"], env=env, stdout=subprocess.DEVNULL,
                            stderr=log_path.open("w"), text=True)
    deadline = time.monotonic() + 60
    while "worker on" not in log_path.read_text():
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)
    return proc


@pytest.fixture
def site(tmp_path: Path, pg_server: PgServer) -> Iterator[Site]:
    url = pg_server.new_database()
    conn = open_db(url)
    UserStore(conn, FAST).add("alice", "alice-password")
    conn.close()
    shared = tmp_path / "nfs" / "qwenapp-jobs"  # created by whoever writes first
    homes = {name: tmp_path / f"home-{name}" for name in ("a", "b", "w")}
    for home in homes.values():
        home.mkdir()
    script = write_demo_script(tmp_path / "script.json")
    args = ["-m", f"scripted:{script}", "--log-level", "warning", "--no-local-jobs",
            "--rate", "10000"]
    started: list[ServeProcess] = []
    worker: subprocess.Popen[str] | None = None
    try:
        for name in ("a", "b"):
            started.append(serve_process(qwenapp_cmd(), _env(homes[name], url, shared),
                                         args=args))
        worker = _start_worker(homes["w"], _env(homes["w"], url, shared), script)
        yield Site(shared, homes, started[0], started[1], worker)
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for proc in started:
            proc.stop()
        pg_server.drop_database(url)


def _run(api: httpx.Client, body: dict[str, object]) -> str:
    r = api.post("/api/jobs", json=body)
    assert r.status_code == 202, r.text
    job_id: str = r.json()["id"]
    with api.stream("GET", f"/api/jobs/{job_id}/events", timeout=300) as events:
        kinds = [ev.event for ev in parse_sse(events.iter_lines())]
    assert kinds[-1] == "done", kinds
    return job_id


def _downloads(api: httpx.Client, job_id: str) -> dict[str, str]:
    """Every artifact of the job, by name: the sha256 of what ``api`` serves."""
    job = api.get(f"/api/jobs/{job_id}").json()
    out = {}
    for art in job["artifacts"]:
        r = api.get(art["url"])
        assert r.status_code == 200, (art["name"], r.text)
        assert len(r.content) == art["size"] > 0
        out[art["name"]] = hashlib.sha256(r.content).hexdigest()
    return out


@pytest.mark.skipif(find_soffice() is None, reason="LibreOffice renders the previews")
def test_processes_on_different_homes_serve_one_shared_folder(site: Site) -> None:
    with api_client(site.a.url, timeout=120) as a, api_client(site.b.url, timeout=120) as b:
        login(a, "alice", "alice-password")
        login(b, "alice", "alice-password")
        deck = _run(a, {"kind": "deck", "topic": "Open models at work", "slides": 3})
        r = b.post("/api/documents", files={"file": ("qwen_adoption.md", (
            CORPUS / "qwen_adoption.md").read_bytes())})
        assert r.status_code == 201, r.text
        report = _run(a, {"kind": "report", "question": "Why Qwen?", "depth": "quick",
                          "document_ids": [r.json()["id"]]})
        assert deck in (site.homes["w"] / "worker.log").read_text()  # W ran it, not A
        from_a, from_b = _downloads(a, deck), _downloads(b, deck)
        assert from_a == from_b
        assert {"deck.pptx", "deck.pdf", "deck.json", "deck-1.png"} <= set(from_a)
        for name, digest in from_a.items():  # the files W wrote, in the shared folder
            on_disk = (site.shared / deck / name).read_bytes()
            assert hashlib.sha256(on_disk).hexdigest() == digest
        report_a, report_b = _downloads(a, report), _downloads(b, report)
        assert report_a == report_b and "report.docx" in report_a
        for home in site.homes.values():  # no home got a job folder of its own
            assert not (home / "server" / "jobs").exists() or \
                not any((home / "server" / "jobs").iterdir())
        # deleted through B: its folder leaves the shared folder, for everyone
        assert b.delete(f"/api/jobs/{deck}").status_code == 204
        assert not (site.shared / deck).exists()
        assert a.get(f"/api/jobs/{deck}/artifacts/deck.pptx").status_code == 404
        assert (site.shared / report / "report.docx").is_file()


def test_the_setting_defaults_to_the_home_and_must_be_absolute(tmp_path: Path) -> None:
    home = tmp_path / "home"
    plain = load_settings({"QWENAPP_HOME": str(home)})
    assert plain.artifacts_dir is None
    assert plain.jobs_dir() == home / "server" / "jobs"  # unchanged default
    assert plain.jobs_dir(tmp_path / "data") == tmp_path / "data" / "jobs"
    shared = load_settings({"QWENAPP_HOME": str(home),
                            "QWENAPP_ARTIFACTS_DIR": str(tmp_path / "nfs")})
    assert shared.jobs_dir() == shared.jobs_dir(tmp_path / "data") == tmp_path / "nfs"
    home.mkdir()
    (home / "config.toml").write_text(f'artifacts_dir = "{tmp_path / "mnt"}"\n')
    assert load_settings({"QWENAPP_HOME": str(home)}).jobs_dir() == tmp_path / "mnt"
    with pytest.raises(InputError, match="absolute"):
        load_settings({"QWENAPP_HOME": str(home), "QWENAPP_ARTIFACTS_DIR": "jobs"})
    (home / "config.toml").write_text("artifacts_dir = 3\n")
    with pytest.raises(InputError, match="artifacts_dir"):
        load_settings({"QWENAPP_HOME": str(home)})
