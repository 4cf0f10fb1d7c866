"""One layout per slide kind, chosen by the slide's kind and the amount of its content.

Why a package: twelve designed layouts do not fit one readable module. Each
module holds related layouts (:mod:`.frames` title/section/closing,
:mod:`.text` bullets/agenda/comparison/quote, :mod:`.visual` KPI, process,
timeline, chart, table); :mod:`.common` holds the grid every one of them uses.
"""

from __future__ import annotations

from ..boxes import Planner, SlidePlan
from ..deck import Slide
from . import frames, text, visual

__all__ = ["plan_slide"]


def plan_slide(p: Planner, s: Slide) -> list[SlidePlan]:
    """The planned slide (two or more when it had to split)."""
    if s.kind == "title":
        return frames.cover(p, s)
    if s.kind == "section":
        p.sections += 1
        return frames.section(p, s, p.sections)
    if s.kind == "closing":
        return frames.closing(p, s)
    if s.kind == "agenda":
        return text.agenda(p, s)
    if s.kind == "compare":
        return text.compare(p, s)
    if s.kind == "quote":
        return text.quote(p, s)
    if s.kind == "kpi":
        return visual.kpi(p, s)
    if s.kind == "process":
        return visual.process(p, s)
    if s.kind == "timeline":
        return visual.timeline(p, s)
    if s.kind == "chart":
        return visual.chart(p, s)
    if s.kind == "table":
        return visual.table(p, s)
    return text.bullets(p, s)
