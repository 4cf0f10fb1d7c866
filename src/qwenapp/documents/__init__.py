"""Document extraction: files in, located sections of text out.

``extract(path)`` reads PDF, DOCX, PPTX, XLSX/CSV, Markdown, HTML and plain
text into a :class:`Document` whose sections carry locations ("page 3",
"slide 2", "sheet Sales", a heading path), so every later citation can say
where its words came from. Nothing here touches the network.
"""

from .extract import EXTENSIONS, extract, extract_html, kind_of
from .limits import DEFAULT_LIMITS, Limits
from .model import Document, DocumentError, DocumentKind, Section

__all__ = [
    "DEFAULT_LIMITS",
    "EXTENSIONS",
    "Document",
    "DocumentError",
    "DocumentKind",
    "Limits",
    "Section",
    "extract",
    "extract_html",
    "kind_of",
]
