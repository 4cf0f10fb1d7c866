"""Documents attached to ``qwenapp chat`` (``--attach``, ``--library``, ``/attach``).

Attached files go into the document library exactly as ``qwenapp docs add``
puts them there (a file already there and unchanged is not read again), so
a later chat or report can use them too. Each turn then asks
:func:`qwenapp.chat.find_excerpts` for the passages that fit the question,
from the attached documents only, or from the whole library.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..chat import Excerpt, find_excerpts
from ..errors import InputError
from ..library import IngestOutcome, Library, LibraryDocument
from .progress import PageProgress

__all__ = ["Attachments"]

_SUPPORTED = ("attach PDF, DOCX, PPTX, XLSX, CSV, Markdown, HTML or text files, or scans and "
              "pictures of text (PNG, JPEG, WebP, TIFF)")


def _display_name(d: LibraryDocument) -> str:
    return d.title if d.path.startswith(("http://", "https://")) else Path(d.path).name


@dataclass
class Attachments:
    """What a chat answers from: the attached documents, or the whole library."""

    library: Library
    whole_library: bool = False
    names: dict[str, str] = field(default_factory=dict)  # document id -> name shown
    pages: PageProgress | None = None  # OCR of a long scan: "scan.pdf: OCR page 3 of 40"

    @property
    def active(self) -> bool:
        """Whether turns are answered from documents at all."""
        return self.whole_library or bool(self.names)

    def add(self, paths: Iterable[Path]) -> list[IngestOutcome]:
        """Add files and folders to the library and to this chat's documents.

        Returns one outcome per file: those attached, and those of a folder
        that could not be read (the rest of the folder is still attached). A
        missing path, or a named file that is unsupported or unreadable, is an
        :class:`InputError`, and then nothing of this call is attached.
        """
        paths = [Path(p).expanduser() for p in paths]
        for p in paths:
            if not p.exists():
                raise InputError(f"no such file or folder: {p}", "check the path to attach")
        try:
            return self._add(paths)
        finally:
            if self.pages is not None:
                self.pages.close()

    def _add(self, paths: list[Path]) -> list[IngestOutcome]:
        staged: dict[str, str] = {}
        outcomes: list[IngestOutcome] = []
        pages = self.pages
        for p in paths:
            if p.is_dir():
                found = 0
                for o in self.library.ingest([p], progress=pages):
                    if pages is not None:
                        pages.done(o.path)
                    if o.status == "failed":
                        outcomes.append(o)
                    elif o.status != "skipped" and o.document_id:
                        staged[o.document_id] = o.path.name
                        outcomes.append(o)
                        found += 1
                if not found:
                    raise InputError(f"no supported documents in {p}", _SUPPORTED)
                continue
            o = self.library.ingest_file(p, None if pages is None else
                                         functools.partial(pages, p.resolve()))
            if o.status == "skipped":
                raise InputError(f"cannot attach {p}: {o.reason}", _SUPPORTED)
            if o.status == "failed" or not o.document_id:
                raise InputError(f"cannot attach {p}: {o.reason}")
            staged[o.document_id] = o.path.name
            outcomes.append(o)
        self.names.update(staged)
        return outcomes

    def check(self) -> None:
        """``--library`` with nothing in the library is an error worth a hint."""
        if self.whole_library and not self.library.documents():
            raise InputError("the document library is empty, so --library has nothing to "
                             "answer from",
                             "add files with `qwenapp docs add PATH` (or pass --attach PATH)")

    def excerpts(self, question: str) -> list[Excerpt]:
        """The numbered excerpts for one turn ([] when nothing is attached)."""
        if not self.active:
            return []
        if not self.whole_library:
            return find_excerpts(self.library, question, list(self.names), self.names)
        names = {d.id: _display_name(d) for d in self.library.documents()}
        names.update(self.names)
        return find_excerpts(self.library, question, None, names)
