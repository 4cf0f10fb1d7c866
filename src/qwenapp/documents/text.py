"""Plain text, Markdown and CSV: decoding, heading paths, line ranges."""

from __future__ import annotations

import codecs
import csv
import io
import re

from .model import DocumentError, Section

__all__ = ["decode", "markdown_sections", "split_csv", "text_sections", "title_from_markdown"]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def decode(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else the best detected charset."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:4096]:
        raise DocumentError(f"{name}: looks like a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency of trafilatura
        return data.decode("gb18030", errors="replace")
    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(f"{name}: cannot tell the text encoding")
    return str(best)


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end > 0:
            return text[end + 4 :].lstrip("\n")
    return text


def title_from_markdown(text: str) -> str | None:
    for line in _strip_front_matter(text).splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) == 1:
            return m.group(2).strip()
    return None


def markdown_sections(text: str) -> list[Section]:
    """One section per heading; the location is the heading path ("A > B")."""
    text = _strip_front_matter(text)
    path: list[tuple[int, str]] = []
    sections: list[Section] = []
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buf).strip()
        buf.clear()
        if body:
            loc = " > ".join(h for _, h in path) if path else "beginning"
            sections.append(Section(text=body, location=loc))

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            flush()
            level, heading = len(m.group(1)), m.group(2).strip()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
            buf.append(heading)  # the heading's words are searchable with its body
            continue
        buf.append(line)
    flush()
    # a heading with no body of its own holds no information: drop heading-only sections
    return [s for s in sections if s.text.strip() != s.location.split(" > ")[-1]]


def text_sections(text: str, lines_per_section: int = 60) -> list[Section]:
    """Paragraph-aligned blocks of about ``lines_per_section`` lines, located by line range."""
    lines = text.splitlines()
    sections: list[Section] = []
    start = 0
    while start < len(lines):
        end = min(start + lines_per_section, len(lines))
        if end < len(lines):  # prefer to end at a blank line
            for j in range(end, max(start + lines_per_section // 2, start + 1), -1):
                if not lines[j - 1].strip():
                    end = j
                    break
        body = "\n".join(lines[start:end]).strip()
        if body:
            sections.append(Section(text=body, location=f"lines {start + 1}-{end}"))
        start = end
    return sections


def split_csv(text: str, name: str, max_rows: int) -> tuple[list[list[str]], bool]:
    """Rows of a CSV (delimiter sniffed), and whether rows beyond ``max_rows`` were cut."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            if len(rows) >= max_rows:
                return rows, True
            if any(c.strip() for c in row):
                rows.append([c.strip() for c in row])
    except csv.Error as e:
        raise DocumentError(f"{name}: malformed CSV ({e})") from None
    return rows, False


def table_text(rows: list[list[str]]) -> str:
    return "\n".join(" | ".join(c for c in row) for row in rows)
