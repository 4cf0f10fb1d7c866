"""Tool calls read in the one chunk translator: every wire shape, any chunking, bad JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from qwenapp.errors import InputError
from qwenapp.models.base import complete
from qwenapp.models.events import (
    Event,
    Finish,
    GenerateOptions,
    Message,
    NamedTool,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallError,
    ToolSpec,
)
from qwenapp.models.profile import QwenProfile, openai_chunks_to_events, request_body
from qwenapp.models.scripted import ScriptedModel, ScriptedToolCalls, load_script
from qwenapp.models.toolcalls import parse_arguments, repair_json

CALC = ToolSpec("calculator", "Exact arithmetic.", {
    "type": "object", "properties": {"expression": {"type": "string"}},
    "required": ["expression"]})
CLOCK = ToolSpec("current_time", "The date and time now.")
TOOLS = (CALC, CLOCK)


def chunk(content: str | None = None, calls: list[dict[str, Any]] | None = None,
          finish: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if calls is not None:
        delta["tool_calls"] = calls
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def translate(chunks: list[dict[str, Any]], tools: tuple[ToolSpec, ...] = TOOLS) -> list[Event]:
    async def gen() -> AsyncIterator[dict[str, Any]]:
        for c in chunks:
            yield c

    async def run() -> list[Event]:
        return [e async for e in openai_chunks_to_events(gen(), tools)]

    return asyncio.run(run())


def text_chunks(text: str, size: int) -> list[dict[str, Any]]:
    return [chunk(text[i:i + size]) for i in range(0, len(text), size)] + [chunk(finish="stop")]


def summary(events: list[Event]) -> tuple[str, list[tuple[str, dict[str, Any]]], list[str], str]:
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    calls = [(e.name, dict(e.arguments)) for e in events if isinstance(e, ToolCall)]
    errors = [e.message for e in events if isinstance(e, ToolCallError)]
    finish = next(e.reason for e in events if isinstance(e, Finish))
    return text, calls, errors, finish


@pytest.mark.parametrize("size", [1, 2, 5, 7, 1000])
def test_qwen_tag_form_at_any_chunk_boundary(size: int) -> None:
    raw = ('Let me work that out.\n<tool_call>\n{"name": "calculator", "arguments": '
           '{"expression": "1234*5678"}}\n</tool_call>')
    text, calls, errors, finish = summary(translate(text_chunks(raw, size)))
    assert text == "Let me work that out.\n"
    assert calls == [("calculator", {"expression": "1234*5678"})]
    assert errors == [] and finish == "tool_calls"


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_two_tagged_calls_in_one_answer(size: int) -> None:
    raw = ('<tool_call>{"name": "calculator", "arguments": {"expression": "1+1"}}</tool_call>\n'
           '<tool_call>{"name": "current_time", "arguments": {}}</tool_call>')
    events = translate(text_chunks(raw, size))
    _, calls, _, finish = summary(events)
    assert [c[0] for c in calls] == ["calculator", "current_time"] and finish == "tool_calls"
    ids = [e.id for e in events if isinstance(e, ToolCall)]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)


@pytest.mark.parametrize("raw", [
    '{"name": "calculator", "arguments": {"expression": "2+2"}}',
    '  \n{"name": "calculator", "arguments": {"expression": "2+2"}}\n',
    '```json\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n```',
    '[{"name": "calculator", "arguments": {"expression": "2+2"}}]',
    '{"name": "calculator", "parameters": {"expression": "2+2"}}',
    '{"type": "function", "function": {"name": "calculator", "arguments": "{\\"expression\\": '
    '\\"2+2\\"}"}}',
], ids=["bare", "padded", "fenced", "list", "parameters", "openai-shape"])
@pytest.mark.parametrize("size", [1, 4, 1000])
def test_bare_json_call_as_the_whole_answer(raw: str, size: int) -> None:
    """What Qwen2.5-Coder writes instead of the tags (and what a forced grammar produces)."""
    text, calls, errors, finish = summary(translate(text_chunks(raw, size)))
    assert (text, calls, errors, finish) == ("", [("calculator", {"expression": "2+2"})], [],
                                             "tool_calls")


@pytest.mark.parametrize("raw", [
    '{"answer": 4}',
    '{"name": "Ada Lovelace", "born": 1815}',  # a JSON answer whose "name" is no tool
    "[1, 2, 3]",
    "```python\nprint(2 + 2)\n```",
    "Use <tool_call> tags to call tools, like <tool_",
])
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_json_and_code_answers_stay_text(raw: str, size: int) -> None:
    assert summary(translate(text_chunks(raw, size))) == (raw, [], [], "stop")


def test_without_tools_the_text_is_never_parsed() -> None:
    raw = '{"name": "calculator", "arguments": {"expression": "2+2"}}'
    assert summary(translate(text_chunks(raw, 3), tools=())) == (raw, [], [], "stop")


def test_native_deltas_stream_then_finish_as_one_call() -> None:
    events = translate([
        chunk(calls=[{"index": 0, "id": "call_a", "type": "function",
                      "function": {"name": "calculator", "arguments": ""}}]),
        chunk(calls=[{"index": 0, "function": {"arguments": '{"expres'}}]),
        chunk(calls=[{"index": 0, "function": {"arguments": 'sion": "3*3"}'}}]),
        chunk(calls=[{"index": 1, "id": "call_b", "function": {"name": "current_time",
                                                              "arguments": "{}"}}]),
        chunk(finish="tool_calls"),
    ])
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert "".join(d.arguments for d in deltas if d.index == 0) == '{"expression": "3*3"}'
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.id, c.name, dict(c.arguments)) for c in calls] == [
        ("call_a", "calculator", {"expression": "3*3"}), ("call_b", "current_time", {})]
    assert events[-1] == Finish("tool_calls")


def test_a_whole_message_with_calls_is_read_too() -> None:
    msg = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [
            {"id": "x1", "type": "function", "function": {"name": "calculator",
                                                          "arguments": '{"expression": "1"}'}},
            {"id": "x2", "type": "function", "function": {"name": "current_time",
                                                          "arguments": "{}"}}]}}]}
    _, calls, _, finish = summary(translate([msg]))
    assert [c[0] for c in calls] == ["calculator", "current_time"] and finish == "tool_calls"


@pytest.mark.parametrize(("raw", "expected"), [
    ("{'expression': '2+2'}", {"expression": "2+2"}),
    ('{"expression": "2+2",}', {"expression": "2+2"}),
    ('{"expression": "2+2"', {"expression": "2+2"}),
    ('{"expression": "2+2', {"expression": "2+2"}),
    ('{expression: "2+2", exact: True, unit: None}',
     {"expression": "2+2", "exact": True, "unit": None}),
    ('```json\n{"expression": "2+2"}\n```', {"expression": "2+2"}),
    ('{"expression": "2+2"} and then some words', {"expression": "2+2"}),
    ('"{\\"expression\\": \\"2+2\\"}"', {"expression": "2+2"}),  # encoded twice
    ("{'q': \"it's\"}", {"q": "it's"}),
])
def test_arguments_are_repaired(raw: str, expected: dict[str, Any]) -> None:
    args, repaired = parse_arguments(raw)
    assert args == expected and repaired


def test_valid_arguments_are_not_marked_repaired() -> None:
    assert parse_arguments('{"a": [1, {"b": "}"}]}') == ({"a": [1, {"b": "}"}]}, False)
    assert parse_arguments("") == ({}, False)


@pytest.mark.parametrize("raw", ["not json at all", "[1, 2]", "42", "{{{]]]:"])
def test_unreadable_arguments_are_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_arguments(raw)


def test_repair_json_leaves_good_json_alone() -> None:
    assert repair_json('{"a": "b"}') == ({"a": "b"}, False)


def test_malformed_call_is_an_error_event_not_a_crash() -> None:
    events = translate([
        chunk(calls=[{"index": 0, "id": "c1", "function": {"name": "calculator",
                                                          "arguments": "expression = 2+2"}}]),
        chunk(finish="tool_calls")])
    [err] = [e for e in events if isinstance(e, ToolCallError)]
    assert err.name == "calculator" and "not valid JSON" in err.message
    assert err.raw == "expression = 2+2" and events[-1] == Finish("tool_calls")


def test_an_unclosed_tag_at_the_end_is_still_read_or_reported() -> None:
    good = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "7"}}'
    assert summary(translate(text_chunks(good, 5)))[1] == [("calculator", {"expression": "7"})]
    bad = "<tool_call>\n{name calculator expression"
    _, calls, errors, finish = summary(translate(text_chunks(bad, 5)))
    assert calls == [] and errors == ["the tool call is not valid JSON"]
    assert finish == "tool_calls"


def test_call_without_a_name_is_an_error() -> None:
    events = translate([chunk(calls=[{"index": 0, "function": {"arguments": "{}"}}]),
                        chunk(finish="tool_calls")])
    assert [e.message for e in events if isinstance(e, ToolCallError)] == [
        "the model sent a tool call without a function name"]


# -- the request ----------------------------------------------------------------------

def test_request_body_offers_tools_with_auto() -> None:
    body = request_body([], GenerateOptions(tools=TOOLS, parallel_tool_calls=False),
                        QwenProfile())
    assert [t["function"]["name"] for t in body["tools"]] == ["calculator", "current_time"]
    assert body["tools"][0]["function"]["parameters"]["required"] == ["expression"]
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is False
    assert "response_format" not in body


def test_tool_choice_none_offers_nothing() -> None:
    body = request_body([], GenerateOptions(tools=TOOLS, tool_choice="none"), QwenProfile())
    assert "tools" not in body and "response_format" not in body


def test_forced_tool_choice_becomes_a_call_schema() -> None:
    named = request_body([], GenerateOptions(tools=TOOLS, tool_choice=NamedTool("calculator")),
                         QwenProfile())
    schema = named["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["name"] == {"const": "calculator"}
    assert schema["properties"]["arguments"] == dict(CALC.parameters)
    required = request_body([], GenerateOptions(tools=TOOLS, tool_choice="required"),
                            QwenProfile())
    variants = required["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [v["properties"]["name"]["const"] for v in variants] == ["calculator",
                                                                     "current_time"]


def test_forcing_an_unknown_tool_or_with_a_json_schema_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not among the tools"):
        request_body([], GenerateOptions(tools=TOOLS, tool_choice=NamedTool("nope")),
                     QwenProfile())
    with pytest.raises(InputError, match="exclude each other"):
        request_body([], GenerateOptions(tools=TOOLS, tool_choice="required",
                                         json_schema={"type": "object"}), QwenProfile())


def test_messages_carry_calls_and_results_to_the_wire() -> None:
    call = ToolCall("call_1", "calculator", {"expression": "2+2"})
    assistant = Message("assistant", "", tool_calls=(call,)).to_openai()
    assert assistant["tool_calls"] == [{"id": "call_1", "type": "function", "function": {
        "name": "calculator", "arguments": '{"expression": "2+2"}'}}]
    tool = Message("tool", "4", tool_call_id="call_1", name="calculator").to_openai()
    assert tool == {"role": "tool", "content": "4", "tool_call_id": "call_1",
                    "name": "calculator"}
    assert Message("user", "hi").to_openai() == {"role": "user", "content": "hi"}


# -- the scripted model ---------------------------------------------------------------

def test_scripted_model_streams_tool_calls_through_the_translator() -> None:
    model = ScriptedModel([ScriptedToolCalls((("calculator", {"expression": "6*7"}),),
                                             content="One moment.", ids=("call_x",)),
                           "The answer is 42."])
    opts = GenerateOptions(tools=TOOLS)
    first = asyncio.run(complete(model, [Message("user", "6 times 7?")], opts))
    assert first.text == "One moment." and first.finish_reason == "tool_calls"
    assert first.tool_calls == [ToolCall("call_x", "calculator", {"expression": "6*7"})]
    deltas = [e for e in first.events if isinstance(e, ToolCallDelta)]
    assert len(deltas) > 3  # the arguments arrived a few characters at a time
    second = asyncio.run(complete(model, [Message("user", "6 times 7?")], opts))
    assert second.text == "The answer is 42." and second.finish_reason == "stop"
    assert model.calls[0].options.tools == TOOLS


def test_scripted_malformed_arguments_and_text_form() -> None:
    model = ScriptedModel([ScriptedToolCalls((("calculator", "{'expression': '1+1',"),)),
                           ScriptedToolCalls((("calculator", "??"),)),
                           '<tool_call>{"name": "current_time", "arguments": {}}</tool_call>'])
    opts = GenerateOptions(tools=TOOLS)
    repaired = asyncio.run(complete(model, [Message("user", "q")], opts))
    assert repaired.tool_calls[0].arguments == {"expression": "1+1"}
    assert repaired.tool_calls[0].repaired
    broken = asyncio.run(complete(model, [Message("user", "q")], opts))
    assert broken.tool_calls == [] and broken.tool_errors[0].raw == "??"
    tagged = asyncio.run(complete(model, [Message("user", "q")], opts))
    assert [c.name for c in tagged.tool_calls] == ["current_time"]


def test_script_file_tool_calls(tmp_path: Any) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"rules": [{"contains": "multiply", "reply": {
        "tool_calls": [{"name": "calculator", "arguments": {"expression": "3*3"}}]}}]}))
    model = load_script(str(path))
    out = asyncio.run(complete(model, [Message("user", "multiply 3 by 3")],
                               GenerateOptions(tools=TOOLS)))
    assert [(c.name, dict(c.arguments)) for c in out.tool_calls] == [
        ("calculator", {"expression": "3*3"})]


def test_doubled_braces_copied_from_the_coder_template_are_undoubled() -> None:
    # Qwen2.5-Coder's GGUF template shows its example with format-escaped braces
    # and the 0.5B/1.5B copy them; this is the form they were seen to write.
    raw = '{{"name": "calculator", "arguments": {{"expression": "2+2"}}}}'
    assert repair_json(raw) == (
        {"name": "calculator", "arguments": {"expression": "2+2"}}, True)
    text = f"<tool_call>\n{raw}\n</tool_call>"
    _, calls, errors, _ = summary(translate(text_chunks(text, 7)))
    assert calls == [("calculator", {"expression": "2+2"})] and errors == []


def test_a_brace_pair_inside_a_string_is_left_alone() -> None:
    assert repair_json('{"template": "{{name}}"}') == ({"template": "{{name}}"}, False)
