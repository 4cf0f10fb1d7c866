"""The typed vocabulary every backend speaks.

A backend turns ``(messages, GenerateOptions)`` into a stream of
:data:`Event` values. Everything above the model layer (assistant, CLI,
HTTP API, report and deck pipelines) consumes only these types, never a
wire format.

Tools travel the same way: :class:`ToolSpec` definitions go in with the
options, and the stream says what the model asked for with
:class:`ToolCallDelta` (arguments as they arrive), then one
:class:`ToolCall` per finished call (arguments parsed, repaired when a small
model wrote them sloppily) or a :class:`ToolCallError` when they could not be
read, and finally ``Finish("tool_calls")``. The results go back to the model
as ``Message("tool", ..., tool_call_id=...)`` after the assistant message
that carries the calls.

Each event's ``event_kind`` is its name on the wire; its JSON form is derived in
:mod:`qwenapp.wire`, never next to the event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = [
    "Completion",
    "Event",
    "Finish",
    "FinishReason",
    "GenerateOptions",
    "Message",
    "NamedTool",
    "ReasoningDelta",
    "Role",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallError",
    "ToolChoice",
    "ToolSpec",
    "Usage",
]

Role = Literal["system", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call: a name, what it does, and a JSON schema of its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {"type": "function", "function": {
            "name": self.name, "description": self.description,
            "parameters": dict(self.parameters)}}


@dataclass(frozen=True, slots=True)
class NamedTool:
    """``tool_choice`` naming one function: the model must call exactly that one."""

    name: str


# "auto": the model decides; "none": answer in text; "required": call at least one tool.
ToolChoice = Literal["auto", "none", "required"] | NamedTool


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One finished call the model asked for. ``arguments`` is the parsed JSON object."""

    event_kind: ClassVar[str] = "tool_call"
    id: str
    name: str
    arguments: Mapping[str, Any]
    repaired: bool = False  # the model's JSON needed fixing before it parsed

    @property
    def arguments_json(self) -> str:
        return json.dumps(dict(self.arguments), ensure_ascii=False)

    def to_openai(self) -> dict[str, Any]:
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": self.arguments_json}}


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a call as it streams: the name once known, then argument text."""

    event_kind: ClassVar[str] = "tool_delta"
    index: int
    id: str
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ToolCallError:
    """A call whose name or arguments could not be read (the raw text is kept)."""

    event_kind: ClassVar[str] = "tool_result"
    id: str
    name: str
    raw: str
    message: str


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant message that asked for tools
    tool_call_id: str | None = None  # a ``tool`` message: the call it answers
    name: str | None = None  # a ``tool`` message: the tool that ran

    def to_openai(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.to_openai() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None and self.role == "tool":
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class GenerateOptions:
    """Sampling and output controls. ``None`` means "the backend's default"."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_schema: dict[str, Any] | None = None
    think: bool | None = None
    # anti-repetition sampling: the OpenAI-standard penalties, and llama.cpp's own
    # ``repeat_penalty`` (multiplicative, over the last 64 tokens) and DRY sampler
    # (``dry_multiplier`` > 0 turns it on); servers that do not know a field ignore it
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repeat_penalty: float | None = None
    dry_multiplier: float | None = None
    # function calling: what the model may call, whether it must, and whether it may
    # ask for several calls in one answer
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice = "auto"
    parallel_tool_calls: bool = True


@dataclass(frozen=True, slots=True)
class TextDelta:
    event_kind: ClassVar[str] = "text"
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    event_kind: ClassVar[str] = "reasoning"
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    event_kind: ClassVar[str] = "usage"
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    event_kind: ClassVar[str] = "finish"
    reason: FinishReason


Event = (TextDelta | ReasoningDelta | ToolCallDelta | ToolCall | ToolCallError | Usage
         | Finish)


@dataclass(slots=True)
class Completion:
    """A collected stream: what non-streaming callers get.

    :meth:`add` is the one reducer of model events: a chat turn collects its answer
    with one (:class:`qwenapp.chat.ChatResult`, and the assistant's saved message)
    rather than adding up text and usage again. Text is kept in pieces and joined when
    read, so collecting a long answer stays linear."""

    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_errors: list[ToolCallError] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    _text: list[str] = field(default_factory=list, repr=False)
    _reasoning: list[str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def add(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self._text.append(event.text)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, ToolCall):
            self.tool_calls.append(event)
        elif isinstance(event, ToolCallError):
            self.tool_errors.append(event)
        elif isinstance(event, Finish):
            self.finish_reason = event.reason
