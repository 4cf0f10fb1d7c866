"""Stage 3, write: facts first, one short model call per section, then the frame.

For each section code picks the facts (:mod:`.facts`), the model rewords a
short numbered list of them, and :mod:`.compose` keeps only sentences that
pass the degeneracy screens and the support verifier, each cited by code
from the fact it came from. A whole answer that is degenerate (marker runs,
loops, scaffold, JSON) is asked for once more; if the second is no better,
or none of its sentences survives, the section *falls back* to its facts,
quoted and cited, and says so. The summary and the conclusion are built the
same way from the sections' own verified sentences, so they can only
restate what the sections say, with the sections' citations; a sentence of
theirs that repeats half of a finding's wording is not a restatement, and
when none is left the part is left out rather than quote the sections.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from ..models.base import Backend, complete
from ..models.events import GenerateOptions, Message
from ..models.profile import strip_think
from .compose import (
    Point,
    Realised,
    cited_text,
    compare_rows,
    extract_sentences,
    join_rows,
    rank_row,
    realise,
    row_dump,
)
from .degenerate import output_problems
from .facts import Fact, select_facts
from .language import label
from .model import (
    DraftSentence,
    Length,
    Passage,
    PlanSection,
    ReportRequest,
    SectionDraft,
    Summary,
)
from .prompts import frame_messages, section_messages, uncited_messages
from .sentences import stem_terms

__all__ = ["FACTS", "LENGTHS", "clean_model_text", "drop_cut_sentence", "write_frame",
           "write_section"]

# (sentences per section, max_tokens per section): the facts a section gets, and the cap
LENGTHS: dict[Length, tuple[int, int]] = {"short": (3, 200), "medium": (5, 340),
                                          "long": (9, 600)}
FACTS = {k: v[0] for k, v in LENGTHS.items()}
_TOKENS_PER_SENTENCE = 60  # a reworded fact; the cap is this times the facts, plus a margin
_FRAME_POINTS = 8  # findings shown to the summary and conclusion writer
_FRAME_SENTENCES = {"summary": 3, "conclusion": 2}  # sentences each may write



def _options(req: ReportRequest, max_tokens: int, attempt: int) -> GenerateOptions:
    # Mild anti-repetition: the model is meant to copy names and numbers from its facts,
    # so the penalties only break loops (DRY) rather than push it off the facts' words.
    return GenerateOptions(max_tokens=max_tokens, temperature=0.2 + 0.3 * attempt,
                           seed=None if req.seed is None else req.seed + attempt,
                           think=False, repeat_penalty=1.05, dry_multiplier=0.4,
                           stop=("\n\n\n",))


def clean_model_text(text: str, heading: str = "", *, truncated: bool = False) -> str:
    """Free model prose made printable (only for uncited sections): no reasoning, no
    heading, no half sentence."""
    text = strip_think(text).strip()
    lines = [ln for ln in text.splitlines()]
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")
                     or (heading and lines[0].strip().strip("*:# ").lower()
                         == heading.strip().lower())):
        lines.pop(0)
    text = "\n".join(ln.lstrip("# ") if ln.lstrip().startswith("#") else ln for ln in lines)
    if truncated:
        text = drop_cut_sentence(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_ITEM = re.compile(r"\s*(?:[-*•]\s*)?(?:\*\*)?\(?\d{1,2}[.)、:：]\s*")
_STOP = re.compile(r"[.!?][\"”’')\]]*(?=\s|$)|[。！？][”」』）]*")


def drop_cut_sentence(text: str) -> str:
    """``text`` without the sentence the token limit cut in half.

    Only the last line can be cut (every earlier line was ended by the model), so it is
    kept up to its last full stop, or dropped when it has none: a numbered answer's items
    need no stop of their own, and a one-line answer cut before its first stop is all
    half sentence. (It used to cut at the answer's last stop only when that lay past a
    third of it, so "1. <a 300-character fact cut at 200>" reached the report whole.)"""
    text = text.replace("\ufffd", "").rstrip()
    head, _, last = text.rpartition("\n")
    number = _ITEM.match(last)  # "3. " is a list number, not a stop
    ends = list(_STOP.finditer(last, number.end() if number else 0))
    kept = last[: ends[-1].end()] if ends else ""
    return f"{head}\n{kept}".strip() if head else kept.strip()


async def _attempts(backend: Backend, req: ReportRequest, messages: list[Message],
                    points: Sequence[Point],
                    *, question: str, lang: str, max_tokens: int, problems: list[str],
                    need: int | None = None, frame: bool = False) -> Realised | None:
    """Ask (at most twice) until enough sentences pass; None: fall back to extracts.

    ``frame``: a summary or conclusion, whose sentences may join two points and are
    never replaced by a point's own text (that would copy a section word for word)."""
    # one verified sentence is enough to keep an answer that is not degenerate: its other
    # sentences are replaced by their facts, quoted (asking again costs a call)
    need = need or 1
    # a frame gets one try: a writer that copied the findings copies them again (over
    # eight bench reports the 0.5B had 15 of 16 summaries and conclusions rejected after
    # two tries each, about a quarter of the tokens it generated)
    for attempt in range(1 if frame else 2):
        result = await complete(backend, messages, _options(req, max_tokens, attempt))
        bad = output_problems(strip_think(result.text))
        if bad:
            problems.extend(bad)
            continue
        text = result.text.replace("\ufffd", "")
        if result.finish_reason == "length":  # cut at the token limit: drop the half sentence
            text = drop_cut_sentence(strip_think(text))
        realised = realise(text, points, question=question, lang=lang,
                           replace_failed=not frame, combine=frame, asked=req.question)
        problems.extend(f"{n}× {why}" for why, n in realised.problems.items())
        if realised.model_sentences >= need:
            return realised
        problems.append(f"only {realised.model_sentences} of {len(points)} sentences passed "
                        "the checks")
        # a clean answer none of whose sentences passes is not asked for again: the next,
        # hotter, says the same (three such retries over two bench reports, none paid)
        break
    return None


