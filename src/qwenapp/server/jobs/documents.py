"""The documents a job may read: the caller's own, by id, checked at creation and at run."""

from __future__ import annotations

from ..errors import HttpError, not_found
from ..ownership import OwnedDocument
from .kinds import JobServices

__all__ = ["owned_documents"]

MAX_JOB_DOCUMENTS = 50


def owned_documents(ids: list[str] | None, user_id: str,
                    services: JobServices) -> list[OwnedDocument]:
    """The documents ``ids`` names, all owned by ``user_id`` (``None``: all of theirs)."""
    if ids is None:
        return services.owners.documents(user_id)[:MAX_JOB_DOCUMENTS]
    if len(ids) > MAX_JOB_DOCUMENTS:
        raise HttpError(400, f"too many documents (at most {MAX_JOB_DOCUMENTS})",
                        code="too_many_documents", param="document_ids")
    out = []
    for doc_id in dict.fromkeys(ids):
        doc = services.owners.document(doc_id, user_id)
        if doc is None:
            raise not_found("document")
        out.append(doc)
    return out
