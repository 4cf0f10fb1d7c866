"""The documents a job may read: the caller's own, by id, checked at creation and at run."""

from __future__ import annotations

from .errors import InvalidJob, NotFound
from .kinds import JobServices, OwnedFile

__all__ = ["MAX_JOB_DOCUMENTS", "owned_documents"]

MAX_JOB_DOCUMENTS = 50


def owned_documents(ids: list[str] | None, user_id: str,
                    services: JobServices) -> list[OwnedFile]:
    """The documents ``ids`` names, all owned by ``user_id`` (``None``: all of theirs)."""
    if ids is None:
        return list(services.owners.documents(user_id)[:MAX_JOB_DOCUMENTS])
    if len(ids) > MAX_JOB_DOCUMENTS:
        raise InvalidJob(f"too many documents (at most {MAX_JOB_DOCUMENTS})",
                         code="too_many_documents", param="document_ids")
    out = []
    for doc_id in dict.fromkeys(ids):
        doc = services.owners.document(doc_id, user_id)
        if doc is None:
            raise NotFound("document")
        out.append(doc)
    return out
