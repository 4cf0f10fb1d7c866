"""One typed settings object, loaded once at the edge.

Sources, later ones winning: built-in defaults, the TOML config file
(``$QWENAPP_HOME/config.toml`` unless ``QWENAPP_CONFIG`` names another), and
``QWENAPP_*`` environment variables. The CLI or server calls
:func:`load_settings` once and passes the result down; nothing in the
package reads the environment at import time.

Example ``config.toml``::

    model = "qwen2.5-coder-0.5b-instruct"
    threads = 2
    parallel = 4
    context = 8192

    [endpoints.vllm]
    base_url = "http://gpu-box:8000/v1"
    model = "Qwen/Qwen3-8B"
    api_key_env = "VLLM_KEY"     # or api_key = "..."

    [documents]                  # scans and pictures of text (docs/ocr.md)
    ocr = true                   # false: PDFs without a text layer and images are refused
    ocr_languages = "eng+chi_sim"
    ocr_max_pages = 100          # per document
    ocr_seconds = 300            # per document
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from .documents import Limits

__all__ = [
    "DEFAULT_MODEL",
    "DocumentSettings",
    "EndpointConfig",
    "McpServerConfig",
    "Settings",
    "ToolSettings",
    "load_settings",
]

DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct"


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """A named OpenAI-compatible server from the config file."""

    base_url: str
    model: str
    api_key: str | None = None
    thinking: bool = True  # the model may be a Qwen3 with hybrid thinking


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    model: str = DEFAULT_MODEL
    threads: int = 0  # 0: every core of the machine
    parallel: int = 4  # engine slots shared by concurrent requests
    job_parallel: int = 0  # model calls one report or deck runs at once; 0: by backend
    context: int = 8192  # tokens per slot
    # Seconds without a byte before giving up: CPU inference of a long prompt is slow.
    request_timeout: float = 900.0
    offline: bool = False  # never try the network for model fetching
    endpoints: Mapping[str, EndpointConfig] = field(default_factory=dict)
    # reading documents: OCR of scans and pictures ([documents]; see DocumentSettings)
    documents: DocumentSettings = field(default_factory=lambda: DocumentSettings())
    # reverse proxies whose X-Forwarded-* headers `serve` believes (none: nobody's)
    trusted_proxies: tuple[str, ...] = ()
    # tools in chat and MCP servers as tool sources ([tools], [mcp.servers.NAME]; see below)
    tools: ToolSettings = field(default_factory=lambda: ToolSettings())
    # the key for --model openai:URL#MODEL (QWENAPP_API_KEY, else OPENAI_API_KEY)
    api_key: str | None = None
    embed: str | None = None  # default embedding endpoint (QWENAPP_EMBED, or embed = "...")
    search: str = "duckduckgo"  # web search provider of reports (QWENAPP_SEARCH)
    # search providers' keys (every *_API_KEY variable: BRAVE_API_KEY, TAVILY_API_KEY, ...)
    search_keys: Mapping[str, str] = field(default_factory=dict)
    # PostgreSQL for all state (QWENAPP_DATABASE_URL, or database_url = "postgresql://…");
    # None: the SQLite file in home (db_path). See docs/postgres.md.
    database_url: str | None = None
    # where jobs write their files (decks, PDFs, DOCX, previews, saved stages), one folder
    # per job: a shared mount when app processes and workers run on several machines
    # (QWENAPP_ARTIFACTS_DIR, or artifacts_dir = "/mnt/qwenapp"); None: under home
    artifacts_dir: Path | None = None

    def jobs_dir(self, data_dir: Path | None = None) -> Path:
        """The folder of the jobs' files: ``artifacts_dir``, else ``<data_dir>/jobs``.

        ``data_dir`` is the server's (``$QWENAPP_HOME/server`` unless ``serve`` was
        given another); every process that runs or serves jobs must see the same one.
        """
        return self.artifacts_dir or (data_dir or self.home / "server") / "jobs"

    @property
    def db_path(self) -> Path:
        return self.home / "qwenapp.db"

    @property
    def database(self) -> Path | str:
        """What :func:`qwenapp.store.open_db` opens: the PostgreSQL URL, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _default_home() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("qwenapp", appauthor=False))


