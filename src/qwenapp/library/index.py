"""The persistent document library: ingest, list, remove, search.

Ingestion hashes a file before reading it: a file already in the library
with the same content is a no-op, a changed file replaces its chunks. Each
file yields an :class:`IngestOutcome` as it is processed, including the
ones that could not be read (with the reason) and the ones skipped for an
unsupported type: nothing is dropped silently.

Search is SQLite FTS5 with BM25 over chunk text (CJK as bigrams, see
:mod:`.terms`) and the document title; with an embedder, BM25 and cosine
rankings are fused (reciprocal rank fusion). On PostgreSQL the same text is
indexed as a weighted ``tsvector`` and ranked with ``ts_rank`` (migration
0100's PostgreSQL file); only :meth:`Library.search` knows the difference.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np

from ..documents import DEFAULT_LIMITS, Document, DocumentError, Limits, kind_of
from ..errors import InputError
from ..store import new_id, transaction
from ..store.connection import Connection, Row, dialect_of
from .chunking import Chunk, chunk_sections
from .embeddings import Embedder, from_blob, to_blob
from .terms import content_terms, fts_form
from .worker import DocumentWorker, Prepared

__all__ = [
    "Hit",
    "IngestOutcome",
    "Library",
    "LibraryDocument",
    "LibraryError",
    "fts_query",
]

Status = Literal["added", "updated", "unchanged", "skipped", "failed"]
_RRF_K = 60


class LibraryError(InputError):
    """A library request that cannot be served (unknown document, missing folder)."""


@dataclass(frozen=True, slots=True)
class LibraryDocument:
    id: str
    path: str
    title: str
    kind: str
    sha256: str
    size: int
    sections: int
    chunks: int
    added_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    path: Path
    status: Status
    reason: str = ""
    document_id: str | None = None
    title: str = ""
    sections: int = 0  # pages / slides / sheets / headed sections read
    chunks: int = 0
    notes: tuple[str, ...] = ()  # what was left unread ("3 scanned page(s) not read: …")


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: int
    document_id: str
    title: str
    path: str
    kind: str
    location: str
    text: str
    score: float  # higher is better (negated BM25, or fused rank score)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def fts_query(query: str) -> str | None:
    """An FTS5 OR-query of the content terms of ``query`` (every term quoted), or None."""
    terms = list(dict.fromkeys(content_terms(query)))
    if not terms:
        terms = list(dict.fromkeys(content_terms(query, keep_stopwords=True)))
    if not terms:
        return None
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms[:64])


def pg_query_terms(query: str) -> list[str]:
    """The terms :func:`fts_query` would OR together, for PostgreSQL's ``plainto_tsquery``."""
    terms = list(dict.fromkeys(content_terms(query)))
    if not terms:
        terms = list(dict.fromkeys(content_terms(query, keep_stopwords=True)))
    return terms[:64]


