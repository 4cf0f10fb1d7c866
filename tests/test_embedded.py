"""The real embedded llama.cpp engine, on a tiny random-weight Qwen2 GGUF."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from qwenapp.errors import ContextOverflowError, ModelFileError
from qwenapp.models.base import complete
from qwenapp.models.embedded import EmbeddedBackend, loaded_engines
from qwenapp.models.events import (
    Finish,
    GenerateOptions,
    Message,
    NamedTool,
    TextDelta,
    ToolCall,
    ToolSpec,
    Usage,
)

HELLO = [Message("user", "hello")]


@pytest.fixture(scope="module")
def backend(tiny_gguf: Path) -> EmbeddedBackend:
    return EmbeddedBackend(tiny_gguf, context=512, parallel=2, threads=2)


def test_streams_text_usage_and_finish(backend: EmbeddedBackend) -> None:
    async def run() -> list[object]:
        return [e async for e in backend.stream(HELLO, GenerateOptions(max_tokens=8, seed=1))]

    events = asyncio.run(run())
    assert any(isinstance(e, TextDelta) for e in events)
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.completion_tokens == 8 and usage.prompt_tokens > 0
    assert events[-1] == Finish("length")


def test_same_seed_same_text_and_model_loaded_once(backend: EmbeddedBackend,
                                                    tiny_gguf: Path) -> None:
    opts = GenerateOptions(max_tokens=12, seed=7, temperature=0.8)
    a = asyncio.run(complete(backend, HELLO, opts))
    other = EmbeddedBackend(tiny_gguf, context=512, parallel=2, threads=2)
    b = asyncio.run(complete(other, HELLO, opts))
    assert a.text == b.text and a.text
    assert len([c for c in loaded_engines() if c.path == tiny_gguf.resolve()]) == 1


def test_json_schema_output_is_valid_json(backend: EmbeddedBackend) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"],
              "additionalProperties": False}
    out = asyncio.run(complete(backend, HELLO, GenerateOptions(max_tokens=40, json_schema=schema,
                                                               seed=1)))
    assert isinstance(json.loads(out.text)["n"], int)


def test_concurrent_requests_share_the_engine(backend: EmbeddedBackend) -> None:
    async def run() -> list[str]:
        outs = await asyncio.gather(*[
            complete(backend, [Message("user", f"q{i}")], GenerateOptions(max_tokens=6, seed=i))
            for i in range(4)])
        return [o.finish_reason or "" for o in outs]

    assert asyncio.run(run()) == ["length"] * 4


def test_prompt_cache_reused_on_the_next_turn(backend: EmbeddedBackend) -> None:
    convo = [Message("system", "be brief " * 20), Message("user", "first question " * 10)]
    first = asyncio.run(complete(backend, convo, GenerateOptions(max_tokens=4, seed=1)))
    convo += [Message("assistant", first.text), Message("user", "second")]
    second = asyncio.run(complete(backend, convo, GenerateOptions(max_tokens=4, seed=1)))
    assert second.usage is not None
    assert second.usage.cached_tokens >= first.usage.prompt_tokens - 2  # type: ignore[union-attr]


def test_cancelling_frees_the_slot(backend: EmbeddedBackend) -> None:
    async def run() -> str | None:
        agen = backend.stream(HELLO, GenerateOptions(max_tokens=400, seed=1))
        async for _ in agen:
            break
        await agen.aclose()
        # Both slots must be free again: two more requests complete.
        outs = await asyncio.gather(*[complete(backend, HELLO, GenerateOptions(max_tokens=3))
                                      for _ in range(2)])
        return outs[0].finish_reason

    assert asyncio.run(run()) == "length"


def test_prompt_larger_than_context_is_a_typed_error(backend: EmbeddedBackend) -> None:
    with pytest.raises(ContextOverflowError):
        asyncio.run(complete(backend, [Message("user", "word " * 2000)],
                             GenerateOptions(max_tokens=4)))


@pytest.mark.parametrize("damage", ["missing", "empty", "text", "truncated", "random"])
def test_bad_model_files_are_clear_errors(tmp_path: Path, tiny_gguf: Path, damage: str) -> None:
    path = tmp_path / "bad.gguf"
    data = tiny_gguf.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("this is not a model\n")
    elif damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "random":
        path.write_bytes(b"GGUF" + bytes(range(256)) * 100)
    backend = EmbeddedBackend(path, context=256, parallel=1, threads=1)
    with pytest.raises(ModelFileError) as info:
        asyncio.run(complete(backend, HELLO, GenerateOptions(max_tokens=2)))
    assert info.value.hint


def test_thinking_switch_reaches_a_qwen3_template(tmp_path: Path) -> None:
    from qwenapp.testing.tiny_gguf import QWEN3_TEMPLATE, write_tiny_qwen_gguf

    path = write_tiny_qwen_gguf(tmp_path / "tiny-qwen3.gguf", chat_template=QWEN3_TEMPLATE)
    backend = EmbeddedBackend(path, context=512, parallel=1, threads=2)
    assert backend.supports_thinking  # detected from the chat template
    off = asyncio.run(complete(backend, HELLO, GenerateOptions(max_tokens=2, think=False)))
    on = asyncio.run(complete(backend, HELLO, GenerateOptions(max_tokens=2, think=True)))
    assert off.usage and on.usage
    # The empty think block is in the prompt only when thinking is off.
    assert off.usage.prompt_tokens > on.usage.prompt_tokens


def test_plain_qwen25_template_has_no_thinking(backend: EmbeddedBackend) -> None:
    assert backend.supports_thinking is False


def test_anti_repetition_samplers_reach_the_engine(backend: EmbeddedBackend) -> None:
    """Greedy decoding of the random model repeats itself; the penalties change the text."""
    plain = asyncio.run(complete(backend, HELLO, GenerateOptions(max_tokens=32, temperature=0)))
    tokens = plain.text.split()
    penalised = asyncio.run(complete(backend, HELLO, GenerateOptions(
        max_tokens=32, temperature=0, repeat_penalty=3.0, frequency_penalty=1.5,
        dry_multiplier=2.0)))
    assert plain.text and penalised.text
    assert penalised.text != plain.text, tokens


# -- tools ----------------------------------------------------------------------------

QWEN25_TEMPLATE = (Path(__file__).parent / "fixtures" / "qwen25_tools_template.jinja").read_text()
UNIT = ToolSpec("set_unit", "Choose the temperature unit.", {
    "type": "object", "properties": {"unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["unit"], "additionalProperties": False})


@pytest.fixture(scope="module")
def tool_backend(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    """The tiny model with Qwen2.5's own chat template, which renders tools and tool turns."""
    from qwenapp.testing.tiny_gguf import write_tiny_qwen_gguf

    path = write_tiny_qwen_gguf(tmp_path_factory.mktemp("gguf") / "tiny-qwen25-tools.gguf",
                                chat_template=QWEN25_TEMPLATE)
    return EmbeddedBackend(path, context=2048, parallel=1, threads=2)