def _int(env: Mapping[str, str], key: str, value: Any, minimum: int) -> int:
    raw = env.get(key, value)
    try:
        out = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"{key} must be a whole number, got {raw!r}") from None
    if out < minimum:
        raise InputError(f"{key} must be at least {minimum}, got {out}")
    return out


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read defaults, then the config file, then ``QWENAPP_*`` variables.

    This is the only place the environment is read for settings: everything below the
    edge gets a :class:`Settings` (search keys and the API key included).
    """
    env = os.environ if env is None else env
    home = Path(env["QWENAPP_HOME"]).expanduser() if env.get("QWENAPP_HOME") else _default_home()
    config_path = Path(env.get("QWENAPP_CONFIG") or home / "config.toml").expanduser()
    cfg: dict[str, Any] = {}
    if config_path.exists():
        try:
            cfg = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read the config file {config_path}: {e}",
                             "fix the TOML syntax or remove the file") from None
    endpoints: dict[str, EndpointConfig] = {}
    for name, ep in (cfg.get("endpoints") or {}).items():
        if not isinstance(ep, dict) or "base_url" not in ep or "model" not in ep:
            raise InputError(f"endpoint {name!r} in {config_path} needs base_url and model")
        key = ep.get("api_key")
        if ep.get("api_key_env"):
            key = env.get(str(ep["api_key_env"]), key)
        endpoints[name] = EndpointConfig(
            base_url=str(ep["base_url"]), model=str(ep["model"]),
            api_key=key, thinking=bool(ep.get("thinking", True)),
        )
    offline_raw = str(env.get("QWENAPP_OFFLINE", cfg.get("offline", ""))).lower()
    proxies_raw: Any = env.get("QWENAPP_TRUST_PROXY", cfg.get("trust_proxy", ()))
    if isinstance(proxies_raw, str):
        proxies_raw = proxies_raw.split(",")
    if not isinstance(proxies_raw, list | tuple):
        raise InputError("trust_proxy must be a list of proxy addresses, e.g. [\"127.0.0.1\"]")
    return Settings(
        home=home,
        model=str(env.get("QWENAPP_MODEL") or cfg.get("model") or DEFAULT_MODEL),
        threads=_int(env, "QWENAPP_THREADS", cfg.get("threads", 0), 0),
        parallel=_int(env, "QWENAPP_PARALLEL", cfg.get("parallel", 4), 1),
        job_parallel=_int(env, "QWENAPP_JOB_PARALLEL", cfg.get("job_parallel", 0), 0),
        context=_int(env, "QWENAPP_CONTEXT", cfg.get("context", 8192), 256),
        request_timeout=float(env.get("QWENAPP_TIMEOUT", cfg.get("request_timeout", 900.0))),
        offline=offline_raw in {"1", "true", "yes", "on"},
        endpoints=endpoints,
        documents=_document_settings(cfg, env, config_path),
        trusted_proxies=tuple(str(p).strip() for p in proxies_raw if str(p).strip()),
        tools=_tool_settings(cfg, env, config_path),
        api_key=env.get("QWENAPP_API_KEY") or env.get("OPENAI_API_KEY") or None,
        embed=str(env.get("QWENAPP_EMBED") or cfg.get("embed") or "") or None,
        search=str(env.get("QWENAPP_SEARCH") or cfg.get("search") or "duckduckgo"),
        search_keys={k: v for k, v in env.items() if k.endswith("_API_KEY") and v},
        database_url=_database_url(env, cfg, config_path),
        artifacts_dir=_artifacts_dir(env, cfg, config_path),
    )


def _artifacts_dir(env: Mapping[str, str], cfg: Mapping[str, Any],
                   config_path: Path) -> Path | None:
    raw = env.get("QWENAPP_ARTIFACTS_DIR") or cfg.get("artifacts_dir") or ""
    if not isinstance(raw, str):
        raise InputError(f"artifacts_dir in {config_path} must be a string (a folder)")
    if not raw.strip():
        return None
    path = Path(raw.strip()).expanduser()
    if not path.is_absolute():
        raise InputError(f"the artifacts folder must be an absolute path, not {raw!r}",
                         "name the shared folder every app process and worker mounts, "
                         "e.g. QWENAPP_ARTIFACTS_DIR=/mnt/qwenapp/jobs")
    return path


def _database_url(env: Mapping[str, str], cfg: Mapping[str, Any],
                  config_path: Path) -> str | None:
    raw = env.get("QWENAPP_DATABASE_URL") or cfg.get("database_url") or ""
    if not isinstance(raw, str):
        raise InputError(f"database_url in {config_path} must be a string")
    url = raw.strip()
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise InputError("QWENAPP_DATABASE_URL must be a postgresql:// URL",
                         "write it like postgresql://user:password@host:5432/qwenapp, or leave "
                         "it unset to keep the SQLite file in QWENAPP_HOME")
    return url or None


# -- tools and MCP servers (docs/tools.md) ---------------------------------------------
#
#     [tools]
#     enabled = ["calculator", "convert_units", "current_time", "library_search"]
#     max_rounds = 4
#     search = "duckduckgo"            # provider of the web_search tool
#
#     [mcp.servers.files]              # a stdio server: a command qwenapp starts
#     command = "npx"
#     args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
#     [mcp.servers.wiki]               # a streamable HTTP server
#     url = "http://127.0.0.1:8765/mcp"

_BOOL = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One MCP server: a stdio ``command`` or a streamable-HTTP ``url``."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0  # seconds to start, list tools, or answer one call
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ToolSettings:
    enabled: tuple[str, ...] = ()  # built-in tools chat offers (QWENAPP_TOOLS=a,b)
    max_rounds: int = 4  # tool rounds per turn before the model must answer
    search: str = "duckduckgo"  # the web_search tool's provider
    mcp_servers: Mapping[str, McpServerConfig] = field(default_factory=dict)


def _tool_settings(cfg: Mapping[str, Any], env: Mapping[str, str], path: Path) -> ToolSettings:
    tools = cfg.get("tools") or {}
    if not isinstance(tools, dict):
        raise InputError(f"[tools] in {path} must be a table")
    enabled: Any = env.get("QWENAPP_TOOLS", tools.get("enabled", ()))
    if isinstance(enabled, str):
        enabled = [] if enabled.strip().lower() in {"", "none", "off"} else enabled.split(",")
    if not isinstance(enabled, list | tuple):
        raise InputError("tools.enabled must be a list of tool names")
    servers: dict[str, McpServerConfig] = {}
    for name, sv in ((cfg.get("mcp") or {}).get("servers") or {}).items():
        if not isinstance(sv, dict) or bool(sv.get("command")) == bool(sv.get("url")):
            raise InputError(f"MCP server {name!r} in {path} needs either command or url",
                             'write command = "..." (stdio) or url = "http://..." (HTTP)')
        servers[name] = McpServerConfig(
            name=str(name), command=sv.get("command"), args=tuple(map(str, sv.get("args", ()))),
            env={str(k): str(v) for k, v in (sv.get("env") or {}).items()}, url=sv.get("url"),
            headers={str(k): str(v) for k, v in (sv.get("headers") or {}).items()},
            timeout=float(sv.get("timeout", 30.0)),
            enabled=str(sv.get("enabled", True)).lower() in _BOOL)
    return ToolSettings(
        enabled=tuple(dict.fromkeys(str(t).strip() for t in enabled if str(t).strip())),
        max_rounds=_int(env, "QWENAPP_TOOL_ROUNDS", tools.get("max_rounds", 4), 1),
        search=str(env.get("QWENAPP_TOOL_SEARCH") or tools.get("search") or "duckduckgo"),
        mcp_servers=servers)


# -- reading documents (docs/ocr.md) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentSettings:
    """``[documents]``: OCR of scanned PDF pages and pictures (``QWENAPP_OCR=0`` turns it off)."""

    ocr: bool = True
    ocr_languages: str = "eng+chi_sim"  # Tesseract language names joined by "+"
    ocr_max_pages: int = 100  # pages recognised per document
    ocr_seconds: float = 300.0  # OCR time per document

    def limits(self) -> Limits:
        """The document reader's limits with these OCR options."""
        from .documents import DEFAULT_LIMITS

        return replace(DEFAULT_LIMITS, ocr=self.ocr, ocr_languages=self.ocr_languages,
                       ocr_max_pages=self.ocr_max_pages, ocr_seconds=self.ocr_seconds)


