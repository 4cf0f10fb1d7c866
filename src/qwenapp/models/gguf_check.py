"""Check that a file is a whole GGUF model before handing it to the engine.

Why: llama.cpp given a truncated or foreign file may abort the whole
process, or fail with a message a user cannot act on. This check reads only
the GGUF header (magic, version, metadata, tensor table) with bounded
reads, never the tensor data and never a hash, so it is quick even on a
multi-gigabyte file, and every problem becomes a :class:`ModelFileError`
saying what is wrong and what to do. The parser is ours (a few struct
reads) rather than ``gguf.GGUFReader``, which memory-maps the file and
fails on damaged input with assorted numpy errors. The file is memory-mapped
read-only, so only the pages holding the header are ever read.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelFileError

__all__ = ["GGUFInfo", "check_gguf"]

_MAGIC = b"GGUF"
_SUPPORTED_VERSIONS = (2, 3)
_DEFAULT_ALIGNMENT = 32
# Sanity bounds: real models have well under these; random bytes do not.
_MAX_TENSORS = 1 << 20
_MAX_KV = 1 << 20
_MAX_DIMS = 8

# GGUF metadata value types -> struct format of one scalar.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}
_STRING, _ARRAY = 8, 9
_WANTED_KEYS = frozenset({"general.architecture", "general.name", "general.alignment",
                          "tokenizer.chat_template"})


@dataclass(frozen=True, slots=True)
class GGUFInfo:
    """What the header says about a model file that passed the check."""

    path: Path
    architecture: str
    name: str
    context_length: int | None  # None when the header does not say
    size: int
    has_chat_template: bool
    chat_template: str | None = None  # the Jinja text, for callers that inspect it


class _Damaged(Exception):
    """Internal: the header is cut short or does not parse; ``str`` says how."""


class _NotGGUF(_Damaged):
    """Internal: the file does not start with the GGUF magic; ``str`` says what it is."""


class _Header:
    """Bounded reader over the mapped file: never reads past its end."""

    def __init__(self, buf: mmap.mmap, pos: int, endian: str) -> None:
        self.buf = buf
        self.size = len(buf)
        self._pos = pos
        self.endian = endian
        self._u64 = struct.Struct(endian + "Q")
        self._u32 = struct.Struct(endian + "I")

    def pos(self) -> int:
        return self._pos

    def _need(self, n: int) -> int:
        at = self._pos
        if n < 0 or at + n > self.size:
            raise _Damaged(f"the header runs past the end of the file (at byte {at})")
        self._pos = at + n
        return at

    def read(self, n: int) -> bytes:
        at = self._need(n)
        return self.buf[at:at + n]

    def skip(self, n: int) -> None:
        self._need(n)

    def scalar(self, fmt: str) -> int | float | bool:
        st = struct.Struct(self.endian + fmt)
        value: int | float | bool = st.unpack_from(self.buf, self._need(st.size))[0]
        return value

    def u32(self) -> int:
        return int(self._u32.unpack_from(self.buf, self._need(4))[0])

    def u64(self) -> int:
        return int(self._u64.unpack_from(self.buf, self._need(8))[0])

    def string(self, keep: bool = True) -> str:
        n = self.u64()
        if not keep:
            self.skip(n)
            return ""
        return self.read(n).decode("utf-8", errors="replace")

    def skip_value(self, vtype: int) -> None:
        if vtype in _SCALARS:
            self.skip(struct.calcsize(_SCALARS[vtype]))
        elif vtype == _STRING:
            self.string(keep=False)
        elif vtype == _ARRAY:
            etype, count = self.u32(), self.u64()
            if etype in _SCALARS:
                self.skip(count * struct.calcsize(_SCALARS[etype]))
            elif count > self.size - self._pos:
                raise _Damaged(f"an array of {count} items cannot fit in the file")
            elif etype == _STRING:
                self._skip_strings(count)
            else:
                for _ in range(count):
                    self.skip_value(etype)
        else:
            raise _Damaged(f"unknown metadata value type {vtype} at byte {self._pos}")

    def _skip_strings(self, count: int) -> None:
        # The hot loop: a Qwen tokenizer holds ~300k strings.
        unpack, buf, size, pos = self._u64.unpack_from, self.buf, self.size, self._pos
        for _ in range(count):
            if pos + 8 > size:
                break
            pos += 8 + unpack(buf, pos)[0]
        else:
            if pos <= size:
                self._pos = pos
                return
        raise _Damaged(f"the header runs past the end of the file (in the array at {self._pos})")


def _catalogue_name(path: Path) -> str | None:
    from .catalogue import CATALOGUE

    return next((e.name for e in CATALOGUE.values() if e.filename == path.name), None)


def _redownload_hint(path: Path) -> str:
    name = _catalogue_name(path)
    if name:
        return f"delete it and run `qwenapp models pull {name}`"
    return "re-download it, or point --model at another .gguf file"


def _describe_start(head: bytes) -> str:
    if not head:
        return "it is empty"
    if head.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer, not the model itself"
    if head.lstrip().startswith((b"<", b"{")):
        return "it looks like a web page or JSON, not a model"
    return f"it starts with {head[:4]!r}, not b'GGUF'"


def _tensor_bytes(ggml_type: int, n_elements: int) -> int | None:
    """Bytes of tensor data, or None for a type this gguf library does not know."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    except (ValueError, KeyError):
        return None
    return (n_elements + block - 1) // block * type_size


