"""Facts first: code picks the passage sentences that answer a section's questions.

Small models write badly when they juggle many passages and type citation
markers themselves. So the writer never sees passages: it sees a short
numbered list of *facts*, single sentences taken from the retrieved
passages, each remembered with the passage it came from. Selection is BM25
over sentences (CJK as bigrams, Latin crudely stemmed) against the
section's heading and questions, with the report question at half weight:

* a sentence sharing too few of the query's terms is not a fact, so a
  passage that does not answer the question contributes nothing even when
  it was retrieved (an unrelated story on the same PDF page stays out);
* a fact is one sentence of one passage, so no fact mixes two stories;
* near-duplicates are dropped, at most :data:`PER_PASSAGE` facts come from
  one passage, and lines that read like instructions to a model are never
  facts (sources are data).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from .model import Passage
from .prompts import is_instruction_like
from .sentences import CJK, numbers_in, split_sentences, stem_terms, table_facts, words

__all__ = ["ASKING", "PER_PASSAGE", "Fact", "bm25", "candidate_sentences", "headed_sentences",
           "location_heading", "plan_facts", "points_back", "same_point", "select_facts",
           "subject_documents"]

PER_PASSAGE = 3
# the words a question asks with, not about ("What did Riis *find*", "what does the manual
# *advise*", "how *much* came from", the "New" of "New York"): two of them made a sentence
# about Waterloo, in the off-topic Art of War ("find himself Commander-in-chief ... frame
# new plans"), answer a question on the tenements of New York
ASKING = stem_terms(
    "new find found finds show shows say says said describe describes explain explains "
    "advise advises according happen happened mean means much many kind kinds")
LIST_PER_PASSAGE = 5  # from a passage that is a list of items
_MIN_SHARE = 0.3  # of the best fact's score
_LOOSE_SHARE = 0.12  # the second pass, for a section the first leaves thin
_MAX_WORDS = 80  # Riis writes 76-word sentences
_CLOSERS = tuple(".!?。！？;；\"”’」")
_CJK_CHAR = re.compile(f"[{CJK}]")


@dataclass(frozen=True, slots=True)
class Fact:
    """One sentence of one passage, and how well it answers the query."""

    text: str
    passage_id: int
    score: float
    position: int  # index of the sentence in its passage
    row: bool = False  # a table row ("The global table gives, for Year 2024: …")
    heading: str = ""  # the title of the list or part it is in


_LEAD_MARKER = re.compile(r"^\s*(?:\(\d{1,3}\.?\)|\d{1,3}[.)](?!\d)|\([a-zA-Z]\)|[a-z]\)|[-*•·▪–]|"
                          r"[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、)\s*")
_INNER_MARKER = re.compile(r"\s\((?:\d{1,3}|[a-z])\)\s+(?=[\"“‘'(]?[A-Z])")


def _unlisted(sentence: str) -> tuple[str, str]:
    """(item, heading): a list item without its marker ("(5) Haggle over ..." -> "Haggle
    over ..."); an item glued to its list's heading ("(a) Organizations and Conferences
    (1) Insist on ...") keeps only the item, and the heading is returned beside it."""
    parts = _INNER_MARKER.split(sentence)

    def bare(text: str) -> str:
        while True:
            stripped = _LEAD_MARKER.sub("", text, count=1)
            if stripped == text:
                return text.strip()
            text = stripped

    return bare(parts[-1]), (bare(parts[-2]) if len(parts) > 1 else "")


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<!\w)[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}(?!\w)")
_NOT_A_FACT = re.compile(r"(?i)^(?:sources?|citation|cite as|see also|license|licence|doi|"
                         r"references?|copyright|isbn|url|e-?mail|tel|fax)\b\s*[:：]|"
                         r"https?://|www\.|doi\.org|\b[A-Z]\.\s?[A-Z]?\.?,\s.*\(\d{4}\)"
                         # a table's legend ("Key A = Five years old and over."), and a
                         # sentence the splitter cut after an abbreviation ("... in the
                         # model tenement across the way at Nos.")
                         r"|\s=\s|(?-i:\b(?:Nos?|Mr|Mrs|Messrs|Dr|St|Mt|Ft|Gen|Col|Capt|"
                         r"Rev|Hon|vs|cf|pp|Vol|Fig)\.)$")