def _document_settings(cfg: Mapping[str, Any], env: Mapping[str, str],
                       path: Path) -> DocumentSettings:
    docs = cfg.get("documents") or {}
    if not isinstance(docs, dict):
        raise InputError(f"[documents] in {path} must be a table")
    ocr = str(env.get("QWENAPP_OCR", docs.get("ocr", True))).strip().lower()
    if ocr not in _BOOL | {"0", "false", "no", "off"}:
        raise InputError(f"documents.ocr must be true or false, got {ocr!r}")
    langs = str(docs.get("ocr_languages", "eng+chi_sim")).strip().replace(",", "+")
    if not langs or not all(part.replace("_", "").isalnum() for part in langs.split("+")):
        raise InputError("documents.ocr_languages must be Tesseract language names joined by "
                         f"'+', e.g. \"eng+chi_sim\", got {langs!r}")
    try:
        seconds = float(docs.get("ocr_seconds", 300.0))
    except (TypeError, ValueError):
        raise InputError("documents.ocr_seconds must be a number of seconds") from None
    if seconds <= 0:
        raise InputError("documents.ocr_seconds must be more than 0")
    return DocumentSettings(
        ocr=ocr in _BOOL, ocr_languages=langs,
        ocr_max_pages=_int(env, "documents.ocr_max_pages", docs.get("ocr_max_pages", 100), 1),
        ocr_seconds=seconds)
