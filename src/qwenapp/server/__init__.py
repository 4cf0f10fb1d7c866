"""The HTTP server: the web app, its native API and an OpenAI-compatible API.

Transport stays here: the core (assistant, pipelines) yields typed events
and this package turns them into JSON and Server-Sent Events. Modules, by
concern: :mod:`.app` (factory), :mod:`.auth` and :mod:`.users` (who is
calling), :mod:`.ownership` (who owns what), :mod:`.limits` (429s),
:mod:`.sse`, :mod:`.openai_api`, :mod:`.chat_api`, :mod:`.documents_api`,
:mod:`.jobs_api` with :mod:`.jobs` (reports and decks as persisted jobs),
:mod:`.web` (the page).
"""

from .app import create_app, default_kinds
from .config import ServerConfig, ServerLimits, is_loopback

__all__ = ["ServerConfig", "ServerLimits", "create_app", "default_kinds", "is_loopback"]
