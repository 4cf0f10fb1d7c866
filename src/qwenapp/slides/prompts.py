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
from .headings import sides_of
from .language import Language
from .outline import ContentKind, Outline, kinds_by_code
from .sources import Passage

__all__ = ["Brief", "alternatives_messages", "data_messages", "instruction_text",
           "outline_messages", "retry_note", "shorten_messages", "slide_messages"]


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
    "taken": "These slides are already planned (do not repeat them): {heads}",
    "title": '"title" is the deck title, specific to the topic; ',
    "outline": (
        'In the JSON, {title}"sub" is a one-line '
        'subtitle; "slides" lists exactly {count} content slides in a logical order, each '
        'with "head", a specific heading of at most eight words about one distinct aspect, '
        'and "kind": {kinds}. No two headings may say the same thing. Never write generic '
        "template wording."
    ),
    "outline_heads": (
        'In the JSON, {title}"sub" is a one-line '
        'subtitle; "slides" lists exactly {count} slide headings in a logical order, each at '
        "most eight words on one distinct aspect. Where the topic allows, one heading "
        'compares two named options (with "vs") and one gives the steps to take (beginning '
        '"How to"). No introduction, overview or conclusion slide (the deck has its own '
        "title, agenda and closing slides). No two headings may say the same thing. Never "
        "write generic template wording."
    ),
    "kind_bullets": '"bullets" for key points',
    "kind_compare": '"compare" for two sides or options side by side',
    "kind_table": '"table" for facts about a few items in rows and columns',
    "kind_kpi": '"kpi" for two to four key figures from the sources',
    "kind_quote": '"quote" for a striking sentence quoted from a source',
    "kind_process": '"process" for steps in order',
    "kind_timeline": '"timeline" for events by date',
    "deck": "The deck: {title}",
    "all": "Its slides:",
    "write": 'Now write the content of slide {index}: "{heading}".',
    "cite": (
        'Use only facts from these sources, and list the ids of the sources you use in "src":'
    ),
    "said": "Already said on other slides (say something else): {said}",
    "bullets": ('"points": three or four short, concrete points of at most ten words each, '
                "each a complete statement that adds to the heading, not a copy of it."),
    "compare": ('"left" and "right" are the two things compared, each with "head" (its short '
                'name, not a slide heading) and "points" (two to four short points where they '
                "differ)."),
    "compare_sides": ('"left": two to four short points on {a}; "right": two to four short '
                      "points on {b}; each point says where the two differ."),
    "table": ('"cols": two to four column names. "rows": two to four rows, one short cell per '
              "column."),
    "kpi": ('"stats": two to four key figures from the sources, each "v" (the figure as '
            'written, such as 45% or 1.2 M) and "l" (what it counts, a few words).'),
    "quote": ('"q": the sentence to quote. "by": who said or wrote it, as the source names '
              "them."),
    "process": ('"steps": three to five steps in order, each "l" (a short name) and "t" (one '
                "short sentence)."),
    "timeline": ('"steps": three to five events in date order, each "l" (the date or period, '
                 'from the sources) and "t" (what happened, one short sentence).'),
    "data": ('This slide shows the data below as a {what}. Write "head": a specific heading '
             'of at most eight words saying what the data is about, and "take": one sentence '
             "on what it shows, using only figures from the data."),
    "chart_word": "chart",
    "table_word": "table",
    "shorten": ("Rewrite each line below in at most {limit} characters, keeping its meaning, "
                'as a complete phrase. "lines": the rewritten lines, in the same order.'),
    "alternatives": ('Write "heads": {n} new slide headings for this deck, each at most eight '
                     "words and on a specific aspect of the topic that none of the headings "
                     "above covers, all different from each other."),
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
    "taken": "以下幻灯片已经规划（不要重复）：{heads}",
    "title": "\"title\" 是紧扣主题的演示标题；",
    "outline": (
        "JSON 中，{title}\"sub\" 是一行副标题；\"slides\" 按合理顺序"
        "列出正好 {count} 张内容幻灯片，每张有 \"head\"（不超过十五个字的具体标题，各讲主题的"
        "一个不同方面）和 \"kind\"：{kinds}。标题不能重复，也不要写空泛的模板文字。"
    ),
    "outline_heads": (
        "JSON 中，{title}\"sub\" 是一行副标题；\"slides\" 按合理顺序"
        "列出正好 {count} 个幻灯片标题，每个不超过十五个字，各讲主题的一个不同方面。如主题允许，"
        "其中一个标题对比两个具体的选项（标题中含“与”和“对比”），一个标题讲要采取的步骤（以“如何”"
        "开头）。不要引言、概述或总结页（演示文稿另有封面、目录和结束页）。标题不能重复，"
        "也不要写空泛的模板文字。"
    ),
    "kind_bullets": "\"bullets\" 表示要点",
    "kind_compare": "\"compare\" 表示两方面的对比",
    "kind_table": "\"table\" 表示用行列呈现几项事实",
    "kind_kpi": "\"kpi\" 表示资料中的二到四个关键数字",
    "kind_quote": "\"quote\" 表示引用资料中的一句话",
    "kind_process": "\"process\" 表示按顺序的步骤",
    "kind_timeline": "\"timeline\" 表示按日期的事件",
    "deck": "演示文稿：{title}",
    "all": "全部幻灯片：",
    "write": "现在撰写第 {index} 张幻灯片的内容：“{heading}”。",
    "cite": "只使用以下资料中的事实，并在 \"src\" 中列出所用资料的编号：",
    "said": "其他幻灯片已经说过（请说别的）：{said}",
    "bullets": ("\"points\"：三到四条简短、具体的要点，每条不超过二十五个字，每条都是完整的陈述，"
                "补充标题而不是重复标题。"),
    "compare": ("\"left\" 和 \"right\" 是对比的两个对象，各有 \"head\"（对象的简短名称，不是幻灯片"
                "标题）和 \"points\"（二到四条简短要点，说明两者的不同）。"),
    "compare_sides": ("\"left\"：关于{a}的二到四条简短要点；\"right\"：关于{b}的二到四条简短要点；"
                      "每条说明两者的不同。"),
    "table": "\"cols\"：二到四个列名。\"rows\"：二到四行，每行每列一个简短单元格。",
    "kpi": ("\"stats\"：资料中的二到四个关键数字，每个有 \"v\"（原文中的数字，如 45% 或 1.2 亿）"
            "和 \"l\"（它表示什么，几个字）。"),
    "quote": "\"q\"：要引用的句子。\"by\"：说这句话或写这句话的人（按资料的写法）。",
    "process": "\"steps\"：按顺序的三到五个步骤，每步有 \"l\"（简短名称）和 \"t\"（一句短话）。",
    "timeline": ("\"steps\"：按日期排列的三到五个事件，每个有 \"l\"（资料中的日期或时期）和 "
                 "\"t\"（发生了什么，一句短话）。"),
    "data": ("这张幻灯片用{what}展示下面的数据。写 \"head\"：不超过十五个字的具体标题，说明数据"
             "的内容；\"take\"：一句话说明数据表明了什么，只用数据中的数字。"),
    "chart_word": "图表",
    "table_word": "表格",
    "shorten": ("把下面每一行改写为不超过 {limit} 个字，保留原意，写成完整的短语。"
                "\"lines\"：改写后的各行，顺序不变。"),
    "alternatives": ("写 \"heads\"：{n} 个新的幻灯片标题，每个不超过十五个字，各讲主题中上面的标题"
                     "都没有涉及的一个具体方面，彼此不同。"),
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