_FOOTNOTE = re.compile(r"\s*(?:\[\d{1,3}\]|\[\^\d{1,3}\]|【\d{1,3}】)")


def _plain(text: str) -> str:
    """Markdown made plain: a link is its text, emphasis and code marks go, and so do a
    document's own footnote marks ("scavengers.[3]"), which would read as our citations."""
    text = _FOOTNOTE.sub("", _LINK.sub(r"\1", text))
    return re.sub(r"\s+", " ", _EMPHASIS.sub("", text)).strip()


def _heading_like(unit: str) -> bool:
    """A list's or a part's title ("Organizations and Conferences"): short, no stop."""
    bare = unit.strip().strip("#*_ ").strip()
    return bool(bare) and len(words(bare)) <= 12 and not bare.endswith(_CLOSERS) \
        and not bare.endswith((",", "，", "、"))


def _fragment(sentence: str) -> bool:
    """A piece of a sentence: cut by the chunk boundary (it starts in lower case, or with
    punctuation), or an item that only ends a list's heading ("... as follows:")."""
    if _CJK_CHAR.search(sentence):
        # an item of a list ("（三）委托处理个人信息…；") ends with a semicolon: it is
        # half of a sentence whose lead-in ("有下列情形之一的：") is elsewhere
        return bool(re.match(r"^[，、；：,;:）)」』]", sentence)) or \
            sentence.rstrip().endswith(("；", ";", "：", ":"))
    first = next((c for c in sentence if c.isalnum()), "")
    lead = sentence.lstrip("\"“‘'(¿¡ ")
    return not first or not (first.isupper() or first.isdigit()) or not lead[:1].isalnum()


def _usable(sentence: str, table_row: bool) -> bool:
    terms = stem_terms(sentence)
    n_words = len(words(sentence))
    if len(terms) < (3 if table_row else 4) or n_words > _MAX_WORDS * (2 if table_row else 1):
        return False
    if is_instruction_like(sentence) or (not table_row and _fragment(sentence)):
        return False
    letters = sum(1 for c in sentence if c.isalpha())
    if not table_row and letters < 0.55 * len(sentence.replace(" ", "")):
        return False  # rules, table debris, page furniture
    upper = sum(1 for c in sentence if c.isupper())
    if not table_row and upper > 0.6 * max(1, letters):
        return False  # a title page or a table of contents ("THE ITALIAN IN NEW YORK, 48")
    # a fact is a whole sentence: a heading, a caption or a sentence cut by the chunk
    # boundary has no closing stop; a question states nothing ("What sort of an answer,
    # think you, would come from these tenements ...?" was a "finding" of the 1.5B's)
    end = sentence.rstrip().rstrip("\"”’')")
    return sentence.rstrip().endswith(_CLOSERS) and not end.endswith(("?", "？"))


# a sentence that opens by pointing back ("They cannot be sabotaged easily ...", about
# machines; "These figures speak for themselves"; "He has never found time ...") reads,
# out of its paragraph, as about nothing or the wrong thing: the 1.5B's summary said "It
# cannot be easily sabotaged without risk of injury." Such a sentence weighs half.
_POINTS_BACK = frozenset((
    "he", "she", "they", "them", "his", "her", "its", "their", "theirs", "this", "these",
    "those", "such", "and", "but", "so", "or", "yet", "then", "thus", "hence", "also", "here",
    "another", "instances"))
_BACK_WEIGHT = 0.5
_PASSAGE_WEIGHT = 0.3  # of a fact's score that its passage's relevance scales (at 0.5 the
# manual's introduction, one of the passages that answer its question best, was left out)


def points_back(sentence: str) -> bool:
    """True for a Latin-script sentence whose first word refers to an earlier one."""
    first = re.match(r"[\"“‘'(]*([A-Za-z]+)", sentence.strip())
    return first is not None and first.group(1).lower() in _POINTS_BACK


