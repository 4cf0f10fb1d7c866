"""The document library: ingestion, no-op re-adds, removal, BM25 retrieval with known answers."""

from __future__ import annotations

import asyncio
import shutil
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from fixtures.samples import write_docx, write_pdf
from qwenapp.documents import Section
from qwenapp.library import Library, LibraryError, chunk_sections, content_terms, fts_form
from qwenapp.store import Connection, open_db

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


@pytest.fixture(params=["sqlite", "postgresql"])
def conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connection]:
    """Every library test runs on SQLite and on a real PostgreSQL (tests/pg_fixture.py)."""
    c = open_db(tmp_path / "db.sqlite" if request.param == "sqlite"
                else request.getfixturevalue("pg_url"))
    yield c
    c.close()


def test_migration_applied_after_store_migrations(conn: Connection) -> None:
    versions = [r[0] for r in conn.execute("SELECT version FROM migrations ORDER BY version")]
    assert versions[0] == 1 and 100 in versions and versions == sorted(versions)


def test_ingest_is_idempotent_and_updates(lib: Library, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    again = list(lib.ingest([docs]))
    assert {o.status for o in again} == {"unchanged"}
    n_chunks = sum(d.chunks for d in lib.documents())
    (docs / "gardening.txt").write_text("Tomatoes need sun. Basil likes it too.\n")
    out = lib.ingest_file(docs / "gardening.txt")
    assert out.status == "updated"
    assert len(lib.documents()) == 6
    assert lib.search("basil", limit=1)[0].path.endswith("gardening.txt")
    assert not lib.search("suckers pinch mulch")
    assert sum(d.chunks for d in lib.documents()) <= n_chunks


def test_same_content_elsewhere_is_a_noop(lib: Library, tmp_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    shutil.copy(tmp_path / "docs" / "gardening.txt", copy)
    out = lib.ingest_file(copy)
    assert out.status == "unchanged" and "same content" in out.reason


def test_unreadable_and_unsupported_files_are_reported(conn: Connection,
                                                       tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "ok.txt").write_text("fine text")
    (d / "bad.pdf").write_bytes(b"%PDF-1.4 broken")
    (d / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")  # pictures are read (OCR)
    (d / ".hidden.txt").write_text("ignored: hidden")
    outcomes = {o.path.name: o for o in Library(conn).ingest([d])}
    assert set(outcomes) == {"ok.txt", "bad.pdf", "clip.mp4"}
    assert outcomes["ok.txt"].status == "added"
    assert outcomes["bad.pdf"].status == "failed" and "corrupt PDF" in outcomes["bad.pdf"].reason
    assert outcomes["clip.mp4"].status == "skipped" and ".mp4" in outcomes["clip.mp4"].reason


def test_missing_folder(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no such file or folder"):
        list(Library(conn).ingest([tmp_path / "nope"]))


def test_remove_by_prefix_and_path(lib: Library, tmp_path: Path) -> None:
    doc = lib.documents()[0]
    assert lib.remove(doc.id[:20]).id == doc.id
    removed = lib.remove(str(tmp_path / "docs" / "local_inference.txt"))
    assert removed.title
    assert len(lib.documents()) == 4
    assert not lib.search("tomato GGUF")
    assert lib.conn.execute("SELECT count(*) FROM library_fts").fetchone()[0] == sum(
        d.chunks for d in lib.documents())
    with pytest.raises(LibraryError):
        lib.remove("nothing-like-this")


KNOWN = [
    ("Which license allows commercial use?", "qwen_adoption.md", "Licensing"),
    ("GGUF quantization bits per weight", "local_inference.txt", None),
    ("tokens per second on two CPU cores", "local_inference.txt", None),
    ("how often to water tomato plants", "gardening.txt", None),
    ("share of developers citing local hardware", "survey.csv", "table survey"),
    ("魔搭社区", "千问生态.md", "千问开源生态（测试语料） > 社区"),
    ("中文能力 开发者", "千问生态.md", None),
    ("coder model code completion", "qwen_adoption.md", None),
]


@pytest.mark.parametrize(("query", "expected", "location"), KNOWN)
def test_retrieval_known_answers(lib: Library, query: str, expected: str,
                                 location: str | None) -> None:
    hits = lib.search(query, limit=3)
    assert hits, query
    assert Path(hits[0].path).name == expected
    if location:
        assert location in hits[0].location


def test_search_restricted_to_documents(lib: Library) -> None:
    garden = next(d for d in lib.documents() if d.path.endswith("gardening.txt"))
    hits = lib.search("Qwen license tomato", limit=10, document_ids=[garden.id])
    assert hits and {h.document_id for h in hits} == {garden.id}
    assert lib.search("Qwen", document_ids=[]) == []


def test_fts_syntax_in_queries_is_literal(lib: Library) -> None:
    for q in ['"', "NEAR(", "a AND OR", "-*:", "title:foo", ""]:
        lib.search(q)  # never an FTS syntax error


def test_pdf_and_docx_locations(conn: Connection, tmp_path: Path) -> None:
    lib = Library(conn)
    pdf = write_pdf(tmp_path / "r.pdf", ["intro page", "the answer is forty-two"], title="R")
    docx = write_docx(tmp_path / "w.docx", "W", [("Findings", ["pricing was transparent"])])
    list(lib.ingest([pdf, docx]))
    assert lib.search("forty-two answer")[0].location == "page 2"
    assert lib.search("transparent pricing")[0].location == "Findings"


def test_cjk_bigrams() -> None:
    assert fts_form("千问模型") == " 千问 问模 模型 "
    assert "模型" in content_terms("Qwen模型的能力")
    assert "qwen" in content_terms("Qwen模型的能力")


def test_chunking_keeps_locations_and_bounds() -> None:
    long = " ".join(f"Sentence number {i} talks about adoption." for i in range(200))
    chunks = chunk_sections([Section(long, "page 1"), Section("short", "page 2")], 100)
    assert len(chunks) > 5
    assert chunks[-1].location == "page 2" and chunks[-1].text == "short"
    assert all(len(c.text) < 800 for c in chunks)
    table = [["h1", "h2"]] + [[str(i), "x" * 20] for i in range(100)]
    tchunks = chunk_sections([Section("", "sheet S", table=table)], 60)
    assert len(tchunks) > 2 and all(c.text.startswith("h1 | h2") for c in tchunks)


class _BagEmbedder:
    """Deterministic embeddings: hashed bag of words (a stand-in for an engine)."""

    name = "bag"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for t in texts:
            v = [0.0] * 64
            for term in content_terms(t):
                v[zlib.crc32(term.encode()) % 64] += 1.0  # hash() changes per process
            out.append(v)
        return out


def test_hybrid_search(lib: Library) -> None:
    emb = _BagEmbedder()
    n = asyncio.run(lib.embed_missing(emb))
    assert n == sum(d.chunks for d in lib.documents())
    assert asyncio.run(lib.embed_missing(emb)) == 0
    hits = asyncio.run(lib.hybrid_search("commercial license", emb, limit=3))
    assert Path(hits[0].path).name in {"qwen_adoption.md", "千问生态.md"}


def test_openai_embeddings_client_against_standin(lib: Library) -> None:
    from fixtures.standin import standin
    from qwenapp.errors import InputError
    from qwenapp.library import parse_embedder

    with standin() as site:
        async def main() -> list[str]:
            emb = parse_embedder(f"openai:{site.base}/v1#bag")
            try:
                await lib.embed_missing(emb, batch=4)
                hits = await lib.hybrid_search("Apache license commercial", emb, limit=2)
                return [Path(h.path).name for h in hits]
            finally:
                await emb.aclose()

        names = asyncio.run(main())
    assert names[0] in {"qwen_adoption.md", "千问生态.md"}
    assert lib.conn.execute("SELECT count(*) FROM library_chunks WHERE embedding IS NULL"
                            ).fetchone()[0] == 0
    with pytest.raises(InputError, match="cannot read the embedding endpoint"):
        parse_embedder("http://x/v1")
