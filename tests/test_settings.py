"""Settings are read once, at the edge: every environment variable the app uses lands here."""

from __future__ import annotations

from pathlib import Path

from qwenapp.models.openai_compat import OpenAICompatBackend
from qwenapp.models.resolve import resolve_backend
from qwenapp.settings import load_settings


def test_keys_embedding_and_search_come_from_the_environment(tmp_path: Path) -> None:
    env = {"QWENAPP_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-openai",
           "QWENAPP_EMBED": "openai:http://127.0.0.1:1/v1#e5", "QWENAPP_SEARCH": "brave",
           "BRAVE_API_KEY": "b-key", "EMPTY_API_KEY": "", "PATH": "/usr/bin"}
    s = load_settings(env)
    assert s.api_key == "sk-openai"
    assert s.embed == "openai:http://127.0.0.1:1/v1#e5"
    assert s.search == "brave"
    assert s.search_keys == {"OPENAI_API_KEY": "sk-openai", "BRAVE_API_KEY": "b-key"}
    assert load_settings({**env, "QWENAPP_API_KEY": "qk"}).api_key == "qk"  # ours wins


def test_defaults_and_the_config_file(tmp_path: Path) -> None:
    bare = load_settings({"QWENAPP_HOME": str(tmp_path)})
    assert (bare.api_key, bare.embed, bare.search, dict(bare.search_keys)) == (
        None, None, "duckduckgo", {})
    (tmp_path / "config.toml").write_text('embed = "openai:http://127.0.0.1:2/v1#bge"\n'
                                          'search = "tavily"\n', encoding="utf-8")
    s = load_settings({"QWENAPP_HOME": str(tmp_path)})
    assert s.embed == "openai:http://127.0.0.1:2/v1#bge" and s.search == "tavily"


def test_an_endpoint_backend_gets_the_key_from_settings(tmp_path: Path) -> None:
    s = load_settings({"QWENAPP_HOME": str(tmp_path), "QWENAPP_API_KEY": "from-settings"})
    backend = resolve_backend("openai:http://127.0.0.1:9/v1#m", s)
    assert isinstance(backend, OpenAICompatBackend)
    assert backend._api_key == "from-settings"  # what it sends as the bearer token
