"""A revision request in words → typed edits of a saved deck, by rules (no model).

"make slide 3 a chart", "shorter bullets on slide 5", "add a slide about
licensing after slide 4", "remove the agenda", "merge slides 6 and 7",
"translate the deck into Chinese", "use the dark theme", "more formal":
slide numbers, verbs, kinds, theme names and languages are read by code, so
a small model can never turn "slide 3" into an edit of slide 4. The model
only writes the text of the slides an edit touches (:mod:`.revise`).

A request that names a slide the deck does not have, or that maps to no
edit, becomes a :class:`Clarify` with one short question instead of a guess.
Slides are numbered as a user sees them: the title slide is slide 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .deck import CONTENT_KINDS, Deck
from .language import LANGUAGES
from .outline import ContentKind
from .themes import THEMES

__all__ = [
    "Add",
    "Clarify",
    "Edit",
    "Merge",
    "Remove",
    "Restyle",
    "Rewrite",
    "SetTheme",
    "Shorten",
    "ToChart",
    "Translate",
    "needs_model",
    "parse_request",
]


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Write slide ``slide`` again, as ``kind`` (None: its own kind)."""

    slide: int
    kind: ContentKind | None = None


@dataclass(frozen=True, slots=True)
class ToChart:
    """Show slide ``slide``'s figures (or figures given in the request) as a chart."""

    slide: int
    request: str = ""


@dataclass(frozen=True, slots=True)
class Shorten:
    """Shorter lines on these slides (every content slide when the request names none)."""

    slides: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Add:
    """A new slide about ``topic`` after slide ``after``."""

    after: int
    topic: str
    kind: ContentKind = "bullets"


@dataclass(frozen=True, slots=True)
class Remove:
    slides: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Merge:
    """Slides ``first`` and ``second`` become one slide where ``first`` was."""

    first: int
    second: int


@dataclass(frozen=True, slots=True)
class Translate:
    language: str  # a key of LANGUAGES


@dataclass(frozen=True, slots=True)
class SetTheme:
    theme: str  # a key of THEMES


@dataclass(frozen=True, slots=True)
class Restyle:
    """Every content slide rewritten in ``tone`` ("formal", "simpler", ...)."""

    tone: str


Edit = Rewrite | ToChart | Shorten | Add | Remove | Merge | Translate | SetTheme | Restyle


@dataclass(frozen=True, slots=True)
class Clarify:
    """What to ask the user instead of guessing.

    ``recognized``: the request does ask for a change of this deck (a slide that
    does not exist, a theme there is none of), as against words in which
    nothing maps to an edit; a chat message is routed to a revision only then.
    """

    question: str
    recognized: bool = True


# ---------------------------------------------------------------- vocabulary

_KINDS: dict[str, ContentKind] = {
    "chart": "chart", "graph": "chart", "plot": "chart", "bar chart": "chart", "图表": "chart",
    "table": "table", "表格": "table", "timeline": "timeline", "时间线": "timeline",
    "process": "process", "steps": "process", "流程": "process",
    "comparison": "compare", "compare": "compare", "对比": "compare",
    "bullets": "bullets", "bullet points": "bullets", "list": "bullets", "要点": "bullets",
    "kpi": "kpi", "key figures": "kpi", "numbers": "kpi", "quote": "quote", "quotation": "quote",
    "引用": "quote",
}
_LANGS: dict[str, str] = {
    "english": "en", "chinese": "zh", "mandarin": "zh", "中文": "zh", "汉语": "zh",
    "简体中文": "zh",
    "french": "fr", "german": "de", "spanish": "es", "japanese": "ja", "日语": "ja", "日文": "ja",
    "英文": "en", "英语": "en", "法语": "fr", "德语": "de", "西班牙语": "es",
}
_TONES: dict[str, str] = {
    "formal": "formal", "professional": "formal", "正式": "formal",
    "casual": "casual, friendly", "informal": "casual, friendly", "friendlier": "casual, friendly",
    "simpler": "simple, plain words", "plainer": "simple, plain words",
    "non-technical": "simple, plain words", "less technical": "simple, plain words",
    "通俗": "simple, plain words", "more technical": "technical, precise",
    "persuasive": "persuasive", "upbeat": "upbeat",
}
_FRAME = {"title": "the title slide", "agenda": "the agenda", "closing": "the closing slide",
          "section": "a section divider"}

