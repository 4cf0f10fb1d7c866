"""Optional dense vectors for hybrid ranking.

An :class:`Embedder` is anything with ``async embed(texts)``: a backend that
grows an embedding method, or :class:`OpenAIEmbeddings`, a client for the
``/v1/embeddings`` route of llama-server (``--embedding``), vLLM or Ollama.
Vectors are stored as float32 blobs beside each chunk; ranking fuses BM25
and cosine ranks (reciprocal rank fusion), so neither score needs calibrating.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import BackendError, InputError

__all__ = ["Embedder", "OpenAIEmbeddings", "from_blob", "parse_embedder", "split_embed_spec",
           "to_blob"]


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def to_blob(vec: Sequence[float]) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.frombuffer(blob, dtype=np.float32)


class OpenAIEmbeddings:
    """``POST {base_url}/embeddings`` with ``{"model", "input"}``, in batches."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *,
                 timeout: float = 600.0, batch: int = 32) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), headers=headers,
                                         timeout=httpx.Timeout(timeout, connect=10.0))
        self._model = model
        self._batch = batch

    @property
    def name(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import httpx

        out: list[list[float]] = []
        for i in range(0, len(texts), self._batch):
            part = list(texts[i : i + self._batch])
            try:
                r = await self._client.post("/embeddings", json={"model": self._model,
                                                                 "input": part})
            except httpx.HTTPError as e:
                raise BackendError(f"the embedding server did not answer: {e}",
                                   "check the --embed URL and that the server runs") from None
            if r.status_code != 200:
                raise BackendError(f"the embedding server answered HTTP {r.status_code}: "
                                   f"{r.text[:200]}", status=r.status_code)
            data = sorted(r.json().get("data", []), key=lambda d: d.get("index", 0))
            if len(data) != len(part):
                raise BackendError(f"the embedding server returned {len(data)} vectors "
                                   f"for {len(part)} texts")
            out.extend([float(x) for x in d["embedding"]] for d in data)
        return out

    async def aclose(self) -> None:
        await self._client.aclose()


def split_embed_spec(spec: str) -> tuple[str, str]:
    """``openai:BASE_URL#MODEL`` (the same form as ``--model``) as ``(base_url, model)``."""
    url, sep, model = spec.strip().removeprefix("openai:").partition("#")
    if not sep or not url.startswith(("http://", "https://")) or not model:
        raise InputError(f"cannot read the embedding endpoint {spec!r}",
                         "write it as openai:http://host:8080/v1#MODEL_NAME")
    return url, model


def parse_embedder(spec: str, api_key: str | None = None) -> OpenAIEmbeddings:
    """A client for ``openai:BASE_URL#MODEL``."""
    url, model = split_embed_spec(spec)
    return OpenAIEmbeddings(url, model, api_key)
