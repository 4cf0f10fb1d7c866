"""Deck → .pptx bytes: pure, no model call, no file written.

python-pptx draws what :mod:`.layout` planned: titles go into the layout's
title placeholder (so the outline view and accessibility tools see them),
body text into text boxes sized and set as measured, charts and tables as
native chart and table parts, speaker notes on notes pages, slide numbers
as real slide-number fields. Every run names its Latin and East Asian
typefaces (``a:latin``, ``a:ea``) so Chinese renders in a CJK font. Unused
placeholders are removed: no "Click to add title" is ever left.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn
from pptx.util import Emu, Pt

from .deck import Deck
from .errors import DeckError
from .language import LANGUAGES, Language
from .layout import (
    CELL_INSET_X,
    CELL_INSET_Y,
    INSET_X,
    INSET_Y,
    PARA_SPACE,
    ChartBox,
    Frame,
    Geometry,
    Rule,
    SlidePlan,
    TableBox,
    TextBox,
    default_geometry,
    plan_deck,
)
from .themes import Palette, Theme

__all__ = ["render_pptx"]

EMU_PER_PT = 12700
WIDE = (12192000, 6858000)  # 13.333 in × 7.5 in (16:9)
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_TITLE_TYPES = {PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE}
_SUB_TYPES = {PP_PLACEHOLDER.SUBTITLE, PP_PLACEHOLDER.BODY}
_FOOTER_TYPES = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour)  # type: ignore[no-untyped-call,no-any-return]


def _emu(pt: float) -> Emu:
    return Emu(round(pt * EMU_PER_PT))


def render_pptx(deck: Deck, theme: Theme) -> bytes:
    """The deck as .pptx bytes (raises DeckError for a structurally broken deck)."""
    problems = deck.problems()
    if problems:
        raise DeckError(f"the deck cannot be rendered: {problems[0]}")
    prs = _open(theme)
    layouts = _Layouts.find(prs)
    geo = _geometry(prs, theme, layouts)
    lang = next((x for x in LANGUAGES.values() if x.code.split("-")[0] == deck.language),
                LANGUAGES["en"])
    painter = _Painter(theme, lang)
    for plan in plan_deck(deck, theme, geo):
        painter.slide(prs, layouts, plan)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- package set-up


def _open(theme: Theme) -> Any:
    if theme.template is not None:
        prs = Presentation(io.BytesIO(theme.template))
        _drop_slides(prs)
        return prs
    prs = Presentation()
    sx = WIDE[0] / prs.slide_width
    prs.slide_width, prs.slide_height = Emu(WIDE[0]), Emu(WIDE[1])
    # The stock master is 4:3: widen its and its layouts' placeholders to match.
    for part in [prs.slide_master, *prs.slide_layouts]:
        for xfrm in part._element.iter(qn("a:xfrm")):
            off, ext = xfrm.find(qn("a:off")), xfrm.find(qn("a:ext"))
            if off is not None and ext is not None:
                off.set("x", str(int(int(off.get("x")) * sx)))
                ext.set("cx", str(int(int(ext.get("cx")) * sx)))
    assert theme.palette is not None
    _patch_theme(prs, theme, theme.palette)
    fill = prs.slide_master.background.fill
    fill.solid()
    fill.fore_color.rgb = _rgb(theme.palette.background)
    return prs


def _drop_slides(prs: Any) -> None:
    """A template's own slides are samples: remove them, keep masters and layouts."""
    id_list = prs.slides._sldIdLst
    for sld_id in list(id_list):
        prs.part.drop_rel(sld_id.rId)
        id_list.remove(sld_id)


