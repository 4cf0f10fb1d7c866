"""Where a deck goes: checked before any work, written atomically after.

The output path is checked up front (a .pptx name, a folder that exists and
can be written), so a bad ``-o`` fails in a second instead of after minutes
of generation. Bytes go to a temporary file in the same folder and are moved
into place with ``os.replace``: the path holds the old file or the complete
new one, never half a deck.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..output import check_writable
from ..output import write_atomic as _write_atomic

__all__ = ["check_output", "write_atomic"]


def check_output(path: Path) -> Path:
    """The output path, made absolute, after checking that a deck can be written there."""
    path = path.expanduser()
    if path.suffix.lower() != ".pptx":
        raise InputError(f"the output {path.name} does not end in .pptx",
                         "name the output file like deck.pptx")
    return check_writable(path, hint="choose another -o path")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`qwenapp.output.write_atomic`)."""
    _write_atomic(path, data, error=InputError)
