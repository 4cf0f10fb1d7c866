"""Stage 2, gather: read the sources, then retrieve passages for every plan section.

Sources are the user's documents (ingested into the persistent library: a
no-op when unchanged), the whole library when asked, URLs, and web search
results. Fetched pages go into a throwaway in-memory index with the same
schema, so one BM25 code path ranks everything. For each section, every
question is a query; results are fused by reciprocal rank, de-duplicated,
and capped per document so one file cannot fill a section alone. A passage
that ends inside a list brings the next passage of its document with it when
the list goes on there (the manual's eight ways to disrupt a conference fill
two passages, and only the first names conferences). Passage ids are assigned
here, by code, in order of first use.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..library import Embedder, Hit, IngestOutcome, Library
from ..library.chunking import list_marker, title_of
from ..web import Fetcher, SearchProvider, WebDocument, WebError
from .events import ReportEvent, SearchDone, SourceRead, SourceSkipped
from .facts import headed_sentences
from .model import Gathered, Passage, Plan, ReportRequest, SourceNote, SourceRef
from .plan import DEPTHS

__all__ = ["SourceTools", "gather"]

_RRF_K = 60
_PER_QUERY = 8
_PER_DOCUMENT = 3
_CONTINUATIONS = 2  # next passages of a list brought in per section, beyond the caps


@dataclass
class SourceTools:
    """The collaborators gathering uses; each is optional."""

    library: Library | None = None  # the persistent library (for --docs and --library)
    web_index: Library | None = None  # an in-memory index for fetched pages
    fetcher: Fetcher | None = None
    search: SearchProvider | None = None
    embedder: Embedder | None = None  # with one, library retrieval is hybrid (BM25 + vectors)
    page_progress: Callable[[Path, int, int], None] | None = None  # OCR pages of a long scan


def _note(o: IngestOutcome) -> SourceNote:
    status = {"added": "read", "updated": "read"}.get(o.status, o.status)
    return SourceNote(locator=str(o.path), status=status, title=o.title,  # type: ignore[arg-type]
                      reason=o.reason)


def _detail(o: IngestOutcome) -> str:
    what = f"{o.sections} section(s), {o.chunks} passage(s)"
    if o.notes:
        what += "; " + "; ".join(o.notes)
    return f"{what}, unchanged" if o.status == "unchanged" else what


async def _read_docs(req: ReportRequest, tools: SourceTools, notes: list[SourceNote]
                     ) -> AsyncIterator[ReportEvent | list[str]]:
    if not req.docs or tools.library is None:
        yield []
        return
    ids: list[str] = []
    lib = tools.library
    for path in lib.expand(Path(p) for p in req.docs):
        pages = tools.page_progress
        # SQLite: on this thread; no model call runs meanwhile
        o = lib.ingest_file(path, None if pages is None else functools.partial(pages, path))
        notes.append(_note(o))
        if o.status in ("skipped", "failed"):
            yield SourceSkipped(str(o.path), o.reason)
        else:
            assert o.document_id is not None
            ids.append(o.document_id)
            yield SourceRead(str(o.path), o.title, _detail(o))
    yield ids


async def _fetch_all(urls: Sequence[str], tools: SourceTools, notes: list[SourceNote]
                     ) -> AsyncIterator[ReportEvent]:
    if not urls or tools.fetcher is None or tools.web_index is None:
        return
    fetcher, index = tools.fetcher, tools.web_index
    sem = asyncio.Semaphore(4)

    async def one(url: str) -> WebDocument | WebError:
        async with sem:
            try:
                return await fetcher.fetch_document(url)
            except WebError as e:
                return e

    results = await asyncio.gather(*(one(u) for u in urls))
    for url, res in zip(urls, results, strict=True):
        if isinstance(res, WebError):
            notes.append(SourceNote(locator=url, status="failed", reason=res.message))
            yield SourceSkipped(url, res.message)
            continue
        o = index.add_document(res.document, res.url)
        notes.append(SourceNote(locator=res.url, status="read", title=res.document.title))
        yield SourceRead(res.url, res.document.title, _detail(o))


async def _web_urls(req: ReportRequest, plan: Plan, tools: SourceTools, queries: list[str]
                    ) -> AsyncIterator[ReportEvent | list[str]]:
    if not req.web or tools.search is None:
        yield []
        return
    profile = DEPTHS[req.depth]
    wanted = [req.question] + [q for s in plan.sections for q in s.questions]
    wanted = list(dict.fromkeys(wanted))[: profile.web_queries]
    urls: list[str] = []
    for q in wanted:
        try:
            results = await tools.search.search(q, 5)
        except WebError as e:
            yield SourceSkipped(f"search: {q}", e.message)
            continue
        queries.append(q)
        yield SearchDone(q, len(results))
        urls.extend(r.url for r in results)
    yield list(dict.fromkeys(urls))[: profile.web_pages]


def _continues(first: str, then: str) -> bool:
    """True when ``then`` goes on with the list ``first`` ends in: both an item."""
    last = re.split(r"\n\s*\n", first.strip())[-1]
    head = re.split(r"\n\s*\n", then.strip())[0]
    return list_marker(last) and list_marker(head) and not title_of(head)


def _next_part(h: Hit, origin: str, tools: SourceTools) -> Hit | None:
    lib = tools.web_index if origin == "web" else tools.library
    nxt = lib.next_chunk(h) if lib is not None else None
    return nxt if nxt is not None and _continues(h.text, nxt.text) else None


def _take(registry: dict[tuple[str, int], Passage], chosen: list[Passage], origin: str,
          h: Hit) -> bool:
    """Add ``h`` to a section's ``chosen`` passages (registering it once for the whole
    report, which numbers it); False when the section had it already."""
    key = (origin, h.chunk_id)
    if key not in registry:
        registry[key] = Passage(
            id=len(registry) + 1, text=h.text,
            source=SourceRef(title=h.title, locator=h.path, location=h.location, kind=h.kind,
                             origin=origin),  # type: ignore[arg-type]
        )
    if registry[key] in chosen:
        return False
    chosen.append(registry[key])
    return True


def _has_facts(h: Hit) -> bool:
    """Whether a passage holds a sentence that could be a fact (a title page, a table of
    contents or a heading alone holds none: the writer, who sees only facts, gets nothing
    from it, and it took the place of a passage that answers)."""
    ref = SourceRef(title=h.title, locator=h.path, location=h.location, kind=h.kind)
    return bool(headed_sentences(Passage(id=0, text=h.text, source=ref)))


def _key(h: Hit) -> str:
    return hashlib.sha1(re.sub(r"\W+", " ", h.text.lower()).strip().encode()).hexdigest()


async def _rank(queries: Sequence[str], tools: SourceTools, doc_ids: list[str] | None,
                web: bool) -> list[tuple[str, Hit]]:
    """Hits for all ``queries``, fused by reciprocal rank, best first, de-duplicated."""
    scores: dict[str, float] = {}
    hits: dict[str, tuple[str, Hit]] = {}
    for q in queries:
        ranked: list[tuple[str, list[Hit]]] = []
        lib = tools.library
        if lib is not None and (doc_ids is None or doc_ids):
            if tools.embedder is not None:
                found = await lib.hybrid_search(q, tools.embedder, limit=_PER_QUERY,
                                                document_ids=doc_ids)
            else:
                found = lib.search(q, limit=_PER_QUERY, document_ids=doc_ids)
            ranked.append(("library", found))
        if web and tools.web_index is not None:
            ranked.append(("web", tools.web_index.search(q, limit=_PER_QUERY)))
        for origin, found in ranked:
            for rank, h in enumerate(found):
                k = _key(h)
                scores[k] = scores.get(k, 0.0) + 1.0 / (_RRF_K + rank + 1)
                hits.setdefault(k, (origin, h))
    return [hits[k] for k in sorted(scores, key=lambda k: -scores[k])]


async def gather(req: ReportRequest, plan: Plan, tools: SourceTools
                 ) -> AsyncIterator[ReportEvent | Gathered]:
    """Yield progress events, then the :class:`Gathered` result."""
    notes: list[SourceNote] = []
    queries: list[str] = []
    doc_ids: list[str] | None = []
    async for item in _read_docs(req, tools, notes):
        if isinstance(item, list):
            doc_ids = item
        else:
            yield item
    if req.use_library:
        doc_ids = None  # the whole library
    urls = list(req.urls)
    async for item in _web_urls(req, plan, tools, queries):
        if isinstance(item, list):
            urls.extend(u for u in item if u not in urls)
        else:
            yield item
    async for ev in _fetch_all(urls, tools, notes):
        yield ev
    web = bool(urls)
    if tools.embedder is not None and tools.library is not None:
        await tools.library.embed_missing(tools.embedder)  # only chunks not yet embedded

    profile = DEPTHS[req.depth]
    registry: dict[tuple[str, int], Passage] = {}
    by_section: list[list[int]] = []
    for section in plan.sections:
        qs = [f"{section.heading} {q}" for q in section.questions]
        qs.append(f"{req.question} {section.heading}")
        chosen: list[Passage] = []
        per_doc: dict[str, int] = {}
        extra = 0
        ranked = [(o, h) for o, h in await _rank(qs, tools, doc_ids, web) if _has_facts(h)]
        # the cap keeps one file from filling a section while others have passages that
        # match; what it held back then fills the places left (a 35-page book beside one
        # short off-topic file gave each section three passages of the book, and no more)
        first: list[tuple[str, Hit]] = []
        held: list[tuple[str, Hit]] = []
        for origin, h in ranked:
            n = per_doc.get(h.document_id, 0)
            (first if n < _PER_DOCUMENT else held).append((origin, h))
            per_doc[h.document_id] = n + 1
        for origin, h in first + held:
            if len(chosen) >= profile.passages + extra:
                break
            _take(registry, chosen, origin, h)
            nxt = _next_part(h, origin, tools) if extra < _CONTINUATIONS else None
            if nxt is not None and _take(registry, chosen, origin, nxt):
                extra += 1
        by_section.append([p.id for p in chosen])
        queries.extend(qs)
    yield Gathered(passages=list(registry.values()), by_section=by_section, sources=notes,
                   queries=queries)
