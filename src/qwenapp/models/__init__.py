"""The model layer: one streaming interface, three kinds of backend."""

from .base import Backend, complete
from .events import (
    Completion,
    Event,
    Finish,
    GenerateOptions,
    Message,
    ReasoningDelta,
    TextDelta,
    Usage,
)

__all__ = [
    "Backend",
    "Completion",
    "Event",
    "Finish",
    "GenerateOptions",
    "Message",
    "ReasoningDelta",
    "TextDelta",
    "Usage",
    "complete",
]
