"""The JSON value in a model's answer: the one extractor every pipeline uses.

Small models wrap JSON in a code fence, put a sentence before or after it, or
write a brace in that sentence; some stop mid-object at the token limit. The
whole answer is tried first (fence removed: a bare array stays an array), then
the first object that decodes from each ``{`` in turn, so prose around it and a
stray brace before it do not matter. A cut-off object is no value at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_in"]

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def json_in(text: str) -> Any:
    """The JSON value ``text`` holds, or None when it holds none."""
    body = _FENCE.sub("", text.strip())
    try:
        return json.loads(body)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    start = body.find("{")
    while start >= 0:
        try:
            return decoder.raw_decode(body[start:])[0]
        except ValueError:
            start = body.find("{", start + 1)
    return None
