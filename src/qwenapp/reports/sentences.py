"""Sentences, numbers and names: the units every report check works on.

A report is verified sentence by sentence, so splitting must be right in
both scripts: Latin text ends a sentence at ``. ! ?`` followed by a space
and a capital (not at "Dr. Tracy", "J. A. Riis", "e.g. this" or "2.5"),
CJK text at ``。！？`` with no space at all. Hard-wrapped lines (PDFs, plain
text) are joined first; table rows (``a | b | c``, as the library stores
tables) stay one unit each and become "header value" facts.

Numbers and names are what a small model invents most (a date, an amount,
a person from another story), so they are extracted here once and checked
by :mod:`.verify` against the cited passage.
"""

from __future__ import annotations

import re

from ..language import is_cjk_text
from ..library.terms import content_terms

__all__ = [
    "CJK",
    "names_in",
    "numbers_in",
    "split_sentences",
    "stem_terms",
    "table_facts",
    "words",
]

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_CHAR = re.compile(f"[{CJK}]")
_ABBREV = frozenset((
    "mr", "mrs", "ms", "dr", "st", "no", "vs", "etc", "e.g", "i.e", "fig", "jr", "sr", "co",
    "inc", "ltd", "u.s", "pp", "vol", "ch", "sec", "art", "approx", "cf", "al", "gen", "col",
    "capt", "lt", "rev", "hon", "prof", "mt", "ft", "viz", "ave", "u.k", "nos",
))
_LATIN_END = re.compile(r"[.!?]+[\"'”’)\]]*(?:\[\d{1,3}\])?"  # a footnote mark: "scavengers.[3]"
                        r"(?=\s+[\"'“‘(\[]?[A-Z0-9\u00c0-\u00de¿¡]|\s*$)")
_CJK_END = re.compile(r"[。！？!?]+[”’」』）)]*|；(?=\s*$)")
_TABLE_ROW = re.compile(r"^[^|\n]*(?:\s\|\s[^|\n]*){1,}$")


def _is_table(para: str) -> bool:
    lines = [ln for ln in para.splitlines() if ln.strip()]
    return len(lines) >= 2 and sum(1 for ln in lines if _TABLE_ROW.match(ln)) >= len(lines) - 1


def _join_lines(para: str) -> str:
    """Hard-wrapped lines into one line: a space between Latin words, none between CJK."""
    out = ""
    for line in (ln.strip() for ln in para.splitlines()):
        if not line:
            continue
        if out and not (_CJK_CHAR.match(out[-1]) and _CJK_CHAR.match(line[0])):
            out += " "
        out += line
    return out


_ITEM = re.compile(r"\n(?=\s*(?:[-*•#]|\d+[.)、]|第[一二三四五六七八九十百千零]+条)"
                   r"\s*)")
_ENDS = tuple(".!?。！？;；:：,，\"”’)")


def _headings(block: str) -> list[str]:
    """Split off heading lines: short, unpunctuated, after a sentence end or at the start."""
    lines = block.splitlines()
    out: list[list[str]] = [[]]
    for i, line in enumerate(lines):
        bare = line.strip()
        prev_ended = i == 0 or lines[i - 1].strip().endswith(_ENDS[:7])
        # a line the next one continues in lower case is a hard-wrapped sentence ("(1)
        # Insist on doing everything / through “channels.”"), not a heading
        heading = (bare and i + 1 < len(lines) and prev_ended and len(bare) < 50
                   and len(bare.split()) <= 6 and not bare.endswith(_ENDS)
                   and not lines[i + 1].lstrip()[:1].islower())
        if heading:
            if out[-1]:
                out.append([])
            out[-1].append(line)
            out.append([])
        else:
            out[-1].append(line)
    return ["\n".join(b) for b in out if any(x.strip() for x in b)]