async def write_section(backend: Backend, req: ReportRequest, lang: str, section: PlanSection,
                        passages: Sequence[Passage], *, allow_uncited: bool = False,
                        pool: Sequence[Passage] = (), facts: Sequence[Fact] | None = None
                        ) -> SectionDraft:
    """One section from the facts in its passages (see the module docstring); ``pool``:
    every passage of the report, for term statistics; ``facts``: chosen already (by
    :func:`~.facts.plan_facts`, which keeps sections from repeating each other)."""
    ids = [p.id for p in passages]
    if not passages:
        if not allow_uncited:
            return SectionDraft(heading=section.heading, text=label(lang, "no_coverage"),
                                passage_ids=[])
        result = await complete(backend, uncited_messages(req, lang, section, FACTS[req.length]),
                                _options(req, LENGTHS[req.length][1], 0))
        text = clean_model_text(result.text, section.heading,
                                truncated=result.finish_reason == "length")
        return SectionDraft(heading=section.heading, text=text or label(lang, "empty"),
                            passage_ids=[], finish_reason=result.finish_reason)
    by_id = {p.id: p for p in passages}
    if facts is None:
        facts = select_facts([section.heading, *section.questions], req.question, passages,
                             FACTS[req.length], pool=pool)
    if not facts:
        return SectionDraft(heading=section.heading, text=label(lang, "no_coverage"),
                            passage_ids=ids, problems=["no passage answers its questions"])
    points = [Point(f.text, (f.passage_id,), (by_id[f.passage_id].text,)) for f in facts
              if not f.row]
    # a table row is shown as code words it ("The global table gives, for Year 1950: …"):
    # a small model rewording figures reads "Total 1617" as "increased by 1617"
    rows = extract_sentences([Point(f.text, (f.passage_id,), (by_id[f.passage_id].text,),
                                    table=True) for f in facts if f.row], lang)
    change = compare_rows(rows, lang)
    ranked = rank_row(rows, req.question, lang)
    rows = join_rows(rows) + [x for x in (change, ranked) if x is not None]
    problems: list[str] = []
    realised = None
    if points:
        max_tokens = min(LENGTHS[req.length][1], _TOKENS_PER_SENTENCE * len(points) + 40)
        realised = await _attempts(
            backend, req, section_messages(req, lang, section, [p.text for p in points]),
            points, question=" ".join([section.heading, *section.questions]), lang=lang,
            max_tokens=max_tokens, problems=problems)
    if realised is None:
        sentences = extract_sentences(points, lang) + rows
        return SectionDraft(heading=section.heading, text=cited_text(sentences, lang),
                            passage_ids=ids, sentences=sentences, facts=len(facts),
                            fallback=bool(points), problems=problems)
    sentences = realised.sentences + rows
    return SectionDraft(heading=section.heading, text=cited_text(sentences, lang),
                        passage_ids=ids, sentences=sentences, facts=len(facts),
                        dropped=realised.dropped, problems=problems)


def asked_terms(question: str, passages: Mapping[int, Passage]) -> set[str]:
    """The question's terms less its sources' names: asked "What does the Simple Sabotage
    Field Manual advise for disrupting organizations and conferences?", the 1.5B's summary
    put first "Simple sabotage does not require specially prepared tools …", which shares
    only the manual's name with the question; what is asked is advice on disrupting."""
    names = " ".join({re.sub(r"[_\-.]+", " ", p.source.title) for p in passages.values()})
    q = stem_terms(question)
    return (q - stem_terms(names)) or q


def _rank(sentences: Sequence[DraftSentence], q: set[str]) -> list[DraftSentence]:
    return sorted(sentences, key=lambda s: (-len(stem_terms(s.fact or s.text) & q),
                                            s.origin != "model"))


