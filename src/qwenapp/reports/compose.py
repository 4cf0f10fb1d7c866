"""From a model's numbered answer to verified, cited sentences (pure).

The writer was given numbered points (facts, or a report's own sentences)
and asked for one sentence per number. Here each sentence of its answer is

1. cleaned (reasoning tags, bold, any citation marker it typed: citations
   are code's job),
2. screened by :mod:`.degenerate` (scaffold, heading, filler, marker runs),
3. matched to a point: the one it is numbered with, else the one it
   overlaps most, and
4. verified by :mod:`.verify` against that point (the one sentence it rewords: a
   passage may hold two stories, and a sentence must not borrow from the other).

A sentence that fails is replaced by its point's own sentence, quoted (a
rewrite that cannot invent), or dropped when that point is already used.
The survivor carries its citation as data (``passage_ids``) and code writes
``[n]`` after it: the model never types a citation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from ..models.profile import strip_think
from .degenerate import restates_question, sentence_problem
from .model import DraftSentence
from .sentences import numbers_in, split_sentences, stem_terms, words
from .verify import Support, support

__all__ = [
    "Point",
    "Realised",
    "borrows",
    "cited_text",
    "compare_rows",
    "copies",
    "extract_sentences",
    "foreign_words",
    "join_rows",
    "parse_answer",
    "quote",
    "rank_row",
    "realise",
    "row_dump",
    "strip_markers",
]

_NUMBERED = re.compile(r"^\s*(?:[-*•]\s*)?(?:\*\*)?\(?(\d{1,2})(?:[.)、:：]|\s*-)"
                       r"\s*(?:\*\*)?\s*(.*)$")
_MARKERS = re.compile(r"\s*(?:\[\s*(?:\^|#|source\s*|ref\s*)?\d+(?:\s*[,，、;\-–]\s*\d+)*\s*\]|"
                      r"【\s*\d+\s*】|［\d+］)", re.IGNORECASE)
_CJK_STOP = re.compile(r"[。！？]$")
_BULLET = re.compile(r"^\s*[-*•·]\s+")
# a summary or conclusion sentence whose word 4-grams are this much a finding's says the
# finding again rather than restating it (the reader reads those words twice). At half,
# the 1.5B's summaries of three bench reports out of eight were all rejected and fell
# back to quoting the findings whole, which the reader reads twice in full
FRAME_COPY_SHARE = 0.8
# ... and one that brings words of its own for a quarter of what it says generalises
# beyond them ("chaotic and unsanitary ... inadequate sanitation", over findings about
# crowded, filthy buildings): a summary may only restate
FRAME_SUPPORT = 0.75


def _restates(check: Support) -> bool:
    return check.ok and (check.cross_language or check.score >= FRAME_SUPPORT)


@dataclass(frozen=True, slots=True)
class Point:
    """What one output sentence must say: ``text``, backed by ``passages`` (their texts)."""

    text: str
    passage_ids: tuple[int, ...]
    passages: tuple[str, ...]
    origin: str = "fact"  # "fact" (a source sentence) or a report sentence's origin
    support: float = 0.0
    shown: str = ""  # for a report sentence: its text, reused as is on a fallback
    table: bool = False  # a table row: a sentence may frame it in the question's words


def borrows(sentence: str, p: Point, question: str) -> list[str]:
    """The question's words a sentence adds to a source sentence that its passage does not
    have ("处理*敏感*个人信息需要遵循…" over an article about all personal information):
    the model making a fact look like an answer (or a summary "The manual advises
    organizations and conferences to …" over a passage about neither). Table rows are
    never the model's to word (:func:`~.write.write_section` shows them as code wrote them)."""
    if p.table:
        return []
    have = stem_terms("\n".join((p.text, *p.passages)))
    added = (stem_terms(sentence) & stem_terms(question)) - have
    latin = sorted(t for t in added if t.isascii())
    if latin:
        return latin
    # CJK terms are character bigrams: a synonym ("需要" for "应当") adds two that the
    # question happens to share; a word wedged into the fact ("处理[敏感]个人信息") adds
    # three in a row (the word and both its joins). Judged against the fact alone: a
    # statute's passage names 敏感个人信息 in the article before, and the 0.5B wrote
    # "处理敏感个人信息应当定期…合规审计" over 第五十四条, which is about all processors
    added = (stem_terms(sentence) & stem_terms(question)) - stem_terms(p.text)
    run = best = 0
    chars = re.sub(r"\s+", "", sentence)
    for a, b in pairwise(chars):
        run = run + 1 if a + b in added else 0
        best = max(best, run)
    return sorted(added) if best >= 3 else []


_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def foreign_words(sentence: str, p: Point, question: str, lang: str) -> list[str]:
    """Latin words in a Chinese or Japanese sentence that neither its source nor the
    question has: the 1.5B wrote "个人信息处理者处理不满 fourteen周岁未成年人个人信息的" over
    "不满十四周岁", which every other check passed (a name or term the source spells in
    Latin letters is its own, and kept)."""
    if not lang.startswith(("zh", "ja")):
        return []
    known = "\n".join((p.text, *p.passages, question)).lower()
    return [w for w in _LATIN_WORD.findall(sentence) if w.lower() not in known]


@dataclass
class Realised:
    sentences: list[DraftSentence] = field(default_factory=list)
    dropped: int = 0
    replaced: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    used: set[int] = field(default_factory=set)  # indexes of points a model sentence covers

    @property
    def model_sentences(self) -> int:
        return sum(1 for s in self.sentences if s.origin == "model")


def strip_markers(text: str) -> str:
    out = _MARKERS.sub("", text)
    out = re.sub(r"\*\*|__", "", out)
    return re.sub(r"\s+([.,;:!?。，；：！？])", r"\1", out).strip()


def parse_answer(text: str) -> list[tuple[int | None, str]]:
    """(number, sentence) pairs of an answer; unnumbered lines continue the last number."""
    text = strip_think(text)
    out: list[tuple[int | None, str]] = []
    current: int | None = None
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _NUMBERED.match(line)
        if m and m.group(2).strip():
            current = int(m.group(1))
            line = m.group(2)
        elif m:
            current = int(m.group(1))
            continue
        else:  # a bullet without a number ("- This list is ..."): the dash is not prose
            line = _BULLET.sub("", line)
        pieces = split_sentences(line)
        # a sentence of three words or fewer opens the next ("Make “speeches.” Talk as
        # frequently as possible ..."): one list item's point, kept whole
        while pieces:
            s = pieces.pop(0)
            while pieces and len(words(s)) <= 3:
                s = f"{s} {pieces.pop(0)}"
            out.append((current, s))
    return out


def quote(text: str, lang: str) -> str:
    """A source sentence shown as a quotation (the extractive fallback)."""
    body = text.strip().strip("\"“”'").strip()
    if body.endswith(("。", "；")) or (body.endswith(".") and not body.endswith("..")):
        body = body[:-1]
    return f"“{body}”"


def _candidates(number: int | None, sentence: str, points: Sequence[Point]) -> list[int]:
    terms = stem_terms(sentence)
    order = sorted(range(len(points)),
                   key=lambda i: -len(terms & stem_terms(points[i].text)))
    if number is not None and 1 <= number <= len(points):
        order.remove(number - 1)
        order.insert(0, number - 1)
    return order[:3]


def _combined(sentence: str, order: Sequence[int], points: Sequence[Point], question: str,
              lang: str) -> tuple[list[int], Support] | None:
    """The two points a synthesising sentence restates together, when neither alone
    backs it (a summary sentence may join two findings)."""
    if len(order) < 2:
        return None
    pair = list(order[:2])
    # numbers from both findings in one sentence pair what belongs apart: the 1.5B's
    # summary "emissions increased ... from 1750 to 2024, with total emissions increasing
    # from 1617 to 10527" put the dataset's first year beside the 1950 row's figure
    said = numbers_in(sentence)
    a, b = (numbers_in(points[i].text) for i in pair)
    if said & (a - b) and said & (b - a):
        return None
    check = support(sentence, [points[i].text for i in pair], question, lang)
    joined = Point("\n".join(points[i].text for i in pair), (),
                   tuple(t for i in pair for t in points[i].passages),
                   table=all(points[i].table for i in pair))
    return (pair, check) if _restates(check) and not borrows(sentence, joined, question) \
        else None


def _grams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    toks = words(text)
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def copies(sentence: str, points: Sequence[Point], share: float = 0.8, lang: str = "en"
           ) -> bool:
    """True when ``sentence`` says a point again in the point's own words (most of its
    word 4-grams, or CJK character 8-grams, are the point's, alone or joined to another):
    a summary must restate."""
    n = 8 if lang.startswith(("zh", "ja")) else 4
    grams = _grams(sentence, n)
    said = set().union(*(_grams(p.shown or p.text, n) for p in points)) if points else set()
    return bool(grams) and len(grams & said) >= share * len(grams)


def realise(answer: str, points: Sequence[Point], *, question: str, lang: str,
            replace_failed: bool = True, combine: bool = False, asked: str = "") -> Realised:
    """Verified sentences from ``answer``; see the module docstring. ``combine`` (a
    summary or conclusion): a sentence may restate two points at once (it then cites
    both), and one that only copies points word for word is dropped. ``asked``: the
    report's question, which a sentence may not merely say back either ("数据处理者承担了
    数据安全保护义务。", asked what those duties are)."""
    out = Realised()
    seen: list[set[str]] = []
    for number, raw in parse_answer(answer):
        sentence = strip_markers(raw)
        if not sentence:
            continue
        problem = sentence_problem(sentence, question) or (
            "restates the question" if asked and restates_question(
                sentence, f"{asked} {question}") else None)
        if problem:
            out.problems[problem] += 1
            out.dropped += 1
            continue
        terms = stem_terms(sentence)
        if any(len(terms & s) >= 0.8 * max(1, len(terms)) for s in seen):
            out.problems["repeats an earlier sentence"] += 1
            out.dropped += 1
            continue
        if combine and copies(sentence, points, share=FRAME_COPY_SHARE, lang=lang):
            out.problems["copies a finding word for word"] += 1
            out.dropped += 1
            continue
        accepted = False
        first = None
        # a frame's sentences restate findings in any order: their numbers mean nothing
        order = _candidates(None if combine else number, sentence, points)
        both = _combined(sentence, order, points, question, lang) if combine else None
        for i in order:
            p = points[i]
            # against the fact it rewords, not the whole passage: a page often holds two
            # stories, and a sentence must not borrow from the other one
            check = support(sentence, [p.text], question, lang)
            # the report's question too: a section on "个人信息的保护原则" let the 1.5B
            # write "处理[敏感]个人信息需要遵循合法、正当…" over 第五条, whose passage is about all
            # personal information, because only the section's words were checked
            # (not across languages: a French sentence over an English fact shares the
            # French question's words and none of the fact's, whatever it says)
            if check.ok and not check.cross_language and borrows(
                    sentence, p, f"{question} {asked}".strip()):
                check = Support(score=0.0, cross_language=False)  # not what the source says
            if check.ok and foreign_words(sentence, p, f"{question} {asked}", lang):
                check = Support(score=0.0, cross_language=False)  # another language in it
            if combine and check.ok and not _restates(check):
                check = Support(score=0.0, cross_language=False)  # beyond the finding
            first = first if first is not None else (i, check)
            if both is not None and both[1].score >= check.score + 0.2:
                break  # it joins two findings: cite both
            if check.ok:
                out.sentences.append(DraftSentence(text=sentence, passage_ids=list(p.passage_ids),
                                                   support=check.score, origin="model",
                                                   fact=p.text))
                out.used.add(i)
                seen.append(terms)
                accepted = True
                break
        if accepted:
            continue
        if both is not None:
            pair, check = both
            ids = list(dict.fromkeys(j for i in pair for j in points[i].passage_ids))
            out.sentences.append(DraftSentence(text=sentence, passage_ids=ids,
                                               support=check.score, origin="model",
                                               fact="\n".join(points[i].text for i in pair)))
            out.used.update(pair)
            seen.append(terms)
            continue
        assert first is not None
        i, check = first
        why = ("a number or name not in its source" if not check.facts_ok
               else "not supported by its source")
        out.problems[why] += 1
        if replace_failed and i not in out.used:
            out.sentences.append(_extract(points[i], lang))
            out.used.add(i)
            out.replaced += 1
            seen.append(stem_terms(points[i].text))
        else:
            out.dropped += 1
    return out


def _extract(p: Point, lang: str) -> DraftSentence:
    """A point as it stands: a source fact quoted, or a report sentence reused."""
    if p.origin != "fact":
        return DraftSentence(text=p.shown or p.text, passage_ids=list(p.passage_ids),
                             support=p.support,
                             origin="extract" if p.origin == "extract" else "model",
                             fact=p.text)
    score = support(p.text, p.passages, "", lang).score
    # a table row is code's own sentence over the row's cells: shown as it is, no quotes
    text = p.text.rstrip("。.") if p.table else quote(p.text, lang)
    return DraftSentence(text=text, passage_ids=list(p.passage_ids),
                         support=score, origin="extract", fact=p.text)


def extract_sentences(points: Sequence[Point], lang: str) -> list[DraftSentence]:
    """The points themselves, quoted and cited: the fallback that cannot invent."""
    return [_extract(p, lang) for p in points]


def _with_citation(s: DraftSentence, cjk: bool) -> str:
    marks = "".join(f"[{i}]" for i in s.passage_ids)
    text = s.text.strip()
    if not marks:
        return text
    if text.endswith((".”", "?”", "!”", ".\"", "?\"", "!\"")) and not cjk:
        return f"{text} {marks}"  # the stop is inside the quotation: "… “speeches.” [4]"
    if text.endswith(("”", "\"")) or (s.origin == "extract" and not text.endswith(
            (".", "。", "!", "?", "！", "？"))):
        return f"{text}{marks}。" if cjk else f"{text} {marks}."
    m = re.search(r"([.!?。！？]+)$", text)
    if m:
        stop = m.group(1)
        return f"{text[:m.start()]}{marks}{stop}" if cjk else \
            f"{text[:m.start()]} {marks}{stop}"
    return f"{text}{marks}。" if cjk else f"{text} {marks}."


def cited_text(sentences: Sequence[DraftSentence], lang: str) -> str:
    """The sentences as paragraphs, each followed by its ``[passage id]`` citations.

    A new paragraph starts where the source changes after three sentences or more,
    so one source's story reads as one paragraph.
    """
    cjk = lang.startswith(("zh", "ja"))
    paras: list[list[str]] = [[]]
    last: list[int] | None = None
    for s in sentences:
        if paras[-1] and last != s.passage_ids and len(paras[-1]) >= 3:
            paras.append([])
        paras[-1].append(_with_citation(s, cjk))
        last = s.passage_ids
    joiner = "" if cjk else " "
    return "\n\n".join(joiner.join(p) for p in paras if p)


_ROW = re.compile(r"^The (.+?) table gives, for (.+?) ([^\s:]+): (.+?)\.?$")


def _cells(row: str) -> tuple[str, str, str, dict[str, str]] | None:
    """(table, key column, key, {column: value}) of a row sentence code wrote."""
    m = _ROW.match(row.strip())
    if not m:
        return None
    pairs = re.split(r", | and (?=[^,]+$)", m.group(4))
    cells = {}
    for pair in pairs:
        name, _, value = pair.rpartition(" ")
        if name:
            cells[name] = value
    return m.group(1), m.group(2), m.group(3), cells


_ROW_HEAD = re.compile(r"^(The .+? table gives, )for (.+)$", re.DOTALL)


def join_rows(rows: Sequence[DraftSentence], most: int = 3) -> list[DraftSentence]:
    """Rows of one table as one sentence ("The global table gives, for Year 1950: …; for
    Year 2024: …"), up to ``most`` rows, citing every row's passage: a sentence per row
    said "The global table gives, for Year" again for each (what a reader reads twice)."""
    out: list[DraftSentence] = []
    groups: dict[str, list[tuple[DraftSentence, str]]] = {}
    for r in rows:
        m = _ROW_HEAD.match(r.text.strip())
        if m is None:
            out.append(r)
            continue
        groups.setdefault(m.group(1), []).append((r, m.group(2).rstrip(".")))
    for head, members in groups.items():
        for i in range(0, len(members), most):
            part = members[i:i + most]
            if len(part) == 1:
                out.append(part[0][0])
                continue
            ids = list(dict.fromkeys(j for r, _ in part for j in r.passage_ids))
            out.append(DraftSentence(
                text=head + "; ".join(f"for {body}" for _, body in part),
                passage_ids=ids, support=min(r.support for r, _ in part), origin="extract",
                fact="\n".join(r.fact or r.text for r, _ in part)))
    return out


def compare_rows(rows: Sequence[DraftSentence], lang: str) -> DraftSentence | None:
    """One sentence of code that states the change between the first and the last row of
    one table ("Total went from 1617 in Year 1950 to 10527 in Year 2024"), cited to both:
    a question about a change is answered by two rows, and a small model should not be
    the one to compare them. English only (the row sentences are English)."""
    if len(rows) < 2 or not lang.startswith("en"):
        return None
    parsed = [(r, c) for r in rows if (c := _cells(r.fact or r.text)) is not None]

    def key(item: tuple[DraftSentence, tuple[str, str, str, dict[str, str]]]) -> float:
        try:
            return float(item[1][2].replace(",", ""))
        except ValueError:
            return float("nan")

    if len(parsed) < 2 or any(key(x) != key(x) for x in parsed):  # keys must be numbers
        return None
    parsed.sort(key=key)  # earliest year first
    (r0, first), (r1, last) = parsed[0], parsed[-1]
    rows = [r0, r1]
    if first[:2] != last[:2] or first[2] == last[2]:
        return None
    shared = [c for c in first[3] if c in last[3] and first[3][c] != last[3][c]][:2]
    if not shared:
        return None
    # the years once, then each column's two figures: a change said without repeating
    # "in Year 1950 to ... in Year 2024" for every column
    parts = [f"{c} went from {first[3][c]} to {last[3][c]}" if i == 0 else
             f"{c} from {first[3][c]} to {last[3][c]}" for i, c in enumerate(shared)]
    text = (f"In the {first[0]} table, from {first[1]} {first[2]} to {last[1]} {last[2]}, "
            + " and ".join(parts) + ".")
    ids = list(dict.fromkeys([*rows[0].passage_ids, *rows[-1].passage_ids]))
    return DraftSentence(text=text, passage_ids=ids, support=1.0, origin="extract",
                         fact="\n".join([rows[0].fact, rows[-1].fact]))


_NOT_A_PART = re.compile(r"(?i)\b(?:total|sum|all|per\s+capita|per\b|share|percent|rate|"
                         r"average|mean)\b|%")
_ASKS_MOST = re.compile(r"(?i)\b(?:most|largest|biggest|greatest|main|top|highest|"
                        r"leading|which)\b")


def row_dump(text: str) -> bool:
    """True for a sentence that is code's reading of table rows ("The global table gives,
    for Year 2024: ..."): a report says it once, in its section; a summary restating it
    only copies its figures."""
    return bool(_ROW_HEAD.match(text.strip()))


def rank_row(rows: Sequence[DraftSentence], question: str, lang: str) -> DraftSentence | None:
    """One sentence of code that answers "which ... most" from the row of the year the
    question asks about: its parts largest first, and any column the question names
    ("... and how much came from cement?": the 1.5B's report gave the 2024 row and never
    said that solid fuel came first). Totals, per-capita figures and shares are not parts.
    English only (the row sentences are English)."""
    if not rows or not lang.startswith("en") or not _ASKS_MOST.search(question):
        return None
    asked = set(re.findall(r"\b\d{4}\b", question))
    for r in rows:
        for fact in (r.fact or r.text).split("\n"):
            cells = _cells(fact)
            if cells is None or (asked and cells[2] not in asked):
                continue
            table, column, key, values = cells
            parts: list[tuple[float, str, str]] = []
            for name, value in values.items():
                try:
                    amount = float(value.replace(",", ""))
                except ValueError:
                    continue
                if not _NOT_A_PART.search(name):
                    parts.append((amount, name, value))
            if len(parts) < 3:
                continue
            parts.sort(key=lambda x: -x[0])
            named = [x for x in parts[3:] if stem_terms(x[1]) & stem_terms(question)]
            first = [f"{n} ({v})" for _, n, v in parts[:3]]
            top = ", ".join(first[:-1]) + f" and {first[-1]}"
            text = f"In the {table} table for {column} {key}, the largest parts are {top}"
            if named:
                text += "; " + ", ".join(f"{n} is {v}" for _, n, v in named)
            ids = list(r.passage_ids)
            return DraftSentence(text=text + ".", passage_ids=ids, support=1.0,
                                 origin="extract", fact=fact)
    return None
