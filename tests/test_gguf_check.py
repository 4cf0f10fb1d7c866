"""The GGUF check turns every kind of bad file into a ModelFileError, quickly."""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path

import pytest

from qwenapp.errors import ModelFileError
from qwenapp.models.gguf_check import GGUFInfo, check_gguf
from qwenapp.testing.tiny_gguf import CHATML_TEMPLATE


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_good_file(tiny_gguf: Path) -> None:
    info = check_gguf(tiny_gguf, expected_size=tiny_gguf.stat().st_size)
    assert info == GGUFInfo(path=tiny_gguf, architecture="qwen2", name="tiny-random-qwen2",
                            context_length=4096, size=tiny_gguf.stat().st_size,
                            has_chat_template=True, chat_template=CHATML_TEMPLATE)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no model file at") as exc:
        check_gguf(tmp_path / "nope.gguf")
    assert exc.value.hint


def test_missing_catalogue_file_says_which_pull(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as exc:
        check_gguf(tmp_path / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    assert "qwenapp models pull qwen2.5-coder-0.5b-instruct" in exc.value.hint


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is a directory"):
        check_gguf(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        check_gguf(fifo)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.999])
def test_truncated_file(tmp_path: Path, tiny_gguf: Path, fraction: float) -> None:
    data = tiny_gguf.read_bytes()
    cut = _write(tmp_path, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                 data[: int(len(data) * fraction)])
    with pytest.raises(ModelFileError, match="truncated") as exc:
        check_gguf(cut)
    assert "delete it and run `qwenapp models pull qwen2.5-coder-1.5b-instruct`" in exc.value.hint


def test_truncated_inside_the_header(tmp_path: Path, tiny_gguf: Path) -> None:
    for n in (6, 20, 3000):
        with pytest.raises(ModelFileError, match=r"damaged|not a GGUF"):
            check_gguf(_write(tmp_path, "cut.gguf", tiny_gguf.read_bytes()[:n]))


def test_size_differs_from_expected(tmp_path: Path, tiny_gguf: Path) -> None:
    size = tiny_gguf.stat().st_size
    with pytest.raises(ModelFileError, match=f"truncated: {size} of {size + 10} bytes"):
        check_gguf(tiny_gguf, expected_size=size + 10)
    with pytest.raises(ModelFileError, match=f"is {size} bytes, {size - 10} expected"):
        check_gguf(tiny_gguf, expected_size=size - 10)


@pytest.mark.parametrize(("content", "says"), [
    (b"", "it is empty"),
    (b"hello, this is a text file\n", "starts with b'hell'"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n", "Git LFS pointer"),
    (b"<!DOCTYPE html><html>rate limited</html>", "web page"),
])
def test_not_a_gguf(tmp_path: Path, content: bytes, says: str) -> None:
    with pytest.raises(ModelFileError, match="not a GGUF model file") as exc:
        check_gguf(_write(tmp_path, "m.gguf", content))
    assert says in exc.value.message
    assert "re-download" in exc.value.hint


def test_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(0)
    with pytest.raises(ModelFileError, match="not a GGUF"):
        check_gguf(_write(tmp_path, "r.gguf", rng.randbytes(100_000)))


def test_unsupported_version(tmp_path: Path, tiny_gguf: Path) -> None:
    data = bytearray(tiny_gguf.read_bytes())
    data[4:8] = (99).to_bytes(4, "little")
    with pytest.raises(ModelFileError, match="unsupported GGUF version 99"):
        check_gguf(_write(tmp_path, "v.gguf", bytes(data)))


def test_damaged_headers_never_crash(tmp_path: Path, tiny_gguf: Path) -> None:
    """Random corruption of the header: a clean result or a ModelFileError, nothing else."""
    rng = random.Random(1)
    good = tiny_gguf.read_bytes()
    target = tmp_path / "fuzz.gguf"
    for i in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(4, 6400)] = rng.randrange(256)
        if i % 3 == 0:
            data = data[: rng.randrange(8, len(data))]
        if i % 7 == 0:
            data = bytearray(b"GGUF\x03\x00\x00\x00" + rng.randbytes(rng.randrange(0, 3000)))
        target.write_bytes(bytes(data))
        with contextlib.suppress(ModelFileError):
            check_gguf(target)


def test_header_only_read_is_fast_on_a_large_sparse_file(tmp_path: Path,
                                                         tiny_gguf: Path) -> None:
    """A 2 GB file (sparse, so no disk used) checks in well under a second: no data is read."""
    big = _write(tmp_path, "big.gguf", tiny_gguf.read_bytes())
    with big.open("r+b") as f:
        f.truncate(2 * 1024**3)
    start = time.monotonic()
    info = check_gguf(big, expected_size=2 * 1024**3)
    assert time.monotonic() - start < 1.0
    assert info.size == 2 * 1024**3
