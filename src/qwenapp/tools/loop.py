"""The bounded tool loop: model round, tool calls, results back, until an answer.

Why bounded and guarded: a small model can call tools forever, repeat the
same call, or write calls nobody can read. The loop stops all three:

* at most ``max_rounds`` rounds with tools; the round after that is run
  with ``tool_choice="none"`` so the model must answer from what it has;
* a call identical to an earlier one in the same turn is not run again: the
  model is told it already has that result, and when a round holds only
  repeats, the next round must answer; a call whose arguments are the end of
  an earlier result of the same tool (the 0.5B sends "7006652 (7,006,652)"
  back to the calculator) counts as a repeat too;
* a call that could not be parsed, names no tool, or fails goes back to the
  model as an error result (``ERROR: ...``), so it can correct itself;
* a tool with side effects runs only when ``confirm`` says yes (a
  :class:`~.events.ToolConfirm` is yielded just before it is asked);
* an exact result (a :class:`~.base.ToolResult` with an ``answer``, such as
  the calculator's) that the final answer leaves out is added to it by code:
  the 0.5B called the calculator for 1234 × 5678, read 7,006,652 and then
  answered "you simply multiply the numbers together". The user asked for
  the number; a line of the tool's own output is better than none.

It yields the model's text and reasoning deltas as they stream, the tool
events of :mod:`.events` in between, then one :class:`Usage` (summed over the
rounds) and one :class:`Finish`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import replace

from ..models.base import Backend
from ..models.events import (
    Event,
    Finish,
    FinishReason,
    GenerateOptions,
    Message,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallError,
    ToolChoice,
    Usage,
)
from .base import ToolResult
from .events import ToolConfirm, ToolEvent, ToolFinished, ToolNotice, ToolStarted
from .registry import ToolBox

__all__ = ["DEFAULT_MAX_ROUNDS", "Confirm", "run_with_tools"]

DEFAULT_MAX_ROUNDS = 4
MAX_CALLS_PER_ROUND = 8

Confirm = Callable[[ToolCall], Awaitable[bool]]


def _key(call: ToolCall) -> tuple[str, str]:
    return call.name, json.dumps(dict(call.arguments), sort_keys=True, ensure_ascii=False)


def _echo(call: ToolCall, results: dict[str, list[str]]) -> str | None:
    """The earlier result of the same tool that this call's arguments merely repeat."""
    values = [v.strip() for v in call.arguments.values() if isinstance(v, str) and v.strip()]
    if len(values) != 1 or len(values[0]) < 2:
        return None
    return next((r for r in results.get(call.name, ()) if r.strip().endswith(values[0])
                 and r.strip() != values[0]), None)


def _missing(answers: Sequence[tuple[str, str]], text: str) -> list[str]:
    """The result lines whose exact value ``text`` (commas and spaces aside) does not hold."""
    flat = "".join(text.split()).replace(",", "").replace("，", "")
    lines: list[str] = []
    for value, line in answers:
        if value not in flat and line not in lines:
            lines.append(line)
    return lines[-3:]


def _choice(options: GenerateOptions, round_: int, answer_now: bool) -> ToolChoice:
    if answer_now:
        return "none"
    if round_ > 1 and options.tool_choice not in ("auto", "none"):
        return "auto"  # a forced call is forced once; after it the model may answer
    return options.tool_choice