_NUM = r"(\d{1,3})"
_SLIDE_REF = re.compile(r"(?:slides?|page|#)\s*" + _NUM + r"((?:\s*(?:,|and|&|to|-|–)\s*"
                        + _NUM + r")*)|第\s*" + _NUM + r"\s*(?:张|页|頁)", re.IGNORECASE)
_MORE_NUMS = re.compile(r"(,|and|&|to|-|–)\s*" + _NUM, re.IGNORECASE)


def _refs(text: str) -> list[int]:
    """Slide numbers named in ``text``, in order ("slides 6 and 7", "slides 2-4", "第3张")."""
    out: list[int] = []
    for m in _SLIDE_REF.finditer(text):
        if m.group(4):
            out.append(int(m.group(4)))
            continue
        first = int(m.group(1))
        out.append(first)
        prev = first
        for sep, n in _MORE_NUMS.findall(m.group(2) or ""):
            k = int(n)
            if sep in ("to", "-", "–") and k > prev:
                out += list(range(prev + 1, k + 1))
            else:
                out.append(k)
            prev = k
    return list(dict.fromkeys(out))


def _named(text: str, deck: Deck) -> list[int]:
    """Slides named by role or heading: "the agenda", "the closing slide", "the last slide",
    "the slide about pricing" (a heading sharing its words)."""
    low = text.lower()
    out: list[int] = []
    roles = {"agenda": r"\bagenda\b|目录|议程", "title": r"\btitle slide\b|\bcover\b|封面|标题页",
             "closing": r"\b(?:closing|thank[- ]you|final) slide\b|结束页"}
    for i, s in enumerate(deck.slides, 1):
        if s.kind in roles and re.search(roles[s.kind], low):
            out.append(i)
    if re.search(r"\blast slide\b|最后一张", low):
        out.append(len(deck.slides))
    m = re.search(r"(?:slide|one)\s+(?:about|on|called|titled)\s+[\"“']?([^\"”',.;]+)", low)
    if m and not out:
        words = set(re.findall(r"\w{4,}", m.group(1)))
        for i, s in enumerate(deck.slides, 1):
            if words and words <= set(re.findall(r"\w{4,}", s.title.lower())):
                out.append(i)
    return list(dict.fromkeys(out))


def _kind_in(text: str) -> ContentKind | None:
    low = text.lower()
    m = re.search(r"\b(?:into|as|to)\s+(?:a|an)?\s*([a-z -]+?)(?:\s+slide)?\s*$|"
                  r"\b(?:a|an)\s+([a-z -]+?)(?:\s+slide)?\s*$", low)
    phrase = (m.group(1) or m.group(2)).strip() if m else ""
    if phrase in _KINDS:
        return _KINDS[phrase]
    for word in sorted(_KINDS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word), low):
            return _KINDS[word]
    return None


def _topic_of(text: str) -> str:
    m = re.search(r"\b(?:about|on|covering|for)\s+(.+?)(?:\s+(?:after|before|at the end|"
                  r"to the end|as)\b.*)?$", text, re.IGNORECASE)
    if m is None:
        m = re.search(r"关于(.+?)(?:的)?(?:幻灯片|一页|一张|$)", text)
    topic = (m.group(1) if m else "").strip(" .!\"“”'")
    return topic[:1].upper() + topic[1:] if topic.isascii() else topic


def _clauses(text: str) -> list[str]:
    parts = re.split(r"[;；。\n]|\.\s+|\band then\b|\bthen\b|，然后|然后", text)
    return [p.strip(" ,.") for p in parts if p.strip(" ,.")]


# ---------------------------------------------------------------- the parser

_EXAMPLES = ('"make slide 3 a chart", "shorter bullets on slide 5", "add a slide about '
             'licensing after slide 4", "remove the agenda", "merge slides 6 and 7", '
             '"translate the deck into Chinese", "use the dark theme" or "more formal"')