def _is_list(text: str) -> bool:
    """Three or more paragraphs (or lines) of a Latin-script text that start as list items."""
    if _CJK_CHAR.search(text[:200]):
        return False
    return sum(1 for line in text.splitlines() if _LEAD_MARKER.match(line)
               and line.strip()[:1] in "(-*•·▪–0123456789") >= 3


def _open_quote(text: str) -> bool:
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _quoted_whole(sentences: list[str]) -> list[str]:
    """Sentences with a quotation that runs over several kept together (up to three), so
    no fact opens a quote it does not close; a quote still open after that is dropped."""
    out: list[str] = []
    i = 0
    while i < len(sentences):
        s, j = sentences[i], i + 1
        while _open_quote(s) and j < min(len(sentences), i + 3):
            s, j = f"{s} {sentences[j]}", j + 1
        out.append("" if _open_quote(s) else s)
        i = j
    return out


def location_heading(location: str) -> str:
    """The titles a passage is under, from its location ("lines 1098-1156 > General
    Interference with Organizations and Production > Organizations and Conferences":
    the chunker names the list a passage continues; a Markdown section's heading path)."""
    parts = [p.strip() for p in location.split(" > ")]
    return " ".join(parts[1:][-2:])


def _items_whole(sentences: list[str]) -> list[str]:
    """A list item whose first sentence is too short to be a fact on its own joined to
    the sentence that explains it ("(2) Make “speeches.”" + "Talk as frequently as
    possible and at great length."): the item's point is its first words."""
    out: list[str] = []
    i = 0
    while i < len(sentences):
        s = sentences[i]
        nxt = sentences[i + 1] if i + 1 < len(sentences) else ""
        if _LEAD_MARKER.match(s) and not _CJK_CHAR.search(s) and nxt \
                and len(stem_terms(_unlisted(s)[0])) < 4 and not _LEAD_MARKER.match(nxt) \
                and s.rstrip().endswith(_CLOSERS) and not _heading_like(nxt):
            out.append(f"{s} {nxt}")
            i += 2
            continue
        out.append(s)
        i += 1
    return out


def headed_sentences(passage: Passage) -> list[tuple[int, str, str]]:
    """(position, sentence, heading) for each sentence of a passage that could serve as
    a fact; ``heading`` is the title of the list or part it is in (a list item under
    "Organizations and Conferences" answers a question about conferences), from the
    passage itself or, for a passage that continues a list, from its location."""
    rows = table_facts(passage.text, passage.source.title)
    if rows:
        return [(i, r, "") for i, r in enumerate(rows) if _usable(r, True)]
    out = []
    heading = location_heading(passage.source.location)
    for i, raw in enumerate(_quoted_whole(_items_whole(split_sentences(passage.text)))):
        s, glued = _unlisted(raw)
        if s != raw.strip() and _CJK_CHAR.search(s) and not glued:
            continue  # a Chinese list item ("（五）其他…活动。") completes a lead-in elsewhere
        s = _plain(s)
        if glued and _heading_like(glued):
            heading = _plain(glued)
        if _usable(s, False) and not _NOT_A_FACT.search(s):
            out.append((i, s, heading))
        elif _heading_like(s):
            heading = s.strip("#*_ ")
    return out


def candidate_sentences(passage: Passage) -> list[tuple[int, str]]:
    """(position, sentence) pairs of a passage that could serve as facts."""
    return [(i, s) for i, s, _ in headed_sentences(passage)]


def bm25(query: Mapping[str, float], docs: list[set[str]], lengths: list[int],
          stats: list[set[str]] | None = None) -> list[float]:
    """BM25 of each doc; IDF from ``stats`` (all the report's sentences) when given."""
    pool = stats or docs
    n = len(pool)
    avg = sum(lengths) / len(docs) if docs else 1.0
    df: Counter[str] = Counter(t for d in pool for t in d)
    out = []
    for d, length in zip(docs, lengths, strict=True):
        s = 0.0
        for t, w in query.items():
            if t in d:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                s += w * idf * 2.2 / (1 + 1.2 * (0.25 + 0.75 * length / max(avg, 1.0)))
        out.append(s)
    return out


