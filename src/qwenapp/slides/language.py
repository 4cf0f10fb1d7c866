"""Which language a deck is written in, and whether a text is in it.

A small model asked in Chinese may answer in English; so the language is
resolved up front (the ``--language`` option, else the language the request is
written in, by :func:`qwenapp.language.detect`) and every generated string is
checked against it by script: Han characters for Chinese, kana for Japanese,
Latin letters and no CJK for the Latin-script languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..errors import InputError
from ..language import cjk_ratio, detect, is_cjk

__all__ = ["LANGUAGES", "Language", "cjk_ratio", "is_cjk", "resolve_language"]

Script = Literal["latin", "han", "japanese"]


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # BCP 47 tag written into the XML (lang="zh-CN")
    name: str  # what the prompt calls it
    script: Script
    agenda: str
    closing: str
    closing_sub: str
    continued: str
    sources: str


LANGUAGES: dict[str, Language] = {
    "en": Language("en-US", "English", "latin", "Agenda", "Thank you", "Questions?",
                   "(cont.)", "Sources"),
    "zh": Language("zh-CN", "简体中文 (Simplified Chinese)", "han", "目录", "谢谢", "欢迎提问",
                   "（续）", "来源"),
    "fr": Language("fr-FR", "French", "latin", "Sommaire", "Merci", "Des questions ?",
                   "(suite)", "Sources"),
    "de": Language("de-DE", "German", "latin", "Agenda", "Vielen Dank", "Fragen?",
                   "(Forts.)", "Quellen"),
    "es": Language("es-ES", "Spanish", "latin", "Agenda", "Gracias", "¿Preguntas?",
                   "(cont.)", "Fuentes"),
    "ja": Language("ja-JP", "日本語 (Japanese)", "japanese", "目次", "ありがとうございました",
                   "ご質問", "（続き）", "出典"),
}

_ALIASES = {
    "english": "en", "en-us": "en", "en-gb": "en",
    "chinese": "zh", "zh-cn": "zh", "zh-hans": "zh", "中文": "zh", "简体中文": "zh", "汉语": "zh",
    "french": "fr", "français": "fr", "german": "de", "deutsch": "de",
    "spanish": "es", "español": "es", "japanese": "ja", "日本語": "ja",
}

_KANA = re.compile(r"[\u3040-\u30ff]")


def resolve_language(option: str | None, sample: str) -> Language:
    """The ``--language`` value, or else the language the request is written in."""
    if option:
        key = option.strip().lower()
        key = _ALIASES.get(key, key.split("-")[0] if key not in LANGUAGES else key)
        if key not in LANGUAGES:
            raise InputError(f"unsupported --language {option!r}",
                             "use one of: " + ", ".join(LANGUAGES))
        return LANGUAGES[key]
    return LANGUAGES[detect(sample)]


def in_language(text: str, lang: Language, *, lenient: bool = False) -> bool:
    """Whether a generated text is written in ``lang`` (by script).

    Strict for a whole slide; ``lenient`` for one line, which may be mostly a
    product name ("Hugging Face 下载量") and still be in the right language.
    """
    letters = sum(1 for ch in text if ch.isalpha())
    if letters < 2:
        return True  # numbers, symbols, a single letter: no evidence either way
    ratio = cjk_ratio(text)
    if lang.script == "han":
        return ratio >= (0.2 if lenient else 0.5) and not _KANA.search(text)
    if lang.script == "japanese":
        return bool(_KANA.search(text)) or ratio >= (0.2 if lenient else 0.5)
    return ratio <= (0.3 if lenient else 0.05)


__all__ += ["in_language"]
