"""The web as a source: guarded URL fetching and pluggable search providers."""

from .fetch import FetchedPage, Fetcher, WebDocument, to_document
from .safety import BlockedUrlError, UrlPolicy, WebError, check_url, is_public_address
from .search import (
    PROVIDERS,
    BraveSearch,
    DuckDuckGoSearch,
    SearchProvider,
    SearchResult,
    SearxngSearch,
    TavilySearch,
    make_provider,
    parse_duckduckgo,
)

__all__ = [
    "PROVIDERS",
    "BlockedUrlError",
    "BraveSearch",
    "DuckDuckGoSearch",
    "FetchedPage",
    "Fetcher",
    "SearchProvider",
    "SearchResult",
    "SearxngSearch",
    "TavilySearch",
    "UrlPolicy",
    "WebDocument",
    "WebError",
    "check_url",
    "is_public_address",
    "make_provider",
    "parse_duckduckgo",
    "to_document",
]
