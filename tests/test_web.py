"""URL fetching under the SSRF policy, and every search provider against a local stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from fixtures.samples import write_pdf
from fixtures.standin import StandIn, standin
from qwenapp.web import (
    BlockedUrlError,
    BraveSearch,
    DuckDuckGoSearch,
    Fetcher,
    SearchProvider,
    SearchResult,
    SearxngSearch,
    TavilySearch,
    UrlPolicy,
    WebError,
    check_url,
    is_public_address,
    make_provider,
)

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    pdf = write_pdf(tmp_path_factory.mktemp("pdf") / "d.pdf", ["A PDF page about Qwen."], "PDF T")
    with standin(pdf.read_bytes()) as s:
        yield s


def _fetcher(**kw: object) -> Fetcher:
    policy = UrlPolicy(allowed_hosts=frozenset({"127.0.0.1"}), **kw)  # type: ignore[arg-type]
    return Fetcher(policy)


def _with(fetcher: Fetcher, fn: Callable[[Fetcher], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await fn(fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(main())


# --- the address policy -----------------------------------------------------------------

@pytest.mark.parametrize("addr", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1",
    "2002:7f00:0001::", "224.0.0.1", "255.255.255.255", "::",
])
def test_non_public_addresses(addr: str) -> None:
    assert not is_public_address(addr)


@pytest.mark.parametrize("addr", ["93.184.216.34", "2606:2800:220:1::", "::ffff:8.8.8.8",
                                  "1.1.1.1"])
def test_public_addresses(addr: str) -> None:
    assert is_public_address(addr)


def _resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/x", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/",
    "http://rebind.example/", "http://[::ffff:a9fe:a9fe]/", "http://0x7f.1/",
])
def test_check_url_refuses(url: str) -> None:
    resolve = _resolver({"rebind.example": ["8.8.8.8", "10.0.0.5"], "0x7f.1": ["127.0.0.1"]})
    with pytest.raises(BlockedUrlError) as ei:
        run(check_url(url, UrlPolicy(), resolve))
    assert "refusing to fetch" in ei.value.message and "--allow-private-urls" in ei.value.hint


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/", "gopher://x", "http://",
                                 "http://u:p@example.org/"])
def test_check_url_rejects_other_forms(url: str) -> None:
    with pytest.raises(WebError):
        run(check_url(url, UrlPolicy(), _resolver({"example.org": ["93.184.216.34"]})))


def test_a_host_label_over_63_characters_is_a_plain_error() -> None:
    # the system resolver's IDNA codec raised UnicodeError (a 500 from fetch_url's caller)
    with pytest.raises(WebError, match="not a valid host name"):
        run(check_url("http://" + "a" * 70 + ".example.org/", UrlPolicy()))


def test_check_url_explicit_allowance() -> None:
    resolve = _resolver({"intranet": ["10.0.0.7"]})
    assert run(check_url("http://intranet/", UrlPolicy(allow_private=True), resolve))[2] == [
        "10.0.0.7"]
    pol = UrlPolicy(allowed_hosts=frozenset({"intranet"}))
    assert run(check_url("http://intranet/", pol, resolve))[0] == "intranet"
    with pytest.raises(BlockedUrlError):
        run(check_url("http://other/", pol, _resolver({"other": ["10.0.0.8"]})))


# --- fetching ---------------------------------------------------------------------------

def test_fetch_html_extracts_main_content(site: StandIn) -> None:
    base = site.base
    doc = _with(_fetcher(), lambda f: f.fetch_document(f"{base}/pages/qwen_blog.html"))
    assert doc.url == f"{base}/pages/qwen_blog.html"
    assert doc.document.title.startswith("Why developers pick Qwen")
    text = doc.document.text
    assert "Apache 2.0 license" in text and "All rights reserved" not in text
    assert "window.analytics" not in text


def test_fetch_refused_without_allowance(site: StandIn) -> None:
    base = site.base
    with pytest.raises(BlockedUrlError):
        _with(Fetcher(), lambda f: f.fetch(f"{base}/pages/qwen_blog.html"))


@pytest.mark.parametrize("target", [
    "http://localhost:{port}/pages/qwen_blog.html",
    "http://[::ffff:127.0.0.1]:{port}/pages/qwen_blog.html",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "file:///etc/passwd",
])
def test_redirects_into_private_space_are_refused(site: StandIn, target: str) -> None:
    base = site.base
    port = base.rsplit(":", 1)[1]
    url = f"{base}/redirect?to=" + httpx.QueryParams({"x": target.format(port=port)})["x"]
    with pytest.raises(WebError) as ei:
        _with(_fetcher(), lambda f: f.fetch(url))
    assert "\n" not in str(ei.value)


def test_redirect_followed_and_checked(site: StandIn) -> None:
    base = site.base
    page = _with(_fetcher(), lambda f: f.fetch(f"{base}/redirect?to=/pages/local_news.html"))
    assert page.final_url == f"{base}/pages/local_news.html"
    with pytest.raises(WebError, match="redirects"):
        _with(_fetcher(), lambda f: f.fetch(f"{base}/loop"))


def test_timeout(site: StandIn) -> None:
    base = site.base
    with pytest.raises(WebError, match="timed out"):
        _with(_fetcher(timeout=0.5), lambda f: f.fetch(f"{base}/slow?s=2"))


def test_not_html(site: StandIn) -> None:
    base = site.base
    with pytest.raises(WebError, match=r"not a web page \(content type image/png"):
        _with(_fetcher(), lambda f: f.fetch_document(f"{base}/image.png"))


def test_too_large(site: StandIn) -> None:
    base = site.base
    with pytest.raises(WebError, match="too large"):
        _with(_fetcher(max_bytes=100_000), lambda f: f.fetch(f"{base}/big"))


def test_pdf_and_text_pages(site: StandIn) -> None:
    base = site.base
    pdf = _with(_fetcher(), lambda f: f.fetch_document(f"{base}/doc.pdf"))
    assert pdf.document.kind == "pdf" and pdf.document.sections[0].location == "page 1"
    txt = _with(_fetcher(), lambda f: f.fetch_document(f"{base}/plain.txt"))
    assert "Qwen adoption" in txt.document.text


def test_http_error_and_unreachable(site: StandIn) -> None:
    base = site.base
    with pytest.raises(WebError, match="HTTP 404"):
        _with(_fetcher(), lambda f: f.fetch(f"{base}/pages/missing.html"))
    with pytest.raises(WebError, match="cannot fetch"):
        _with(_fetcher(), lambda f: f.fetch("http://127.0.0.1:9/"))


# --- search providers -------------------------------------------------------------------

def _search(make: Callable[[httpx.AsyncClient], SearchProvider],
            query: str = "qwen adoption") -> list[SearchResult]:
    async def main() -> list[SearchResult]:
        async with httpx.AsyncClient(timeout=5) as client:
            return await make(client).search(query, 5)

    return asyncio.run(main())


def test_searxng(site: StandIn) -> None:
    base = site.base
    results = _search(lambda c: SearxngSearch(base, c))
    assert [r.url for r in results] == [f"{base}/pages/qwen_blog.html",
                                        f"{base}/pages/local_news.html"]


def test_duckduckgo_html(site: StandIn) -> None:
    base = site.base
    results = _search(lambda c: DuckDuckGoSearch(c, base))
    assert [r.url for r in results] == [f"{base}/pages/qwen_blog.html",
                                        f"{base}/pages/local_news.html"]
    assert "Apache 2.0" in results[0].snippet
    assert results[0].title == "Why developers pick Qwen"


def test_keyed_providers(site: StandIn) -> None:
    base = site.base
    assert len(_search(lambda c: BraveSearch(c, "brave-key", base))) == 2
    assert len(_search(lambda c: TavilySearch(c, "tavily-key", base))) == 2
    with pytest.raises(WebError, match="API key"):
        _search(lambda c: BraveSearch(c, "wrong", base))


def test_make_provider() -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as c:
            assert make_provider("searxng:http://127.0.0.1:1", c, {}).name == "searxng"
            assert make_provider("duckduckgo", c, {}).name == "duckduckgo"
            assert make_provider("tavily", c, {"TAVILY_API_KEY": "k"}).name == "tavily"
            for bad, msg in [("brave", "API key"), ("searxng", "address"), ("bing", "unknown")]:
                with pytest.raises(WebError, match=msg):
                    make_provider(bad, c, {})

    asyncio.run(main())


def test_search_provider_down() -> None:
    with pytest.raises(WebError, match="searxng search failed"):
        _search(lambda c: SearxngSearch("http://127.0.0.1:9", c))


def test_standin_pages_are_recorded() -> None:
    assert (Path(__file__).parent / "fixtures" / "web" / "qwen_blog.html").is_file()