def outline_messages(
    brief: Brief, count: int, kinds: Sequence[ContentKind], source_digest: str,
    taken: Sequence[str] = (), title: bool = True,
) -> list[Message]:
    """The outline request; ``title``: ask for a deck title (else the topic is one)."""
    t = _t(brief.language)
    lines = _head(brief)
    if source_digest:
        lines += [t["sources"], source_digest]
    if taken:
        lines.append(t["taken"].format(heads="; ".join(taken)))
    head = t["title"] if title else ""
    if kinds_by_code(kinds):  # the headings decide the kinds: no kind asked for
        lines.append(t["outline_heads"].format(count=count, title=head))
    else:
        kind_text = "; ".join(t[f"kind_{k}"] for k in kinds)
        lines.append(t["outline"].format(count=count, kinds=kind_text, title=head))
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def _deck(brief: Brief, outline: Outline) -> list[str]:
    """The deck-wide prefix of every slide request (the same each time: prompt-cached)."""
    t = _t(brief.language)
    lines = _head(brief)
    lines.append(t["deck"].format(title=outline.title))
    lines.append(t["all"])
    lines += [f"{i}. {s.heading}" for i, s in enumerate(outline.slides, 1)]
    return lines


def slide_messages(
    brief: Brief, outline: Outline, index: int, heading: str, kind: ContentKind,
    passages: Sequence[Passage] = (), said: Sequence[str] = (),
) -> list[Message]:
    """The request for one slide: a deck-wide prefix (cached), then this slide."""
    t = _t(brief.language)
    lines = _deck(brief, outline)
    # what the kind's fields hold comes before the slide's own lines: consecutive slides
    # of one kind then share it in the cached prefix (about 35 tokens a slide that the
    # 1.5B's prompt evaluation no longer repeats)
    sides = sides_of(heading) if kind == "compare" else None
    if sides is not None:  # the columns are the two sides the heading names
        lines.append(t["compare_sides"].format(a=sides[0], b=sides[1]))
    else:
        lines.append(t[kind])
    lines.append(t["write"].format(index=index, heading=heading))
    if passages:
        lines.append(t["cite"])
        lines += [f"[{p.id}] {p.title}, {p.location}: {p.text}" for p in passages]
    if said:
        lines.append(t["said"].format(said=" / ".join(said)))
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def data_messages(brief: Brief, table_text: str, chart: bool,
                  taken: Sequence[str] = ()) -> list[Message]:
    """The request for a data slide's heading and takeaway (the data itself is code's)."""
    t = _t(brief.language)
    lines = _head(brief)
    if taken:
        lines.append(t["taken"].format(heads="; ".join(taken)))
    lines.append(t["data"].format(what=t["chart_word" if chart else "table_word"]))
    lines.append(table_text)
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def alternatives_messages(brief: Brief, title: str, covered: Sequence[str],
                          n: int) -> list[Message]:
    """One request for ``n`` new headings the deck does not cover (to fill the outline,
    or to replace slides dropped as repeats): one call instead of one per heading."""
    t = _t(brief.language)
    lines = _head(brief)
    lines.append(t["deck"].format(title=title))
    if covered:
        lines.append(t["taken"].format(heads="; ".join(covered)))
    lines.append(t["alternatives"].format(n=n))
    return [Message("system", t["system"]), Message("user", "\n".join(lines))]


def shorten_messages(lang: Language, lines: Sequence[str], limit: int) -> list[Message]:
    t = _t(lang)
    body = "\n".join(f"{i}. {x}" for i, x in enumerate(lines, 1))
    return [Message("system", t["system"]),
            Message("user", t["shorten"].format(limit=limit) + "\n" + body)]


def retry_note(messages: list[Message], lang: Language, reason: str) -> list[Message]:
    """The same request, told why the last answer was rejected."""
    last = messages[-1]
    note = _t(lang)["retry"].format(reason=reason)
    return [*messages[:-1], Message(last.role, f"{last.content}\n{note}")]
