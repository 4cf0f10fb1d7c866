"""The report's language: named by the user, or taken from the question."""

from __future__ import annotations

from ..library.terms import is_cjk_heavy

__all__ = ["LABELS", "NOTE_KEYS", "label", "language_name", "resolve_language"]

NOTE_KEYS = ("no_coverage", "empty")  # fixed sentences a section may hold instead of prose

_ALIASES = {
    "en": "en", "english": "en", "en-us": "en", "en-gb": "en", "英文": "en", "英语": "en",
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "chinese": "zh", "中文": "zh", "简体中文": "zh",
    "cn": "zh", "zh-tw": "zh-tw", "zh-hant": "zh-tw", "繁體中文": "zh-tw",
}

_NAMES = {"en": "English", "zh": "Simplified Chinese (简体中文)",
          "zh-tw": "Traditional Chinese (繁體中文)"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Executive summary", "conclusion": "Conclusion", "references": "References",
        "unsupported": "No retrieved source supports this section; read it as the model's own "
                       "words.",
        "no_coverage": "The sources found do not cover this topic.",
        "empty": "The model wrote nothing for this section.",
        "uncited": "No sources were found for this question; this report cites nothing and "
                   "rests on the model alone.",
        "question": "Question",
        "no_citations": "The model cited none of the retrieved sources; this report rests on "
                        "the model alone.",
    },
    "zh": {
        "summary": "摘要", "conclusion": "结论", "references": "参考文献",
        "unsupported": "本节没有检索到的来源支持，请视为模型自身的表述。",
        "no_coverage": "检索到的资料未涉及这一主题。",
        "empty": "模型没有为本节写出任何内容。",
        "uncited": "没有找到与该问题相关的资料；本报告未引用任何来源，仅基于模型本身。",
        "question": "问题",
        "no_citations": "模型没有引用任何检索到的资料；本报告仅基于模型本身。",
    },
}
LABELS["zh-tw"] = LABELS["zh"]


def resolve_language(requested: str, question: str) -> str:
    """A language code (``en``, ``zh``, ...) or, for others, the name the user gave."""
    key = requested.strip().lower()
    if key in ("", "auto"):
        return "zh" if is_cjk_heavy(question) else "en"
    return _ALIASES.get(key, requested.strip())


def language_name(lang: str) -> str:
    return _NAMES.get(lang, lang)


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"])[key]