def _check(n: int, deck: Deck) -> Clarify | None:
    count = len(deck.slides)
    if not 1 <= n <= count:
        return Clarify(f"The deck has {count} slides, so there is no slide {n}. "
                       "Which slide do you mean?")
    return None


def _content(n: int, deck: Deck, verb: str) -> Clarify | None:
    if (bad := _check(n, deck)) is not None:
        return bad
    kind = deck.slides[n - 1].kind
    if kind not in CONTENT_KINDS:
        return Clarify(f"Slide {n} is {_FRAME.get(kind, 'a frame slide')}, which is made from "
                       f"the others; which content slide should I {verb}?")
    return None


def _one(clause: str, deck: Deck) -> Edit | Clarify | None:
    low = clause.lower()
    refs = _refs(clause) or _named(clause, deck)
    # theme: no slide involved
    for name in THEMES:
        if re.search(rf"\b{name}\b", low) and re.search(r"\btheme\b|\bmode\b|\bstyle\b|\blook\b|"
                                                        r"主题|风格", low):
            return SetTheme(name)
    m = re.search(r"\b(\w+)\s+(?:theme|mode)\b|(\S+?)主题", low)
    if m and re.search(r"\buse\b|\bswitch\b|\bapply\b|\bchange\b|换|用|使用", low):
        name = m.group(1) or m.group(2) or ""
        if name not in ("the", "a", "another", "different", "new"):
            return Clarify(f"There is no {name} theme; the themes are: {', '.join(THEMES)}.")
    # translation
    if re.search(r"\btranslat|\binto\s+\w+\s*$|\bin\s+(?:" + "|".join(
            w for w in _LANGS if w.isascii()) + r")\b|翻译|译成|改成.{0,3}(?:中文|英文)", low):
        for word, code in _LANGS.items():
            if word in low:
                if code not in LANGUAGES:
                    break
                return Translate(code)
        if re.search(r"\btranslat|翻译|译成", low):
            return Clarify("Into which language? I can write decks in English, Chinese, "
                           "French, German, Spanish and Japanese.")
    # structure
    if re.search(r"\b(?:remove|delete|drop|cut|get rid of|take out)\b|删除|删掉|去掉|移除", low):
        if not refs:
            return Clarify("Which slide should I remove? Say its number, e.g. "
                           '"remove slide 4".')
        for n in refs:
            if (bad := _check(n, deck)) is not None:
                return bad
            if deck.slides[n - 1].kind == "title":
                return Clarify("The title slide cannot be removed; which other slide did "
                               "you mean?")
        return Remove(tuple(refs))
    if re.search(r"\b(?:merge|combine|join)\b|合并", low):
        if len(refs) != 2:
            return Clarify('Which two slides should I merge? Say e.g. "merge slides 6 and 7".')
        for n in refs:
            if (bad := _content(n, deck, "merge")) is not None:
                return bad
        a, b = sorted(refs)
        return Merge(a, b)
    if re.search(r"\b(?:add|insert|append|new slide)\b|添加|增加|加一张|插入", low):
        topic = _topic_of(clause)
        if not topic:
            return Clarify('What should the new slide be about? Say e.g. "add a slide about '
                           'licensing after slide 4".')
        where = re.search(r"\b(after|before)\s+(?:slide\s*)?(\d{1,3})|(在)?第\s*(\d{1,3})\s*"
                          r"(?:张|页)(之后|后面|之前|前面)", low)
        last_content = max((i for i, s in enumerate(deck.slides, 1)
                            if s.kind not in ("closing",)), default=1)
        if where is not None:
            n = int(where.group(2) or where.group(4))
            before = (where.group(1) == "before") or (where.group(5) or "").endswith("前面") \
                or (where.group(5) or "") == "之前"
            if (bad := _check(n, deck)) is not None:
                return bad
            after = n - 1 if before else n
            if after < 1:
                return Clarify("A new slide cannot go before the title slide; after which "
                               "slide should it go?")
        else:
            after = last_content
        kind = _kind_in(re.sub(r"\babout\b.*", "", clause, flags=re.IGNORECASE)) or "bullets"
        return Add(after, topic, "bullets" if kind == "chart" else kind)
    # per-slide rewrites
    if re.search(r"\bshort(?:er|en)\b|\bconcise\b|\bbrief(?:er)?\b|\bfewer words\b|\btighter\b|"
                 r"更短|精简|简短|缩短", low):
        for n in refs:
            if (bad := _content(n, deck, "shorten")) is not None:
                return bad
        slides = tuple(refs) or tuple(i for i, s in enumerate(deck.slides, 1)
                                      if s.kind in CONTENT_KINDS)
        return Shorten(slides)
    if re.search(r"\b(?:make|turn|convert|change|show|redo|rewrite|regenerate|as)\b|改成|做成|"
                 r"变成|改为|重写", low) and refs:
        into = _kind_in(_SLIDE_REF.sub(" ", clause))
        n = refs[0]
        if (bad := _content(n, deck, "change")) is not None:
            return bad
        if len(refs) > 1:
            return Clarify("Which one slide should I change? Name one at a time, e.g. "
                           '"make slide 3 a chart".')
        if into == "chart":
            return ToChart(n, clause)
        if into is None and not re.search(r"\b(?:redo|rewrite|regenerate)\b|重写", low):
            return Clarify(f"What should slide {n} become? A chart, a table, a timeline, a "
                           "process, a comparison or bullets?")
        return Rewrite(n, into)
    for word, tone in _TONES.items():
        if re.search(rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word), low):
            return Restyle(tone)
    if refs:
        for n in refs:
            if (bad := _check(n, deck)) is not None:
                return bad
    return None