def same_point(a: tuple[set[str], set[str]], b: tuple[set[str], set[str]]) -> bool:
    """Two sentences that make one point: most terms shared, and no number apart (two
    rows of a table share every header word and differ in their figures)."""
    (ta, na), (tb, nb) = a, b
    if na and nb and na != nb:
        return False
    return len(ta & tb) >= 0.7 * max(1, min(len(ta), len(tb)))


def subject_documents(pool: Sequence[Passage], specific: Collection[str]) -> set[str] | None:
    """The documents (locators) whose passages hold at least two of the question's subject
    terms (all of them when there are fewer), or None (no filter: no subject terms, or no
    document qualifies). The off-topic chapter of *The Art of War* beside Riis shares one
    ("conditions") with a question on living conditions in the tenements, and its "five
    constant factors ... the conditions obtaining in the field" answered a section."""
    if not specific:
        return None
    need = min(2, len(specific))
    terms: dict[str, set[str]] = {}
    for p in pool:
        terms.setdefault(p.source.locator, set()).update(
            stem_terms(f"{p.source.location}\n{p.text}") & set(specific))
    keep = {loc for loc, found in terms.items() if len(found) >= need}
    return keep or None


def select_facts(questions: Sequence[str], context: str, passages: Sequence[Passage],
                 limit: int, *, per_passage: int = PER_PASSAGE,
                 pool: Sequence[Passage] = (), exclude: Collection[str] = (),
                 specific: Collection[str] = ()) -> list[Fact]:
    """The ``limit`` best facts for ``questions`` (``context``: the report question).

    ``pool`` (every passage of the report) gives the term statistics, so a word all the
    sources share ("Qwen" in a report about Qwen) weighs little in every section.
    ``exclude``: sentences an earlier section already states. ``specific``: the report
    question's own subject terms (:func:`~.coverage.specific_terms`: "organizations",
    "conferences", not "manual" or "advise"), weighed like the section's words, so a
    section answers the question it is part of rather than only its heading.

    Ordered for reading: facts of the best passage first, each passage's facts in
    their original order, so one source's story stays together.
    """
    query: dict[str, float] = {}
    for q in questions:
        for t in stem_terms(q) - ASKING:
            query[t] = 1.0
    own_terms = set(query)  # the section's own words (before the report question's)
    for t in stem_terms(context) - ASKING:
        query.setdefault(t, 1.0 if t in specific else 0.5)
    for t in query:  # a year or an amount asked for: the sentence (or row) holding it answers
        if t[:1].isdigit():
            query[t] *= 3.0
    if not query or not passages:
        return []
    on_subject = subject_documents(pool or passages, specific)
    cands: list[tuple[Passage, int, str, set[str]]] = []
    heads: list[set[str]] = []  # each candidate's terms with its heading's
    titles: list[str] = []
    rows: list[bool] = []
    for p in passages:
        if on_subject is not None and p.source.locator not in on_subject:
            continue  # a document that is not about the question's subject at all
        row = bool(table_facts(p.text))
        for pos, s, heading in headed_sentences(p):
            cands.append((p, pos, s, stem_terms(s)))
            heads.append(cands[-1][3] | stem_terms(heading))
            titles.append(heading)
            rows.append(row)
    if not cands:
        return []
    stats = [stem_terms(s) for p in pool for _, s in candidate_sentences(p)] or None
    docs, lengths = heads, [len(c[3]) for c in cands]
    prose = [n for n, row in zip(lengths, rows, strict=True) if not row]
    typical = sum(prose) // len(prose) if prose else 12
    # a table row names every column: its length says nothing about its relevance
    lengths = [typical if row else n for n, row in zip(lengths, rows, strict=True)]
    scores = bm25(query, docs, lengths, stats)
    scores = [sc * _BACK_WEIGHT if points_back(c[2]) else sc
              for sc, c in zip(scores, cands, strict=True)]
    # a sentence weighs with its passage: one that shares a word of the query in a
    # passage about something else ("The Italian and the poor Jew rise only by
    # compulsion", for "the rise of the tenement system") counts less than one of the
    # passage that tells how the tenements began
    ptexts = {p.id: stem_terms(p.text) for p in passages}
    pids = list(ptexts)
    pscore = dict(zip(pids, bm25(query, [ptexts[i] for i in pids],
                                 [len(ptexts[i]) for i in pids]), strict=True))
    top = max(pscore.values(), default=0.0) or 1.0
    scores = [sc * (1 - _PASSAGE_WEIGHT + _PASSAGE_WEIGHT * pscore[c[0].id] / top)
              for sc, c in zip(scores, cands, strict=True)]
    strong = (own_terms | (set(specific) & set(query))) or set(query)
    # a sentence must answer the section, not share one word with it ("states" in
    # "What risks does Alibaba face in the United States?" and in an egg recall story):
    # two of the section's terms, or one when its passage as a whole has two or more
    # (a sentence about GGUF in a passage about running models on a CPU)
    vouched = {p.id for p in passages if len(stem_terms(p.text) & strong) >= 2}
    # a passage that is a list: each item is a point of its own ("(1) Insist on doing
    # everything through channels", "(2) Make speeches", ...), so more of them may be used
    listing = {p.id for p in passages if _is_list(p.text)}
    need = 2 if len(strong) >= 3 else 1
    # the section's own words (not the report question's): a fact must hit one of them,
    # or every section would collect the same generic "Qwen is popular" sentences
    own = strong - stem_terms(context)
    head = stem_terms(questions[0]) - ASKING if questions else set()
    if head and head <= stem_terms(context):
        # a heading made of the question's own words ("Disrupting Conferences", asked what
        # the manual advises for disrupting organizations and conferences): those words
        # are what the section is about, not the ones its questions add ("common ways",
        # "key techniques"), which no item of the manual's list of conference tactics had
        own = head & strong
    own_scores = bm25(dict.fromkeys(own, 1.0), docs, lengths, stats) \
        if own else scores
    # a table row holding a year or an amount the question asks for is the answer itself:
    # it ranks with the best fact whatever its passage (asked how emissions changed
    # between 1950 and 2024, the 1.5B's sections got README lines and no 2024 row)
    asked = {t for t in stem_terms(context) | own_terms if t[:1].isdigit()}
    top_score = max(scores)
    exact = {i for i, c in enumerate(cands) if rows[i] and asked & c[3]}
    scores = [max(sc, top_score) if i in exact else sc for i, sc in enumerate(scores)]
    own_scores = [max(sc, max(own_scores)) if i in exact else sc
                  for i, sc in enumerate(own_scores)]
    own_best = max(own_scores)
    best = max(scores)
    if best <= 0:
        return []
    ranked = sorted(range(len(cands)), key=lambda i: -scores[i])
    chosen: list[int] = []
    per: Counter[int] = Counter()
    # a second, looser pass when the first finds under three facts: a section whose
    # best sentence matches every query word should still get the next-best points
    for share, own_share in ((_MIN_SHARE, _MIN_SHARE), (_LOOSE_SHARE, 0.0)):
        for i in ranked:
            p, _, s, terms = cands[i]
            if len(chosen) >= limit or scores[i] < share * best:
                break
            titled = bool((heads[i] - terms) & strong)  # its list's title names the topic
            if i in chosen or len(heads[i] & strong) < (1 if p.id in vouched or titled
                                                        or i in exact else need) \
                    or per[p.id] >= (LIST_PER_PASSAGE if p.id in listing else per_passage) \
                    or s in exclude:
                continue
            if own_best > 0 and own_scores[i] < own_share * own_best:
                continue
            if any(same_point((terms, numbers_in(s)), (cands[j][3], numbers_in(cands[j][2])))
                   for j in chosen):
                continue  # the same point, said twice
            chosen.append(i)
            per[p.id] += 1
        if len(chosen) >= min(3, limit):
            break
    rank_of: dict[int, int] = {}
    for i in chosen:
        rank_of.setdefault(cands[i][0].id, len(rank_of))
    chosen.sort(key=lambda i: (rank_of[cands[i][0].id], cands[i][1]))
    return [Fact(text=cands[i][2], passage_id=cands[i][0].id, score=round(scores[i], 3),
                 position=cands[i][1], row=rows[i], heading=titles[i]) for i in chosen]