def _walk(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue
        if p.is_file():
            yield p


class Library:
    """The document library on one SQLite connection (from :func:`qwenapp.store.open_db`)."""

    def __init__(self, conn: Connection, *, limits: Limits = DEFAULT_LIMITS,
                 chunk_tokens: int = 200, worker: DocumentWorker | None = None) -> None:
        self.conn = conn
        self.limits = limits
        self.chunk_tokens = chunk_tokens
        # files are read in a bounded child process (see .worker), never in this one
        self.worker = worker or DocumentWorker(limits, chunk_tokens)

    # --- ingestion --------------------------------------------------------------------

    def expand(self, paths: Iterable[Path]) -> list[Path]:
        """Files named, and files under folders named; a missing path is an error."""
        files: list[Path] = []
        for p in paths:
            p = Path(p).expanduser()
            if p.is_dir():
                files.extend(_walk(p))
            elif p.exists():
                files.append(p)
            else:
                raise LibraryError(f"no such file or folder: {p}",
                                   "check the path given to --docs / docs add")
        return files

    def ingest(self, paths: Iterable[Path], progress: Callable[[Path, int, int], None] | None
               = None, *, reread: bool = False) -> Iterator[IngestOutcome]:
        """Add files and folders (recursively), yielding one outcome per file.

        ``progress(path, done, total)`` reports the pages of a scan OCR has read.
        """
        for path in self.expand(paths):
            yield self.ingest_file(path, None if progress is None else
                                   functools.partial(progress, path.resolve()), reread=reread)

    def ingest_file(self, path: Path, progress: Callable[[int, int], None] | None = None,
                    *, reread: bool = False) -> IngestOutcome:
        """Add one file; ``progress(done, total)`` reports the pages of a scan OCR has read.

        A file already in the library is left alone unless ``reread``: then it is
        read again and its passages replaced (after OCR is switched on, or the
        reader learnt to keep tables), under the same document id.
        """
        path = path.resolve()
        if kind_of(path) is None:
            return IngestOutcome(path, "skipped",
                                 f"unsupported file type {path.suffix or '(none)'!r}")
        try:
            sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size <= \
                self.limits.max_file_bytes else ""
        except OSError as e:
            return IngestOutcome(path, "failed", f"cannot be read ({e.strerror or e})")
        row = self.conn.execute(
            "SELECT id, title, sections, path FROM library_documents WHERE sha256 = ? "
            "ORDER BY path = ? DESC LIMIT 1", (sha, str(path))).fetchone() if sha else None
        if row is not None and not (reread and row["path"] == str(path)):
            n = self._chunk_count(row["id"])
            same = row["path"] == str(path)
            return IngestOutcome(path, "unchanged",
                                 "" if same else f"same content as {row['path']}",
                                 row["id"], row["title"], row["sections"], n)
        try:
            prepared = self.worker.prepare(path, self.limits, progress)
        except DocumentError as e:
            return IngestOutcome(path, "failed", e.message.removeprefix(f"{path.name}: "))
        return self._store(prepared.document, path, chunks=prepared.chunks)

    def add_prepared(self, prepared: Prepared, key: str) -> IngestOutcome:
        """Store a document a :class:`DocumentWorker` has read, under ``key`` (its path)."""
        return self._store(prepared.document, Path(key), key=key, chunks=prepared.chunks)

    def add_document(self, doc: Document, key: str) -> IngestOutcome:
        """Store an already extracted document (a fetched page) under ``key`` (its URL)."""
        row = self.conn.execute("SELECT id, title, sections FROM library_documents "
                                "WHERE sha256 = ? AND path = ?", (doc.sha256, key)).fetchone()
        if row is not None:
            return IngestOutcome(doc.path, "unchanged", "", row["id"], row["title"],
                                 row["sections"], self._chunk_count(row["id"]))
        return self._store(doc, doc.path, key=key)

    def _chunk_count(self, doc_id: str) -> int:
        return int(self.conn.execute("SELECT count(*) FROM library_chunks WHERE document_id = ?",
                                     (doc_id,)).fetchone()[0])

    def _store(self, doc: Document, path: Path, key: str | None = None,
               chunks: list[Chunk] | None = None) -> IngestOutcome:
        key = key or str(path)
        if chunks is None:
            chunks = chunk_sections(doc.sections, self.chunk_tokens)
        size = path.stat().st_size if key == str(path) and path.exists() else len(doc.text)
        now = _now()
        with transaction(self.conn):
            old = self.conn.execute("SELECT id FROM library_documents WHERE path = ?",
                                    (key,)).fetchone()
            if old is not None:
                doc_id = str(old["id"])
                self.conn.execute("DELETE FROM library_chunks WHERE document_id = ?", (doc_id,))
                self.conn.execute(
                    "UPDATE library_documents SET title = ?, kind = ?, sha256 = ?, size = ?, "
                    "sections = ?, updated_at = ? WHERE id = ?",
                    (doc.title, doc.kind, doc.sha256, size, len(doc.sections), now, doc_id))
            else:
                doc_id = new_id()
                self.conn.execute(
                    "INSERT INTO library_documents (id, path, title, kind, sha256, size, "
                    "sections, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, key, doc.title, doc.kind, doc.sha256, size, len(doc.sections),
                     now, now))
            title_form = fts_form(doc.title)
            for c in chunks:
                chunk_id = self.conn.execute(
                    "INSERT INTO library_chunks (document_id, ord, location, text) "
                    "VALUES (?, ?, ?, ?) RETURNING id",
                    (doc_id, c.ord, c.location, c.text)).fetchone()[0]
                self.conn.execute("INSERT INTO library_fts (rowid, body, title) VALUES (?, ?, ?)",
                                  (chunk_id, fts_form(c.location + "\n" + c.text),
                                   title_form))
        status: Status = "updated" if old is not None else "added"
        return IngestOutcome(path, status, "", doc_id, doc.title, len(doc.sections), len(chunks),
                             doc.notes)

    async def embed_missing(self, embedder: Embedder, batch: int = 32) -> int:
        """Compute vectors for chunks that have none (or another model's). Returns the count."""
        rows = self.conn.execute(
            "SELECT id, text FROM library_chunks WHERE embedding IS NULL "
            "OR embedding_model IS NOT ?", (embedder.name,)).fetchall()
        for i in range(0, len(rows), batch):
            part = rows[i : i + batch]
            vectors = await embedder.embed([r["text"] for r in part])
            with transaction(self.conn):
                self.conn.executemany(
                    "UPDATE library_chunks SET embedding = ?, embedding_model = ? WHERE id = ?",
                    [(to_blob(v), embedder.name, r["id"]) for r, v in zip(part, vectors,
                                                                        strict=True)])
        return len(rows)

    # --- listing and removal --------------------------------------------------------------

    def documents(self) -> list[LibraryDocument]:
        rows = self.conn.execute(
            "SELECT d.*, (SELECT count(*) FROM library_chunks c WHERE c.document_id = d.id) AS n "
            "FROM library_documents d ORDER BY d.added_at").fetchall()
        return [self._doc(r) for r in rows]

    @staticmethod
    def _doc(r: Row) -> LibraryDocument:
        return LibraryDocument(r["id"], r["path"], r["title"], r["kind"], r["sha256"], r["size"],
                               r["sections"], r["n"], r["added_at"], r["updated_at"])

    def find(self, ref: str) -> LibraryDocument:
        """A document by id, a unique prefix or suffix of the id (``docs list`` shows the
        last 8 characters), or its path."""
        by_path = str(Path(ref).expanduser().resolve()) if "/" in ref or "." in ref else ref
        rows = self.conn.execute(
            "SELECT d.*, (SELECT count(*) FROM library_chunks c WHERE c.document_id = d.id) AS n "
            "FROM library_documents d WHERE d.id = ? OR d.path = ? OR d.path = ? "
            "OR (length(?) >= 4 AND (d.id LIKE ? || '%' OR d.id LIKE '%' || ?))",
            (ref, ref, by_path, ref, ref.upper(), ref.upper())).fetchall()
        if not rows:
            raise LibraryError(f"no document {ref!r} in the library",
                               "see `qwenapp docs list` for ids")
        if len(rows) > 1:
            raise LibraryError(f"{ref!r} matches {len(rows)} documents", "give more of the id")
        return self._doc(rows[0])

    def remove(self, ref: str) -> LibraryDocument:
        doc = self.find(ref)
        with transaction(self.conn):
            self.conn.execute("DELETE FROM library_chunks WHERE document_id = ?", (doc.id,))
            self.conn.execute("DELETE FROM library_documents WHERE id = ?", (doc.id,))
        return doc

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 5,
               document_ids: Sequence[str] | None = None) -> list[Hit]:
        """BM25 over chunk text and title (title weighted lower), best first."""
        if dialect_of(self.conn) == "postgresql":
            return self._search_pg(query, limit, document_ids)
        match = fts_query(query)
        if match is None or (document_ids is not None and not document_ids):
            return []
        # rank inside FTS first (LIMIT before any join), then fetch only the winners' rows
        inner = ("SELECT rowid, bm25(library_fts, 1.0, 0.5) AS rank FROM library_fts "
                 "WHERE library_fts MATCH ?")
        return self._winners(inner, [match], document_ids, limit, "rank", -1.0)

    def _winners(self, inner: str, params: list[object], document_ids: Sequence[str] | None,
                 limit: int, order: str, sign: float) -> list[Hit]:
        """The rows of the best ``limit`` chunks ranked by ``inner`` (either database)."""
        if document_ids is not None:
            inner += (" AND rowid IN (SELECT id FROM library_chunks WHERE document_id IN "
                      f"({','.join('?' * len(document_ids))}))")
            params = [*params, *document_ids]
        inner += f" ORDER BY {order}, rowid LIMIT ?" if sign > 0 else f" ORDER BY {order} LIMIT ?"
        sql = ("SELECT c.id, c.document_id, c.location, c.text, d.title, d.path, d.kind, f.rank "
               f"FROM ({inner}) AS f JOIN library_chunks c ON c.id = f.rowid "
               "JOIN library_documents d ON d.id = c.document_id ORDER BY "
               + ("f.rank DESC, c.id" if sign > 0 else "f.rank"))
        rows = self.conn.execute(sql, [*params, limit]).fetchall()
        return [Hit(r["id"], r["document_id"], r["title"], r["path"], r["kind"], r["location"],
                    r["text"], sign * float(r["rank"])) for r in rows]

    def next_chunk(self, hit: Hit) -> Hit | None:
        """The chunk after ``hit`` in its document (a list that goes on there), or None."""
        r = self.conn.execute(
            "SELECT c.id, c.document_id, c.location, c.text, d.title, d.path, d.kind "
            "FROM library_chunks c JOIN library_documents d ON d.id = c.document_id "
            "WHERE c.document_id = ? AND c.ord = (SELECT ord + 1 FROM library_chunks "
            "WHERE id = ?)", (hit.document_id, hit.chunk_id)).fetchone()
        return None if r is None else Hit(r["id"], r["document_id"], r["title"], r["path"],
                                          r["kind"], r["location"], r["text"], 0.0)

    def _search_pg(self, query: str, limit: int,
                   document_ids: Sequence[str] | None) -> list[Hit]:
        """:meth:`search` on PostgreSQL: the same terms, OR-ed, ranked by ``ts_rank``."""
        terms = pg_query_terms(query)
        if not terms or (document_ids is not None and not document_ids):
            return []
        tsquery = " || ".join(["plainto_tsquery('english', ?)"] * len(terms))
        inner = (f"SELECT rowid, ts_rank('{{0, 0, 0.5, 1.0}}', tsv, q) AS rank FROM "
                 f"library_fts, (SELECT {tsquery}) AS t (q) WHERE tsv @@ q")
        return self._winners(inner, list(terms), document_ids, limit, "rank DESC", 1.0)

    async def hybrid_search(self, query: str, embedder: Embedder, *, limit: int = 5,
                            document_ids: Sequence[str] | None = None,
                            pool: int = 50) -> list[Hit]:
        """Reciprocal rank fusion of BM25 and cosine similarity over embedded chunks."""
        lexical = self.search(query, limit=pool, document_ids=document_ids)
        sql = ("SELECT c.id, c.document_id, c.location, c.text, c.embedding, d.title, d.path, "
               "d.kind FROM library_chunks c JOIN library_documents d ON d.id = c.document_id "
               "WHERE c.embedding IS NOT NULL AND c.embedding_model = ?")
        params: list[object] = [embedder.name]
        if document_ids is not None:
            sql += f" AND c.document_id IN ({','.join('?' * len(document_ids))})"
            params.extend(document_ids)
        rows = self.conn.execute(sql, params).fetchall()
        fused: dict[int, float] = {}
        hits: dict[int, Hit] = {}
        for rank, h in enumerate(lexical):
            fused[h.chunk_id] = 1.0 / (_RRF_K + rank + 1)
            hits[h.chunk_id] = h
        if rows:
            qv = np.asarray((await embedder.embed([query]))[0], dtype=np.float32)
            mat = np.stack([from_blob(r["embedding"]) for r in rows])
            if mat.shape[1] == qv.shape[0]:
                norms = np.linalg.norm(mat, axis=1) * (np.linalg.norm(qv) or 1.0)
                sims = (mat @ qv) / np.where(norms == 0, 1.0, norms)
                for rank, i in enumerate(np.argsort(-sims)[:pool]):
                    r = rows[int(i)]
                    fused[r["id"]] = fused.get(r["id"], 0.0) + 1.0 / (_RRF_K + rank + 1)
                    hits.setdefault(r["id"], Hit(r["id"], r["document_id"], r["title"],
                                                 r["path"], r["kind"], r["location"], r["text"],
                                                 0.0))
        best = sorted(fused, key=lambda k: -fused[k])[:limit]
        return [_with_score(hits[k], fused[k]) for k in best]


def _with_score(h: Hit, score: float) -> Hit:
    return Hit(h.chunk_id, h.document_id, h.title, h.path, h.kind, h.location, h.text, score)
