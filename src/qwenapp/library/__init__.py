"""The persistent local document library (``qwenapp docs``), shared by chat and reports."""

from .chunking import Chunk, chunk_sections
from .embeddings import Embedder, OpenAIEmbeddings, parse_embedder, split_embed_spec
from .index import Hit, IngestOutcome, Library, LibraryDocument, LibraryError, fts_query
from .terms import content_terms, estimate_tokens, fts_form

__all__ = [
    "Chunk",
    "Embedder",
    "Hit",
    "IngestOutcome",
    "Library",
    "LibraryDocument",
    "LibraryError",
    "OpenAIEmbeddings",
    "chunk_sections",
    "content_terms",
    "estimate_tokens",
    "fts_form",
    "fts_query",
    "parse_embedder",
    "split_embed_spec",
]
