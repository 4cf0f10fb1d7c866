"""Report → Markdown (pure)."""

from __future__ import annotations

from ..language import label
from ..model import Reference, Report

__all__ = ["reference_text", "to_markdown"]


def reference_text(ref: Reference) -> str:
    location = ref.location.removeprefix(f"{ref.title} > ") if ref.title else ref.location
    where = f", {location}" if location else ""
    title = ref.title if ref.title and ref.title != ref.locator else ""
    return f"{title} — {ref.locator}{where}" if title else f"{ref.locator}{where}"


def to_markdown(report: Report) -> str:
    lang = report.language
    out = [f"# {report.title}", "", f"*{label(lang, 'question')}: {report.question}*", ""]
    if not report.references:
        note = label(lang, "no_citations" if report.passages else "uncited")
        out += [f"> {note}", ""]
    if report.summary:
        out += [f"## {label(lang, 'summary')}", "", report.summary, ""]
    for s in report.sections:
        out += [f"## {s.heading}", "", s.text, ""]
        if not s.supported:
            out += [f"> ⚠ {label(lang, 'unsupported')}", ""]
    if report.conclusion:
        out += [f"## {label(lang, 'conclusion')}", "", report.conclusion, ""]
    if report.references:
        out += [f"## {label(lang, 'references')}", ""]
        out += [f"[{r.number}] {reference_text(r)}  " for r in report.references]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