def _split_latin(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _LATIN_END.finditer(text):
        end = m.end()
        before = text[start:m.start() + 1]
        word = re.search(r"([A-Za-z.]+)\.$", before)
        if m.group(0).startswith(".") and word:
            w = word.group(1).lower().rstrip(".")
            if w in _ABBREV or len(w) == 1:  # "Dr." "e.g." and initials like "J."
                continue
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def _split_cjk(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _CJK_END.finditer(text):
        piece = text[start:m.end()].strip()
        if piece:
            out.extend(_split_latin(piece) if not is_cjk_text(piece) else [piece])
        start = m.end()
    rest = text[start:].strip()
    if rest:
        out.extend(_split_latin(rest) if not is_cjk_text(rest) else [rest])
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order; each table row, heading or list item is one."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if not para.strip():
            continue
        if _is_table(para):
            out.extend(ln.strip() for ln in para.splitlines() if ln.strip())
            continue
        # list items and headings are their own units, even without a blank line before them
        blocks = [b for chunk in _ITEM.split(para) for b in _headings(chunk)]
        for block in blocks:
            line = _join_lines(block)
            if not line:
                continue
            out.extend(_split_cjk(line) if _CJK_CHAR.search(line) else _split_latin(line))
    return [s for s in out if s]


def table_facts(text: str, title: str = "") -> list[str]:
    """Rows of a ``a | b | c`` table (first line the header) as "header value" sentences,
    the first column naming the row: a sentence a reader (and a writer) can take as it
    stands ("The global table gives, for Year 2010: Total 9087 and Coal 3796.")."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2 or not _is_table("\n".join(lines)):
        return []
    header = [h.strip() for h in lines[0].split("|")]
    out = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split("|")]
        if len(cells) != len(header):
            continue
        pairs = [f"{h} {c}" for h, c in zip(header, cells, strict=True) if c]
        if len(pairs) > 1 and cells[0]:  # the first column names the row: "Year 2010"
            rest = ", ".join(pairs[1:-1]) + (" and " if len(pairs) > 2 else "") + pairs[-1]
            where = f"The {title} table gives" if title else "The table gives"
            out.append(f"{where}, for {pairs[0]}: {rest}.")
        elif pairs:
            out.append((f"{title}: " if title else "") + ", ".join(pairs) + ".")
    return out


_WORD = re.compile(rf"[^\W{CJK}]+|[{CJK}]", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words (every CJK character is one): the unit of repetition checks."""
    return _WORD.findall(text.lower())


_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er",
             "ed", "es", "ly", "s")


def _stem(term: str) -> str:
    if len(term) <= 4 or not term.isascii() or not term.isalpha():
        return term
    for suf in _SUFFIXES:
        if term.endswith(suf) and len(term) - len(suf) >= 3:
            term = term[: -len(suf)]
            break
    return term[:-1] if term.endswith("e") and len(term) > 4 else term


def stem_terms(text: str) -> set[str]:
    """Content terms (CJK bigrams), crudely stemmed so "recalled" meets "recall"."""
    return {_stem(t) for t in content_terms(text)}


# ---- numbers -------------------------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,，]*(?:\.\d+)?(?:%|％)?")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000, "亿": 100000000}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万亿]{2,}")


def _cn_value(run: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit >= 10000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def _norm_number(raw: str) -> str:
    s = raw.replace(",", "").replace("，", "").replace("％", "%").lstrip("+")
    pct = s.endswith("%")
    s = s.rstrip("%")
    try:
        value = float(s)
    except ValueError:
        return raw
    text = f"{value:g}" if abs(value) < 1e15 else s
    return text + ("%" if pct else "")


def numbers_in(text: str) -> set[str]:
    """Every number in ``text``, normalised ("1,000" = "1000", "二十八" = "28")."""
    out = {_norm_number(m.group(0)) for m in _NUMBER.finditer(text)
           if any(c.isdigit() for c in m.group(0))}
    for m in _CN_NUMBER.finditer(text):
        value = _cn_value(m.group(0))
        if value is not None:
            out.add(f"{value:g}")
    return out


# ---- names ---------------------------------------------------------------------------

_NAME = re.compile(r"\b[A-Z][\w'’\-]*[A-Za-z0-9]|\b[A-Z]\b")
_STARTERS = frozenset((
    "the", "a", "an", "in", "on", "at", "this", "that", "these", "those", "it", "its", "there",
    "however", "moreover", "furthermore", "also", "according", "as", "for", "by", "from",
    "with", "while", "when", "although", "because", "since", "after", "before", "many",
    "most", "some", "each", "every", "one", "both", "such", "to", "of", "and", "but", "or",
    "if", "they", "he", "she", "we", "his", "her", "their", "our", "overall", "finally",
    "first", "second", "third", "thus", "therefore", "here", "today", "instead", "other",
    "all", "any", "no", "not", "only", "even", "yet", "so", "then", "what", "which", "who",
    "how", "why", "where", "under", "over", "between", "among", "during", "without",
    "similarly", "additionally", "meanwhile", "notably", "specifically", "importantly",
    "le", "la", "les", "un", "une", "des", "el", "los", "las", "der", "die", "das", "ein",
    "eine", "en", "il", "elle", "ce", "cette",
))


def names_in(text: str, lang: str = "en") -> set[str]:
    """Proper names and acronyms in Latin-script text, lower-cased.

    A capitalised word counts unless it opens a sentence as an ordinary word would
    ("The", "However"). German capitalises every noun, so there only acronyms and
    mixed-case words count.
    """
    out: set[str] = set()
    for sentence in split_sentences(text) or [text]:
        first = True
        for m in _NAME.finditer(sentence):
            word = m.group(0).strip("'’-")
            low = word.lower().removesuffix("'s").removesuffix("’s")
            at_start = first and sentence[: m.start()].strip(" \"'“‘(*-") == ""
            first = False
            if len(word) < 2 and not word.isupper():
                continue
            if lang.startswith("de") and not (word.isupper() or any(c.isupper()
                                                                   for c in word[1:])):
                continue
            if at_start and (low in _STARTERS or not word.isupper()):
                continue
            if low in _STARTERS and not word.isupper():
                continue
            out.add(low)
    return out
