"""Your document library: ``/api/documents`` (upload, list, read, delete).

Uploads are checked (size while receiving, type by content: see
:mod:`.uploads`), read and cut into passages in a child process with CPU,
memory and time limits (:mod:`qwenapp.library.worker`: a hostile file costs
its own process, never the event loop), and added to the shared
library under the uploader's ownership. Extraction errors (a corrupt PDF, a
zip bomb disguised as DOCX) are 400s naming the file as the user called it.

Scans and pictures are read by OCR, which takes a second or more a page: an
upload sent with ``?progress=TOKEN`` (a token the page makes up) can be
followed at ``GET /api/documents/reading/TOKEN`` while it is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, UploadFile
from starlette.responses import Response

from ..documents import DocumentError
from ..store import new_id
from .auth import Caller
from .errors import ErrorResponse, HttpError, not_found
from .ownership import OwnedDocument
from .schemas import DocumentList, DocumentOut, ReadingProgress
from .state import State
from .uploads import clean_filename, sniff

__all__ = ["router"]

router = APIRouter(prefix="/api/documents", tags=["documents"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 415, 429)}
_CHUNK = 1 << 20
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")


def _out(d: OwnedDocument) -> DocumentOut:
    return DocumentOut(id=d.id, filename=d.filename, title=d.title, kind=d.kind, size=d.size,
                       sections=d.sections, chunks=d.chunks, added_at=d.added_at)


def too_large(limit: int) -> HttpError:
    return HttpError(413, f"the file is too large (limit {limit // (1024 * 1024)} MB)",
                     code="file_too_large")


@router.get("", response_model=DocumentList, responses=_ERRORS)
async def list_documents(state: State, who: Caller) -> DocumentList:
    """Your documents, newest first."""
    return DocumentList(documents=[_out(d) for d in state.owners.documents(who.user.id)])


@router.get("/reading/{token}", response_model=ReadingProgress, responses=_ERRORS)
async def reading_progress(state: State, who: Caller, token: str) -> ReadingProgress:
    """How far the reader is with your upload sent with ``?progress=TOKEN`` (404 when done)."""
    found = state.reading.get((who.user.id, token))
    if found is None:
        raise not_found("upload being read")
    return ReadingProgress(done=found[0], total=found[1])


@router.get("/{document_id}", response_model=DocumentOut, responses=_ERRORS)
async def read_document(state: State, who: Caller, document_id: str) -> DocumentOut:
    doc = state.owners.document(document_id, who.user.id)
    if doc is None:
        raise not_found("document")
    return _out(doc)


@router.post("", response_model=DocumentOut, status_code=201, responses=_ERRORS)
async def upload_document(state: State, who: Caller, file: UploadFile,
                          progress: str | None = None) -> DocumentOut:
    """Upload a document (multipart field ``file``); it joins your library.

    ``progress``: a token (8-64 letters, digits, ``-`` or ``_``) under which
    ``GET /api/documents/reading/{token}`` reports the OCR pages read so far.
    """
    limit = state.config.limits.upload_bytes
    filename = clean_filename(file.filename)
    state.uploads_dir.mkdir(parents=True, exist_ok=True)
    staging = state.uploads_dir / f".{new_id()}.part"
    stored: Path | None = None
    try:
        size = 0
        with staging.open("wb") as out:
            while chunk := await file.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                out.write(chunk)
        kind = sniff(staging, filename)
        stored = (state.uploads_dir / f"{new_id()}{kind.ext}").resolve()
        os.replace(staging, stored)
        limits = dataclasses.replace(state.library.limits, max_file_bytes=limit)
        key = (who.user.id, progress) if progress and _TOKEN.fullmatch(progress) else None

        def pages(done: int, total: int) -> None:  # on the reader's thread
            if key is not None:
                state.reading[key] = (done, total)

        if key is not None:
            state.reading[key] = (0, 0)
        try:
            # a bounded child process reads it (CPU, memory, time): see qwenapp.library.worker
            prepared = await state.library.worker.aprepare(stored, limits, pages)
        except DocumentError as e:
            raise HttpError(400, e.message.replace(stored.name, filename), code="unreadable",
                            hint=e.hint) from None
        finally:
            if key is not None:
                state.reading.pop(key, None)
        doc = prepared.document
        if doc.title == stored.stem:
            doc = dataclasses.replace(doc, title=Path(filename).stem or filename)
        outcome = state.library.add_prepared(dataclasses.replace(prepared, document=doc),
                                             str(stored))
        assert outcome.document_id is not None
        state.owners.claim_document(outcome.document_id, who.user.id, filename, stored.name,
                                    kind.media_type)
    except BaseException:
        staging.unlink(missing_ok=True)
        if stored is not None:
            stored.unlink(missing_ok=True)
        raise
    found = state.owners.document(outcome.document_id, who.user.id)
    assert found is not None
    return _out(found).model_copy(update={"notes": list(doc.notes)})


@router.delete("/{document_id}", status_code=204, responses=_ERRORS)
async def delete_document(state: State, who: Caller, document_id: str) -> Response:
    """Remove a document from your library (and its uploaded file)."""
    doc = state.owners.document(document_id, who.user.id)
    if doc is None:
        raise not_found("document")
    state.library.remove(doc.id)
    if doc.stored_name:
        with contextlib.suppress(OSError):
            (state.uploads_dir / doc.stored_name).unlink()
    return Response(status_code=204)