async def run_with_tools(
    backend: Backend,
    messages: Sequence[Message],
    options: GenerateOptions,
    box: ToolBox,
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    confirm: Confirm | None = None,
) -> AsyncGenerator[Event | ToolEvent, None]:
    """Answer ``messages``, letting the model call the tools in ``box`` along the way."""
    history = list(messages)
    seen: dict[tuple[str, str], str] = {}
    results: dict[str, list[str]] = {}  # tool name -> its successful results this turn
    answers: list[tuple[str, str]] = []  # (exact value, result line) the answer must hold
    totals = [0, 0, 0]
    counted = False
    finish: FinishReason = "stop"
    said_something = False
    answer_now = False
    text: list[str] = []
    for round_ in range(1, max_rounds + 2):
        if round_ > max_rounds and not answer_now:
            answer_now = True
            yield ToolNotice(f"reached the limit of {max_rounds} tool rounds; "
                             "the model answers with what it has")
        opts = replace(options, tools=box.specs, tool_choice=_choice(options, round_,
                                                                     answer_now))
        if answer_now and round_ > 1 and history[-1].role == "tool":
            # small models otherwise write the same call again as text
            history.append(Message("user", "Answer my question now in plain words, using "
                                   "the tool results above. Do not call a tool."))
        text = []
        calls: list[ToolCall] = []
        errors: list[ToolCallError] = []
        async for ev in backend.stream(history, opts):
            if isinstance(ev, TextDelta):
                if not text and said_something:
                    yield TextDelta("\n\n")
                text.append(ev.text)
                said_something = True
                yield ev
            elif isinstance(ev, ReasoningDelta | ToolCallDelta):
                yield ev
            elif isinstance(ev, ToolCall):
                calls.append(ev)
            elif isinstance(ev, ToolCallError):
                errors.append(ev)
            elif isinstance(ev, Usage):
                counted = True
                totals[0] += ev.prompt_tokens
                totals[1] += ev.completion_tokens
                totals[2] += ev.cached_tokens
            elif isinstance(ev, Finish):
                finish = ev.reason
        if not calls and not errors:
            break
        if answer_now:
            yield ToolNotice("the model asked for tools again after the last round; "
                             "those calls were not run")
            finish = "stop"
            break
        placeholders = tuple(ToolCall(e.id, e.name or "invalid", {}) for e in errors)
        history.append(Message("assistant", "".join(text), tool_calls=(*calls, *placeholders)))
        repeats = 0
        for n, call in enumerate(calls):
            if n >= MAX_CALLS_PER_ROUND:
                result = ToolResult(f"not run: at most {MAX_CALLS_PER_ROUND} calls a round",
                                    error=True)
                started = time.monotonic()
            elif (earlier := seen.get(_key(call), _echo(call, results))) is not None:
                repeats += 1
                result = ToolResult(
                    f"you already called {call.name} in this turn, and its result is above "
                    f"({earlier[:200]}). Do not call it again: answer the user, or call a "
                    "different tool.", error=True)
                started = time.monotonic()
            else:
                tool = box.get(call.name)
                allowed = True
                if tool is not None and tool.side_effects:
                    if confirm is not None:
                        yield ToolConfirm(call, round_)  # the question goes out first
                    allowed = bool(confirm is not None and await confirm(call))
                yield ToolStarted(call, round_)
                started = time.monotonic()
                if allowed:
                    result = await box.execute(call)
                else:
                    result = ToolResult(f"the user did not allow {call.name} to run; do not "
                                        "try it again, answer without it", error=True)
                seen[_key(call)] = result.content
                if not result.error:
                    results.setdefault(call.name, []).append(result.content)
                    if result.answer:
                        answers.append((result.answer, result.content))
            yield ToolFinished(call.id, call.name, result.content, result.error,
                               time.monotonic() - started, result.data)
            history.append(Message("tool", f"ERROR: {result.content}" if result.error
                                   else result.content, tool_call_id=call.id, name=call.name))
        for err in errors:
            message = (f"{err.message}. Call the tool again with the arguments as one JSON "
                       "object.")
            yield ToolFinished(err.id, err.name, message, True, 0.0)
            history.append(Message("tool", f"ERROR: {message}", tool_call_id=err.id,
                                   name=err.name or "invalid"))
        if calls and repeats == len(calls):
            answer_now = True
            yield ToolNotice("the model repeated a call it had already made; "
                             "it answers with what it has")
    for line in _missing(answers, "".join(text)):
        yield TextDelta(f"\n\n{line}" if said_something else line)
        said_something = True
    if counted:
        yield Usage(*totals)
    yield Finish(finish)
