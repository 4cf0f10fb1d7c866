"""Fetch a URL and search the web, through the fetcher and providers reports use.

The fetcher is the SSRF-safe one of :mod:`qwenapp.web.fetch`: every address
(redirects included) is checked, private and loopback hosts are refused
unless the policy names them, and time and size are capped. A page becomes
its readable text (HTML main text, PDF text), cut to ``chars``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models.events import ToolSpec
from ..web.fetch import Fetcher
from ..web.search import SearchProvider
from .base import FunctionTool, ToolFailure

__all__ = ["fetch_tool", "search_tool"]


def fetch_tool(fetcher: Fetcher, *, chars: int = 6000) -> FunctionTool:
    async def fetch_url(args: Mapping[str, Any]) -> str:
        url = str(args.get("url") or "").strip()
        if not url.startswith(("http://", "https://")):
            raise ToolFailure(f"{url!r} is not an http(s) URL")
        page = await fetcher.fetch_document(url)
        text = page.document.text.strip()
        if not text:
            return f"{page.url} has no readable text"
        more = f"\n[cut at {chars:,} of {len(text):,} characters]" if len(text) > chars else ""
        return f"{page.document.title} ({page.url})\n\n{text[:chars]}{more}"

    return FunctionTool(ToolSpec(
        "fetch_url", "Read a web page or PDF at a public http(s) URL and return its text.",
        {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]}),
        fetch_url, timeout=fetcher.policy.timeout + 5)


def search_tool(provider: SearchProvider) -> FunctionTool:
    async def web_search(args: Mapping[str, Any]) -> str:
        query = str(args.get("query") or "").strip()
        if not query:
            raise ToolFailure("the query is empty")
        results = await provider.search(query, limit=5)
        if not results:
            return f"the web search ({provider.name}) found nothing for {query!r}"
        return "\n\n".join(f"[{i}] {r.title}\n{r.url}\n{r.snippet}".rstrip()
                           for i, r in enumerate(results, 1))

    return FunctionTool(ToolSpec(
        "web_search", "Search the web; returns titles, URLs and snippets (read a page with "
        "fetch_url).", {"type": "object", "properties": {"query": {"type": "string"}},
                        "required": ["query"]}), web_search, timeout=30.0)