def _patch_theme(prs: Any, theme: Theme, pal: Palette) -> None:
    """Write the palette and fonts into the theme part, so new content matches too."""
    part = prs.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(part.blob)
    ns = {"a": _A}
    scheme = root.find(".//a:clrScheme", ns)
    colours = {"dk1": pal.text, "lt1": pal.background, "dk2": pal.title, "lt2": pal.surface,
               **{f"accent{i}": c for i, c in enumerate(pal.accents, 1)}}
    if scheme is not None:
        scheme.set("name", f"qwenapp {theme.name}")
        for tag, colour in colours.items():
            slot = scheme.find(f"a:{tag}", ns)
            if slot is not None:
                for child in list(slot):
                    slot.remove(child)
                etree.SubElement(slot, qn("a:srgbClr"), val=colour)
    for kind, face in (("majorFont", theme.heading_font), ("minorFont", theme.body_font)):
        fonts = root.find(f".//a:{kind}", ns)
        if fonts is None:
            continue
        for tag, value in (("latin", face), ("ea", theme.ea_font)):
            el = fonts.find(f"a:{tag}", ns)
            if el is not None:
                el.set("typeface", value)
        for el in fonts.findall("a:font", ns):
            if el.get("script") == "Hans":
                el.set("typeface", theme.ea_font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True, slots=True)
class _Layouts:
    cover: Any
    content: Any
    section: Any
    body_frame: Frame | None  # the body placeholder of a "Title and Content" layout

    @staticmethod
    def find(prs: Any) -> _Layouts:
        layouts = list(prs.slide_layouts)

        def kinds(layout: Any) -> list[Any]:
            return [ph.placeholder_format.type for ph in layout.placeholders
                    if ph.placeholder_format.type not in _FOOTER_TYPES]

        cover = next((lo for lo in layouts if PP_PLACEHOLDER.CENTER_TITLE in kinds(lo)),
                     layouts[0])
        title_only = [lo for lo in layouts if kinds(lo) == [PP_PLACEHOLDER.TITLE]]
        with_body = [lo for lo in layouts
                     if PP_PLACEHOLDER.TITLE in kinds(lo) and len(kinds(lo)) == 2]
        any_title = [lo for lo in layouts if PP_PLACEHOLDER.TITLE in kinds(lo)]
        content = (title_only or with_body or any_title or [cover])[0]
        body_frame = None
        for lo in with_body:
            for ph in lo.placeholders:
                if ph.placeholder_format.type in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT):
                    body_frame = _frame(ph)
                    break
            if body_frame:
                break
        # Section and closing slides reuse the cover layout: its placeholders are the ones
        # measured (a template's "Section Header" often sets all caps or other spacing).
        return _Layouts(cover, content, cover, body_frame)


def _frame(shape: Any) -> Frame | None:
    try:
        x, y, w, h = shape.left, shape.top, shape.width, shape.height
    except (AttributeError, KeyError):
        return None
    if None in (x, y, w, h) or not w or not h:
        return None
    return Frame(x / EMU_PER_PT, y / EMU_PER_PT, w / EMU_PER_PT, h / EMU_PER_PT)


def _ph_frame(layout: Any, types: set[Any]) -> Frame | None:
    for ph in layout.placeholders:
        if ph.placeholder_format.type in types:
            return _frame(ph)
    return None


def _inside(f: Frame | None, w: float, h: float) -> bool:
    return f is not None and f.x >= 0 and f.y >= 0 and f.right <= w and f.bottom <= h


