"""Files the app makes: one output-path check, one atomic writer, one LibreOffice finder.

Reports, decks, job artifacts and history exports all write a file a user
keeps, so they share the same two promises. An output path is checked
*before* any work (a bad ``-o`` fails in a second, not after minutes of
generation), and bytes reach the path through a temporary file in the same
folder, flushed to disk and moved into place with ``os.replace``: the path
holds the old file or the complete new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from .errors import InputError, QwenappError, StorageError

__all__ = ["check_writable", "find_soffice", "write_atomic"]

_MAC_SOFFICE = "/Applications/LibreOffice.app/Contents/MacOS/soffice"


def find_soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    if sys.platform == "darwin" and Path(_MAC_SOFFICE).exists():
        return _MAC_SOFFICE
    return None


def check_writable(path: Path, *, error: type[QwenappError] = InputError,
                   hint: str = "choose another -o path") -> Path:
    """``path`` made absolute, after checking a file can be written there (``error``: the
    exception type the caller's users know, e.g. a report's ``RenderError``)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise error(f"cannot write {path}: it is a folder", hint)
    parent = (path.parent if str(path.parent) else Path(".")).resolve()
    if parent.exists() and not parent.is_dir():
        raise error(f"cannot write {path}: the folder {parent} does not exist "
                    f"({parent} is not a folder but a file)", hint)
    if not parent.is_dir():
        raise error(f"cannot write {path}: the folder {parent} does not exist",
                    "create the folder first, or " + hint)
    if path.exists() and not os.access(path, os.W_OK):
        raise error(f"cannot write {path}: the file is read-only (permission denied)", hint)
    try:  # the only reliable test (root, read-only mounts, ACLs): create a file there
        with tempfile.NamedTemporaryFile(prefix=".qwenapp-probe-", dir=parent):
            pass
    except OSError as e:
        raise error(f"cannot write {path}: {e.strerror or e}",
                    "choose a folder you can write to") from None
    return parent / path.name


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str, *,
                 error: type[QwenappError] = StorageError) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` through a temporary file and ``os.replace``.

    The file keeps the mode of the one it replaces (a new one gets what a plain ``open``
    would give); on failure the temporary file is removed and ``error`` says why.
    """
    target = Path(path).expanduser()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:
        raise error(f"cannot write {target}: {e.strerror or e}",
                    "check that the folder exists and is writable") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.chmod(tmp, mode)
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise error(f"cannot write {target}: {e.strerror or e}",
                    "check free disk space and permissions") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
