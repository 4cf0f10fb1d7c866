"""The one JSON extractor (qwenapp.jsontext.json_in) on what small models really write."""

from __future__ import annotations

from typing import Any

import pytest

from qwenapp.jsontext import json_in


@pytest.mark.parametrize(("text", "value"), [
    ('{"a": 1}', {"a": 1}),
    ('```json\n{"a": 1}\n```', {"a": 1}),
    ('Here you go: {"a": 1} done', {"a": 1}),
    ('Sure {not json} — {"a": [1, 2]} and a trailing } brace', {"a": [1, 2]}),
    ('["one", "two"]', ["one", "two"]),
    ('```\n["one"]\n```', ["one"]),
    ('{"points": ["one", "tw', None),  # cut off at the token limit
    ("no JSON here", None),
    ("", None),
])
def test_json_in(text: str, value: Any) -> None:
    assert json_in(text) == value