def plan_facts(sections: Sequence[tuple[Sequence[str], Sequence[Passage]]], context: str,
               limit: int, pool: Sequence[Passage], specific: Collection[str] = ()
               ) -> list[list[Fact]]:
    """Facts for every section, so that no two sections state the same point.

    Each section's candidates are ranked on their own (:func:`select_facts`, twice the
    ``limit``); then every candidate goes to the section it answers best, relative to
    that section's best fact (near ties: by its score), and a point (the same sentence,
    or one sharing most of its terms) is stated once in the whole report. A section
    left with fewer facts is thin, and says so, rather than repeat another section.
    """
    ranked = [select_facts(questions, context, passages, 2 * limit, pool=pool,
                           specific=specific)
              for questions, passages in sections]
    pairs: list[tuple[float, float, int, Fact]] = []
    for i, facts in enumerate(ranked):
        best = max((f.score for f in facts), default=0.0) or 1.0
        # how well it answers this section, next to the section's best; near ties go to
        # the section whose own words it matches most (the absolute score: "第二十九条 …
        # 单独同意" is the best fact of three sections, and the section on consent matches
        # it three times as strongly as the one on definitions)
        pairs.extend((-round(f.score / best, 1), -f.score, i, f) for f in facts)
    pairs.sort(key=lambda x: (x[0], x[1], x[2]))
    chosen: list[set[tuple[int, int]]] = [set() for _ in sections]
    stated: list[tuple[set[str], set[str]]] = []
    for _, _, i, f in pairs:
        if len(chosen[i]) >= limit:
            continue
        point = (stem_terms(f.text), numbers_in(f.text))
        if any(same_point(point, t) for t in stated):
            continue
        stated.append(point)
        chosen[i].add((f.passage_id, f.position))
    _share_out(ranked, chosen)
    planned = [[f for f in facts if (f.passage_id, f.position) in chosen[i]]
               for i, facts in enumerate(ranked)]
    return _rows_together(planned, {p.id: p.source.locator for p in pool})


