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
    SlideChanged,
    SlideRetry,
    SlideStarted,
    SlideWritten,
    StageReused,
    generate_deck,
)
from .render import render_pptx
from .sources import (
    Finding,
    Passage,
    findings_from_report,
    load_passages,
    load_sources,
    passages_from_documents,
    passages_from_report,
)
from .stages import DirStages, MemoryStages, Stages
from .tables import DataTable, find_tables
from .themes import THEMES, Theme, get_theme, load_template

__all__ = [
    "THEMES",
    "BuildEvent",
    "Chart",
    "Column",
    "DataTable",
    "Deck",
    "DeckBuilt",
    "DeckError",
    "DeckGenerated",
    "DeckRequest",
    "DeckResult",
    "DeckStats",
    "DirStages",
    "ExportError",
    "Exported",
    "Finding",
    "MemoryStages",
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
    "SlideChanged",
    "SlideRetry",
    "SlideStarted",
    "SlideWritten",
    "SourceRef",
    "StageReused",
    "Stages",
    "Table",
    "TemplateError",
    "Theme",
    "build_deck",
    "deck_from_passages",
    "find_tables",
    "findings_from_report",
    "generate_deck",
    "get_theme",
    "load_passages",
    "load_sources",
    "load_template",
    "make_deck",
    "passages_from_documents",
    "passages_from_report",
    "render_pptx",
    "save_deck",
]
