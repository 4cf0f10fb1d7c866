"""Prompts for the outline and for each slide.

Rules learnt from small local models:

* no example content anywhere: a 0.5B model copies an example deck word for
  word, so fields are described in prose and the JSON shape comes from the
  schema (constrained decoding), never from a sample;
* the request's language is stated, and for Chinese the instructions are
  themselves in Chinese (a model answers in the language it is spoken to);
* every slide request starts with the same deck-wide prefix, so the
  engine's prompt cache serves it, and ends with what is specific to the slide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models.events import Message
from .language import Language
from .outline import ContentKind, Outline, PlannedSlide
from .sources import Passage

__all__ = ["Brief", "instruction_text", "outline_messages", "retry_note", "slide_messages"]


@dataclass(frozen=True, slots=True)
class Brief:
    """What the user asked for, as the prompts use it."""

    topic: str
    language: Language
    audience: str = ""
    tone: str = ""
    notes: str = ""  # the user's answers to clarifying questions, or extra instructions


_EN = {
    "system": ("You write presentation slides. You answer with one compact JSON object on a "
               "single line, and nothing else."),
    "plan": "Plan a slide deck about: {topic}",
    "audience": "Audience: {audience}",
    "tone": "Tone: {tone}",
    "notes": "The user's notes (answers to clarifying questions):\n{notes}",
    "lang": "Write every text in {language}.",
    "sources": "Base the deck on these source excerpts:",
    "numbers": "Numbers that may be charted (use no other numbers): {numbers}",
    "outline": (
        'In the JSON, "title" is the deck title, specific to the topic; "sub" is a one-line '
        'subtitle; "slides" lists exactly {count} content slides in a logical order, each '
        'with "head", a specific heading of at most eight words about one distinct aspect, '
        'and "kind": {kinds}. No two headings may say the same thing. Never write generic '
        "template wording."
    ),
    "kind_bullets": '"bullets" for key points',
    "kind_compare": '"compare" for two sides or options side by side',
    "kind_table": '"table" for facts about a few items in rows and columns',
    "kind_chart": '"chart" only for the numbers given above',
    "deck": "The deck: {title}",
    "all": "Its slides:",
    "write": 'Now write the content of slide {index}: "{heading}".',
    "cite": (
        'Use only facts from these sources, and list the ids of the sources you use in "src":'
    ),
    "bullets": (
        '"points": three to five short, concrete bullet points of at most fifteen words each, '
        'specific to this slide. "notes": what the speaker says, two or three sentences.'
    ),
    "compare": (
        '"left" and "right" are the two sides compared, each with "head" (the short name of '
        'that side) and "points" (two to four short points). "notes": what the speaker says, '
        "two or three sentences."
    ),
    "table": (
        '"cols": two to four column names. "rows": two to four rows, each with one short cell '
        'per column. "notes": what the speaker says, two or three sentences.'
    ),
    "chart": (
        '"chart" has "type" (bar compares items, line shows a trend over time, pie shows '
        'shares of a whole), "labels" (the name of each item or year) and "values" (one '
        'number per label, only numbers given above). "points": one to three short points on '
        'what the numbers show. "notes": what the speaker says, two or three sentences.'
    ),
    "avoid": "Do not repeat the heading or the other slides.",
    "retry": "Your previous answer was rejected: {reason}. Write a new, correct answer.",
}

_ZH = {
    "system": ("你负责撰写演示文稿。只输出一个紧凑的单行 JSON 对象，不要输出其他内容。"
               "所有文字都用简体中文。"),
    "plan": "为以下主题规划一份演示文稿：{topic}",
    "audience": "受众：{audience}",
    "tone": "语气：{tone}",
    "notes": "用户的补充说明（对澄清问题的回答）：\n{notes}",
    "lang": "所有文字都必须用{language}书写。",
    "sources": "根据以下资料摘录来制作：",
    "numbers": "图表只能使用这些数字：{numbers}",
    "outline": (
        "JSON 中，\"title\" 是紧扣主题的演示标题；\"sub\" 是一行副标题；\"slides\" 按合理顺序"
        "列出正好 {count} 张内容幻灯片，每张有 \"head\"（不超过十五个字的具体标题，各讲主题的"
        "一个不同方面）和 \"kind\"：{kinds}。标题不能重复，也不要写空泛的模板文字。"
    ),
    "kind_bullets": "\"bullets\" 表示要点",
    "kind_compare": "\"compare\" 表示两方面的对比",
    "kind_table": "\"table\" 表示用行列呈现几项事实",
    "kind_chart": "\"chart\" 仅用于上面给出的数字",
    "deck": "演示文稿：{title}",
    "all": "全部幻灯片：",
    "write": "现在撰写第 {index} 张幻灯片的内容：“{heading}”。",
    "cite": "只使用以下资料中的事实，并在 \"src\" 中列出所用资料的编号：",
    "bullets": (
        "\"points\"：三到五条简短、具体的要点，每条不超过三十个字，紧扣本页标题。"
        "\"notes\"：演讲者要说的话，两三句。"
    ),
    "compare": (
        "\"left\" 和 \"right\" 是对比的两方面，各有 \"head\"（该方面的简短名称）和 "
        "\"points\"（二到四条简短要点）。\"notes\"：演讲者要说的话，两三句。"
    ),
    "table": (
        "\"cols\"：二到四个列名。\"rows\"：二到四行，每行每列一个简短单元格。"
        "\"notes\"：演讲者要说的话，两三句。"
    ),
    "chart": (
        "\"chart\" 包含 \"type\"（bar 比较各项，line 表示随时间的趋势，pie 表示占比）、"
        "\"labels\"（每项或每年的名称）和 \"values\"（每个标签一个数字，只用上面给出的数字）。"
        "\"points\"：一到三条简短要点，说明数字的含义。\"notes\"：演讲者要说的话，两三句。"
    ),
    "avoid": "不要重复标题或其他幻灯片的内容。",
    "retry": "上一次的回答无效：{reason}。请重新给出正确的回答。",
}


def _t(lang: Language) -> dict[str, str]:
    return _ZH if lang.script == "han" else _EN


def instruction_text(lang: Language) -> str:
    """All fixed prompt wording (a reply that copies it is rejected)."""
    parts = []
    for text in _t(lang).values():
        for piece in text.split("{"):
            parts.append(piece.split("}")[-1])
    return "\n".join(parts)


def _head(brief: Brief) -> list[str]:
    t = _t(brief.language)
    lines = [t["plan"].format(topic=brief.topic)]
    if brief.audience:
        lines.append(t["audience"].format(audience=brief.audience))
    if brief.tone:
        lines.append(t["tone"].format(tone=brief.tone))
    if brief.notes:
        lines.append(t["notes"].format(notes=brief.notes))
    lines.append(t["lang"].format(language=brief.language.name))
    return lines


def _numbers(numbers: Sequence[float]) -> str:
    return ", ".join(str(int(n)) if n == int(n) else str(n) for n in numbers)


def outline_messages(
    brief: Brief, count: int, kinds: Sequence[ContentKind], source_digest: str,
    numbers: Sequence[float],
) -> list[Message]:
    t = _t(brief.language)
    lines = _head(brief)
    if source_digest:
        lines += [t["sources"], source_digest]
    if "chart" in kinds and numbers:
        lines.append(t["numbers"].format(numbers=_numbers(numbers)))
    kind_text = "; ".join(t[f"kind_{k}"] for k in kinds)
    lines.append(t["outline"].format(count=count, kinds=kind_text))
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def slide_messages(
    brief: Brief, outline: Outline, index: int, planned: PlannedSlide,
    passages: Sequence[Passage], numbers: Sequence[float], kind: ContentKind | None = None,
) -> list[Message]:
    """The request for one slide: a deck-wide prefix (cached), then this slide."""
    t = _t(brief.language)
    kind = kind or planned.kind
    lines = _head(brief)
    lines.append(t["deck"].format(title=outline.title))
    lines.append(t["all"])
    lines += [f"{i}. {s.heading}" for i, s in enumerate(outline.slides, 1)]
    lines.append(t["write"].format(index=index, heading=planned.heading))
    if passages:
        lines.append(t["cite"])
        lines += [f"[{p.id}] {p.title}, {p.location}: {p.text}" for p in passages]
    if kind == "chart" and numbers:
        lines.append(t["numbers"].format(numbers=_numbers(numbers)))
    lines.append(t[kind])
    lines.append(t["avoid"])
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def retry_note(messages: list[Message], lang: Language, reason: str) -> list[Message]:
    """The same request, told why the last answer was rejected."""
    last = messages[-1]
    note = _t(lang)["retry"].format(reason=reason)
    return [*messages[:-1], Message(last.role, f"{last.content}\n{note}")]
