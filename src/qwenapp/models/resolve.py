"""Turn a ``--model`` value into a backend.

Accepted forms, checked in this order:

* ``scripted`` or ``scripted:PATH.json``: the shipped deterministic model;
* ``openai:BASE_URL#MODEL``: any OpenAI-compatible server, e.g.
  ``openai:http://localhost:8000/v1#Qwen/Qwen3-8B`` (key from ``OPENAI_API_KEY``
  or ``QWENAPP_API_KEY``);
* a named endpoint from the config file (``[endpoints.NAME]``);
* a path to a ``.gguf`` file: the embedded engine;
* a catalogue name: fetched if needed (cache, hub, PyPI mirror), then embedded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from ..settings import Settings
from .base import Backend

if TYPE_CHECKING:
    from .fetch import FetchProgress

__all__ = ["resolve_backend"]


def resolve_backend(spec: str, settings: Settings, *,
                    progress: FetchProgress | None = None) -> Backend:
    spec = spec.strip()
    if not spec:
        raise InputError("--model is empty", "give a catalogue name, a .gguf path or an endpoint")
    if spec == "scripted" or spec.startswith("scripted:"):
        from .scripted import ScriptedModel, load_script

        return load_script(spec[len("scripted:"):]) if ":" in spec else ScriptedModel()
    if spec.startswith("openai:"):
        from .openai_compat import OpenAICompatBackend

        url, sep, model = spec[len("openai:"):].partition("#")
        if not sep or not url or not model:
            raise InputError(f"cannot read the endpoint {spec!r}",
                             "write it as openai:http://host:8000/v1#MODEL_NAME")
        return OpenAICompatBackend(url, model, settings.api_key,
                                   timeout=settings.request_timeout)
    if spec in settings.endpoints:
        from .openai_compat import OpenAICompatBackend

        ep = settings.endpoints[spec]
        return OpenAICompatBackend(ep.base_url, ep.model, ep.api_key, thinking=ep.thinking,
                                   timeout=settings.request_timeout)
    from .embedded import EmbeddedBackend

    if spec.endswith(".gguf") or os.sep in spec:
        path = Path(spec).expanduser()
        return EmbeddedBackend(path, name=path.stem, settings=settings)
    from .catalogue import get_entry
    from .fetch import ensure_model

    entry = get_entry(spec)
    path = ensure_model(entry, settings.models_dir, offline=settings.offline,
                        progress=progress)
    return EmbeddedBackend(path, name=entry.name, settings=settings,
                           thinking=entry.thinking, expected_size=entry.size)
