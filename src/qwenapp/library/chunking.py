"""Cutting sections into passages small enough to quote in a CPU-sized prompt.

A passage is what the writer sees and what a citation points at, so it keeps
its section's location and is cut at paragraph, then sentence, boundaries.
Table sections are cut by rows, each piece repeating the header row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..documents import Section
from ..documents.text import table_text
from .terms import estimate_tokens

__all__ = ["Chunk", "chunk_sections"]

# estimate_tokens counts at most ~4 characters per token (Latin text), so a window of
# target * 4 characters is always enough to hold a piece of ``target`` tokens.
_MAX_CHARS_PER_TOKEN = 4
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])")


@dataclass(frozen=True, slots=True)
class Chunk:
    ord: int
    location: str
    text: str


def _pieces(text: str, target: int) -> list[str]:
    """Paragraphs, with any paragraph over ``target`` tokens split into sentences."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        if estimate_tokens(para) <= target:
            out.append(para)
            continue
        for sent in _SENTENCE.split(para):
            out.extend(_hard_cuts(sent.strip(), target))
    return out


def _hard_cuts(text: str, target: int) -> list[str]:
    """``text`` cut into pieces of at most ``target`` tokens, preferring spaces.

    Linear in ``len(text)``: each cut looks only at a window of the text
    ahead of it (at most ``target * _MAX_CHARS_PER_TOKEN`` characters, since
    no estimate gives fewer tokens than that), never at the whole remainder.
    Re-estimating the remainder at every cut made a 1 MB line without a full
    stop quadratic (minutes of CPU).
    """
    out: list[str] = []
    pos, n = 0, len(text)
    span = max(1, target * _MAX_CHARS_PER_TOKEN)
    while pos < n:
        window = text[pos : pos + span]
        while len(window) > 1 and estimate_tokens(window) > target:
            window = window[: max(1, len(window) * target // estimate_tokens(window))]
        if pos + len(window) < n:  # not the end: back off to a space in the last fifth
            space = window.rfind(" ", len(window) * 4 // 5)
            if space > 0:
                window = window[:space]
        piece = window.strip()
        if piece:
            out.append(piece)
        pos += len(window)
    return out


def _pack(pieces: list[str], target: int, joiner: str) -> list[str]:
    chunks: list[str] = []
    buf: list[str] = []
    size = 0
    for p in pieces:
        n = estimate_tokens(p)
        if buf and size + n > target:
            chunks.append(joiner.join(buf))
            buf, size = [], 0
        buf.append(p)
        size += n
    if buf:
        chunks.append(joiner.join(buf))
    return chunks


def _table_chunks(rows: list[list[str]], target: int) -> list[str]:
    header, body = rows[0], rows[1:]
    if not body:
        return [table_text(rows)]
    head = " | ".join(header)
    lines = [" | ".join(r) for r in body]
    budget = max(20, target - estimate_tokens(head))
    return [head + "\n" + c for c in _pack(lines, budget, "\n")]


def chunk_sections(sections: list[Section], target_tokens: int = 200) -> list[Chunk]:
    """Passages of about ``target_tokens`` tokens, never crossing a section boundary."""
    chunks: list[Chunk] = []
    for s in sections:
        if s.table and len(s.table) > 1:
            texts = _table_chunks(s.table, target_tokens)
        else:
            texts = _pack(_pieces(s.text, target_tokens), target_tokens, "\n\n")
        for t in texts:
            if t.strip():
                chunks.append(Chunk(ord=len(chunks), location=s.location, text=t.strip()))
    return chunks
