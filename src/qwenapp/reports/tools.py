"""What a report run reads with, set up and torn down in one place.

``qwenapp report`` and the server's report jobs both need the library plus,
when the request reads the web, a fetcher under the request's URL policy, a
throwaway in-memory index for fetched pages and a search provider; and the
same run settings (how many sections at once, how long a model call may
take). :func:`source_tools` opens and closes the first; :func:`run_config`
derives the second.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path

from ..library import Embedder, Library
from ..models.base import Backend, job_parallel
from ..settings import Settings
from .gather import SourceTools
from .model import ReportRequest
from .runner import RunConfig

__all__ = ["run_config", "source_tools"]


@contextlib.asynccontextmanager
async def source_tools(library: Library, request: ReportRequest, *,
                       search_env: Mapping[str, str], url_timeout: float = 30.0,
                       embedder: Embedder | None = None,
                       page_progress: Callable[[Path, int, int], None] | None = None
                       ) -> AsyncIterator[SourceTools]:
    """The tools ``request`` needs: the web ones only when it reads URLs or searches.

    ``page_progress(path, done, total)`` hears the pages OCR reads in a scan of ``--docs``.
    """
    if not (request.urls or request.web):
        yield SourceTools(library=library, embedder=embedder, page_progress=page_progress)
        return
    import httpx

    from ..store import open_db
    from ..web import Fetcher, UrlPolicy, make_provider

    web_conn = open_db(Path(":memory:"))
    fetcher = Fetcher(UrlPolicy(allow_private=request.allow_private_urls,
                                allowed_hosts=frozenset(h.lower() for h in request.allowed_hosts),
                                timeout=url_timeout))
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0)) if request.web \
        else None
    try:
        search = make_provider(request.search, client, search_env) if client else None
        yield SourceTools(library=library, web_index=Library(web_conn), fetcher=fetcher,
                          search=search, embedder=embedder, page_progress=page_progress)
    finally:
        await fetcher.aclose()
        if client is not None:
            await client.aclose()
        web_conn.close()


def run_config(backend: Backend, settings: Settings) -> RunConfig:
    """Sections ``job_parallel`` at a time; a model call may take twice the request
    timeout, at least 20 minutes (a long prompt on two cores is slow, not stuck)."""
    return RunConfig(parallel=job_parallel(backend, settings.job_parallel, settings.parallel),
                     model_timeout=max(settings.request_timeout, 600.0) * 2)
