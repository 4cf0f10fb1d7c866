"""Chat: conversations with memory over any backend."""

from .assistant import Assistant, ChatResult
from .events import ChatEvent, Notice, Saved, Started, Trimmed
from .grounding import Excerpt, cited_excerpts, find_excerpts, grounding_prompt

__all__ = [
    "Assistant",
    "ChatEvent",
    "ChatResult",
    "Excerpt",
    "Notice",
    "Saved",
    "Started",
    "Trimmed",
    "cited_excerpts",
    "find_excerpts",
    "grounding_prompt",
]
