"""The report's language: named by the user, or the question's own
(:func:`qwenapp.language.detect`: English, Chinese, Japanese, French, German, Spanish),
and the fixed words a report prints in it."""

from __future__ import annotations

from ..language import detect

__all__ = ["LABELS", "NOTE_KEYS", "label", "language_name", "resolve_language"]

NOTE_KEYS = ("no_coverage", "empty")  # fixed sentences a section may hold instead of prose

_ALIASES = {
    "en": "en", "english": "en", "en-us": "en", "en-gb": "en", "英文": "en", "英语": "en",
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "chinese": "zh", "中文": "zh", "简体中文": "zh",
    "cn": "zh", "zh-tw": "zh-tw", "zh-hant": "zh-tw", "繁體中文": "zh-tw",
    "fr": "fr", "french": "fr", "français": "fr", "de": "de", "german": "de", "deutsch": "de",
    "es": "es", "spanish": "es", "español": "es", "ja": "ja", "japanese": "ja", "日本語": "ja",
}

_NAMES = {"en": "English", "zh": "Simplified Chinese (简体中文)",
          "zh-tw": "Traditional Chinese (繁體中文)", "fr": "French (français)",
          "de": "German (Deutsch)", "es": "Spanish (español)", "ja": "Japanese (日本語)"}

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
    "fr": {
        "summary": "Synthèse", "conclusion": "Conclusion", "references": "Références",
        "unsupported": "Aucune source retrouvée n'appuie cette section ; lisez-la comme les "
                       "propres mots du modèle.",
        "no_coverage": "Les sources trouvées ne traitent pas de ce sujet.",
        "empty": "Le modèle n'a rien écrit pour cette section.",
        "uncited": "Aucune source n'a été trouvée pour cette question ; ce rapport ne cite "
                   "rien et repose sur le seul modèle.",
        "question": "Question",
        "no_citations": "Le modèle n'a cité aucune des sources retrouvées ; ce rapport repose "
                        "sur le seul modèle.",
    },
    "de": {
        "summary": "Zusammenfassung", "conclusion": "Fazit", "references": "Quellen",
        "unsupported": "Keine gefundene Quelle stützt diesen Abschnitt; lesen Sie ihn als "
                       "eigene Worte des Modells.",
        "no_coverage": "Die gefundenen Quellen behandeln dieses Thema nicht.",
        "empty": "Das Modell hat für diesen Abschnitt nichts geschrieben.",
        "uncited": "Zu dieser Frage wurden keine Quellen gefunden; dieser Bericht zitiert "
                   "nichts und beruht allein auf dem Modell.",
        "question": "Frage",
        "no_citations": "Das Modell hat keine der gefundenen Quellen zitiert; dieser Bericht "
                        "beruht allein auf dem Modell.",
    },
    "es": {
        "summary": "Resumen", "conclusion": "Conclusión", "references": "Referencias",
        "unsupported": "Ninguna fuente encontrada respalda esta sección; léala como palabras "
                       "del propio modelo.",
        "no_coverage": "Las fuentes encontradas no tratan este tema.",
        "empty": "El modelo no escribió nada para esta sección.",
        "uncited": "No se encontraron fuentes para esta pregunta; este informe no cita nada "
                   "y se basa solo en el modelo.",
        "question": "Pregunta",
        "no_citations": "El modelo no citó ninguna de las fuentes encontradas; este informe "
                        "se basa solo en el modelo.",
    },
    "ja": {
        "summary": "要約", "conclusion": "結論", "references": "参考文献",
        "unsupported": "この節を裏付ける資料は見つかりませんでした。モデル自身の言葉として"
                       "お読みください。",
        "no_coverage": "見つかった資料はこのテーマを扱っていません。",
        "empty": "モデルはこの節に何も書きませんでした。",
        "uncited": "この質問に関する資料は見つかりませんでした。この報告は何も引用せず、"
                   "モデルのみに基づいています。",
        "question": "質問",
        "no_citations": "モデルは見つかった資料をどれも引用しませんでした。この報告はモデル"
                        "のみに基づいています。",
    },
}
LABELS["zh-tw"] = LABELS["zh"]


def resolve_language(requested: str, question: str) -> str:
    """A language code (``en``, ``zh``, ...) or, for others, the name the user gave."""
    key = requested.strip().lower()
    if key in ("", "auto"):
        return detect(question)
    return _ALIASES.get(key, requested.strip())


def language_name(lang: str) -> str:
    return _NAMES.get(lang, lang)


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"])[key]
