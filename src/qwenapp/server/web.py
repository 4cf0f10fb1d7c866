"""The web page: one HTML shell and its static assets, shipped inside the package.

No Node, no CDN: ``static/`` holds plain JS and CSS plus vendored,
pre-built libraries (see ``static/vendor/README.md``). The shell is served
at ``/`` (and at the page routes, so a reload keeps the place).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

__all__ = ["STATIC_DIR", "router"]

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def _shell() -> Response:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/")
async def index() -> Response:
    return _shell()


@router.get("/library")
async def library_page() -> Response:
    return _shell()


@router.get("/settings")
async def settings_page() -> Response:
    return _shell()


@router.get("/c/{conversation_id}")
async def conversation_page(conversation_id: str) -> Response:
    return _shell()