def parse_request(text: str, deck: Deck) -> list[Edit] | Clarify:
    """The edits ``text`` asks of ``deck``, in order, or the question to ask instead."""
    words = " ".join(text.split())
    if not words:
        return Clarify(f"What should I change? For example {_EXAMPLES}.", recognized=False)
    edits: list[Edit] = []
    for clause in _clauses(words):
        got = _one(clause, deck)
        if isinstance(got, Clarify):
            return got
        if got is None:
            return Clarify(f"I could not tell what to change in {clause!r}. Try for example "
                           f"{_EXAMPLES}.", recognized=bool(edits))
        edits.append(got)
    return edits


def needs_model(edits: list[Edit]) -> bool:
    """Whether applying ``edits`` calls the model (a theme change or a removal does not)."""
    return any(not isinstance(e, SetTheme | Remove) for e in edits)


def describe(edit: Edit) -> str:
    """What an edit will do, in words, for a progress line ("rewriting slide 3 as a chart")."""
    if isinstance(edit, Rewrite):
        return f"rewriting slide {edit.slide}" + (f" as {edit.kind}" if edit.kind else "")
    if isinstance(edit, ToChart):
        return f"making slide {edit.slide} a chart"
    if isinstance(edit, Shorten):
        return "shortening slide" + ("s " if len(edit.slides) > 1 else " ") + \
            ", ".join(map(str, edit.slides))
    if isinstance(edit, Add):
        return f"writing a slide about {edit.topic} after slide {edit.after}"
    if isinstance(edit, Remove):
        return "removing slide" + ("s " if len(edit.slides) > 1 else " ") + \
            ", ".join(map(str, edit.slides))
    if isinstance(edit, Merge):
        return f"merging slides {edit.first} and {edit.second}"
    if isinstance(edit, Translate):
        return f"translating the deck into {LANGUAGES[edit.language].name}"
    if isinstance(edit, SetTheme):
        return f"switching to the {edit.theme} theme"
    return f"rewriting the text slides in a {edit.tone} tone"


def touched(edits: list[Edit], deck: Deck) -> list[int]:
    """The slides (numbers in ``deck``) that the edits rewrite, remove or merge."""
    out: set[int] = set()
    content = {i for i, s in enumerate(deck.slides, 1) if s.kind in CONTENT_KINDS}
    for e in edits:
        if isinstance(e, Rewrite | ToChart):
            out.add(e.slide)
        elif isinstance(e, Shorten | Remove):
            out |= set(e.slides)
        elif isinstance(e, Merge):
            out |= {e.first, e.second}
        elif isinstance(e, Translate | Restyle):
            out |= content
    return sorted(out)


__all__ += ["describe", "touched"]
