"""The citation validator: pure functions over text and passage ids.

A writer is shown passages labelled ``[1]`` .. ``[k]`` and asked to cite
them. Small models cite in many shapes (``【2】``, ``[1, 3]``, ``[Source 2]``,
``[^1]``, ``[1-3]``): these are *repaired* to ``[n]`` form. A number that
was not shown to the writer is *removed*: a report never cites what was not
retrieved. A section with no valid citation left is *unsupported*. Support
itself is checked by word overlap between a sentence and the passages it
cites (a string check, not understanding: cheap, explainable, and enough to
catch a citation pasted on an unrelated sentence).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..library.terms import content_terms

__all__ = [
    "ATTRIBUTE_THRESHOLD",
    "CitationCheck",
    "CitedSentence",
    "attribute_uncited",
    "check_citations",
    "cited_ids",
    "overlap",
    "renumber",
    "sentences_with_citations",
]

_NUM_LIST = r"\d+(?:\s*(?:[,，、;；]|-|–|~|to|and|&)\s*(?:source|passage|ref)?\s*\d+)*"
_ANY_CITE = re.compile(
    r"(?:\[|【|［|〔)\s*(?:\^|#|(?:source|sources|passage|passages|ref|reference|id|来源|资料|"
    r"文献|段落)\s*[:：#=]?\s*)?(" + _NUM_LIST + r")\s*(?:\]|】|］|〕)",
    re.IGNORECASE,
)
_CANON = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r".+?(?:[.!?]+(?=\s|$)|[。！？]+|\n|$)", re.DOTALL)
ATTRIBUTE_THRESHOLD = 0.6  # share of an uncited sentence's words found in one passage
_SENT_END = re.compile(r"(?<=[.!?。！？])(?:\s*(?:\[\d+\])+)?\s+|(?<=[。！？])(?:(?:\[\d+\])+)?")


@dataclass(frozen=True, slots=True)
class CitationCheck:
    text: str  # with every citation in canonical ``[n]`` form, unknown ones gone
    cited: list[int]  # valid ids, in order of first use
    removed: list[int]  # ids cited that were not allowed
    repaired: int  # citations rewritten into canonical form

    @property
    def supported(self) -> bool:
        return bool(self.cited)


@dataclass(frozen=True, slots=True)
class CitedSentence:
    text: str
    ids: list[int] = field(default_factory=list)


def _expand(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*(?:[,，、;；]|and|&)\s*", spec):
        part = re.sub(r"(?i)source|passage|ref", "", part).strip()
        m = re.fullmatch(r"(\d+)\s*(?:-|–|~|to)\s*(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            out.extend(range(a, b + 1) if 0 < b - a <= 10 else [a, b])
        elif part.isdigit():
            out.append(int(part))
    return out


def check_citations(text: str, allowed: Iterable[int]) -> CitationCheck:
    """Canonicalise citations in ``text``; drop any id not in ``allowed``."""
    allowed_set = set(allowed)
    cited: list[int] = []
    removed: list[int] = []
    repaired = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal repaired
        ids = _expand(m.group(1))
        keep = [i for i in dict.fromkeys(ids) if i in allowed_set]
        removed.extend(i for i in ids if i not in allowed_set)
        canon = "".join(f"[{i}]" for i in keep)
        if canon != m.group(0) and keep:
            repaired += 1
        for i in keep:
            if i not in cited:
                cited.append(i)
        return canon

    out = _ANY_CITE.sub(fix, text)
    out = re.sub(r"[ \t]+([.,;:!?。，；：！？])", r"\1", out)  # "word ." left by a removal
    out = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", out)  # "[2] [2]" -> "[2]"
    out = re.sub(r"[ \t]{2,}", " ", out)
    return CitationCheck(out.strip(), cited, removed, repaired)


def renumber(text: str, mapping: Mapping[int, int]) -> str:
    """Rewrite canonical ``[n]`` citations through ``mapping``; unmapped ones are dropped."""
    def sub(m: re.Match[str]) -> str:
        new = mapping.get(int(m.group(1)))
        return f"[{new}]" if new is not None else ""

    return _CANON.sub(sub, text)


def cited_ids(text: str) -> list[int]:
    return list(dict.fromkeys(int(n) for n in _CANON.findall(text)))


def sentences_with_citations(text: str) -> list[CitedSentence]:
    """Sentences of canonical text, each with the ids cited at its end or inside it."""
    out: list[CitedSentence] = []
    for para in re.split(r"\n\s*\n|\n(?=\s*[-*•]\s)", text):
        pieces = _SENT_END.split(para) if para.strip() else []
        pos = 0
        for piece in pieces:
            if piece is None:
                continue
            start = para.find(piece, pos)
            if start < 0:
                continue
            end = start + len(piece)
            tail = re.match(r"\s*((?:\[\d+\]\s*)+)", para[end:])  # citations after the stop
            ids = cited_ids(piece) + (cited_ids(tail.group(1)) if tail else [])
            pos = end
            stripped = re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", _CANON.sub("", piece)).strip()
            if stripped:
                out.append(CitedSentence(stripped, list(dict.fromkeys(ids))))
    return out


def overlap(sentence: str, passage: str) -> float:
    """Share of the sentence's content words (CJK bigrams) that occur in the passage."""
    terms = set(content_terms(sentence))
    if not terms:
        return 0.0
    ptext = set(content_terms(passage))
    return len(terms & ptext) / len(terms)


def attribute_uncited(text: str, passages: Mapping[int, str],
                      threshold: float = ATTRIBUTE_THRESHOLD, min_terms: int = 4
                      ) -> tuple[str, int]:
    """Cite sentences that visibly restate one passage but carry no citation.

    Small models copy from their sources and forget the brackets. A sentence
    with at least ``min_terms`` content words, ``threshold`` of which occur in
    one passage, gets that passage's id; anything less is left uncited.
    Returns the text and the number of citations added.
    """
    out: list[str] = []
    added = 0
    for m in _SENTENCE.finditer(text):
        piece = m.group(0)
        if not piece or _CANON.search(piece) or re.match(r"\s*\[\d+\]", text[m.end():]):
            out.append(piece)
            continue
        terms = content_terms(piece)
        if len(set(terms)) < min_terms:
            out.append(piece)
            continue
        best, score = max(((pid, overlap(piece, ptext)) for pid, ptext in passages.items()),
                          key=lambda x: x[1], default=(0, 0.0))
        if score >= threshold:
            stop = re.search(r"([.!?。！？]+)(\s*)$", piece)
            if stop:
                piece = piece[: stop.start()] + f" [{best}]" + stop.group(1) + stop.group(2)
                if stop.group(1)[0] in "。！？":
                    piece = piece.replace(f" [{best}]", f"[{best}]")
            else:
                trail = piece[len(piece.rstrip()):]
                piece = piece.rstrip() + f" [{best}]" + trail
            added += 1
        out.append(piece)
    return "".join(out), added