def _geometry(prs: Any, theme: Theme, layouts: _Layouts) -> Geometry:
    w, h = prs.slide_width / EMU_PER_PT, prs.slide_height / EMU_PER_PT
    geo = default_geometry(w, h, theme)
    if not theme.is_template:
        return geo
    # A template: its own title and body regions, kept clear of our footer line.
    title = _ph_frame(layouts.content, _TITLE_TYPES)
    body = layouts.body_frame
    if _inside(title, w, h) and title is not None:
        geo = Geometry(w, h, title, geo.body, geo.footer, geo.cover_title, geo.cover_sub)
    top = geo.title.bottom + 8
    if _inside(body, w, h) and body is not None:
        top = max(top, body.y)
        bottom = min(body.bottom, geo.footer.y - 6)
        new_body = Frame(body.x, top, body.w, bottom - top)
    else:
        new_body = Frame(geo.body.x, top, geo.body.w, geo.footer.y - 6 - top)
    if new_body.h >= 80:
        geo = Geometry(w, h, geo.title, new_body, geo.footer, geo.cover_title, geo.cover_sub)
    ct = _ph_frame(layouts.cover, {PP_PLACEHOLDER.CENTER_TITLE, PP_PLACEHOLDER.TITLE})
    cs = _ph_frame(layouts.cover, {PP_PLACEHOLDER.SUBTITLE})
    if _inside(ct, w, h) and _inside(cs, w, h) and ct is not None and cs is not None \
            and not ct.overlaps(cs) and ct.y < cs.y:
        geo = Geometry(w, h, geo.title, geo.body, geo.footer, ct, cs)
    return geo


# ---------------------------------------------------------------- drawing


