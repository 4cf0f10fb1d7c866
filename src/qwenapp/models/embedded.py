"""The embedded llama.cpp engine, in-process, through ``xllamacpp``.

Why this shape: ``xllamacpp`` runs llama.cpp's own server loop inside our
process (continuous batching, parallel slots, prompt-cache reuse, JSON-schema
grammars), and answers with the same OpenAI-shaped chunks a remote server
sends. So the embedded backend is a thin adapter: it hands the request to the
engine on a worker thread, moves chunks onto the event loop through a queue,
and reuses the one chunk translator in :mod:`qwenapp.models.profile`.

The model is loaded lazily, once per process per (file, slots, context,
threads), and shared by every backend object and every concurrent request.
The file is checked before loading (size, header, tensor data in bounds), so
a truncated or corrupt GGUF is a clear error, never a crash.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BackendError, ModelFileError
from ..settings import Settings
from .events import Event, GenerateOptions, Message
from .profile import (
    QwenProfile,
    error_from_payload,
    offered_tools,
    openai_chunks_to_events,
    request_body,
)

__all__ = ["EmbeddedBackend", "EngineConfig", "default_threads", "loaded_engines"]

_END = object()


def default_threads() -> int:
    """Cores this process may run on (llama.cpp decodes best at one thread per core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class EngineConfig:
    path: Path
    context: int  # tokens per slot
    parallel: int
    threads: int


class _Engine:
    """One loaded model and the worker threads that feed it."""

    def __init__(self, config: EngineConfig) -> None:
        import xllamacpp as xl

        p = xl.CommonParams()
        p.model.path = str(config.path)
        p.n_parallel = config.parallel
        p.n_ctx = config.context * config.parallel  # llama.cpp splits n_ctx across slots
        p.cpuparams.n_threads = config.threads
        p.cpuparams_batch.n_threads = config.threads
        p.warmup = False
        p.verbosity = -1
        p.cache_prompt = True
        p.n_cache_reuse = 256  # reuse shifted KV chunks when old turns are dropped
        p.hostnames = ["127.0.0.1"]
        p.port = 0
        # The in-process server also listens on loopback: lock it with a random key.
        p.api_keys = [secrets.token_hex(16)]
        try:
            self.server = xl.Server(p)
        except Exception as e:  # llama.cpp reports load failures as RuntimeError
            raise ModelFileError(
                f"the engine could not load {config.path}: {e}",
                "the file may be damaged or not a supported model; re-download it",
            ) from None
        self.config = config
        self.pool = ThreadPoolExecutor(max_workers=config.parallel * 4,
                                       thread_name_prefix="qwenapp-engine")


_engines: dict[EngineConfig, _Engine] = {}
_engines_lock = threading.Lock()


def loaded_engines() -> list[EngineConfig]:
    """Configs of the engines loaded in this process (for tests and diagnostics)."""
    return list(_engines)


def _engine(config: EngineConfig) -> _Engine:
    with _engines_lock:
        eng = _engines.get(config)
        if eng is None:
            eng = _engines[config] = _Engine(config)
        return eng


def _model_facts(path: Path, expected_size: int | None) -> tuple[int, bool]:
    """(trained context length, whether the chat template knows Qwen3 thinking)."""
    from .gguf_check import check_gguf

    info = check_gguf(path, expected_size=expected_size)
    thinking = "enable_thinking" in (info.chat_template or "")
    return int(info.context_length or 0), thinking


class EmbeddedBackend:
    """A GGUF model run by the in-process llama.cpp engine."""

    serial_jobs = True  # see models.base.job_parallel: one call at a time is faster on CPU

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        settings: Settings | None = None,
        thinking: bool | None = None,
        expected_size: int | None = None,
        context: int | None = None,
        parallel: int | None = None,
        threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self._name = name or self.path.stem
        self._expected_size = expected_size
        self._thinking = thinking
        self._context = context or (settings.context if settings else 8192)
        self._parallel = parallel or (settings.parallel if settings else 4)
        self._threads = threads or (settings.threads if settings else 0) or default_threads()
        self._config: EngineConfig | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_length(self) -> int:
        return self._config.context if self._config else self._context

    @property
    def supports_thinking(self) -> bool:
        if self._thinking is None:
            self._prepare()
        return bool(self._thinking)

    def _prepare(self) -> EngineConfig:
        """Check the file (once) and fix the engine config; cheap after the first call."""
        with self._lock:
            if self._config is None:
                trained, thinking = _model_facts(self.path, self._expected_size)
                if self._thinking is None:
                    self._thinking = thinking
                context = min(self._context, trained) if trained else self._context
                self._config = EngineConfig(self.path.resolve(), context, self._parallel,
                                            self._threads)
            return self._config

    def load(self) -> None:
        """Load the model now rather than at the first request."""
        _engine(self._prepare())

    async def stream(
        self, messages: Sequence[Message], options: GenerateOptions
    ) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        engine = await loop.run_in_executor(None, lambda: _engine(self._prepare()))
        profile = QwenProfile(thinking=bool(self._thinking))
        body = request_body([m.to_openai() for m in messages], options, profile)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()

        def post(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: the consumer left
                cancelled.set()

        def on_chunk(chunk: Any) -> bool:
            if cancelled.is_set():
                return True  # tells llama.cpp to stop and free the slot
            post(chunk)
            return False

        def run() -> None:
            try:
                engine.server.handle_chat_completions(body, on_chunk)
            except Exception as e:  # a rejected request surfaces here
                post(BackendError(f"the engine rejected the request: {e}"))
            finally:
                post(_END)

        engine.pool.submit(run)

        async def chunks() -> AsyncIterator[dict[str, Any]]:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, dict) and "error" in item:
                    raise error_from_payload(item["error"])
                yield item

        events = openai_chunks_to_events(chunks(), offered_tools(options))
        try:
            async for event in events:
                yield event
        finally:
            cancelled.set()
            await events.aclose()

    async def aclose(self) -> None:
        # The engine is shared process-wide; it lives until the process exits.
        return None
