"""The one output-path check, atomic writer and LibreOffice finder (qwenapp/output.py).

Reports, decks, job artifacts and history exports all reach disk through these,
so their promises are tested here once, on real files: a bad path fails before
any work, the target holds the old file or the complete new one, no temporary
file is left behind, a replaced file keeps its mode, and a failure is a typed
error in the caller's own type.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from qwenapp.errors import InputError, QwenappError, StorageError
from qwenapp.output import check_writable, find_soffice, write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
not_root = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                              reason="root writes through read-only modes")


class ReportProblem(QwenappError):
    """A caller's own error type (like a report's RenderError)."""


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_text_is_written_as_utf8_and_bytes_as_they_are(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.md", "千问 and Qwen\n")
    write_atomic(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.md").read_bytes() == "千问 and Qwen\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert leftovers(tmp_path) == []


def test_a_replaced_file_is_complete_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "deck.pptx"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"new" * 1000
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


@posix_only
def test_a_new_file_gets_what_a_plain_open_would_give(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    write_atomic(tmp_path / "atomic", b"")
    assert stat.S_IMODE((tmp_path / "atomic").stat().st_mode) == \
        stat.S_IMODE(plain.stat().st_mode)


def test_a_missing_folder_is_a_typed_error_in_the_callers_type(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot write") as e:
        write_atomic(tmp_path / "missing" / "x.md", "x")
    assert e.value.hint
    with pytest.raises(ReportProblem, match="cannot write"):
        write_atomic(tmp_path / "missing" / "x.md", "x", error=ReportProblem)


def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # os.replace of a file onto a folder fails after the bytes are written
    (target / "inside").write_text("kept")
    with pytest.raises(StorageError, match="cannot write"):
        write_atomic(target, b"data")
    assert (target / "inside").read_text() == "kept"
    assert leftovers(tmp_path) == []


def test_check_writable_accepts_a_good_path_and_makes_it_absolute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert check_writable(Path("r.md")) == tmp_path.resolve() / "r.md"
    assert leftovers(tmp_path) == []  # the probe file is gone


def test_check_writable_refuses_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="does not exist") as e:
        check_writable(tmp_path / "missing" / "r.md")
    assert "create the folder first" in e.value.hint
    with pytest.raises(InputError, match="is not a folder but a file"):
        check_writable(tmp_path / "file" / "r.md")
    with pytest.raises(InputError, match="it is a folder"):
        check_writable(tmp_path / "folder")
    with pytest.raises(ReportProblem, match="it is a folder") as custom:
        check_writable(tmp_path / "folder", error=ReportProblem, hint="pick another name")
    assert custom.value.hint == "pick another name"


@posix_only
@not_root
def test_check_writable_refuses_a_read_only_file_and_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked.md"
    locked.write_text("x")
    locked.chmod(0o444)
    with pytest.raises(InputError, match="read-only"):
        check_writable(locked)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(InputError, match="cannot write"):
            check_writable(folder / "r.md")
    finally:
        folder.chmod(0o755)


def test_find_soffice_reads_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    if not Path("/Applications/LibreOffice.app/Contents/MacOS/soffice").exists():
        assert find_soffice() is None
    if os.name == "posix":
        fake = tmp_path / "libreoffice"
        fake.write_text("#!/bin/sh\n")
        fake.chmod(0o755)
        assert find_soffice() == str(fake)
