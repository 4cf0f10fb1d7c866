"""Where a deck goes: checked before any work, written atomically after.

The output path is checked up front (a .pptx name, a folder that exists and
can be written), so a bad ``-o`` fails in a second instead of after minutes
of generation. Bytes go to a temporary file in the same folder and are moved
into place with ``os.replace``: the path holds the old file or the complete
new one, never half a deck.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import InputError

__all__ = ["check_output", "write_atomic"]


def check_output(path: Path) -> Path:
    """The output path, made absolute, after checking that a deck can be written there."""
    path = path.expanduser()
    if path.suffix.lower() != ".pptx":
        raise InputError(f"the output {path.name} does not end in .pptx",
                         "name the output file like deck.pptx")
    if path.is_dir():
        raise InputError(f"the output {path} is a folder", "give a file name like deck.pptx")
    parent = path.parent.resolve()
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: the folder {parent} does not exist",
                         "create the folder first or choose another -o path")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".qwenapp-check-"):
            pass
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}",
                         "choose a folder you can write to") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"cannot write {path}: the file is read-only",
                         "choose another -o path or make the file writable")
    return parent / path.name


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"cannot write {path}: {e.strerror or e}",
                         "check free disk space and permissions") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
