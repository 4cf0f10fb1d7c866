"""Pure checks on generated text: placeholders, copies, duplicates, numbers.

Small models copy template text ("Presentation Title", "Row 1, Col 1"),
echo the instructions, and repeat themselves. Each of these is detected here
and makes the output invalid, so the pipeline retries instead of rendering it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "clean_line",
    "contained",
    "copied_instruction",
    "echoes",
    "extract_numbers",
    "likeness",
    "near_duplicate",
    "number_in",
    "opening_repeat",
    "placeholder_reason",
    "similar",
    "tokens",
    "truncated",
    "unsupported_numbers",
    "without_subject",
]

_PLACEHOLDER_PATTERNS = [
    r"\b(presentation|slide|deck|chart|table|section) (title|heading|subtitle)\b",
    r"\b(your|the) (title|subtitle|heading|text|name|company|topic) here\b",
    r"\b(first|second|third|fourth|fifth|sixth|next|another) (bullet|point|item)\b",
    r"\bbullet ?points?\b",
    r"\b(row|col|column|cell|item|point|bullet|label|category|series|value|heading|"
    r"title|subtitle|topic|text) ?#?\d+\b",
    r"\bclick (here )?to (add|edit|insert)\b",
    r"\b(add|insert|enter|type) (your )?(text|title|content|notes?) here\b",
    r"\blorem ipsum\b",
    r"\b(speaker )?notes? (go )?here\b",
    r"\bplaceholder\b",
    r"\bsample (text|title|content|data)\b",
    r"\bexample (title|text|bullet|point|heading|slide)\b",
    r"\{\{|\}\}|\{[a-z_]+\}|\[(insert|your|add|name|title|text)[^\]]*\]|<[a-z_ ]+>",
    r"^\W*(tbd|todo|tba|n/?a|none|null|xxx+|x+|\.\.\.|…|-+)\W*$",
    r"^\s*(title|subtitle|heading|head|points?|notes?|bullets?|text|string|content|sub|kind|"
    r"left|right|cols?|rows?|labels?|values?|chart|table)\s*$",
    r"单击此处|点击(此处)?添加|在此(处)?(输入|添加)|此处(输入|添加)|占位|示例(标题|文本|内容)",
    r"^(标题|要点|列|行|项目|类别|数值)[一二三四五六七八九十\d]+$",
    r"^第[一二三四五六七八九十\d]+(行|列|点|项|页)$",
    r"^(标题|副标题|要点|内容|备注)$",
]
_PLACEHOLDER = [re.compile(p, re.IGNORECASE) for p in _PLACEHOLDER_PATTERNS]

_BULLET_PREFIX = re.compile(r"^\s*(?:[-*•·●▪◦‣–—]+|\d{1,2}[.)、]|[a-z][.)]|[（(]\d+[)）])\s+",
                            re.IGNORECASE)
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?")


# A small model writes the schema's key into the value: "Head: Why open models win".
_KEY_PREFIX = re.compile(r"^(?:head(?:ing)?|title|sub(?:title)?|points?|bullets?|take(?:away)?|"
                         r"notes?|标题|副标题|要点|备注)\s*[:：]\s*", re.IGNORECASE)


def clean_line(text: str) -> str:
    """One line of slide text: whitespace collapsed, list markers, a key name written as a
    label ("Head: …") and wrapping quotes removed."""
    text = _WS.sub(" ", _CONTROL.sub("", text)).strip()
    text = _BULLET_PREFIX.sub("", text, count=1)
    text = _KEY_PREFIX.sub("", text, count=1)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'“”":
        text = text[1:-1].strip()
    return text.strip("*_ ").strip()


def placeholder_reason(text: str) -> str | None:
    """Why ``text`` looks like template filler rather than content, or None."""
    stripped = text.strip()
    if not stripped:
        return "an empty text"
    if len(_WORD.findall(stripped)) < 1 or (
        len(stripped) < 2 and not any("\u4e00" <= c <= "\u9fff" for c in stripped)
    ):
        return f"a text with no words ({stripped!r})"
    for pattern in _PLACEHOLDER:
        if pattern.search(stripped):
            return f"placeholder text ({stripped[:40]!r})"
    return None


def copied_instruction(text: str, instructions: str) -> bool:
    """Whether a generated text is a verbatim copy of a sentence of the instructions."""
    t = _WS.sub(" ", text).strip().lower()
    return len(t) >= 16 and t in _WS.sub(" ", instructions).lower()


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def tokens(text: str) -> set[str]:
    """Lower-case Latin words and Han character pairs, for overlap measures.

    Pairs, not single characters: two different Chinese sentences on one topic
    share most of their characters but few of their two-character words.
    """
    out = {w.lower() for w in _LATIN_WORD.findall(text)}
    for run in _HAN_RUN.findall(text):
        out.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return out


def similar(a: Iterable[str], b: Iterable[str], threshold: float = 0.75,
            subject: str = "") -> bool:
    """Jaccard overlap of the word sets of two texts is at least ``threshold`` (the
    deck's ``subject`` left out of both)."""
    ta = tokens(without_subject(" ".join(a), subject))
    tb = tokens(without_subject(" ".join(b), subject))
    if not ta or not tb:
        return False
    return len(ta & tb) / len(ta | tb) >= threshold


def contained(a: str, b: str, threshold: float = 0.9) -> bool:
    """Whether the shorter text's words are (nearly) all in the longer one: a restatement."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return False
    return len(ta & tb) / min(len(ta), len(tb)) >= threshold


def extract_numbers(text: str) -> set[float]:
    """Every number written in ``text`` (``1,234.5`` → 1234.5, ``45%`` → 45)."""
    out: set[float] = set()
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "").replace("−", "-")
        try:
            out.add(float(raw))
        except ValueError:
            continue
    return out


def number_in(value: float, allowed: set[float]) -> bool:
    """Whether ``value`` is one of the numbers in the sources (to float precision)."""
    return any(abs(value - n) <= 1e-9 * max(1.0, abs(n)) for n in allowed)


def _bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text.lower() if ch.isalnum())
    return {t[i : i + 2] for i in range(len(t) - 1)}


def without_subject(text: str, subject: str) -> str:
    """``text`` without the words of ``subject`` (the deck's topic): Latin words it holds,
    and Han characters in a pair it holds. What is left is what a line says *about* it."""
    if not subject:
        return text
    words = {w.lower() for w in _LATIN_WORD.findall(subject)}
    pairs = {run[i : i + 2] for run in _HAN_RUN.findall(subject) for i in range(len(run) - 1)}
    out = _LATIN_WORD.sub(lambda m: "" if m.group(0).lower() in words else m.group(0), text)
    drop = [False] * len(out)
    for i in range(len(out) - 1):
        if out[i : i + 2] in pairs:
            drop[i] = drop[i + 1] = True
    return " ".join("".join(c for c, d in zip(out, drop, strict=True) if not d).split())


def likeness(a: str, b: str, subject: str = "") -> float:
    """How alike two lines are, 0..1: the larger of word-set Jaccard and character-bigram
    Dice. Words catch reordered restatements, bigrams catch inflected or lightly
    edited copies ("They work by analysing…" / "They work by analyzing…"); Han text
    is measured by character pairs in both, so it is CJK aware.

    ``subject`` (the deck's topic) is left out of both first, when enough remains: two
    points about "open-weight language models" share that phrase, not their content
    ("…offer transparency" / "…reduce costs" measured 0.67 with it, 0.1 without)."""
    if subject:
        sa, sb = without_subject(a, subject), without_subject(b, subject)
        if len(tokens(sa)) >= 2 and len(tokens(sb)) >= 2:
            a, b = sa, sb
    ta, tb = tokens(a), tokens(b)
    words = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    ba, bb = _bigrams(a), _bigrams(b)
    chars = 2 * len(ba & bb) / (len(ba) + len(bb)) if ba and bb else 0.0
    return max(words, chars)


def near_duplicate(a: str, b: str, threshold: float = 0.7, subject: str = "") -> bool:
    """Whether two bullets say the same thing (measured by :func:`likeness`, the deck's
    ``subject`` left out), or one only restates part of the other: what is left of the
    shorter, three words or more, is all in the longer ("Open-weight models are not
    widely adopted." after "… are not widely adopted due to their complexity"), or, five
    words or more, four in five of them are (the 1.5B's "开源大模型的创新性提升性能与质量。"
    after "开源大模型创新性提升性能与质量，满足高性能高质量需求。": one 的 apart); or the
    two open with the same phrase that is most of the shorter line
    (:func:`opening_repeat`, across slides)."""
    if likeness(a, b, subject) >= threshold:
        return True
    if opening_repeat(a, b, subject, within=False) is not None:
        return True
    if not subject:
        return False
    sa, sb = without_subject(a, subject), without_subject(b, subject)
    least = min(len(tokens(sa)), len(tokens(sb)))
    return (least >= 3 and contained(sa, sb, 1.0)) or (least >= 5 and contained(sa, sb, 0.8))


_LEAD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]", re.IGNORECASE)


# Words that open many different points: sharing them says nothing about content.
_FUNCTION = frozenset([
    "a", "an", "the", "they", "it", "its", "their", "this", "these", "that", "those", "is",
    "are", "was", "be", "can", "will", "may", "of", "to", "in", "on", "for", "by", "with",
    "and", "or", "more", "most", *"的了和与及是在可以也更让使"])


def _weight(text: str, content: bool = False) -> float:
    """Length in words: a Latin word is one, a Han character half (two make a word);
    ``content``: function words and particles not counted."""
    return sum(0.5 if "\u4e00" <= t[0] <= "\u9fff" else 1.0 for t in _LEAD.findall(text.lower())
               if not content or t not in _FUNCTION)


def opening_repeat(a: str, b: str, subject: str = "", within: bool = True) -> str | None:
    """The phrase two lines both open with, when it makes them read as one point said
    twice; else None. Punctuation and case are ignored; Han text is compared character
    by character (it has no spaces), Latin text word by word.

    ``within`` one slide (bullets, cards, columns): the shared opening counts when it
    holds two content words (three Han characters) besides the deck's ``subject``. The
    1.5B's card slide "开源大模型的透明度" had four cards opening "开源大模型的透明度让…/使…":
    each pair passed the overlap measures, since what followed differed. The subject alone
    is no repeat: points about "open-weight language models" may all name them. Across
    slides the bar is higher, as two slides may well share a sentence pattern: two content
    words besides the subject *and* two thirds of the shorter line ("They work by
    analyzing…", four slides of the 0.5B)."""
    ta, tb = _LEAD.findall(a.lower()), _LEAD.findall(b.lower())
    n = 0
    while n < min(len(ta), len(tb)) and ta[n] == tb[n]:
        n += 1
    if n == 0:
        return None
    parts: list[str] = []
    for t in ta[:n]:  # the shared opening, written back: Han joined, Latin spaced
        han = "\u4e00" <= t[0] <= "\u9fff"
        parts.append(t if han and parts and "\u4e00" <= parts[-1][-1] <= "\u9fff"
                     else (" " + t if parts else t))
    phrase = "".join(parts)
    beyond = _weight(without_subject(phrase, subject) if subject else phrase, content=True)
    if within:
        return phrase if beyond >= 1.5 else None
    shorter = min(_weight(a), _weight(b))
    return phrase if beyond >= 2 and _weight(phrase) >= shorter * 2 / 3 else None


def echoes(line: str, heading: str) -> bool:
    """Whether a bullet only restates its slide's heading (e.g. "Q1: downloads by quarter"
    under "Downloads by quarter"): it holds nearly all the heading's words and little else."""
    th, tl = tokens(heading), tokens(line)
    if not th or not tl:
        return False
    covered = len(th & tl) / len(th)
    extra = len(tl - th)
    return likeness(line, heading) >= 0.75 or (covered >= 0.8 and extra <= max(2, len(th) // 2))


# Content words a bullet must hold to say something: the 1.5B's topic-only card slide "Why
# Open-Weight Models are More Efficient" read "They are more flexible." / "They are less
# flexible." (one and two content words), which no other check caught.
THIN_POINT = 3.0


def thin(line: str) -> bool:
    """Whether a point says too little to stand on a slide: fewer than :data:`THIN_POINT`
    content words (a Han character counts half, so "医疗健康" alone is thin too)."""
    return _weight(line, content=True) < THIN_POINT


def restates_topic(line: str, topic: str, share: float = 0.8) -> bool:
    """Whether a point only says the deck's topic again: most of its words are the topic's
    ("They are gaining adoption among developers", in a deck on "Why open-weight language
    models are gaining adoption among developers"). A point that names a short topic
    ("Qwen") and says more is not."""
    tl, tt = tokens(line), tokens(topic)
    return len(tl) >= 3 and bool(tt) and len(tl & tt) >= share * len(tl)


_LOCATOR = re.compile(r"\b(?:lines?|pages?|pp?\.)\s*\d+(?:\s*[-–]\s*\d+)?\b|\s>\s",
                      re.IGNORECASE)


def locator(text: str) -> bool:
    """Whether a line is (or holds) a source's location rather than words about the topic:
    the 0.5B headed a slide of its deck from a report "lines 61-120 > INTRODUCTION", the
    location of the passage it was shown."""
    return bool(_LOCATOR.search(text))


_DANGLING = re.compile(r"(?:\b(?:the|a|an|of|and|or|with|its|their|than|due to|such as)|"
                       r"[,;:，、；：的和与及])\s*$",
                       re.IGNORECASE)


def truncated(text: str) -> bool:
    """Whether a line looks cut off: an ellipsis, or a dangling "of the"/"and"/comma."""
    t = text.rstrip()
    return t.endswith(("…", "...")) or bool(_DANGLING.search(t))


# A digit glued to letters is a name ("Qwen2.5", "GPT-4", "7B"), not a figure.
_FIGURE = re.compile(r"(?<![\w.\-])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w.])|"
                     r"(?<![\w.\-])[-−]?\d+(?:\.\d+)?(?![\w]|\.\d)")


def unsupported_numbers(text: str, allowed: set[float]) -> list[str]:
    """The figures in ``text`` that are not among ``allowed`` (the request's and sources').

    Small whole numbers (up to 10) are words more than figures ("three steps"),
    and digits glued to letters are names; neither is checked.
    """
    out: list[str] = []
    for m in _FIGURE.finditer(text):
        raw = m.group(0)
        value = float(raw.replace(",", "").replace("−", "-"))
        pct = text[m.end() : m.end() + 1] in ("%", "％")
        if not pct and value == int(value) and 0 <= value <= 10:
            continue
        if not number_in(value, allowed) and not number_in(abs(value), allowed):
            out.append(raw)
    return out
