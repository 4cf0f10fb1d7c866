"""Cutting sections into passages small enough to quote in a CPU-sized prompt.

A passage is what the writer sees and what a citation points at, so it keeps
its section's location and is cut at paragraph, then sentence, boundaries.
Table sections are cut by rows, each piece repeating the header row.

A list's or a part's title ("(a) Organizations and Conferences", "(b) Managers
and Supervisors", "5. SPECIFIC SUGGESTIONS") starts a new passage, and a passage
that continues a list keeps the title in its location ("lines 1098-1156 >
Organizations and Conferences"). Packed by size alone, the Simple Sabotage
manual's list of ways to disrupt conferences was cut so that its title sat at
the end of one passage (after an unrelated item on power lines) and its items in
the next, under no word of the title: a search for conferences ranked the items
fourth, and no report used them. The location is indexed with the text, so the
continuation is found by its title's words; the text itself stays the source's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..documents import Section
from ..documents.text import table_text
from .terms import estimate_tokens

__all__ = ["Chunk", "chunk_sections", "list_marker", "title_of"]

# estimate_tokens counts at most ~4 characters per token (Latin text), so a window of
# target * 4 characters is always enough to hold a piece of ``target`` tokens.
_MAX_CHARS_PER_TOKEN = 4
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])")


# a list or part marker: "(a)", "(11)", "(iv)", "3.", "b)", "IV."
_CORE = r"(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})"
_MARK = rf"(?:\(\s*{_CORE}\s*\.?\)|{_CORE}[.)])"
_MARKED = re.compile(rf"^\s*{_MARK}\s+")
_TITLE_WORDS = 12
_TITLE_CHARS = 160
# "(a) Organizations and Conferences (1) Insist on ...": a title glued to its first item
_GLUED = re.compile(rf"^(\s*{_MARK}\s+[*_]*[A-Z][^.!?:;\n(]{{2,100}}?)\s+(\(\d{{1,3}}\.?\)\s+\S)")
_CLOSERS = tuple(".!?:;,。！？：；，")


def list_marker(text: str) -> bool:
    """True when ``text`` begins with a list or part marker ("(3) Bring up ...")."""
    return bool(_MARKED.match(text[:20]))


def title_of(para: str) -> str:
    """The plain title when a paragraph is a list's or a part's title, else "".

    A title is short, does not end like a sentence, and is marked ("(b) Managers and
    Supervisors", "(11) _General Interference with Organizations and Production_")
    or written in capitals ("HOW THE CASE STANDS"). Bounded: a long paragraph is
    never one, and only its first characters are looked at.
    """
    if len(para) > _TITLE_CHARS or para.count("\n") > 1:
        return ""
    text = para.strip()
    if not text or text.endswith(_CLOSERS):
        return ""
    marked = _MARKED.match(text)
    bare = text[marked.end():] if marked else text
    bare = re.sub(r"\s+", " ", bare.replace("_", " ").replace("*", " ")).strip()
    words = bare.split()
    if not words or len(words) > _TITLE_WORDS or not bare[0].isupper():
        return ""
    letters = [c for c in bare if c.isalpha()]
    capitals = len(words) >= 2 and all(c.isupper() for c in letters)
    return bare if (marked or capitals) and len(letters) >= 3 else ""


@dataclass(frozen=True, slots=True)
class Chunk:
    ord: int
    location: str
    text: str


def _pieces(text: str, target: int) -> list[str]:
    """Paragraphs, with any paragraph over ``target`` tokens split into sentences, and a
    title glued to its list's first item ("(a) Organizations and Conferences (1) Insist
    on ...") made a paragraph of its own."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if not para:
            continue
        glued = _GLUED.match(para[:_TITLE_CHARS])
        if glued and title_of(glued.group(1)):
            out.append(glued.group(1).strip())
            para = para[glued.start(2):]
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


def _kind(para: str) -> str:
    """The kind of a paragraph's marker: "1" (a number), "a" (a letter), "i" (a roman
    numeral of two or more letters), "" (none)."""
    m = _MARKED.match(para[:20])
    if not m:
        return ""
    core = m.group(0).strip().strip("().").strip()
    if core.isdigit():
        return "1"
    return "a" if len(core) == 1 else "i"


def _pack_titled(pieces: list[str], target: int, carried: list[tuple[str, str]]
                 ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(text, title path) chunks of about ``target`` tokens, each title starting a new one
    (unless what came before it is under a quarter of ``target``: no crumbs), and the
    titles still open at the end (``carried`` in: those open before the section).

    The path is the last title, with the one before it when the two came together
    ("General Interference with Organizations and Production > Organizations and
    Conferences"). A marked paragraph of a title's own kind that is no title ("(b) Oil
    and lubrication systems are ...", after "(a) Tools") closes it: a sibling began. A
    short marked line followed by another of its kind is an item, not a title ("1.
    Download the model" before "2. Run it").
    """
    chunks: list[tuple[str, str]] = []
    buf: list[str] = []
    size = 0
    titles = list(carried)  # (marker kind, title)

    def path() -> str:
        return " > ".join(t for _, t in titles)

    start_path = path()
    titles_only = True  # the buffer holds nothing but titles
    last_was_title = False
    kinds = [_kind(p) for p in pieces]
    for i, p in enumerate(pieces):
        n = estimate_tokens(p)
        kind = kinds[i]
        title = "" if kind and i + 1 < len(pieces) and kinds[i + 1] == kind else title_of(p)
        if buf and (size + n > target or (title and not titles_only and size >= target // 4)):
            chunks.append(("\n\n".join(buf), start_path))
            buf, size, titles_only = [], 0, True
        if title:
            titles = [*titles[-1:], (kind, title)] if last_was_title else [(kind, title)]
        elif kind:
            while titles and titles[-1][0] == kind:
                titles.pop()
        last_was_title = bool(title)
        titles_only = titles_only and bool(title)
        if not buf or titles_only:
            start_path = path()
        buf.append(p)
        size += n
    if buf:
        chunks.append(("\n\n".join(buf), start_path))
    return chunks, titles


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
    open_titles: list[tuple[str, str]] = []  # titles of a list that may continue
    for s in sections:
        if s.table and len(s.table) > 1:
            texts = [(t, "") for t in _table_chunks(s.table, target_tokens)]
            open_titles = []
        else:
            pieces = _pieces(s.text, target_tokens)
            # a page or line range that begins with an item continues the list before it
            carried = open_titles if pieces and list_marker(pieces[0]) and \
                not title_of(pieces[0]) else []
            texts, open_titles = _pack_titled(pieces, target_tokens, carried)
        for t, path in texts:
            if t.strip():
                where = f"{s.location} > {path}" if path else s.location
                chunks.append(Chunk(ord=len(chunks), location=where, text=t.strip()))
    return chunks
