"""The model a benchmark runs: a path, a catalogue name, or the configured default."""

from __future__ import annotations

import os
from pathlib import Path

from qwenapp.settings import load_settings


def resolve_model(spec: str | None) -> Path:
    """``spec``, else ``$QWENAPP_BENCH_MODEL``, else the default model (fetched if needed)."""
    spec = spec or os.environ.get("QWENAPP_BENCH_MODEL")
    if spec and Path(spec).exists():
        return Path(spec)
    from qwenapp.models.catalogue import get_entry
    from qwenapp.models.fetch import ensure_model

    settings = load_settings()
    return ensure_model(get_entry(spec or settings.model), settings.models_dir)