_THIN = 2  # facts under which a section is thin
_SPARE = 3  # facts a section keeps when it gives some to a thin one


def _share_out(ranked: Sequence[Sequence[Fact]], chosen: list[set[tuple[int, int]]]) -> None:
    """A thin section takes facts it ranked from a section that has more than it needs:
    its own best first, the giver's weakest. Facts go where they are relatively best,
    and a section on the whole question wins every tie on the absolute score (the
    manual's conference tactics all went to a padded "Background" and "Disrupting
    Conferences" said the sources do not cover it)."""
    for i, facts in enumerate(ranked):
        for f in sorted(facts, key=lambda f: -f.score):
            if len(chosen[i]) >= _THIN:
                break
            key = (f.passage_id, f.position)
            if key in chosen[i]:
                continue
            giver = next((j for j, c in enumerate(chosen) if key in c and j != i), None)
            if giver is not None and len(chosen[giver]) > _SPARE:
                chosen[giver].discard(key)
                chosen[i].add(key)


def _rows_together(planned: list[list[Fact]], table_of: Mapping[int, str]) -> list[list[Fact]]:
    """Rows of one table in one section (the one holding most of them): a question about
    a change between two years is answered by two rows, and only rows side by side get the
    sentence that states the change (the 0.5B's CO2 report had 1950 in one section and
    2024 in another, and no sentence said how emissions changed)."""
    count: dict[str, Counter[int]] = {}
    for i, facts in enumerate(planned):
        for f in facts:
            if f.row:
                count.setdefault(table_of.get(f.passage_id, ""), Counter())[i] += 1
    home = {t: c.most_common(1)[0][0] for t, c in count.items()}
    out: list[list[Fact]] = [[] for _ in planned]
    for i, facts in enumerate(planned):
        for f in facts:
            out[home[table_of.get(f.passage_id, "")] if f.row else i].append(f)
    return out
