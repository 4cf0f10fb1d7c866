"""The typed data of a report run: request, plan, passages, drafts, report.

Every stage's result is one of these pydantic models, so it is persisted as
JSON, reloaded on resume, and handed to renderers and the slide builder
without any prose parsing. Citations are data: a :class:`Reference` number
points at a :class:`Passage` id, and that passage is the text that was
retrieved and shown to the writer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "Depth",
    "Gathered",
    "Length",
    "Passage",
    "Plan",
    "PlanSection",
    "Reference",
    "Report",
    "ReportRequest",
    "ReportSection",
    "SectionDraft",
    "SourceNote",
    "SourceRef",
    "Summary",
]

Depth = Literal["quick", "standard", "deep"]
Length = Literal["short", "medium", "long"]


class ReportRequest(BaseModel):
    """What the user asked for; saved with the report so ``--resume`` can rerun it."""

    question: str
    depth: Depth = "standard"
    length: Length = "medium"
    language: str = "auto"
    audience: str = ""
    notes: str = ""  # the user's answers to clarifying questions, or extra instructions
    docs: list[str] = Field(default_factory=list)  # absolute paths of files and folders
    urls: list[str] = Field(default_factory=list)
    web: bool = False
    search: str = "duckduckgo"  # provider spec, see qwenapp.web.make_provider
    use_library: bool = False  # search the whole library, not only --docs
    allow_uncited: bool = False
    allow_private_urls: bool = False
    allowed_hosts: list[str] = Field(default_factory=list)
    seed: int | None = 0


class PlanSection(BaseModel):
    heading: str = Field(min_length=1, max_length=120)
    questions: list[str] = Field(min_length=1, max_length=4)


class Plan(BaseModel):
    """The outline the model proposes (and the JSON schema it must follow)."""

    title: str = Field(min_length=1, max_length=160)
    sections: list[PlanSection] = Field(min_length=1, max_length=8)


class SourceRef(BaseModel):
    title: str
    locator: str  # file path or URL
    location: str  # "page 3", "slide 2", a heading path
    kind: str = ""
    origin: Literal["library", "web"] = "library"


class Passage(BaseModel):
    """A retrieved piece of text with its id: the only thing a writer may cite."""

    id: int
    text: str
    source: SourceRef


class SourceNote(BaseModel):
    """What happened to one source the user gave or a search found."""

    locator: str
    status: Literal["read", "unchanged", "skipped", "failed"]
    title: str = ""
    reason: str = ""


class Gathered(BaseModel):
    passages: list[Passage] = Field(default_factory=list)
    by_section: list[list[int]] = Field(default_factory=list)  # passage ids per plan section
    sources: list[SourceNote] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)


class SectionDraft(BaseModel):
    """One written section; ``text`` cites global passage ids as ``[n]``."""

    heading: str
    text: str
    passage_ids: list[int]  # what the writer was shown
    removed_citations: list[int] = Field(default_factory=list)
    repaired_citations: int = 0
    model_citations: int = 0  # valid [n] the model wrote itself
    attributed_citations: int = 0  # added by code to sentences that restate one passage
    finish_reason: str | None = None


class Summary(BaseModel):
    summary: str
    conclusion: str


class Reference(BaseModel):
    number: int  # the [n] in the report text
    passage_id: int
    title: str
    locator: str
    location: str


class ReportSection(BaseModel):
    heading: str
    text: str
    supported: bool = True  # False: no valid citation backs the section
    weak_sentences: int = 0  # cited sentences whose passage shares few words with them
    attributed_citations: int = 0  # citations added by code (sentence restates a passage)


class Report(BaseModel):
    id: str
    question: str
    title: str
    language: str
    summary: str
    sections: list[ReportSection]
    conclusion: str
    references: list[Reference]
    passages: list[Passage]  # every passage retrieved, cited or not
    plan: Plan
    sources: list[SourceNote] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    model: str = ""
    created_at: str = ""

    def passage(self, number: int) -> Passage | None:
        """The passage behind citation ``[number]``."""
        ref = next((r for r in self.references if r.number == number), None)
        if ref is None:
            return None
        return next((p for p in self.passages if p.id == ref.passage_id), None)