def test_tools_reach_the_chat_template(tool_backend: EmbeddedBackend) -> None:
    plain = asyncio.run(complete(tool_backend, HELLO, GenerateOptions(max_tokens=1)))
    offered = asyncio.run(complete(tool_backend, HELLO, GenerateOptions(
        max_tokens=1, tools=(UNIT,))))
    assert plain.usage and offered.usage
    # The template's "# Tools" block with the schema is in the prompt (byte-level vocab:
    # roughly a token a character).
    assert offered.usage.prompt_tokens - plain.usage.prompt_tokens > 300
    none = asyncio.run(complete(tool_backend, HELLO, GenerateOptions(
        max_tokens=1, tools=(UNIT,), tool_choice="none")))
    assert none.usage and none.usage.prompt_tokens == plain.usage.prompt_tokens


def test_a_forced_tool_choice_yields_a_parsed_call(tool_backend: EmbeddedBackend) -> None:
    out = asyncio.run(complete(tool_backend, [Message("user", "use fahrenheit")],
                               GenerateOptions(max_tokens=200, seed=3, tools=(UNIT,),
                                               tool_choice=NamedTool("set_unit"))))
    assert out.finish_reason == "tool_calls", out.text
    assert out.text == "" and not out.tool_errors
    [call] = out.tool_calls
    assert call.name == "set_unit" and call.arguments["unit"] in ("celsius", "fahrenheit")
    assert call.id.startswith("call_")


def test_assistant_tool_calls_and_tool_results_reach_the_template(
        tool_backend: EmbeddedBackend) -> None:
    call = ToolCall("call_1", "set_unit", {"unit": "celsius"})
    base = [Message("user", "weather?"), Message("assistant", "", tool_calls=(call,))]
    short = asyncio.run(complete(tool_backend,
                                 [*base, Message("tool", "ok", tool_call_id="call_1")],
                                 GenerateOptions(max_tokens=1, tools=(UNIT,))))
    long = asyncio.run(complete(tool_backend, [*base, Message("tool", "ok" + "z" * 200,
                                                               tool_call_id="call_1")],
                                GenerateOptions(max_tokens=1, tools=(UNIT,))))
    assert short.usage and long.usage
    assert long.usage.prompt_tokens - short.usage.prompt_tokens >= 100