class _Painter:
    def __init__(self, theme: Theme, lang: Language) -> None:
        self.theme = theme
        self.pal = theme.palette
        self.lang = lang
        self.cjk = lang.script != "latin"

    def slide(self, prs: Any, layouts: _Layouts, plan: SlidePlan) -> None:
        layout = {"cover": layouts.cover, "content": layouts.content,
                  "section": layouts.section}[plan.layout]
        slide = prs.slides.add_slide(layout)
        used: set[int] = set()
        for n, item in enumerate(plan.items, 1):
            if isinstance(item, TextBox):
                shape = self._placeholder(slide, item) if item.placeholder else None
                if shape is None:
                    shape = slide.shapes.add_textbox(*_box(item.frame))
                else:
                    used.add(shape.shape_id)
                    shape.left, shape.top, shape.width, shape.height = _box(item.frame)
                shape.name = f"{item.role.title()} {n}"
                self.text(shape.text_frame, item)
            elif isinstance(item, ChartBox):
                self.chart(slide, item, n)
            elif isinstance(item, TableBox):
                self.table(slide, item, n)
            elif isinstance(item, Rule):
                self.rule(slide, item, n)
        for ph in list(slide.placeholders):
            if ph.shape_id not in used:  # nothing empty left behind
                ph._element.getparent().remove(ph._element)
        if plan.notes:
            slide.notes_slide.notes_text_frame.text = plan.notes

    def _placeholder(self, slide: Any, box: TextBox) -> Any:
        types = _TITLE_TYPES if box.placeholder == "title" else {PP_PLACEHOLDER.SUBTITLE}
        if box.placeholder == "subtitle" and self.theme.is_template:
            types = _SUB_TYPES
        return next((ph for ph in slide.placeholders if ph.placeholder_format.type in types),
                    None)

    # -- text

    def _colour(self, role: str) -> str | None:
        if self.pal is None:
            return None
        return {"title": self.pal.title, "subtitle": self.pal.muted, "heading": self.pal.accent,
                "footer": self.pal.muted, "number": self.pal.muted}.get(role, self.pal.text)

    def _font(self, rpr: Any, *, heading: bool, size: float, bold: bool,
              colour: str | None) -> None:
        rpr.set("lang", self.lang.code)
        if self.cjk:
            rpr.set("altLang", "en-US")
        rpr.set("sz", str(round(size * 100)))
        rpr.set("b", "1" if bold else "0")
        if colour:
            fill = rpr.find(qn("a:solidFill"))
            if fill is None:
                fill = etree.Element(qn("a:solidFill"))
                rpr.insert(0, fill)
            for child in list(fill):
                fill.remove(child)
            etree.SubElement(fill, qn("a:srgbClr"), val=colour)
        latin = None
        if not self.theme.is_template:
            latin = self.theme.heading_font if heading else self.theme.body_font
        ea = self.theme.ea_font if (self.cjk or not self.theme.is_template) else None
        _typefaces(rpr, latin, ea)

    def text(self, tf: Any, box: TextBox) -> None:
        tf.clear()
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.NONE
        tf.margin_left = tf.margin_right = _emu(INSET_X)
        tf.margin_top = tf.margin_bottom = _emu(INSET_Y)
        tf.vertical_anchor = {"top": MSO_ANCHOR.TOP, "middle": MSO_ANCHOR.MIDDLE,
                              "bottom": MSO_ANCHOR.BOTTOM}[box.anchor]
        align = {"left": PP_ALIGN.LEFT, "center": PP_ALIGN.CENTER,
                 "right": PP_ALIGN.RIGHT}[box.align]
        heading = box.role in ("title", "heading")
        colour = self._colour(box.role)
        for i, para in enumerate(box.paragraphs):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.alignment = align
            p.line_spacing = 1.0
            p.space_before = Pt(PARA_SPACE * box.size) if i else Pt(0)
            p.space_after = Pt(0)
            _bullet(p._p.get_or_add_pPr(), box.indent, self.pal.accent if self.pal else None)
            run = p.add_run()
            run.text = para
            self._font(run._r.get_or_add_rPr(), heading=heading, size=box.size, bold=box.bold,
                       colour=colour)
            if box.slide_number:
                _to_field(p._p, run._r)

    # -- other shapes

    def rule(self, slide: Any, item: Rule, n: int) -> None:
        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, *_box(item.frame))
        shape.name = f"Accent {n}"
        shape.line.fill.background()
        shape.shadow.inherit = False
        if self.pal is not None:
            shape.fill.solid()
            shape.fill.fore_color.rgb = _rgb(self.pal.accent)

    def chart(self, slide: Any, box: ChartBox, n: int) -> None:
        c = box.chart
        data = CategoryChartData()  # type: ignore[no-untyped-call]
        data.categories = c.categories
        for s in c.series:
            data.add_series(s.name, s.values)  # type: ignore[no-untyped-call]
        kind = {"bar": XL_CHART_TYPE.COLUMN_CLUSTERED, "line": XL_CHART_TYPE.LINE_MARKERS,
                "pie": XL_CHART_TYPE.PIE}[c.type]
        frame = slide.shapes.add_chart(kind, *_box(box.frame), data)
        frame.name = f"Chart {n}"
        chart = frame.chart
        chart.has_title = False
        chart.has_legend = c.type == "pie" or len(c.series) > 1
        if chart.has_legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        self._font(chart.font._rPr, heading=False, size=box.size, bold=False,
                   colour=self.pal.text if self.pal else None)
        plot = chart.plots[0]
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = "General"
        labels.number_format_is_linked = False
        labels.show_value = True
        if c.type == "pie":
            labels.position = XL_LABEL_POSITION.BEST_FIT
        elif c.type == "bar":
            labels.position = XL_LABEL_POSITION.OUTSIDE_END
            plot.gap_width = 80
        if c.type != "pie":
            axis = chart.value_axis
            axis.has_major_gridlines = True
            if c.type == "bar" and all(v >= 0 for se in c.series for v in se.values):
                axis.minimum_scale = 0  # bars that start above zero mislead
            if self.pal is not None:
                axis.major_gridlines.format.line.color.rgb = _rgb(self.pal.surface)
                for ax in (axis, chart.category_axis):
                    ax.format.line.color.rgb = _rgb(self.pal.muted)

    def table(self, slide: Any, box: TableBox, n: int) -> None:
        t = box.table
        rows = [t.header, *t.rows]
        frame = slide.shapes.add_table(len(rows), len(t.header), *_box(box.frame))
        frame.name = f"Table {n}"
        table = frame.table
        widths = _split_emu(box.frame.w, box.col_widths)
        for col, width in zip(table.columns, widths, strict=True):
            col.width = width
        for row, height in zip(table.rows, box.row_heights, strict=True):
            row.height = _emu(height)
        pal = self.pal
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.margin_left = cell.margin_right = _emu(CELL_INSET_X)
                cell.margin_top = cell.margin_bottom = _emu(CELL_INSET_Y)
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                colour = None
                if pal is not None:
                    cell.fill.solid()
                    fill = pal.accent if r == 0 else (pal.surface if r % 2 else pal.background)
                    cell.fill.fore_color.rgb = _rgb(fill)
                    colour = pal.on_accent if r == 0 else pal.text
                tf = cell.text_frame
                tf.word_wrap = True
                p = tf.paragraphs[0]
                p.line_spacing = 1.0
                run = p.add_run()
                run.text = value
                self._font(run._r.get_or_add_rPr(), heading=False, size=box.size, bold=r == 0,
                           colour=colour)


