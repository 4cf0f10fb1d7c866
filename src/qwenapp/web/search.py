"""Pluggable web search: SearXNG (self-hosted), DuckDuckGo (no key), Brave and Tavily (keyed).

A provider turns a query into :class:`SearchResult` values (title, URL,
snippet); pages are then fetched by :class:`~.fetch.Fetcher` under the URL
policy. The provider's own endpoint is configured by the user and trusted
(a SearXNG instance often runs on localhost); the result URLs are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

import httpx

from .safety import WebError

__all__ = [
    "BraveSearch",
    "DuckDuckGoSearch",
    "SearchProvider",
    "SearchResult",
    "SearxngSearch",
    "TavilySearch",
    "make_provider",
]


@dataclass(frozen=True, slots=True)
class SearchResult:
    title: str
    url: str
    snippet: str = ""


@runtime_checkable
class SearchProvider(Protocol):
    name: str

    async def search(self, query: str, limit: int = 5) -> list[SearchResult]: ...


def _web_only(results: list[SearchResult], limit: int) -> list[SearchResult]:
    seen: set[str] = set()
    out: list[SearchResult] = []
    for r in results:
        if r.url.startswith(("http://", "https://")) and r.url not in seen:
            seen.add(r.url)
            out.append(r)
    return out[:limit]


class _HttpProvider:
    name = "?"

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client

    async def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = await self._client.request(method, self.base_url + path, **kw)
        except httpx.TimeoutException:
            raise WebError(f"the {self.name} search timed out") from None
        except httpx.HTTPError as e:
            raise WebError(f"the {self.name} search failed: {e}",
                           "check the search provider's address (--search)") from None
        if r.status_code in (401, 403):
            raise WebError(f"the {self.name} search refused the request "
                           f"(HTTP {r.status_code})", "check its API key")
        if r.status_code == 429:
            raise WebError(f"the {self.name} search is rate limited (HTTP 429)",
                           "wait a moment, or use another provider")
        if r.status_code >= 400:
            raise WebError(f"the {self.name} search answered HTTP {r.status_code}")
        return r

    def _json(self, r: httpx.Response) -> Any:
        try:
            return r.json()
        except ValueError:
            raise WebError(f"the {self.name} search did not answer JSON",
                           "for SearXNG, enable the json format in settings.yml") from None


class SearxngSearch(_HttpProvider):
    """A SearXNG instance's JSON API (``search.formats: [html, json]`` in its settings)."""

    name = "searxng"

    async def search(self, query: str, limit: int = 5) -> list[SearchResult]:
        r = await self._request("GET", "/search", params={"q": query, "format": "json"})
        data = self._json(r)
        return _web_only([SearchResult(str(x.get("title", "")), str(x.get("url", "")),
                                       str(x.get("content", "")))
                          for x in data.get("results", [])], limit)


class DuckDuckGoSearch(_HttpProvider):
    """DuckDuckGo's HTML endpoint: no key, results parsed from the page."""

    name = "duckduckgo"

    def __init__(self, client: httpx.AsyncClient,
                 base_url: str = "https://html.duckduckgo.com") -> None:
        super().__init__(base_url, client)

    async def search(self, query: str, limit: int = 5) -> list[SearchResult]:
        r = await self._request("POST", "/html/", data={"q": query},
                                headers={"User-Agent": "Mozilla/5.0 (qwenapp)"})
        return _web_only(parse_duckduckgo(r.text), limit)


def _ddg_target(href: str) -> str:
    """DuckDuckGo wraps results as ``//duckduckgo.com/l/?uddg=<url>``: unwrap it."""
    parts = urlsplit(href)
    if parts.path.startswith("/l/"):
        target = parse_qs(parts.query).get("uddg")
        if target:
            return target[0]
    return href


def parse_duckduckgo(markup: str) -> list[SearchResult]:
    import lxml.html

    if not markup.strip():
        return []
    tree = lxml.html.fromstring(markup)
    out: list[SearchResult] = []
    for res in tree.xpath('//div[contains(concat(" ", normalize-space(@class), " "), " result ")]'):
        links = res.xpath('.//a[contains(@class, "result__a")]')
        if not links:
            continue
        a = links[0]
        snippet = res.xpath('.//*[contains(@class, "result__snippet")]')
        out.append(SearchResult(
            title=" ".join(a.text_content().split()),
            url=_ddg_target(a.get("href", "")),
            snippet=" ".join(snippet[0].text_content().split()) if snippet else "",
        ))
    return out


class BraveSearch(_HttpProvider):
    name = "brave"

    def __init__(self, client: httpx.AsyncClient, api_key: str,
                 base_url: str = "https://api.search.brave.com") -> None:
        super().__init__(base_url, client)
        self._key = api_key

    async def search(self, query: str, limit: int = 5) -> list[SearchResult]:
        r = await self._request("GET", "/res/v1/web/search",
                                params={"q": query, "count": min(limit * 2, 20)},
                                headers={"X-Subscription-Token": self._key,
                                         "Accept": "application/json"})
        results = (self._json(r).get("web") or {}).get("results", [])
        return _web_only([SearchResult(str(x.get("title", "")), str(x.get("url", "")),
                                       str(x.get("description", ""))) for x in results], limit)


class TavilySearch(_HttpProvider):
    name = "tavily"

    def __init__(self, client: httpx.AsyncClient, api_key: str,
                 base_url: str = "https://api.tavily.com") -> None:
        super().__init__(base_url, client)
        self._key = api_key

    async def search(self, query: str, limit: int = 5) -> list[SearchResult]:
        r = await self._request("POST", "/search",
                                json={"query": query, "max_results": limit},
                                headers={"Authorization": f"Bearer {self._key}"})
        results = self._json(r).get("results", [])
        return _web_only([SearchResult(str(x.get("title", "")), str(x.get("url", "")),
                                       str(x.get("content", ""))) for x in results], limit)


PROVIDERS = ("searxng", "duckduckgo", "brave", "tavily")


def make_provider(spec: str, client: httpx.AsyncClient,
                  env: Mapping[str, str]) -> SearchProvider:
    """``NAME`` or ``NAME:BASE_URL`` (``searxng:http://localhost:8888``).

    Keys come from ``BRAVE_API_KEY`` / ``TAVILY_API_KEY`` in ``env`` (read at the edge).
    """
    name, _, base = spec.partition(":")
    name = name.strip().lower()
    base = base.strip()
    if name == "searxng":
        if not base:
            raise WebError("the SearXNG provider needs its address",
                           "write --search searxng:http://localhost:8888")
        return SearxngSearch(base, client)
    if name in ("duckduckgo", "ddg"):
        return DuckDuckGoSearch(client, base) if base else DuckDuckGoSearch(client)
    if name in ("brave", "tavily"):
        key = env.get(f"{name.upper()}_API_KEY", "")
        if not key:
            raise WebError(f"the {name} search needs an API key",
                           f"set {name.upper()}_API_KEY")
        cls = BraveSearch if name == "brave" else TavilySearch
        return cls(client, key, base) if base else cls(client, key)
    raise WebError(f"unknown search provider {name!r}",
                   f"choose one of: {', '.join(PROVIDERS)}")
