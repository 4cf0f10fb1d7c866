"""Slide decks: a topic, documents or a report in; an editable .pptx out.

Typical use::

    from qwenapp.slides import DeckRequest, get_theme, make_deck

    result = await make_deck(backend, DeckRequest("Why Qwen leads", slides=8),
                             Path("deck.pptx"), theme=get_theme("light"))
    result.deck      # the structure (pydantic), result.path  # the file

Stages: :mod:`.pipeline` (model → validated :class:`Deck`), :mod:`.layout`
(measured geometry), :mod:`.render` (pure Deck → .pptx bytes), :mod:`.export`
(LibreOffice → PDF → PNG), :mod:`.build` (the whole job, with progress events).
"""

from .build import (
    BuildEvent,
    DeckBuilt,
    DeckResult,
    Exported,
    Rendered,
    Rendering,
    build_deck,
    deck_from_passages,
    make_deck,
    save_deck,
)
from .deck import Chart, Column, Deck, Series, Slide, SourceRef, Table
from .errors import DeckError, ExportError, TemplateError
from .pipeline import (
    DeckGenerated,
    DeckRequest,
    DeckStats,
    Note,
    OutlineReady,
    OutlineRetry,
    OutlineStarted,
    Progress,
    SlideRetry,
    SlideStarted,
    SlideWritten,
    generate_deck,
)
from .render import render_pptx
from .sources import Passage, load_passages, passages_from_documents, passages_from_report
from .themes import THEMES, Theme, get_theme, load_template

__all__ = [
    "THEMES",
    "BuildEvent",
    "Chart",
    "Column",
    "Deck",
    "DeckBuilt",
    "DeckError",
    "DeckGenerated",
    "DeckRequest",
    "DeckResult",
    "DeckStats",
    "ExportError",
    "Exported",
    "Note",
    "OutlineReady",
    "OutlineRetry",
    "OutlineStarted",
    "Passage",
    "Progress",
    "Rendered",
    "Rendering",
    "Series",
    "Slide",
    "SlideRetry",
    "SlideStarted",
    "SlideWritten",
    "SourceRef",
    "Table",
    "TemplateError",
    "Theme",
    "build_deck",
    "deck_from_passages",
    "generate_deck",
    "get_theme",
    "load_passages",
    "load_template",
    "make_deck",
    "passages_from_documents",
    "passages_from_report",
    "render_pptx",
    "save_deck",
]
