"""Report → a standalone HTML page (pure; escapes everything the model wrote)."""

from __future__ import annotations

import html
import re

from ..language import label
from ..model import Report
from .markdown import reference_text

__all__ = ["to_html"]

_BULLET = re.compile(r"^[-*•]\s+")
_CSS = """
body{font-family:"Noto Sans","Noto Sans CJK SC","Helvetica Neue",Arial,sans-serif;
max-width:46em;margin:2em auto;padding:0 1em;line-height:1.6;color:#222}
h1{font-size:1.8em;margin-bottom:.2em}.question{color:#555;font-style:italic}
.cite{font-size:.8em;vertical-align:super;text-decoration:none}
.note{border-left:4px solid #e0a800;background:#fff8e1;padding:.4em .8em}
ol.refs{padding-left:0;list-style:none}ol.refs li{margin:.3em 0}
"""


def _inline(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"\[(\d+)\]", r'<a class="cite" href="#ref-\1">[\1]</a>', out)


def _blocks(text: str) -> str:
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(_BULLET.match(ln) for ln in lines):
            items = "".join(f"<li>{_inline(_BULLET.sub('', ln))}</li>" for ln in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "\n".join(parts)


def to_html(report: Report) -> str:
    lang = report.language
    esc = html.escape
    body = [f"<h1>{esc(report.title)}</h1>",
            f'<p class="question">{esc(label(lang, "question"))}: {esc(report.question)}</p>']
    if not report.references:
        note = label(lang, "no_citations" if report.passages else "uncited")
        body.append(f'<p class="note">{esc(note)}</p>')
    if report.summary:
        body += [f"<h2>{esc(label(lang, 'summary'))}</h2>", _blocks(report.summary)]
    for s in report.sections:
        body += [f"<h2>{esc(s.heading)}</h2>", _blocks(s.text)]
        if not s.supported:
            body.append(f'<p class="note">⚠ {esc(label(lang, "unsupported"))}</p>')
    if report.conclusion:
        body += [f"<h2>{esc(label(lang, 'conclusion'))}</h2>", _blocks(report.conclusion)]
    if report.references:
        items = []
        for r in report.references:
            text = esc(reference_text(r))
            if r.locator.startswith(("http://", "https://")):
                text = text.replace(esc(r.locator),
                                    f'<a href="{esc(r.locator)}">{esc(r.locator)}</a>', 1)
            items.append(f'<li id="ref-{r.number}">[{r.number}] {text}</li>')
        body += [f"<h2>{esc(label(lang, 'references'))}</h2>",
                 f'<ol class="refs">{"".join(items)}</ol>']
    html_lang = "zh" if lang.startswith("zh") else (lang if len(lang) <= 5 else "en")
    return (f'<!DOCTYPE html>\n<html lang="{esc(html_lang)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{esc(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
