"""Fit a conversation into the model's context window.

Policy: the system prompt and the newest user message always stay; the
oldest whole turns go first; a message is never cut in the middle. The caller
is told how many messages were dropped, so the user can be told.

Token counts are estimated from UTF-8 bytes (about 3 bytes per token is a
safe upper bound for Qwen's tokenizer on English, and about right for CJK,
where most characters are 3 bytes and close to one token). Overestimating
only means trimming a little early; the engine's own overflow error is the
backstop (the assistant then trims one more turn and retries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..models.events import Message

__all__ = ["Fitted", "estimate_tokens", "fit_messages"]

_PER_MESSAGE = 6  # <|im_start|>role\n ... <|im_end|>\n


def estimate_tokens(text: str) -> int:
    return -(-len(text.encode("utf-8")) // 3) + _PER_MESSAGE


@dataclass(frozen=True, slots=True)
class Fitted:
    messages: list[Message]
    dropped: int  # messages left out, oldest first


def fit_messages(
    system: Message | None,
    history: Sequence[Message],
    prompt: Message,
    *,
    budget: int,
    drop_at_least: int = 0,
) -> Fitted:
    """Keep *system*, *prompt* and as many of the newest *history* turns as fit in *budget*.

    ``drop_at_least`` forces dropping that many of the oldest history messages
    (used when the engine says the estimate was still too generous).
    """
    fixed = estimate_tokens(prompt.content) + (estimate_tokens(system.content) if system else 0)
    if fixed > budget:
        raise InputError(
            f"the message is too long for the model's context window "
            f"(about {fixed} tokens; at most {budget} fit)",
            "shorten it, attach it as a document, or raise QWENAPP_CONTEXT",
        )
    used = fixed
    start = len(history)
    for i in range(len(history) - 1, drop_at_least - 1, -1):
        cost = estimate_tokens(history[i].content)
        if used + cost > budget:
            break
        used += cost
        start = i
    # Never start on an assistant reply whose question was dropped.
    while start < len(history) and history[start].role != "user":
        start += 1
    kept = list(history[start:])
    head = [system] if system else []
    return Fitted(messages=[*head, *kept, prompt], dropped=start)
