"""Which language a text is written in: the one detector reports, decks and clarifying
questions ask.

Chinese and Japanese are told by script: any kana is Japanese; Han characters that
outweigh the Latin words (a Latin word reads like one or two characters) are Chinese.
Latin-script text is told by py3langid's bundled model (no download, about 0.8 s to
load, once), limited to the Latin-script languages the pipelines write, and trusted
only when it is sure: a short technical phrase ("Kubernetes vs Docker Swarm" reads as
German at p = 0.85, "Llama 3 fine-tuning" as Spanish at 0.37) stays English, the
default. Before, every question that was not Chinese got an English report and deck.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

__all__ = ["DETECTED", "cjk_ratio", "detect", "is_cjk", "is_cjk_text"]

DETECTED = ("en", "zh", "ja", "fr", "de", "es")  # what :func:`detect` can answer
_LATIN = ("en", "fr", "de", "es")
_SURE = 0.9  # below this a Latin-script text is English
_KANA = re.compile(r"[\u3040-\u30ff]")


def is_cjk(ch: str) -> bool:
    """Han, kana, Hangul, and CJK punctuation or full-width forms."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
    )


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3FFFF


def cjk_ratio(text: str) -> float:
    """Han characters over Han characters plus Latin letters (0.0 when neither occurs)."""
    han = latin = 0
    for ch in text:
        if _is_han(ch):
            han += 1
        elif ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            latin += 1
    # A Latin word is several letters but reads like one or two characters.
    total = han + latin / 3
    return han / total if total else 0.0


def is_cjk_text(text: str) -> bool:
    """Whether ``text`` is written in Chinese or Japanese (by script alone)."""
    return bool(_KANA.search(text)) or cjk_ratio(text) >= 0.3


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(_LATIN))
    return ident


def detect(text: str) -> str:
    """The language code of ``text``: one of :data:`DETECTED`, English when unsure."""
    if _KANA.search(text):
        return "ja"
    if cjk_ratio(text) >= 0.3:
        return "zh"
    if sum(1 for ch in text if ch.isalpha()) < 8:
        return "en"  # a word or two: no evidence
    code, p = _identifier().classify(text[:2000])
    return str(code) if code in _LATIN and p >= _SURE else "en"