def _frame_points(drafts: Sequence[SectionDraft], q: set[str]) -> list[DraftSentence]:
    """The findings a summary and a conclusion restate: each section's two best sentences
    (by the asked terms ``q``: :func:`asked_terms`), the sections' first sentences first."""
    # a table's rows are said once, in their section: the summary restates the sentences
    # code wrote from them (a change, the largest parts), never the figures row by row
    # (the 1.5B's CO2 summaries copied a three-row sentence: a repeated share of 0.46)
    ranked = [_rank([s for s in d.sentences if not row_dump(s.text)], q) for d in drafts]
    ranked = [r for r in ranked if r]
    firsts = [r[0] for r in ranked]
    seconds = [r[1] for r in ranked if len(r) > 1]
    return (firsts + seconds)[:_FRAME_POINTS]


def _repeats(sentence: DraftSentence, earlier: Sequence[DraftSentence]) -> bool:
    terms = stem_terms(sentence.text)
    return any(len(terms & stem_terms(e.text)) >= 0.8 * max(1, len(terms)) for e in earlier)


async def _frame_part(backend: Backend, req: ReportRequest, lang: str, kind: str,
                      findings: Sequence[DraftSentence], passages: Mapping[int, Passage],
                      said: Sequence[DraftSentence] = (), restated: Collection[int] = (),
                      problems: list[str] | None = None
                      ) -> tuple[list[DraftSentence], bool, int, set[int]]:
    """(sentences, fell back, dropped, findings used) for the summary or the conclusion;
    what the checks found goes to ``problems`` (the run says why a part fell back).

    The model writes a few short sentences that restate the findings (one or two at a
    time); each must be backed by the finding(s) it restates, and cites their passages.
    ``said``: sentences the summary already has (the conclusion does not repeat them),
    ``restated``: the findings they restate (shown last, so the conclusion draws first on
    what the summary did not say).
    If nothing usable comes back, the part *falls back*: it is left out, since a finding
    quoted again only makes the reader read it twice (the repetition figure counts it),
    and the run says why.
    """
    if not findings:
        return [], False, 0, set()
    order = sorted(range(len(findings)), key=lambda i: i in restated)
    findings = [findings[i] for i in order]
    want = min(_FRAME_SENTENCES[kind], len(findings))
    points = [Point(s.fact or s.text, tuple(s.passage_ids),
                    tuple(passages[i].text for i in s.passage_ids if i in passages),
                    origin=s.origin, support=s.support, shown=s.text) for s in findings]
    messages = frame_messages(req, lang, [s.text.strip("“”") for s in findings], kind, want)
    realised = await _attempts(backend, req, messages, points, question=req.question,
                               lang=lang, max_tokens=_TOKENS_PER_SENTENCE * want + 40,
                               problems=problems if problems is not None else [],
                               need=1, frame=True)
    if realised is not None:
        kept = [x for x in realised.sentences if not _repeats(x, said)][:want]
        if kept:
            return (kept, False, realised.dropped + len(realised.sentences) - len(kept),
                    {order[i] for i in realised.used})
        if problems is not None and realised.sentences:
            problems.append(f"{len(realised.sentences)}× says the summary again")
    # Left out rather than quote findings: issue 16, no summary or conclusion "is made of
    # repeated sentences". The 1.5B's sabotage report ended on "Refer back to matters
    # decided upon at the last meeting …", its own section's sentence again (0.07 of the
    # report's repeated 4-gram share of 0.145); the 0.5B's quoted summaries were a
    # section's sentence again in nine of ten bench reports (its worst share 0.21). (Until
    # 2026-12-04 they quoted findings, since a report without its summary looked
    # unfinished; what it showed was a sentence the reader reads twice.)
    return [], True, 0, set()


async def write_frame(backend: Backend, req: ReportRequest, lang: str,
                      drafts: Sequence[SectionDraft], passages: dict[int, Passage]) -> Summary:
    """The executive summary and the conclusion, from the sections' verified sentences."""
    findings = _frame_points(drafts, asked_terms(req.question, passages))
    problems: dict[str, list[str]] = {"summary": [], "conclusion": []}
    summary, s_fb, s_drop, used = await _frame_part(backend, req, lang, "summary", findings,
                                                    passages, problems=problems["summary"])
    conclusion, c_fb, c_drop, _ = await _frame_part(backend, req, lang, "conclusion",
                                                    findings, passages, said=summary,
                                                    restated=used,
                                                    problems=problems["conclusion"])
    fallback = [k for k, fb in (("summary", s_fb), ("conclusion", c_fb)) if fb]
    joiner = "" if lang.startswith(("zh", "ja")) else " "
    return Summary(summary=cited_text(summary, lang).replace("\n\n", joiner),
                   conclusion=cited_text(conclusion, lang).replace("\n\n", joiner),
                   summary_sentences=summary, conclusion_sentences=conclusion,
                   fallback=fallback, dropped=s_drop + c_drop,
                   problems={k: v for k, v in problems.items() if v})
