"""The one language detector (qwenapp.language): reports, decks and clarifying questions
all ask it, so a French, German, Spanish or Japanese question gets a report and a deck in
its own language, and a short technical phrase is not mistaken for German."""

from __future__ import annotations

import pytest

from qwenapp.language import detect, is_cjk_text
from qwenapp.reports.language import label, language_name, resolve_language
from qwenapp.slides.language import LANGUAGES
from qwenapp.slides.language import resolve_language as deck_language


@pytest.mark.parametrize(("text", "code"), [
    ("Why have developers embraced Alibaba's Qwen models?", "en"),
    ("What did the FDA recall in November and why?", "en"),
    ("Pourquoi les développeurs ont-ils adopté les modèles Qwen d'Alibaba ?", "fr"),
    ("Warum setzen Entwickler auf die Qwen-Modelle von Alibaba?", "de"),
    ("¿Por qué los desarrolladores han adoptado los modelos Qwen?", "es"),
    ("开源大模型为何受到开发者欢迎", "zh"),
    ("Qwen 模型为什么受欢迎", "zh"),
    ("オープンモデルはなぜ開発者に人気があるのですか", "ja"),
    # short or technical: no evidence of another language, so English
    ("Kubernetes vs Docker Swarm", "en"), ("Llama 3 fine-tuning", "en"), ("Qwen", "en"),
    ("CO2 emissions 2020", "en"), ("", "en"),
])
def test_detect(text: str, code: str) -> None:
    assert detect(text) == code


def test_a_report_is_written_in_the_language_of_its_question() -> None:
    lang = resolve_language("auto", "Quels risques Alibaba court-il aux États-Unis ?")
    assert lang == "fr" and language_name(lang).startswith("French")
    assert label(lang, "summary") == "Synthèse" and label(lang, "references") == "Références"
    assert resolve_language("", "Welche Risiken hat Alibaba in den USA?") == "de"
    assert label("de", "conclusion") == "Fazit"
    assert label("es", "no_coverage").startswith("Las fuentes")
    assert label("ja", "summary") == "要約"
    assert resolve_language("French", "anything") == "fr"  # named by the user
    assert resolve_language("zh-tw", "anything") == "zh-tw"
    for lang in ("en", "zh", "fr", "de", "es", "ja"):  # every fixed sentence, every language
        for key in ("summary", "conclusion", "references", "unsupported", "no_coverage",
                    "empty", "uncited", "question", "no_citations"):
            assert label(lang, key).strip()


def test_a_deck_is_made_in_the_language_of_its_topic() -> None:
    assert deck_language(None, "Les modèles ouverts au travail") is LANGUAGES["fr"]
    assert deck_language(None, "Offene Modelle bei der Arbeit") is LANGUAGES["de"]
    assert deck_language(None, "Modelos abiertos en el trabajo") is LANGUAGES["es"]
    assert deck_language(None, "Open models at work") is LANGUAGES["en"]
    assert deck_language(None, "开源大模型为何受到开发者欢迎") is LANGUAGES["zh"]
    assert deck_language("en", "Les modèles ouverts au travail") is LANGUAGES["en"]


def test_cjk_text_is_told_by_script() -> None:
    assert is_cjk_text("开源模型") and is_cjk_text("モデル") and not is_cjk_text("open models")
    assert not is_cjk_text("What does 模型 mean in English, and where is it used?")
