"""Source passages a deck is built from: documents (``--from``) or a report.

Code assigns each passage an id (``S1``, ``S2``...); the model cites ids
from a constrained list and the validator maps them back to a file and a
place in it, so the speaker notes can say where each slide's facts are from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .checks import extract_numbers
from .deck import SourceRef

if TYPE_CHECKING:
    from ..documents import Document, Limits
    from ..reports.model import Report
    from .tables import DataTable

__all__ = [
    "Finding",
    "Passage",
    "digest",
    "findings_from_report",
    "load_passages",
    "load_sources",
    "numbers_in",
    "passages_from_documents",
    "passages_from_report",
    "select",
]

_CHUNK = 900  # characters per passage: a few sentences, cheap to put in a prompt
_WORD = re.compile(r"[a-z0-9]{3,}|[\u4e00-\u9fff]{2}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Passage:
    """One citable piece of source text."""

    id: str
    title: str
    location: str
    text: str

    def ref(self) -> SourceRef:
        return SourceRef(id=self.id, title=self.title, location=self.location)


def passages_from_documents(docs: Iterable[Document]) -> list[Passage]:
    """Documents → numbered passages of at most ~900 characters, tables as text rows."""
    out: list[Passage] = []
    for doc in docs:
        name = doc.path.name
        for section in doc.sections:
            text = section.text
            if section.table:
                text = "\n".join(" | ".join(c.strip() for c in row) for row in section.table)
            for piece in _chunks(text.strip(), _CHUNK):
                out.append(Passage(f"S{len(out) + 1}", name, section.location, piece))
    return out


def load_passages(paths: Sequence[Path], limits: Limits | None = None) -> list[Passage]:
    """Extract each file (raises DocumentError, a one-line InputError, on a bad file)."""
    from ..documents import DEFAULT_LIMITS, extract

    return passages_from_documents(extract(p, limits or DEFAULT_LIMITS) for p in paths)


def load_sources(paths: Sequence[Path], limits: Limits | None = None,
                 progress: Callable[[Path, int, int], None] | None = None
                 ) -> tuple[list[Passage], list[DataTable]]:
    """Passages and tables of each file (raises DocumentError on a bad file).

    Tables are found in the whole documents (a sheet or a long table is not
    cut into passages first) and cite the passage they are in. ``limits``
    carry the settings' OCR options (scans and pictures are read by OCR);
    ``progress(path, done, total)`` hears the pages OCR reads.
    """
    from ..documents import DEFAULT_LIMITS, extract
    from .tables import cite_tables, find_tables

    docs = [extract(p, limits or DEFAULT_LIMITS,
                    None if progress is None else functools.partial(progress, p))
            for p in paths]
    passages = passages_from_documents(docs)
    return passages, cite_tables(find_tables(docs), passages)


_CITATION = re.compile(r"\[(\d+)\]")


def passages_from_report(report: Report, names: Mapping[str, str] | None = None
                         ) -> list[Passage]:
    """A saved report's passages, those its sections cite (all of them when none is cited).

    ``[n]`` in a section is a *reference* number; the reference names the
    passage behind it, whose id the slide passage keeps, so the deck's notes
    cite the report's own sources. ``names`` maps a source locator (a file
    path on the server) to the name to show instead of the source's title
    (the name the file was uploaded under).
    """
    names = names or {}
    by_number = {r.number: r.passage_id for r in report.references}
    cited = {by_number[int(n)] for s in report.sections for n in _CITATION.findall(s.text)
             if int(n) in by_number}
    chosen = [p for p in report.passages if p.id in cited] or report.passages
    return [Passage(str(p.id), names.get(p.source.locator, p.source.title), p.source.location,
                    p.text) for p in chosen]


@dataclass(frozen=True, slots=True)
class Finding:
    """One section of a report as its verified sentences, for a deck that presents it.

    ``sentences`` are the section's sentences the report's verifier accepted against
    the passages they cite; ``source_ids`` those passages (ids of
    :func:`passages_from_report`), so the slide's notes cite the report's sources.
    """

    heading: str
    sentences: tuple[str, ...]
    source_ids: tuple[str, ...] = ()


_MARKER = re.compile(r"\s*\[\d+(?:[,，]\s*\d+)*\]")
MIN_SUPPORT = 0.5  # the report verifier's own threshold (qwenapp.reports.verify)


def findings_from_report(report: Report) -> list[Finding]:
    """A saved report's sections as :class:`Finding`\\ s: each section's verified sentences,
    citation markers removed; sections with fewer than two such sentences are left out
    (the deck plans its own slide there instead)."""
    out: list[Finding] = []
    for section in report.sections:
        kept: list[str] = []
        ids: list[str] = []
        for sentence in section.sentences:
            if sentence.support < MIN_SUPPORT or not sentence.passage_ids:
                continue
            text = _MARKER.sub("", sentence.text).strip()
            if text and text not in kept:
                kept.append(text)
                ids += [str(i) for i in sentence.passage_ids if str(i) not in ids]
        if len(kept) >= 2:
            out.append(Finding(section.heading.strip(), tuple(kept), tuple(ids)))
    return out


def _chunks(text: str, size: int) -> Iterable[str]:
    while text:
        if len(text) <= size:
            yield text
            return
        cut = max(text.rfind("\n", 0, size), text.rfind(". ", 0, size), text.rfind("。", 0, size))
        cut = cut + 1 if cut > size // 3 else size
        yield text[:cut].strip()
        text = text[cut:].strip()


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def select(passages: Sequence[Passage], query: str, budget: int) -> list[Passage]:
    """The passages that share the most words with ``query``, within ``budget`` characters."""
    q = _words(query)
    scored = sorted(
        ((len(q & _words(p.text + " " + p.location)), -i, p) for i, p in enumerate(passages)),
        reverse=True,
    )
    out: list[Passage] = []
    used = 0
    for score, _, p in scored:
        if out and score == 0:
            break
        if used + len(p.text) > budget and out:
            continue
        out.append(p)
        used += len(p.text)
        if used >= budget:
            break
    return sorted(out, key=lambda p: passages.index(p))


def _is_table(text: str) -> bool:
    """A passage that is rows of a table ("1750 | 3 | | 3"), as sheets and CSVs give them."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return len(lines) >= 2 and sum(" | " in ln for ln in lines) * 2 >= len(lines)


def digest(passages: Sequence[Passage], budget: int) -> str:
    """A short view of every passage (its start), for planning, within ``budget`` characters.

    Table rows are left out when there is prose: the tables become chart slides by
    code, and a planner shown "1750 | 3 | 3" headed slides "1750: 3 Units"."""
    prose = [p for p in passages if not _is_table(p.text)]
    passages = prose or passages
    if not passages:
        return ""
    each = max(80, budget // len(passages))
    lines: list[str] = []
    used = 0
    for p in passages:
        line = f"[{p.id}] {p.title}, {p.location}: {p.text[:each].strip()}"
        if used + len(line) > budget:
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines)


def numbers_in(*texts: str) -> set[float]:
    """Every number a chart may use: those written in the request and the sources."""
    out: set[float] = set()
    for t in texts:
        out |= extract_numbers(t)
    return out
