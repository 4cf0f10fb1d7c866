"""qwenapp: a private, local AI assistant on the open Qwen models.

The public Python API. The CLI, HTTP server and web UI are thin adapters over
these objects.
"""

from .chat import Assistant, ChatEvent, ChatResult, Notice, Saved, Started, Trimmed
from .errors import QwenappError
from .models import (
    Backend,
    Completion,
    Event,
    Finish,
    GenerateOptions,
    Message,
    ReasoningDelta,
    TextDelta,
    Usage,
    complete,
)
from .models.resolve import resolve_backend
from .models.scripted import ScriptedModel
from .settings import Settings, load_settings

__all__ = [
    "Assistant",
    "Backend",
    "ChatEvent",
    "ChatResult",
    "Completion",
    "Event",
    "Finish",
    "GenerateOptions",
    "Message",
    "Notice",
    "QwenappError",
    "ReasoningDelta",
    "Saved",
    "ScriptedModel",
    "Settings",
    "Started",
    "TextDelta",
    "Trimmed",
    "Usage",
    "complete",
    "load_settings",
    "resolve_backend",
]
