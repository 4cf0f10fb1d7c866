"""HTML: main content through trafilatura (offline), else a careful stdlib parser.

Trafilatura drops navigation, footers and boilerplate; its Markdown output
keeps headings, so sections get heading paths like a Markdown file. When it
finds no main content (tiny pages), a plain parser keeps every visible text
block instead, so a page is never silently empty.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

from .model import Section
from .text import markdown_sections

__all__ = ["html_sections", "html_title"]

_SKIP = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "aside",
         "form", "button", "iframe"}
_BLOCK = {"p", "div", "section", "article", "main", "li", "tr", "br", "pre", "blockquote",
          "table", "ul", "ol", "dd", "dt", "figcaption", "td", "th"}
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.out.append("\n\n" + "#" * self._heading + " ")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = None
            self.out.append("\n\n")
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        text = re.sub(r"\s+", " ", data)
        if self._heading is not None:
            text = text.replace("\n", " ")
        self.out.append(text)


def html_title(markup: str) -> str | None:
    m = _TITLE.search(markup)
    if m:
        title = re.sub(r"\s+", " ", html_lib.unescape(m.group(1))).strip()
        return title or None
    return None


def _plain_markdown(markup: str) -> str:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.out)
    lines = [ln.strip() for ln in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _trafilatura_markdown(markup: str) -> str | None:
    try:
        import trafilatura
    except ImportError:  # optional: the stdlib parser is the fallback
        return None
    out = trafilatura.extract(
        markup, output_format="markdown", include_tables=True, include_comments=False,
        include_formatting=True, include_links=False, include_images=False, favor_recall=True,
        deduplicate=False, with_metadata=False, fast=True,
    )
    return out if isinstance(out, str) and out.strip() else None


def html_sections(markup: str) -> list[Section]:
    md = _trafilatura_markdown(markup)
    plain = _plain_markdown(markup)
    # trafilatura can over-prune short pages; keep the fuller reading when it is much longer
    if md is None or len(md) < 0.2 * len(plain):
        md = plain
    return markdown_sections(md)
