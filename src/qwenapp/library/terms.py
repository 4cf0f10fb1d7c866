"""Words for search and overlap checks, in any script.

SQLite's ``unicode61`` tokenizer splits on spaces and punctuation, which
leaves a run of Chinese characters as one giant token that no query
matches. Writing each CJK run as overlapping character bigrams (the classic
CJK indexing scheme, as in Lucene's CJKAnalyzer) makes two-character words
like 模型 findable, on both the indexing and the query side, while BM25
still ranks by term rarity. The same terms feed the citation overlap check.
"""

from __future__ import annotations

import re

__all__ = ["STOPWORDS", "bigrams", "content_terms", "estimate_tokens", "fts_form"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(rf"[^\W{_CJK}]+|[{_CJK}]+", re.UNICODE)

STOPWORDS = frozenset((
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "between", "both", "but", "by",
    "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him",
    "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more",
    "most", "my", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our",
    "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this",
    "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your",
    "的", "了", "和", "是", "在", "也", "就", "都", "而", "及", "与", "或", "一个", "这个",
    "那个", "什么", "如何", "为什么", "哪些", "怎么",
))


def bigrams(run: str) -> list[str]:
    if len(run) <= 1:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


def fts_form(text: str) -> str:
    """``text`` with every CJK run rewritten as space-separated bigrams."""
    return _CJK_RUN.sub(lambda m: " " + " ".join(bigrams(m.group(0))) + " ", text)


def content_terms(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased words and CJK bigrams, stopwords dropped, order kept (repeats kept)."""
    out: list[str] = []
    for tok in _WORD.findall(text.lower()):
        if _CJK_RUN.fullmatch(tok):
            out.extend(b for b in bigrams(tok) if keep_stopwords or b not in STOPWORDS)
        elif keep_stopwords or (tok not in STOPWORDS and (len(tok) > 1 or tok.isdigit())):
            out.append(tok)
    return out


def estimate_tokens(text: str) -> int:
    """Rough Qwen token count: ~1.4 CJK characters or ~4 other characters per token."""
    cjk = sum(len(m) for m in _CJK_RUN.findall(text))
    return int(cjk / 1.4 + (len(text) - cjk) / 4) + 1
