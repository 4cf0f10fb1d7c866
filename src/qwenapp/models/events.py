"""The typed vocabulary every backend speaks.

A backend turns ``(messages, GenerateOptions)`` into a stream of
:data:`Event` values. Everything above the model layer (assistant, CLI,
HTTP API, report and deck pipelines) consumes only these types, never a
wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Completion",
    "Event",
    "Finish",
    "FinishReason",
    "GenerateOptions",
    "Message",
    "ReasoningDelta",
    "Role",
    "TextDelta",
    "Usage",
]

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str

    def to_openai(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


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


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason


Event = TextDelta | ReasoningDelta | Usage | Finish


@dataclass(slots=True)
class Completion:
    """A collected stream: what non-streaming callers get."""

    text: str = ""
    reasoning: str = ""
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    events: list[Event] = field(default_factory=list)

    def add(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, ReasoningDelta):
            self.reasoning += event.text
        elif isinstance(event, Usage):
            self.usage = event
        else:
            self.finish_reason = event.reason
