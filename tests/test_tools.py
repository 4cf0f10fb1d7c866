"""Built-in tools, the tool box's limits, and the bounded tool loop (scripted model)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest

from qwenapp.library import Library
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
from qwenapp.models.scripted import ScriptedModel, ScriptedToolCalls
from qwenapp.tools import (
    FunctionTool,
    ToolBox,
    ToolFailure,
    ToolFinished,
    ToolNotice,
    ToolResult,
    ToolStarted,
    builtin_toolbox,
    run_with_tools,
)
from qwenapp.tools.calculator import calculator_tool, convert, evaluate, format_number, unit_tool
from qwenapp.tools.clock import clock_tool


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall("call_t", name, args)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


# -- calculator and units ----------------------------------------------------------------

@pytest.mark.parametrize(("expr", "shown"), [
    ("1234 × 5678", "7006652 (7,006,652)"),
    ("1,234 * 5,678", "7006652 (7,006,652)"),
    ("0.1 + 0.2", "0.3"),
    ("1/3", "1/3 ≈ 0.333333333333"),
    ("2**64", "18446744073709551616 (18,446,744,073,709,551,616)"),
    ("2^10", "1024"),
    ("sqrt(144)", "12"),
    ("sqrt(2)", "≈ 1.41421356237"),
    ("(3 + 4) / 7 * 1.5", "1.5"),
    ("-7 // 2", "-4"),
    ("17 % 5", "2"),
    ("17% * 2340", "397.8"),  # what the 1.5B wrote for "17% of 2,340" (bench/tools.py)
    ("12.5% * 80", "10"),
    ("50%", "0.5"),
    ("(3 + 4) % 2", "1"),
    ("factorial(25)", "15511210043330985984000000 (15,511,210,043,330,985,984,000,000)"),
    ("round(2.675, 2)", "2.68"),
    ("gcd(84, 36) + lcm(4, 6)", "24"),
    ("3.14159 * 2", "6.28318"),
])
def test_calculator_is_exact(expr: str, shown: str) -> None:
    assert format_number(evaluate(expr)) == shown


@pytest.mark.parametrize(("expr", "message"), [
    ("__import__('os').system('true')", "not arithmetic"),
    ("(1).real", "not arithmetic"),
    ("open('/etc/passwd')", "unknown function"),
    ("x + 1", "unknown name"),
    ("1 / 0", "division by zero"),
    ("2 ** 10**9", "exponents are limited"),
    ("9 ** 9999", "more than 4000 digits"),
    ("10 ** 3000 * 10 ** 3000", "more than 4000 digits"),
    ("factorial(100000)", "factorial is limited"),
    ("1 +", "cannot read"),
    ("'a' * 3", "not arithmetic"),
    ("True + 1", "not arithmetic"),
    ("sqrt(-1)", "not a real number"),
])
def test_calculator_refuses_what_is_not_bounded_arithmetic(expr: str, message: str) -> None:
    with pytest.raises(ToolFailure, match=message):
        evaluate(expr)


def test_calculator_tool_output() -> None:
    out = run(calculator_tool().run({"expression": "1234 * 5678"}))
    assert out == ToolResult("1234 * 5678 = 7006652 (7,006,652)", answer="7006652")


@pytest.mark.parametrize("expr", ["7006652 (7,006,652)", "7006652", "7,006,652"])
def test_calculator_reads_its_own_result_back_as_that_number(expr: str) -> None:
    """The 0.5B sends the result back as a new expression: it is told it has the answer."""
    out = run(calculator_tool().run({"expression": expr}))
    assert out.startswith("7006652 (7,006,652) is already a single number")


def test_calculator_hints_hold_no_example_to_evaluate() -> None:
    with pytest.raises(ToolFailure) as caught:
        evaluate("7006652(7006652) (write numbers")
    assert not any(ch.isdigit() for ch in str(caught.value.hint))


@pytest.mark.parametrize(("value", "src", "dst", "expected"), [
    (Fraction(1), "mi", "km", Fraction("1.609344")),
    (Fraction(1), "in", "cm", Fraction("2.54")),
    (Fraction(212), "F", "C", Fraction(100)),
    (Fraction(0), "C", "K", Fraction("273.15")),
    (Fraction(1), "lb", "g", Fraction("453.59237")),
    (Fraction(1), "GiB", "MB", Fraction("1073.741824")),
    (Fraction(100), "km/h", "m/s", Fraction(250, 9)),
    (Fraction(1), "gallon", "l", Fraction("3.785411784")),
])
def test_units_convert_exactly(value: Fraction, src: str, dst: str, expected: Fraction) -> None:
    assert convert(value, src, dst) == expected


def test_unit_errors_are_clear() -> None:
    with pytest.raises(ToolFailure, match="cannot convert length"):
        convert(Fraction(1), "km", "kg")
    with pytest.raises(ToolFailure, match="unknown unit 'furlongs'"):
        convert(Fraction(1), "furlongs", "m")
    assert run(unit_tool().run({"value": 5, "from_unit": "km", "to_unit": "mi"})) == \
        ToolResult("5 km = 78125/25146 ≈ 3.10685596119 mi", answer="3.1")


def test_clock_in_a_time_zone() -> None:
    tool = clock_tool(lambda: datetime(2026, 12, 2, 10, 30, tzinfo=UTC))
    out = run(tool.run({"timezone": "Asia/Shanghai"}))
    assert out.startswith("Wednesday, 02 December 2026, 18:30:00 CST")
    assert "2026-12-02T18:30:00+08:00" in out
    with pytest.raises(ToolFailure, match="unknown time zone"):
        run(tool.run({"timezone": "Mars/Olympus"}))


def test_library_search_tool_finds_passages(lib: Library) -> None:
    box = builtin_toolbox(["library_search"], library=lib)
    doc = lib.documents()[0]
    word = doc.title.split()[0]
    result = run(box.execute(call("library_search", query=word)))
    assert not result.error and result.content.startswith("[1] ")
    nothing = run(box.execute(call("library_search", query="zyxxyqqv")))
    assert "no passage" in nothing.content


def test_library_search_stays_inside_the_given_documents(lib: Library) -> None:
    docs = lib.documents()
    box = builtin_toolbox(["library_search"], library=lib, document_ids=[docs[0].id])
    other = docs[1].title.split()[0]
    result = run(box.execute(call("library_search", query=other)))
    assert docs[1].title not in result.content


def test_unknown_builtin_tool_name_is_an_input_error() -> None:
    from qwenapp.errors import InputError

    with pytest.raises(InputError, match="unknown tool"):
        builtin_toolbox(["calculater"])


# -- the box's limits -------------------------------------------------------------------

async def _raise(args: Mapping[str, Any]) -> str:
    raise RuntimeError("the disk is on fire")


async def _hang(args: Mapping[str, Any]) -> str:
    await asyncio.sleep(60)
    return "never"


async def _huge(args: Mapping[str, Any]) -> str:
    return "x" * (10 * 1024 * 1024)


def _tool(name: str, fn: Any, timeout: float = 30.0, **props: Any) -> FunctionTool:
    schema = {"type": "object", "properties": props, "required": list(props),
              "additionalProperties": False}
    return FunctionTool(ToolSpec(name, name, schema), fn, timeout=timeout)


def test_a_tool_that_raises_times_out_or_floods_is_an_error_result() -> None:
    box = ToolBox([_tool("boom", _raise), _tool("hang", _hang, timeout=0.2),
                   _tool("huge", _huge)], max_chars=5000)
    boom = run(box.execute(call("boom")))
    assert boom.error and "RuntimeError: the disk is on fire" in boom.content
    hang = run(box.execute(call("hang")))
    assert hang.error and "did not finish within 0.2 s" in hang.content
    huge = run(box.execute(call("huge")))
    assert not huge.error and len(huge.content) < 5200
    assert "10,485,760 characters" in huge.content


def test_unknown_tool_and_bad_arguments_are_error_results() -> None:
    box = ToolBox([calculator_tool(), _tool("strict", _huge, n={"type": "integer"})])
    unknown = run(box.execute(call("calculater", expression="1")))
    assert unknown.error and "no tool called 'calculater'" in unknown.content
    assert "calculator" in unknown.content
    missing = run(box.execute(call("calculator")))
    assert missing.error and "missing required argument(s): expression" in missing.content
    wrong = run(box.execute(call("strict", n="three")))
    assert wrong.error and "must be integer" in wrong.content
    extra = run(box.execute(call("strict", n=1, m=2)))
    assert extra.error and "unknown argument(s): m" in extra.content
    failure = run(box.execute(call("calculator", expression="1/0")))
    assert failure.error and "division by zero" in failure.content


# -- the loop ----------------------------------------------------------------------------

CALC = (("calculator", {"expression": "1234*5678"}),)


def loop_events(model: ScriptedModel, box: ToolBox, *, max_rounds: int = 4,
                confirm: Any = None, options: GenerateOptions | None = None) -> list[Any]:
    async def go() -> list[Any]:
        return [e async for e in run_with_tools(model, [Message("user", "1234 times 5678?")],
                                                options or GenerateOptions(), box,
                                                max_rounds=max_rounds, confirm=confirm)]
    return run(go())


def answer(events: Sequence[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def test_loop_calls_the_tool_and_answers_from_its_result() -> None:
    model = ScriptedModel([ScriptedToolCalls(CALC), "1234 × 5678 = 7,006,652."])
    events = loop_events(model, ToolBox([calculator_tool()]))
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [s.call.name for s in started] == ["calculator"]
    assert finished[0].content == "1234*5678 = 7006652 (7,006,652)" and not finished[0].error
    assert answer(events) == "1234 × 5678 = 7,006,652."
    assert isinstance(events[-1], Finish) and events[-1].reason == "stop"
    usage = [e for e in events if isinstance(e, Usage)]
    assert len(usage) == 1 and usage[0].completion_tokens > 0  # summed over both rounds
    # the second round saw the call and its result, in OpenAI's order
    second = model.calls[1].messages
    assert [m.role for m in second] == ["user", "assistant", "tool"]
    assert second[1].tool_calls[0].name == "calculator"
    assert second[2].tool_call_id == second[1].tool_calls[0].id
    assert second[2].content == "1234*5678 = 7006652 (7,006,652)"
    assert model.calls[0].options.tools[0].name == "calculator"


def test_a_repeated_call_is_not_run_twice_and_the_model_must_answer() -> None:
    runs: list[str] = []

    async def count(args: Mapping[str, Any]) -> str:
        runs.append(str(args["expression"]))
        return "7006652"

    model = ScriptedModel([ScriptedToolCalls(CALC), ScriptedToolCalls(CALC), "It is 7006652."])
    events = loop_events(model, ToolBox([_tool("calculator", count,
                                              expression={"type": "string"})]))
    assert runs == ["1234*5678"]
    repeat = [e for e in events if isinstance(e, ToolFinished)][1]
    assert repeat.error and "already called calculator" in repeat.content
    assert any(isinstance(e, ToolNotice) and "repeated" in e.text for e in events)
    assert model.calls[2].options.tool_choice == "none"
    assert answer(events) == "It is 7006652."


def test_a_call_that_sends_back_an_earlier_result_counts_as_a_repeat() -> None:
    echo = (("calculator", {"expression": "7006652 (7,006,652)"}),)
    model = ScriptedModel([ScriptedToolCalls(CALC), ScriptedToolCalls(echo), "It is 7,006,652."])
    events = loop_events(model, ToolBox([calculator_tool()]))
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert finished[0].content == "1234*5678 = 7006652 (7,006,652)"
    assert finished[1].error and "already called calculator" in finished[1].content
    assert model.calls[2].options.tool_choice == "none"
    assert answer(events) == "It is 7,006,652."


def test_the_round_limit_forces_an_answer() -> None:
    calls = [ScriptedToolCalls((("calculator", {"expression": f"{i}+1"}),)) for i in range(5)]
    model = ScriptedModel([*calls[:2], "Done."])
    events = loop_events(model, ToolBox([calculator_tool()]), max_rounds=2)
    assert len([e for e in events if isinstance(e, ToolStarted)]) == 2
    assert any(isinstance(e, ToolNotice) and "limit of 2 tool rounds" in e.text
               for e in events)
    assert [c.options.tool_choice for c in model.calls] == ["auto", "auto", "none"]
    assert answer(events) == "Done.\n\n0+1 = 1\n\n1+1 = 2"  # exact results the answer left out


def test_an_answer_that_leaves_out_the_exact_result_gets_it_from_code() -> None:
    # the 0.5B's real answer after reading 7,006,652 (CI smoke run, 2026-12-03)
    said = "To solve the problem \\(1234 \\times 5678\\), you simply multiply the numbers together."
    events = loop_events(ScriptedModel([ScriptedToolCalls(CALC), said]),
                         ToolBox([calculator_tool()]))
    assert answer(events) == f"{said}\n\n1234*5678 = 7006652 (7,006,652)"
    # an answer that holds the value, with or without separators, is left as it is
    for kept in ("It is 7,006,652.", "It is 7006652.", "It is 7 006 652."):
        events = loop_events(ScriptedModel([ScriptedToolCalls(CALC), kept]),
                             ToolBox([calculator_tool()]))
        assert answer(events) == kept
    # a conversion's result too, and a decimal to two places is enough
    conv = (("convert_units", {"value": 10, "from_unit": "mi", "to_unit": "km"}),)
    events = loop_events(ScriptedModel([ScriptedToolCalls(conv), "About 16.09 km."]),
                         ToolBox([unit_tool()]))
    assert answer(events) == "About 16.09 km."
    events = loop_events(ScriptedModel([ScriptedToolCalls(conv), "Ten miles is far."]),
                         ToolBox([unit_tool()]))
    assert answer(events) == "Ten miles is far.\n\n10 mi = 16.09344 km"


def test_invalid_json_and_unknown_tools_go_back_to_the_model() -> None:
    model = ScriptedModel([ScriptedToolCalls((("calculator", "expression: 2+2"),)),
                           ScriptedToolCalls((("abacus", {"x": 1}),)),
                           ScriptedToolCalls((("calculator", {"expression": "2+2"}),)),
                           "4."])
    events = loop_events(model, ToolBox([calculator_tool()]))
    results = [e for e in events if isinstance(e, ToolFinished)]
    assert results[0].error and "not valid JSON" in results[0].content
    assert results[1].error and "no tool called 'abacus'" in results[1].content
    assert not results[2].error and results[2].content == "2+2 = 4"
    assert model.calls[1].messages[-1].content.startswith("ERROR: ")
    assert answer(events) == "4."


def test_side_effects_need_confirmation() -> None:
    done: list[str] = []

    async def send(args: Mapping[str, Any]) -> str:
        done.append(str(args["to"]))
        return "sent"

    mail = FunctionTool(ToolSpec("send_mail", "Send an e-mail.", {
        "type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]}),
        send, side_effects=True)
    script = [ScriptedToolCalls((("send_mail", {"to": "ada@example.org"}),)), "Sent."]
    refused = loop_events(ScriptedModel(list(script)), ToolBox([mail]))
    assert done == []
    result = next(e for e in refused if isinstance(e, ToolFinished))
    assert result.error and "did not allow" in result.content

    asked: list[ToolCall] = []

    async def yes(c: ToolCall) -> bool:
        asked.append(c)
        return True

    events = loop_events(ScriptedModel(list(script)), ToolBox([mail]), confirm=yes)
    assert done == ["ada@example.org"] and asked[0].name == "send_mail"
    # the question is announced first (the web page shows it), then the call runs
    kinds = [type(e).__name__ for e in events if type(e).__name__.startswith("Tool")]
    assert kinds[-3:] == ["ToolConfirm", "ToolStarted", "ToolFinished"]
    assert not any(type(e).__name__ == "ToolConfirm" for e in refused)  # nobody to ask


def test_a_forced_tool_choice_applies_to_the_first_round_only() -> None:
    model = ScriptedModel([ScriptedToolCalls(CALC), "7006652"])
    loop_events(model, ToolBox([calculator_tool()]),
                options=GenerateOptions(tool_choice=NamedTool("calculator")))
    assert model.calls[0].options.tool_choice == NamedTool("calculator")
    assert model.calls[1].options.tool_choice == "auto"


def test_tool_results_are_json_free_text_the_model_can_read() -> None:
    box = builtin_toolbox(["calculator", "convert_units", "current_time"])
    assert [s.name for s in box.specs] == ["calculator", "convert_units", "current_time"]
    for spec in box.specs:
        assert json.dumps(spec.to_openai())  # every spec is plain JSON
