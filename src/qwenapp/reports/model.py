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
    "DraftSentence",
    "Gathered",
    "Length",
    "Passage",
    "Plan",
    "PlanSection",
    "Reference",
    "Report",
    "ReportQuality",
    "ReportRequest",
    "ReportSection",
    "ReportSentence",
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


Origin = Literal["model", "extract"]


class DraftSentence(BaseModel):
    """One sentence of a section, summary or conclusion, with its provenance.

    ``passage_ids`` are the passages that support it (global ids), ``support`` the
    verifier's score against them, ``fact`` the source sentence it was written from.
    ``origin`` is "model" (the model's rewording, verified) or "extract" (the source's
    own sentence, quoted: the fallback).
    """

    text: str
    passage_ids: list[int]
    support: float = 0.0
    origin: Origin = "model"
    fact: str = ""


class SectionDraft(BaseModel):
    """One written section; ``text`` cites global passage ids as ``[n]``."""

    heading: str
    text: str
    passage_ids: list[int]  # what the section could draw on
    sentences: list[DraftSentence] = Field(default_factory=list)
    facts: int = 0  # facts chosen from the passages
    fallback: bool = False  # the model's text failed the checks: quoted extracts instead
    dropped: int = 0  # model sentences removed (unsupported, degenerate, duplicate)
    problems: list[str] = Field(default_factory=list)  # why, in words
    removed_citations: list[int] = Field(default_factory=list)
    repaired_citations: int = 0
    model_citations: int = 0  # valid [n] the model wrote itself
    attributed_citations: int = 0  # added by code to sentences that restate one passage
    finish_reason: str | None = None


class Summary(BaseModel):
    summary: str
    conclusion: str
    summary_sentences: list[DraftSentence] = Field(default_factory=list)
    conclusion_sentences: list[DraftSentence] = Field(default_factory=list)
    fallback: list[str] = Field(default_factory=list)  # "summary", "conclusion": extracts
    dropped: int = 0
    # why the model's sentences for each part were rejected ({"summary": ["2× …"]})
    problems: dict[str, list[str]] = Field(default_factory=dict)


class Reference(BaseModel):
    number: int  # the [n] in the report text
    passage_id: int
    title: str
    locator: str
    location: str


class ReportSentence(BaseModel):
    """A sentence of the finished report: its text, the reference numbers it shows, the
    passages behind them and the verifier's support score (sentence-level provenance)."""

    text: str
    refs: list[int] = Field(default_factory=list)
    passage_ids: list[int] = Field(default_factory=list)
    support: float = 0.0
    origin: Origin = "model"
    fact: str = ""


class ReportSection(BaseModel):
    heading: str
    text: str
    supported: bool = True  # False: no valid citation backs the section
    weak_sentences: int = 0  # cited sentences whose passage shares few words with them
    attributed_citations: int = 0  # citations added by code (sentence restates a passage)
    sentences: list[ReportSentence] = Field(default_factory=list)
    fallback: bool = False  # quoted extracts: the model's draft failed the checks
    thin: bool = False  # fewer than two sentences, or no source covers it
    dropped: int = 0


class ReportQuality(BaseModel):
    """What the checks did, for the run's output and the benchmark."""

    sentences: int = 0
    supported: int = 0  # sentences the verifier accepts against their cited passages
    extracts: int = 0  # quoted source sentences (fallbacks)
    dropped: int = 0  # model sentences removed before the report was written
    fallback_sections: list[str] = Field(default_factory=list)
    thin_sections: list[str] = Field(default_factory=list)


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
    summary_sentences: list[ReportSentence] = Field(default_factory=list)
    conclusion_sentences: list[ReportSentence] = Field(default_factory=list)
    quality: ReportQuality = Field(default_factory=ReportQuality)

    def passage(self, number: int) -> Passage | None:
        """The passage behind citation ``[number]``."""
        ref = next((r for r in self.references if r.number == number), None)
        if ref is None:
            return None
        return next((p for p in self.passages if p.id == ref.passage_id), None)