def _parse(buf: mmap.mmap) -> tuple[dict[str, object], int]:
    """Return (the metadata we report, bytes the file must have)."""
    head = buf[:8]
    if len(head) < 8 or head[:4] != _MAGIC:
        raise _NotGGUF(_describe_start(buf[:64]))
    version = struct.unpack("<I", head[4:])[0]
    endian = "<"
    if version not in _SUPPORTED_VERSIONS and struct.unpack(">I", head[4:])[0] in (
            _SUPPORTED_VERSIONS):
        endian, version = ">", struct.unpack(">I", head[4:])[0]
    if version not in _SUPPORTED_VERSIONS:
        raise _Damaged(f"unsupported GGUF version {version} (this build reads versions 2 and 3)")
    r = _Header(buf, 8, endian)
    n_tensors, n_kv = r.u64(), r.u64()
    if n_tensors > _MAX_TENSORS or n_kv > _MAX_KV:
        raise _Damaged(f"implausible header ({n_tensors} tensors, {n_kv} metadata keys)")
    meta: dict[str, object] = {}
    for _ in range(n_kv):
        key = r.string()
        vtype = r.u32()
        wanted = key in _WANTED_KEYS or (key.endswith(".context_length") and key.count(".") == 1)
        if wanted and vtype == _STRING:
            meta[key] = r.string()
        elif wanted and vtype in _SCALARS:
            meta[key] = r.scalar(_SCALARS[vtype])
        else:
            r.skip_value(vtype)
    data_end = 0
    for _ in range(n_tensors):
        r.string(keep=False)
        n_dims = r.u32()
        if n_dims > _MAX_DIMS:
            raise _Damaged(f"a tensor has {n_dims} dimensions")
        n_elements = 1
        for _ in range(n_dims):
            n_elements *= r.u64()
        ggml_type, offset = r.u32(), r.u64()
        nbytes = _tensor_bytes(ggml_type, n_elements) or 0
        data_end = max(data_end, offset + nbytes)
    align = meta.get("general.alignment", _DEFAULT_ALIGNMENT)
    if not isinstance(align, int) or align <= 0 or align & (align - 1):
        raise _Damaged(f"bad general.alignment {align!r}")
    data_start = (r.pos() + align - 1) // align * align
    return meta, data_start + data_end


def check_gguf(path: str | Path, expected_size: int | None = None) -> GGUFInfo:
    """Check *path* is a complete GGUF file; raise :class:`ModelFileError` if not.

    *expected_size* (bytes; ``None`` or 0: unknown) catches a truncated
    download before the header is even read. Reads the header only.
    """
    path = Path(path).expanduser()
    try:
        if not path.exists():
            hint = (f"run `qwenapp models pull {name}`" if (name := _catalogue_name(path))
                    else "check the path, or give a catalogue name (`qwenapp models list`)")
            raise ModelFileError(f"no model file at {path}", hint)
        if path.is_dir():
            raise ModelFileError(f"{path} is a directory, not a .gguf model file",
                                 "give the path of the .gguf file inside it")
        if not path.is_file():  # a FIFO or device would block or lie about its size
            raise ModelFileError(f"{path} is not a regular file", "give the path of a .gguf file")
        size = path.stat().st_size
        if expected_size and size != expected_size:
            what = (f"is truncated: {size} of {expected_size} bytes" if size < expected_size
                    else f"is {size} bytes, {expected_size} expected")
            raise ModelFileError(f"the model file {path} {what}", _redownload_hint(path))
        if size == 0:
            raise _NotGGUF(_describe_start(b""))
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            meta, needed = _parse(buf)
    except _NotGGUF as e:
        raise ModelFileError(f"{path} is not a GGUF model file: {e}",
                             _redownload_hint(path)) from None
    except _Damaged as e:
        raise ModelFileError(f"the model file {path} is damaged: {e}",
                             _redownload_hint(path)) from None
    except (OSError, ValueError) as e:  # ValueError: mmap refusing an odd file
        why = getattr(e, "strerror", None) or e
        raise ModelFileError(f"cannot read the model file {path}: {why}",
                             "check the file's permissions, or re-download it") from None
    if needed > size:
        raise ModelFileError(
            f"the model file {path} is truncated: its tensors need {needed} bytes, "
            f"the file has {size}", _redownload_hint(path))
    arch = meta.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise ModelFileError(f"the model file {path} does not name its architecture",
                             "it is not a usable language model; " + _redownload_hint(path))
    ctx = meta.get(f"{arch}.context_length")
    title = meta.get("general.name")
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path,
        architecture=arch,
        name=title if isinstance(title, str) and title else path.stem,
        context_length=int(ctx) if isinstance(ctx, int) and ctx > 0 else None,
        size=size,
        has_chat_template=isinstance(template, str),
        chat_template=template if isinstance(template, str) else None,
    )
