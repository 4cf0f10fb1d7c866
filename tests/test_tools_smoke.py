"""Smoke: the real 0.5B model calls the exact calculator and answers 7,006,652."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from qwenapp.chat import Assistant, ChatResult
from qwenapp.models.embedded import EmbeddedBackend
from qwenapp.tools import ToolBox, ToolStarted
from qwenapp.tools.calculator import calculator_tool

pytestmark = pytest.mark.smoke


def test_real_model_uses_the_calculator() -> None:
    model = EmbeddedBackend(Path(os.environ["QWENAPP_SMOKE_MODEL"]), context=4096, parallel=1)
    assistant = Assistant(model, tools=ToolBox([calculator_tool()]))

    async def go() -> tuple[ChatResult, list[ToolStarted]]:
        result, started = ChatResult(), []
        async for ev in assistant.chat("What is 1234 × 5678?"):
            result.add(ev)
            if isinstance(ev, ToolStarted):
                started.append(ev)
        return result, started

    result, started = asyncio.run(go())
    assert [s.call.name for s in started][:1] == ["calculator"], result.text
    digits = result.text.replace(",", "").replace(" ", "")
    assert "7006652" in digits, result.text
