"""Fetching one URL with limits: time, size, redirects checked hop by hop.

Redirects are never followed by the HTTP client: each ``Location`` is
checked like the first URL (:func:`~.safety.check_url`), and the request
goes to the address that passed the check, with the original host name in
the ``Host`` header and TLS SNI, so certificates are verified as usual.
One :class:`Fetcher` holds one pooled client for a whole run.
"""

from __future__ import annotations

import asyncio
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from ..documents import Document, DocumentError, Section, extract, extract_html
from ..documents.text import decode, text_sections
from .safety import Resolver, UrlPolicy, WebError, check_url, system_resolver

__all__ = ["FetchedPage", "Fetcher", "WebDocument"]

USER_AGENT = "qwenapp/0.1 (research report fetcher)"
_HTML = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class WebDocument:
    url: str
    document: Document


def _pinned(url: str, host: str, address: str) -> str:
    """``url`` with its host replaced by the checked ``address``."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class Fetcher:
    """Fetch pages under a :class:`UrlPolicy`; ``resolver`` is injectable for tests."""

    def __init__(self, policy: UrlPolicy | None = None, *, resolver: Resolver | None = None,
                 client: httpx.AsyncClient | None = None) -> None:
        self.policy = policy or UrlPolicy()
        self._resolver = resolver or system_resolver
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(self.policy.timeout, connect=self.policy.connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml,"
                     "application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.1"},
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def fetch(self, url: str) -> FetchedPage:
        """The body of ``url`` after checked redirects, within the time and size limits."""
        try:
            async with asyncio.timeout(self.policy.timeout):
                return await self._fetch(url)
        except TimeoutError:
            raise WebError(f"{url} timed out after {self.policy.timeout:g} s",
                           "the server is slow or unreachable") from None

    async def _fetch(self, url: str) -> FetchedPage:
        current = url
        for _ in range(self.policy.max_redirects + 1):
            host, port, addresses = await check_url(current, self.policy, self._resolver)
            default_port = 443 if current.startswith("https:") else 80
            host_header = host if port == default_port else f"{host}:{port}"
            if ":" in host and not host.startswith("["):
                host_header = f"[{host}]" + ("" if port == default_port else f":{port}")
            ext: dict[str, Any] = {"sni_hostname": host} if current.startswith("https:") else {}
            request = self._client.build_request(
                "GET", _pinned(current, host, addresses[0]),
                headers={"Host": host_header}, extensions=ext)
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise WebError(f"{url} timed out", "the server is slow or unreachable") from None
            except httpx.HTTPError as e:
                raise WebError(f"cannot fetch {current}: {type(e).__name__}: {e}") from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise WebError(f"{current} redirects without a Location")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise WebError(f"{current} answered HTTP {response.status_code}")
                body = await self._read_capped(response, current)
                ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
                return FetchedPage(url, current, response.status_code, ctype, body)
            finally:
                await response.aclose()
        raise WebError(f"{url}: more than {self.policy.max_redirects} redirects")

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise WebError(f"{url} is too large ({int(declared) // 1024} KB, "
                           f"limit {limit // 1024} KB)")
        buf = bytearray()
        async for chunk in response.aiter_bytes():
            buf += chunk
            if len(buf) > limit:
                raise WebError(f"{url} is too large (over {limit // 1024} KB)")
        return bytes(buf)

    async def fetch_document(self, url: str) -> WebDocument:
        """A fetched page as a located :class:`Document`: HTML, PDF or plain text."""
        page = await self.fetch(url)
        return WebDocument(url=page.final_url, document=to_document(page))


def to_document(page: FetchedPage) -> Document:
    ctype = page.content_type
    body = page.body
    if ctype in _HTML or (not ctype and body.lstrip()[:15].lower().startswith((b"<!doctype html",
                                                                             b"<html"))):
        try:
            return extract_html(body, page.final_url)
        except DocumentError as e:
            raise WebError(e.message) from None
    if ctype == "application/pdf" or body[:5] == b"%PDF-":
        with tempfile.TemporaryDirectory(prefix="qwenapp-fetch-") as tmp:
            path = Path(tmp) / "page.pdf"
            path.write_bytes(body)
            try:
                doc = extract(path)
            except DocumentError as e:
                raise WebError(f"{page.final_url}: {e.message.split(': ', 1)[-1]}") from None
            title = doc.title if doc.title != "page" else page.final_url
            return Document(Path(page.final_url), title, "pdf", doc.sha256, doc.sections)
    if ctype in ("text/plain", "text/markdown"):
        import hashlib

        text = decode(body, page.final_url)
        sections: list[Section] = text_sections(text)
        if not sections:
            raise WebError(f"{page.final_url}: the page is empty")
        return Document(Path(page.final_url), page.final_url, "text",
                        hashlib.sha256(body).hexdigest(), sections)
    raise WebError(f"{page.final_url} is not a web page (content type {ctype or 'unknown'})",
                   "give an HTML page, a PDF or plain text")
