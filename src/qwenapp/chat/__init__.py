"""Chat: conversations with memory over any backend."""

from .assistant import Assistant, ChatResult
from .events import ChatEvent, Notice, Saved, Started, Trimmed

__all__ = ["Assistant", "ChatEvent", "ChatResult", "Notice", "Saved", "Started", "Trimmed"]
