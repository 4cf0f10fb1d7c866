"""What extraction produces: a document as located sections of text.

Every consumer (the library's chunker, the report writer's citations, the
slide builder) needs to say *where* a passage came from, so extraction keeps
a human-readable ``location`` with each section ("page 3", "slide 2",
"sheet Sales", "Intro > Background") instead of returning one flat string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InputError

__all__ = ["Document", "DocumentError", "DocumentKind", "Section"]

DocumentKind = Literal["pdf", "docx", "pptx", "xlsx", "csv", "markdown", "html", "text",
                       "image"]


class DocumentError(InputError):
    """A document cannot be read; ``message`` names the file and the reason."""


@dataclass(frozen=True, slots=True)
class Section:
    """A located piece of a document. ``table`` holds cell text when it is a table."""

    text: str
    location: str
    table: list[list[str]] | None = None


@dataclass(frozen=True, slots=True)
class Document:
    path: Path
    title: str
    kind: DocumentKind
    sha256: str
    sections: list[Section] = field(default_factory=list)
    notes: tuple[str, ...] = ()  # what was left unread and why ("2 scanned pages: OCR is off")

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)