def _box(f: Frame) -> tuple[Emu, Emu, Emu, Emu]:
    return _emu(f.x), _emu(f.y), _emu(f.w), _emu(f.h)


def _split_emu(total_pt: float, parts: Iterable[float]) -> list[Emu]:
    """Column widths in EMU that add up exactly to the frame width."""
    widths = [round(p * EMU_PER_PT) for p in parts]
    widths[-1] += round(total_pt * EMU_PER_PT) - sum(widths)
    return [Emu(w) for w in widths]


_AFTER_TYPEFACES = ("cs", "sym", "hlinkClick", "hlinkMouseOver", "rtl", "extLst")


def _typefaces(rpr: Any, latin: str | None, ea: str | None) -> None:
    """Set ``a:latin`` and ``a:ea`` in schema order (after fills, before ``a:cs``)."""
    for tag in ("latin", "ea"):
        for old in rpr.findall(qn(f"a:{tag}")):
            rpr.remove(old)
    new = []
    if latin:
        new.append(etree.Element(qn("a:latin"), typeface=latin))
    if ea:
        new.append(etree.Element(qn("a:ea"), typeface=ea))
    anchor = next((child for child in rpr if etree.QName(child).localname in _AFTER_TYPEFACES),
                  None)
    for el in new:
        if anchor is not None:
            anchor.addprevious(el)
        else:
            rpr.append(el)


def _bullet(ppr: Any, indent: float, colour: str | None) -> None:
    for tag in ("buClr", "buSzPct", "buFont", "buNone", "buAutoNum", "buChar"):
        for old in ppr.findall(qn(f"a:{tag}")):
            ppr.remove(old)
    if indent <= 0:
        ppr.set("marL", "0")
        ppr.set("indent", "0")
        _insert_bullet_el(ppr, [etree.Element(qn("a:buNone"))])
        return
    ppr.set("marL", str(round(indent * EMU_PER_PT)))
    ppr.set("indent", str(-round(indent * EMU_PER_PT)))
    els = []
    if colour:
        clr = etree.Element(qn("a:buClr"))
        etree.SubElement(clr, qn("a:srgbClr"), val=colour)
        els.append(clr)
    els.append(etree.Element(qn("a:buFont"), typeface="Arial"))
    els.append(etree.Element(qn("a:buChar"), char="•"))
    _insert_bullet_el(ppr, els)


def _insert_bullet_el(ppr: Any, els: list[Any]) -> None:
    """Bullet elements go after lnSpc/spcBef/spcAft and before tabLst/defRPr/extLst."""
    anchor = next((c for c in ppr if etree.QName(c).localname in ("tabLst", "defRPr", "extLst")),
                  None)
    for el in els:
        if anchor is not None:
            anchor.addprevious(el)
        else:
            ppr.append(el)


def _to_field(p: Any, r: Any) -> None:
    """Turn a run into a slide-number field that keeps its formatting."""
    fld = etree.Element(qn("a:fld"), id="{" + str(uuid.uuid4()).upper() + "}", type="slidenum")
    for child in list(r):
        fld.append(child)
    r.addprevious(fld)
    p.remove(r)
